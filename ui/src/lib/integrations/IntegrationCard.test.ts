import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import IntegrationCard from './IntegrationCard.svelte';
import * as api from '$lib/ipc/api';
import type { Integration } from '$lib/ipc/types';
import { formatDateTime } from '$lib/format';
import { loginAs, makeIntegration } from '../../test/fixtures';

vi.mock('$lib/ipc/api');

function setup(over: Partial<Integration> = {}) {
  const integration = makeIntegration(over);
  const onupdated = vi.fn();
  const onremoved = vi.fn();
  const onsynced = vi.fn();
  const utils = render(IntegrationCard, { props: { integration, onupdated, onremoved, onsynced } });
  const card = screen.getByTestId('integration-card');
  return { ...utils, integration, card, onupdated, onremoved, onsynced, user: userEvent.setup() };
}

beforeEach(() => {
  loginAs('admin');
});

describe('IntegrationCard: collapsed', () => {
  it('shows name, kind, auth and a gray "Never synced" badge', () => {
    const { card } = setup();
    expect(card).toHaveAttribute('data-name', 'ServiceNow Production');
    expect(card).toHaveTextContent('ServiceNow Production');
    expect(card).toHaveTextContent('ServiceNow');
    expect(card).toHaveTextContent('Basic auth');
    const badge = screen.getByTestId('card-status');
    expect(badge).toHaveAttribute('data-status', 'never');
    expect(badge).toHaveTextContent(/^Never synced$/);
    expect(badge).toHaveClass('badge--never');
    expect(screen.getByTestId('card-last-sync')).toHaveTextContent(/^Never synced$/);
    expect(screen.queryByTestId('card-details')).not.toBeInTheDocument();
  });

  it('shows a green "Success" badge and the local last sync time', () => {
    const at = '2025-03-04T05:06:07Z';
    setup({ status: 'success', last_sync: at, last_attempt: at, kind: 'jira', auth: 'token' });
    const badge = screen.getByTestId('card-status');
    expect(badge).toHaveAttribute('data-status', 'success');
    expect(badge).toHaveTextContent(/^Success$/);
    expect(badge).toHaveClass('badge--success');
    expect(screen.getByTestId('card-last-sync')).toHaveTextContent(`Last sync: ${formatDateTime(at)}`);
    expect(screen.getByTestId('card-header')).toHaveTextContent('Jira');
    expect(screen.getByTestId('card-header')).toHaveTextContent('API token');
  });

  it('shows a red "Error" badge and amber "Partial" badge', () => {
    const { unmount } = setup({ status: 'error' });
    expect(screen.getByTestId('card-status')).toHaveAttribute('data-status', 'error');
    expect(screen.getByTestId('card-status')).toHaveTextContent(/^Error$/);
    expect(screen.getByTestId('card-status')).toHaveClass('badge--error');
    unmount();
    setup({ status: 'partial' });
    expect(screen.getByTestId('card-status')).toHaveTextContent(/^Partial$/);
    expect(screen.getByTestId('card-status')).toHaveClass('badge--partial');
  });
});

describe('IntegrationCard: expanded', () => {
  it('expands on header click, showing URL, username and masked secrets', async () => {
    const { user } = setup({
      auth: 'oauth2',
      client_id: 'cid-123',
      secrets: { password: false, token: false, client_secret: true },
    });
    const header = screen.getByTestId('card-header');
    expect(header).toHaveAttribute('aria-expanded', 'false');
    await user.click(header);
    expect(header).toHaveAttribute('aria-expanded', 'true');
    const details = screen.getByTestId('card-details');
    expect(details).toHaveTextContent('https://acme.service-now.com');
    expect(details).toHaveTextContent('svc_bot');
    expect(details).toHaveTextContent('cid-123');
    expect(details.querySelector('[data-secret="client_secret"]')).toHaveTextContent(/^••••••••$/);
    expect(details.querySelector('[data-secret="password"]')).toHaveTextContent(/^Not set$/);
    expect(within(details).getByTestId('card-sync')).toHaveTextContent('Sync Now');
    expect(within(details).getByTestId('card-edit')).toHaveTextContent('Edit');
    expect(within(details).getByTestId('card-delete')).toHaveTextContent('Delete');
    await user.click(header);
    expect(screen.queryByTestId('card-details')).not.toBeInTheDocument();
  });

  it('toggles with Enter and Space on the focused header', async () => {
    setup();
    const header = screen.getByTestId('card-header');
    header.focus();
    await fireEvent.keyDown(header, { key: 'Enter' });
    expect(screen.getByTestId('card-details')).toBeInTheDocument();
    await fireEvent.keyDown(header, { key: ' ' });
    expect(screen.queryByTestId('card-details')).not.toBeInTheDocument();
  });

  it('shows the last error details for error status', async () => {
    const { user } = setup({
      status: 'error',
      last_attempt: '2025-03-04T05:06:07Z',
      error: { code: 'auth_failed', message: 'HTTP 401 from ServiceNow', detail: 'GET /api/now/table/incident', at: '2025-03-04T05:06:07Z' },
    });
    await user.click(screen.getByTestId('card-header'));
    const errorBox = screen.getByTestId('card-error');
    expect(errorBox).toHaveTextContent('auth_failed');
    expect(errorBox).toHaveTextContent('HTTP 401 from ServiceNow');
    expect(errorBox).toHaveTextContent('GET /api/now/table/incident');
    expect(errorBox).toHaveTextContent(formatDateTime('2025-03-04T05:06:07Z'));
  });

  it('clicking the switch does not expand the card and calls integration_set_enabled', async () => {
    const { user, integration, onupdated } = setup();
    const updated = { ...integration, enabled: false };
    vi.mocked(api.integrationSetEnabled).mockResolvedValue(updated);
    const toggle = screen.getByTestId('card-enabled');
    expect(toggle).toBeChecked();
    await user.click(toggle);
    expect(api.integrationSetEnabled).toHaveBeenCalledWith(7, false);
    expect(onupdated).toHaveBeenCalledWith(updated);
    expect(screen.queryByTestId('card-details')).not.toBeInTheDocument();
  });

  it('reverts the switch and shows permission_denied inside the card', async () => {
    const { user } = setup();
    vi.mocked(api.integrationSetEnabled).mockRejectedValue({ code: 'permission_denied', message: 'Viewer may not edit.' });
    const toggle = screen.getByTestId('card-enabled');
    await user.click(toggle);
    const msg = await screen.findByTestId('card-message');
    expect(msg).toHaveTextContent('Viewer may not edit.');
    expect(msg).toHaveAttribute('data-tone', 'warning');
    expect(toggle).toBeChecked();
  });

  it('Sync Now shows sync_unavailable as a neutral card message, not a sync error', async () => {
    const { user, onsynced } = setup({ status: 'success', last_sync: '2025-01-02T00:00:00Z' });
    vi.mocked(api.integrationSync).mockRejectedValue({ code: 'sync_unavailable', message: 'Sync is not available in this build.' });
    await user.click(screen.getByTestId('card-header'));
    await user.click(screen.getByTestId('card-sync'));
    expect(api.integrationSync).toHaveBeenCalledWith(7);
    const msg = await screen.findByTestId('card-message');
    expect(msg).toHaveTextContent('Sync is not available in this build.');
    expect(msg).toHaveAttribute('data-tone', 'info');
    expect(screen.getByTestId('card-status')).toHaveAttribute('data-status', 'success');
    expect(onsynced).not.toHaveBeenCalled();
  });
});

describe('IntegrationCard: delete', () => {
  it('asks for confirmation before deleting', async () => {
    const { user, onremoved } = setup();
    vi.mocked(api.integrationRemove).mockResolvedValue(null);
    await user.click(screen.getByTestId('card-header'));
    await user.click(screen.getByTestId('card-delete'));
    const dialog = screen.getByTestId('confirm-dialog');
    expect(dialog).toHaveTextContent(
      'Delete ServiceNow Production? The connection settings and stored credentials are removed. Incidents already synced stay in your knowledge base.',
    );
    expect(screen.getByTestId('confirm-ok')).toHaveTextContent('Delete integration');
    expect(api.integrationRemove).not.toHaveBeenCalled();

    await user.click(screen.getByTestId('confirm-cancel'));
    expect(screen.queryByTestId('confirm-dialog')).not.toBeInTheDocument();
    expect(api.integrationRemove).not.toHaveBeenCalled();

    await user.click(screen.getByTestId('card-delete'));
    await user.click(screen.getByTestId('confirm-ok'));
    expect(api.integrationRemove).toHaveBeenCalledWith(7);
    expect(onremoved).toHaveBeenCalledWith(7);
    expect(screen.queryByTestId('confirm-dialog')).not.toBeInTheDocument();
  });

  it('Esc closes the confirmation without deleting', async () => {
    const { user } = setup();
    await user.click(screen.getByTestId('card-header'));
    await user.click(screen.getByTestId('card-delete'));
    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('confirm-dialog')).not.toBeInTheDocument();
    expect(api.integrationRemove).not.toHaveBeenCalled();
  });
});

describe('IntegrationCard: edit', () => {
  it('sends null for untouched secrets', async () => {
    const { user, integration, onupdated } = setup();
    const saved = { ...integration, name: 'SN Prod' };
    vi.mocked(api.integrationEdit).mockResolvedValue(saved);
    await user.click(screen.getByTestId('card-header'));
    await user.click(screen.getByTestId('card-edit'));
    const dialog = screen.getByTestId('integration-dialog');
    expect(within(dialog).getByTestId('field-name')).toHaveValue('ServiceNow Production');
    expect(within(dialog).getByTestId('field-url')).toHaveValue('https://acme.service-now.com');
    expect(within(dialog).getByTestId('field-username')).toHaveValue('svc_bot');
    const pw = within(dialog).getByTestId('field-password');
    expect(pw).toHaveValue('');
    expect(pw).toHaveAttribute('placeholder', '•••••••• (stored)');

    await user.clear(within(dialog).getByTestId('field-name'));
    await user.type(within(dialog).getByTestId('field-name'), 'SN Prod');
    await user.click(screen.getByTestId('dialog-save'));

    expect(api.integrationEdit).toHaveBeenCalledTimes(1);
    expect(api.integrationEdit).toHaveBeenCalledWith(7, {
      name: 'SN Prod',
      url: 'https://acme.service-now.com',
      auth: 'basic',
      enabled: true,
      username: 'svc_bot',
      password: null,
      token: null,
      client_secret: null,
    });
    expect(onupdated).toHaveBeenCalledWith(saved);
    expect(screen.queryByTestId('integration-dialog')).not.toBeInTheDocument();
  });

  it('sends the typed value for a replaced secret', async () => {
    const { user, integration } = setup();
    vi.mocked(api.integrationEdit).mockResolvedValue(integration);
    await user.click(screen.getByTestId('card-header'));
    await user.click(screen.getByTestId('card-edit'));
    await user.type(screen.getByTestId('field-password'), 'n3w-Secret!');
    await user.click(screen.getByTestId('field-enabled'));
    await user.click(screen.getByTestId('dialog-save'));
    expect(api.integrationEdit).toHaveBeenCalledWith(7, expect.objectContaining({ password: 'n3w-Secret!', enabled: false }));
  });

  it('requires a secret that is not stored yet when the auth type changes', async () => {
    const { user } = setup({ kind: 'jira', auth: 'basic' });
    await user.click(screen.getByTestId('card-header'));
    await user.click(screen.getByTestId('card-edit'));
    expect(screen.getByTestId('field-kind')).toBeDisabled();
    await user.selectOptions(screen.getByTestId('field-auth'), 'token');
    expect(screen.getByTestId('field-token')).toHaveAttribute('placeholder', '');
    await user.click(screen.getByTestId('dialog-save'));
    expect(screen.getByTestId('error-token')).toHaveTextContent('Enter the API token.');
    expect(api.integrationEdit).not.toHaveBeenCalled();
  });
});

describe('IntegrationCard: permissions', () => {
  it('viewer sees no Sync/Edit/Delete and the switch is disabled', async () => {
    loginAs('viewer');
    const { user } = setup();
    expect(screen.getByTestId('card-enabled')).toBeDisabled();
    await user.click(screen.getByTestId('card-header'));
    expect(screen.getByTestId('card-details')).toBeInTheDocument();
    expect(screen.queryByTestId('card-sync')).not.toBeInTheDocument();
    expect(screen.queryByTestId('card-edit')).not.toBeInTheDocument();
    expect(screen.queryByTestId('card-delete')).not.toBeInTheDocument();
  });

  it('operator may sync but not edit or delete', async () => {
    loginAs('operator');
    const { user } = setup();
    expect(screen.getByTestId('card-enabled')).toBeDisabled();
    await user.click(screen.getByTestId('card-header'));
    expect(screen.getByTestId('card-sync')).toBeEnabled();
    expect(screen.queryByTestId('card-edit')).not.toBeInTheDocument();
    expect(screen.queryByTestId('card-delete')).not.toBeInTheDocument();
  });
});
