import { beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import ChatSettingsPage from './ChatSettingsPage.svelte';
import * as api from '$lib/ipc/api';
import { loginAs, makeChatSettings } from '../../test/fixtures';

vi.mock('$lib/ipc/api');

const real = makeChatSettings({
  mode: 'real',
  instance_url: 'https://acme.service-now.com',
  client_id: 'cid',
  username: 'bot',
  secrets: { client_secret: true, password: true, va_token: false, webhook_secret: true },
  from_env: ['webhook_secret'],
});

beforeEach(() => {
  vi.mocked(api.chatSettings).mockResolvedValue(real);
});

describe('ChatSettingsPage', () => {
  it('removes a stored secret on save, and can take the choice back', async () => {
    loginAs('admin');
    const user = userEvent.setup();
    vi.mocked(api.chatSettingsSave).mockResolvedValue({ ...real, secrets: { ...real.secrets, password: false } });
    render(ChatSettingsPage);
    await user.click(await screen.findByTestId('remove-client_secret'));
    expect(screen.getByTestId('remove-client_secret')).toHaveTextContent('Keep the stored secret');
    await user.click(screen.getByTestId('remove-client_secret'));
    await user.click(screen.getByTestId('remove-password'));
    expect(screen.getByLabelText('Password')).toHaveAttribute('placeholder', 'Removed when you save');
    await user.click(screen.getByTestId('chat-settings-save'));
    expect(api.chatSettingsSave).toHaveBeenCalledWith({ password: '' });
    expect(await screen.findByTestId('chat-settings-saved')).toBeInTheDocument();
    // Nothing stored, nothing to remove.
    expect(screen.queryByTestId('remove-password')).toBeNull();
  });

  it('offers no removal for a secret set by the environment', async () => {
    loginAs('admin');
    render(ChatSettingsPage);
    await screen.findByTestId('remove-password');
    expect(screen.queryByTestId('remove-webhook_secret')).toBeNull();
  });

  it('shows a viewer the settings without removal buttons', async () => {
    loginAs('viewer');
    render(ChatSettingsPage);
    await screen.findByLabelText('Password');
    expect(screen.queryByTestId('remove-password')).toBeNull();
    expect(screen.queryByTestId('chat-settings-save')).toBeNull();
  });
});
