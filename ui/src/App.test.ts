import { beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import App from './App.svelte';
import * as api from '$lib/ipc/api';
import { session } from '$lib/state/session.svelte';
import { makeStatus } from './test/fixtures';

vi.mock('$lib/ipc/api');

beforeEach(() => {
  session.status = null;
  history.replaceState(null, '', '/');
  vi.mocked(api.integrationsList).mockResolvedValue([]);
  vi.mocked(api.profilesList).mockResolvedValue([]);
});

describe('App shell', () => {
  it('shows only existing nav entries, the active profile and the secret store', async () => {
    const status = makeStatus('operator', 'Olga');
    status.secret_store = { kind: 'encrypted_file', label: 'Encrypted file', detail: 'No OS keyring found' };
    vi.mocked(api.appStatus).mockResolvedValue(status);
    render(App);
    expect(await screen.findByTestId('empty-state')).toBeInTheDocument();
    const links = screen.getAllByRole('link');
    expect(links.map((l) => l.textContent?.trim())).toEqual(['Chat', 'Search', 'Knowledge gaps', 'Integrations', 'Knowledge Base', 'Chat', 'Profiles']);
    expect(screen.getByTestId('nav-integrations')).toHaveAttribute('aria-current', 'page');
    expect(screen.getByTestId('active-profile')).toHaveTextContent('Olga');
    expect(screen.getByTestId('active-profile')).toHaveTextContent('Operator');
    const store = screen.getByTestId('secret-store');
    expect(store).toHaveTextContent('Encrypted file');
    expect(store).toHaveAttribute('data-kind', 'encrypted_file');
    expect(store.querySelector('button')).toHaveAttribute('title', 'No OS keyring found');
  });

  it('navigates to Profiles and updates the sidebar after a switch', async () => {
    const user = userEvent.setup();
    vi.mocked(api.appStatus).mockResolvedValue(makeStatus('admin', 'Alice'));
    vi.mocked(api.profilesList).mockResolvedValue([
      { name: 'Alice', role: 'admin', has_password: false, active: true },
      { name: 'Val', role: 'viewer', has_password: false, active: false },
    ]);
    vi.mocked(api.profileSwitch).mockResolvedValue(makeStatus('viewer', 'Val'));
    render(App);
    await screen.findByTestId('empty-state');
    await user.click(screen.getByTestId('nav-profiles'));
    expect(await screen.findByRole('heading', { level: 1, name: 'Profiles' })).toBeInTheDocument();
    expect(screen.getByTestId('nav-profiles')).toHaveAttribute('aria-current', 'page');
    await user.click(await screen.findByTestId('profile-switch'));
    await vi.waitFor(() => expect(screen.getByTestId('active-profile')).toHaveTextContent('Val'));
    expect(screen.getByTestId('active-profile')).toHaveTextContent('Viewer');
  });

  it('shows a banner when the core cannot be reached', async () => {
    vi.mocked(api.appStatus).mockRejectedValue({ code: 'internal', message: 'core not running' });
    render(App);
    expect(await screen.findByTestId('banner-error')).toHaveTextContent('Could not reach the Support Bot core: core not running');
  });
});
