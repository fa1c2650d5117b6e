import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import * as api from '$lib/ipc/api';
import type { Integration } from '$lib/ipc/types';
import { formatDateTime } from '$lib/format';
import { loginAs } from '../../test/fixtures';
import { renderCard, resetCardState } from '../../test/integrationCard';

vi.mock('$lib/ipc/api');

// The card collapsed and expanded, its switch, delete, edit, permissions, filters and Test
// connection. Syncing from the card: IntegrationCard.sync.test.ts.

beforeEach(resetCardState);

describe('IntegrationCard: collapsed', () => {
  it('shows name, kind, auth and a gray "Never synced" badge', () => {
    const { card } = renderCard();
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
    renderCard({ status: 'success', last_sync: at, last_attempt: at, kind: 'jira', auth: 'token' });
    const badge = screen.getByTestId('card-status');
    expect(badge).toHaveAttribute('data-status', 'success');
    expect(badge).toHaveTextContent(/^Success$/);
    expect(badge).toHaveClass('badge--success');
    expect(screen.getByTestId('card-last-sync')).toHaveTextContent(`Last sync: ${formatDateTime(at)}`);
    expect(screen.getByTestId('card-header')).toHaveTextContent('Jira');
    expect(screen.getByTestId('card-header')).toHaveTextContent('API token');
  });

  it('after a failed sync shows the failed attempt and keeps the last success in view', () => {
    const ok = '2025-03-04T05:06:07Z';
    const failed = '2025-03-05T09:00:00Z';
    renderCard({ status: 'error', last_sync: ok, last_attempt: failed });
    expect(screen.getByTestId('card-last-attempt')).toHaveTextContent(`Last attempt failed: ${formatDateTime(failed)}`);
    expect(screen.getByTestId('card-last-success')).toHaveTextContent(`Last success: ${formatDateTime(ok)}`);
    expect(screen.queryByTestId('card-last-sync')).not.toBeInTheDocument();
  });

  it('shows a red "Error" badge and amber "Partial" badge', () => {
    const { unmount } = renderCard({ status: 'error' });
    expect(screen.getByTestId('card-status')).toHaveAttribute('data-status', 'error');
    expect(screen.getByTestId('card-status')).toHaveTextContent(/^Error$/);
    expect(screen.getByTestId('card-status')).toHaveClass('badge--error');
    unmount();
    renderCard({ status: 'partial' });
    expect(screen.getByTestId('card-status')).toHaveTextContent(/^Partial$/);
    expect(screen.getByTestId('card-status')).toHaveClass('badge--partial');
  });
});

describe('IntegrationCard: expanded', () => {
  it('expands on header click, showing URL, username and masked secrets', async () => {
    const { user } = renderCard({
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
    renderCard();
    const header = screen.getByTestId('card-header');
    header.focus();
    await fireEvent.keyDown(header, { key: 'Enter' });
    expect(screen.getByTestId('card-details')).toBeInTheDocument();
    await fireEvent.keyDown(header, { key: ' ' });
    expect(screen.queryByTestId('card-details')).not.toBeInTheDocument();
  });

  it('shows the last error details for error status', async () => {
    const { user } = renderCard({
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
    const { user, integration, onupdated } = renderCard();
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
    const { user } = renderCard();
    vi.mocked(api.integrationSetEnabled).mockRejectedValue({ code: 'permission_denied', message: 'Viewer may not edit.' });
    const toggle = screen.getByTestId('card-enabled');
    await user.click(toggle);
    const msg = await screen.findByTestId('card-message');
    expect(msg).toHaveTextContent('Viewer may not edit.');
    expect(msg).toHaveAttribute('data-tone', 'warning');
    expect(toggle).toBeChecked();
  });

  it('shows the knowledge base size, version and schedule', async () => {
    const { user } = renderCard({
      status: 'success',
      last_sync: '2025-03-04T05:06:07Z',
      last_summary: { added: 120, updated: 30, deleted: 4, skipped: 2, total: 1234, version: 7 },
      schedule_minutes: 30,
    });
    expect(screen.getByTestId('card-incidents')).toHaveTextContent(/^1,234 incidents$/);
    await user.click(screen.getByTestId('card-header'));
    expect(screen.getByTestId('card-summary')).toHaveTextContent('1,234 incidents · version 7');
    expect(screen.getByTestId('card-summary')).toHaveTextContent('120 added, 30 updated, 4 deleted, 2 skipped');
    expect(screen.getByTestId('card-schedule')).toHaveTextContent('Every 30 minutes');
  });

  it('has no incident count before the first sync and says when no schedule is set', async () => {
    const { user } = renderCard();
    expect(screen.queryByTestId('card-incidents')).not.toBeInTheDocument();
    await user.click(screen.getByTestId('card-header'));
    expect(screen.queryByTestId('card-summary')).not.toBeInTheDocument();
    expect(screen.getByTestId('card-schedule')).toHaveTextContent('Off (manual only)');
  });

  it('shows the schedule in words, and Off when the field is missing', async () => {
    const { user, rerender, integration } = renderCard({ schedule_minutes: 60 });
    await user.click(screen.getByTestId('card-header'));
    expect(screen.getByTestId('card-schedule')).toHaveTextContent(/^Every hour$/);
    await rerender({ integration: { ...integration, schedule_minutes: 360 } });
    expect(screen.getByTestId('card-schedule')).toHaveTextContent(/^Every 6 hours$/);
    await rerender({ integration: { ...integration, schedule_minutes: 1440 } });
    expect(screen.getByTestId('card-schedule')).toHaveTextContent(/^Every day$/);
    // An older core does not send the field at all.
    const { schedule_minutes: _omitted, ...legacy } = integration;
    await rerender({ integration: legacy as Integration });
    expect(screen.getByTestId('card-schedule')).toHaveTextContent(/^Off \(manual only\)$/);
    expect(screen.getByTestId('card-schedule')).not.toHaveTextContent('undefined');
  });

  it('says so when a sync started elsewhere is running', () => {
    renderCard({ running: true });
    expect(screen.getByTestId('card-running')).toHaveTextContent('Sync running');
  });
});

describe('IntegrationCard: delete', () => {
  it('asks for confirmation before deleting', async () => {
    const { user, onremoved } = renderCard();
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
    const { user } = renderCard();
    await user.click(screen.getByTestId('card-header'));
    await user.click(screen.getByTestId('card-delete'));
    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('confirm-dialog')).not.toBeInTheDocument();
    expect(api.integrationRemove).not.toHaveBeenCalled();
  });
});

describe('IntegrationCard: edit', () => {
  it('sends null for untouched secrets', async () => {
    const { user, integration, onupdated } = renderCard();
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
    const { user, integration } = renderCard();
    vi.mocked(api.integrationEdit).mockResolvedValue(integration);
    await user.click(screen.getByTestId('card-header'));
    await user.click(screen.getByTestId('card-edit'));
    await user.type(screen.getByTestId('field-password'), 'n3w-Secret!');
    await user.click(screen.getByTestId('field-enabled'));
    await user.click(screen.getByTestId('dialog-save'));
    expect(api.integrationEdit).toHaveBeenCalledWith(7, expect.objectContaining({ password: 'n3w-Secret!', enabled: false }));
  });

  it('preselects the current schedule and sends 0 when it is turned off', async () => {
    const { user, integration } = renderCard({ schedule_minutes: 360 });
    vi.mocked(api.integrationEdit).mockResolvedValue({ ...integration, schedule_minutes: null });
    await user.click(screen.getByTestId('card-header'));
    await user.click(screen.getByTestId('card-edit'));
    expect(screen.getByTestId('field-schedule_minutes')).toHaveValue('360');
    await user.selectOptions(screen.getByTestId('field-schedule_minutes'), '0');
    await user.click(screen.getByTestId('dialog-save'));
    expect(api.integrationEdit).toHaveBeenCalledWith(7, expect.objectContaining({ schedule_minutes: 0 }));
  });

  it('requires a secret that is not stored yet when the auth type changes', async () => {
    const { user } = renderCard({ kind: 'jira', auth: 'basic' });
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
    const { user } = renderCard();
    expect(screen.getByTestId('card-enabled')).toBeDisabled();
    await user.click(screen.getByTestId('card-header'));
    expect(screen.getByTestId('card-details')).toBeInTheDocument();
    expect(screen.queryByTestId('card-sync')).not.toBeInTheDocument();
    expect(screen.queryByTestId('sync-full')).not.toBeInTheDocument();
    expect(screen.queryByTestId('card-edit')).not.toBeInTheDocument();
    expect(screen.queryByTestId('card-delete')).not.toBeInTheDocument();
  });

  it('operator may sync but not edit or delete', async () => {
    loginAs('operator');
    const { user } = renderCard();
    expect(screen.getByTestId('card-enabled')).toBeDisabled();
    await user.click(screen.getByTestId('card-header'));
    expect(screen.getByTestId('card-sync')).toBeEnabled();
    expect(screen.getByTestId('sync-full')).toBeEnabled();
    expect(screen.queryByTestId('card-edit')).not.toBeInTheDocument();
    expect(screen.queryByTestId('card-delete')).not.toBeInTheDocument();
  });
});

describe('IntegrationCard: filters', () => {
  const NONE = { priority: [], category: [], state: [], updated_from: null, updated_to: null, raw_query: null };

  it('summarises the filters in the expanded card', async () => {
    const { user } = renderCard({
      filters: { ...NONE, priority: ['1 - Critical', '2 - High'], updated_from: '2026-01-01', raw_query: 'active=true' },
    });
    await user.click(screen.getByTestId('card-header'));
    expect(screen.getByTestId('card-filters')).toHaveTextContent(
      /^Priority: 1 - Critical, 2 - High · Updated from 2026-01-01 · Query: active=true$/,
    );
  });

  it('labels categories as projects for Jira and shows no row without filters', async () => {
    const { user, unmount } = renderCard({ kind: 'jira', auth: 'token', filters: { ...NONE, category: ['OPS', 'SUP'] } });
    await user.click(screen.getByTestId('card-header'));
    expect(screen.getByTestId('card-filters')).toHaveTextContent(/^Project: OPS, SUP$/);
    unmount();
    const second = renderCard();
    await second.user.click(screen.getByTestId('card-header'));
    expect(screen.queryByTestId('card-filters')).not.toBeInTheDocument();
  });
});

describe('IntegrationCard: Test connection', () => {
  it('shows each step, the advice of a failed one and the source count of a passing check', async () => {
    const { user } = renderCard();
    vi.mocked(api.integrationCheck).mockResolvedValueOnce({
      ok: false,
      steps: [
        { name: 'reach', ok: true, detail: 'https://acme.service-now.com answered (HTTP 401 without credentials).', advice: null },
        { name: 'auth', ok: false, detail: 'table incident: HTTP 401: User Not Authenticated', advice: 'ServiceNow refused the credentials: verify the username and password.' },
        { name: 'read', ok: false, detail: 'Not checked: an earlier step failed.', advice: null },
        { name: 'count', ok: false, detail: 'Not checked: an earlier step failed.', advice: null },
      ],
      source_total: null,
    });
    await user.click(screen.getByTestId('card-header'));
    await user.click(screen.getByTestId('card-check'));
    const result = await screen.findByTestId('check-result');
    expect(result).toHaveTextContent('The connection check failed.');
    const steps = within(result).getAllByTestId('check-step');
    expect(steps.map((s) => s.dataset.ok)).toEqual(['true', 'false', 'false', 'false']);
    expect(within(steps[1]).getByTestId('check-advice')).toHaveTextContent('verify the username and password');
    vi.mocked(api.integrationCheck).mockResolvedValueOnce({
      ok: true,
      steps: ['reach', 'auth', 'read', 'count'].map((name) => ({ name: name as 'reach', ok: true, detail: 'fine', advice: null })),
      source_total: 1234,
    });
    await user.click(screen.getByTestId('card-check'));
    await waitFor(() => expect(screen.getByTestId('check-result')).toHaveTextContent('Connection OK: the source counts 1,234 incidents'));
    expect(api.integrationCheck).toHaveBeenCalledWith(7);
  });
});
