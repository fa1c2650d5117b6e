import { beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import ProfilesPage from './ProfilesPage.svelte';
import * as api from '$lib/ipc/api';
import type { Profile } from '$lib/ipc/types';
import { session } from '$lib/state/session.svelte';
import { loginAs, makeStatus } from '../../test/fixtures';

vi.mock('$lib/ipc/api');

const PROFILES: Profile[] = [
  { name: 'Alice', role: 'admin', has_password: false, active: true },
  { name: 'Root', role: 'admin', has_password: true, active: false },
  { name: 'Ops', role: 'operator', has_password: false, active: false },
];

const row = (name: string) =>
  screen.getAllByTestId('profile-row').find((r) => r.dataset.name === name) as HTMLElement;

beforeEach(() => {
  loginAs('admin', 'Alice');
  vi.mocked(api.profilesList).mockResolvedValue(PROFILES);
});

describe('ProfilesPage', () => {
  it('lists profiles with role, lock and active marker, and explains roles', async () => {
    render(ProfilesPage);
    const rows = await screen.findAllByTestId('profile-row');
    expect(rows.map((r) => r.dataset.name)).toEqual(['Alice', 'Root', 'Ops']);
    expect(row('Alice')).toHaveTextContent('Active');
    expect(within(row('Alice')).queryByTestId('profile-switch')).not.toBeInTheDocument();
    expect(within(row('Alice')).queryByTestId('profile-remove')).not.toBeInTheDocument();
    expect(within(row('Root')).getByLabelText('Password protected')).toBeInTheDocument();
    expect(within(row('Ops')).queryByLabelText('Password protected')).not.toBeInTheDocument();
    expect(row('Ops')).toHaveTextContent('Operator');
    expect(screen.getByText('View integrations and run syncs.')).toBeInTheDocument();
    expect(screen.getByText('View only.')).toBeInTheDocument();
  });

  it('switches to a profile without password directly', async () => {
    const user = userEvent.setup();
    const next = makeStatus('operator', 'Ops');
    vi.mocked(api.profileSwitch).mockResolvedValue(next);
    render(ProfilesPage);
    await screen.findAllByTestId('profile-row');
    await user.click(within(row('Ops')).getByTestId('profile-switch'));
    expect(api.profileSwitch).toHaveBeenCalledWith('Ops', null);
    expect(session.status).toEqual(next);
  });

  it('prompts for the password and shows a wrong password inline', async () => {
    const user = userEvent.setup();
    render(ProfilesPage);
    await screen.findAllByTestId('profile-row');
    await user.click(within(row('Root')).getByTestId('profile-switch'));
    expect(api.profileSwitch).not.toHaveBeenCalled();
    const input = screen.getByTestId('switch-password');
    expect(input).toHaveFocus();

    await user.click(screen.getByTestId('switch-confirm'));
    expect(screen.getByTestId('error-password')).toHaveTextContent('Enter the password for this profile.');
    expect(api.profileSwitch).not.toHaveBeenCalled();

    vi.mocked(api.profileSwitch).mockRejectedValueOnce({ code: 'profile_password_invalid', message: 'Wrong password.' });
    await user.type(input, 'nope');
    await user.click(screen.getByTestId('switch-confirm'));
    expect(api.profileSwitch).toHaveBeenLastCalledWith('Root', 'nope');
    expect(await screen.findByTestId('error-password')).toHaveTextContent('Wrong password.');

    const next = makeStatus('admin', 'Root');
    vi.mocked(api.profileSwitch).mockResolvedValueOnce(next);
    await user.clear(input);
    await user.type(input, 's3cret');
    await user.click(screen.getByTestId('switch-confirm'));
    expect(api.profileSwitch).toHaveBeenLastCalledWith('Root', 's3cret');
    expect(session.status?.profile.name).toBe('Root');
    expect(screen.queryByTestId('switch-password')).not.toBeInTheDocument();
  });

  it('asks for a password when the core says one is required', async () => {
    const user = userEvent.setup();
    vi.mocked(api.profileSwitch).mockRejectedValueOnce({ code: 'profile_password_required', message: 'Password required' });
    render(ProfilesPage);
    await screen.findAllByTestId('profile-row');
    await user.click(within(row('Ops')).getByTestId('profile-switch'));
    expect(screen.getByTestId('switch-password')).toBeInTheDocument();
  });

  it('adds a profile with name, role and optional password', async () => {
    const user = userEvent.setup();
    vi.mocked(api.profileAdd).mockResolvedValue({ name: 'Vic', role: 'viewer', has_password: false, active: false });
    render(ProfilesPage);
    await screen.findAllByTestId('profile-row');
    await user.click(screen.getByTestId('add-profile'));
    await user.click(screen.getByTestId('profile-save'));
    expect(screen.getByTestId('error-name')).toHaveTextContent('Enter a profile name.');
    expect(api.profileAdd).not.toHaveBeenCalled();
    await user.type(screen.getByTestId('profile-name'), 'Vic');
    await user.selectOptions(screen.getByTestId('profile-role'), 'viewer');
    await user.click(screen.getByTestId('profile-save'));
    expect(api.profileAdd).toHaveBeenCalledWith('Vic', 'viewer', null);
    expect(api.profilesList).toHaveBeenCalledTimes(2);
  });

  it('maps server field errors when adding a profile', async () => {
    const user = userEvent.setup();
    vi.mocked(api.profileAdd).mockRejectedValue({
      code: 'duplicate_name',
      message: 'dup',
      fields: { name: 'A profile named Ops already exists.' },
    });
    render(ProfilesPage);
    await screen.findAllByTestId('profile-row');
    await user.click(screen.getByTestId('add-profile'));
    await user.type(screen.getByTestId('profile-name'), 'Ops');
    await user.type(screen.getByTestId('profile-password'), 'pw');
    await user.click(screen.getByTestId('profile-save'));
    expect(api.profileAdd).toHaveBeenCalledWith('Ops', 'operator', 'pw');
    expect(await screen.findByTestId('error-name')).toHaveTextContent('A profile named Ops already exists.');
  });

  it('removes a profile only after confirmation', async () => {
    const user = userEvent.setup();
    vi.mocked(api.profileRemove).mockResolvedValue(null);
    render(ProfilesPage);
    await screen.findAllByTestId('profile-row');
    await user.click(within(row('Ops')).getByTestId('profile-remove'));
    expect(screen.getByTestId('confirm-dialog')).toHaveTextContent('Remove the profile Ops?');
    expect(api.profileRemove).not.toHaveBeenCalled();
    await user.click(screen.getByTestId('confirm-ok'));
    expect(api.profileRemove).toHaveBeenCalledWith('Ops');
  });

  it('viewer cannot add or remove profiles but can switch', async () => {
    loginAs('viewer', 'Alice');
    render(ProfilesPage);
    await screen.findAllByTestId('profile-row');
    expect(screen.queryByTestId('add-profile')).not.toBeInTheDocument();
    expect(screen.queryByTestId('profile-remove')).not.toBeInTheDocument();
    expect(screen.getAllByTestId('profile-switch')).toHaveLength(2);
  });

  it('warns while an admin has no password and sets it from the notice', async () => {
    const user = userEvent.setup();
    vi.mocked(api.profileSetPassword).mockResolvedValue({ ...PROFILES[0], has_password: true });
    render(ProfilesPage);
    await screen.findAllByTestId('profile-row');
    expect(screen.getByTestId('open-admin-notice')).toHaveTextContent('Alice has no password');
    await user.click(within(screen.getByTestId('open-admin-notice')).getByText('Set password'));
    // Alice is the active profile without a password: no current password to give.
    expect(screen.queryByTestId('password-current')).not.toBeInTheDocument();
    await user.type(screen.getByTestId('password-new'), 'new-pw-1');
    await user.type(screen.getByTestId('password-repeat'), 'new-pw-2');
    await user.click(screen.getByTestId('password-save'));
    expect(screen.getByTestId('error-repeat')).toHaveTextContent('differ');
    expect(api.profileSetPassword).not.toHaveBeenCalled();
    await user.clear(screen.getByTestId('password-repeat'));
    await user.type(screen.getByTestId('password-repeat'), 'new-pw-1');
    await user.click(screen.getByTestId('password-save'));
    expect(api.profileSetPassword).toHaveBeenCalledWith('Alice', null, 'new-pw-1');
    expect(screen.queryByTestId('password-dialog')).not.toBeInTheDocument();
  });

  it('an admin sets another profile\'s password without knowing it', async () => {
    const user = userEvent.setup();
    vi.mocked(api.profileSetPassword).mockResolvedValue({ ...PROFILES[1] });
    render(ProfilesPage);
    await screen.findAllByTestId('profile-row');
    await user.click(within(row('Root')).getByTestId('profile-set-password'));
    expect(screen.queryByTestId('password-current')).not.toBeInTheDocument();
    await user.type(screen.getByTestId('password-new'), 'root-pw');
    await user.type(screen.getByTestId('password-repeat'), 'root-pw');
    await user.click(screen.getByTestId('password-save'));
    expect(api.profileSetPassword).toHaveBeenCalledWith('Root', null, 'root-pw');
  });

  it('a viewer sets only its own password, proving the current one', async () => {
    const user = userEvent.setup();
    loginAs('viewer', 'Vic');
    vi.mocked(api.profilesList).mockResolvedValue([
      { name: 'Admin', role: 'admin', has_password: true, active: false },
      { name: 'Vic', role: 'viewer', has_password: true, active: true },
    ]);
    render(ProfilesPage);
    await screen.findAllByTestId('profile-row');
    expect(within(row('Admin')).queryByTestId('profile-set-password')).not.toBeInTheDocument();
    await user.click(within(row('Vic')).getByTestId('profile-set-password'));
    vi.mocked(api.profileSetPassword).mockRejectedValueOnce({
      code: 'profile_password_invalid',
      message: 'Wrong password for the profile "Vic". Try again.',
      fields: { current_password: 'Wrong password for the profile "Vic". Try again.' },
    });
    await user.type(screen.getByTestId('password-current'), 'nope');
    await user.type(screen.getByTestId('password-new'), 'vic-pw-2');
    await user.type(screen.getByTestId('password-repeat'), 'vic-pw-2');
    await user.click(screen.getByTestId('password-save'));
    expect(api.profileSetPassword).toHaveBeenCalledWith('Vic', 'nope', 'vic-pw-2');
    expect(await screen.findByTestId('error-current_password')).toHaveTextContent('Wrong password');
  });

  it('adding a profile while the admin has no password shows how to set one', async () => {
    const user = userEvent.setup();
    vi.mocked(api.profileAdd).mockRejectedValue({
      code: 'admin_password_required',
      message: 'Set a password for the admin profile "Alice" before adding another profile.',
    });
    render(ProfilesPage);
    await screen.findAllByTestId('profile-row');
    await user.click(screen.getByTestId('add-profile'));
    await user.type(screen.getByTestId('profile-name'), 'Vic');
    await user.click(screen.getByTestId('profile-save'));
    expect(await screen.findByTestId('dialog-error')).toHaveTextContent('Set a password for the admin profile');
  });
});

