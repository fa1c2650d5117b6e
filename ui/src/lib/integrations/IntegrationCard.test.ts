import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { tick } from 'svelte';
import userEvent from '@testing-library/user-event';
import IntegrationCard from './IntegrationCard.svelte';
import * as api from '$lib/ipc/api';
import type { Integration, SyncProgress, SyncReport } from '$lib/ipc/types';
import { syncs } from '$lib/state/syncs.svelte';
import { formatDateTime } from '$lib/format';
import { loginAs, makeIntegration, makeProgress, makeReport } from '../../test/fixtures';

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
  syncs.reset();
});

/** Makes integrationSync hang until `finish`, handing out its progress callback. */
function controlSync() {
  let onProgress: ((p: SyncProgress) => void) | undefined;
  let resolve: ((r: SyncReport) => void) | undefined;
  vi.mocked(api.integrationSync).mockImplementation((_id, _full, cb) => {
    onProgress = cb;
    return new Promise<SyncReport>((r) => (resolve = r));
  });
  return {
    async progress(over: Partial<SyncProgress> = {}) {
      onProgress?.(makeProgress(over));
      await tick();
    },
    async finish(over: Partial<SyncReport> = {}) {
      resolve?.(makeReport(over));
      await screen.findByTestId('sync-result');
    },
  };
}

async function startSync(user: ReturnType<typeof userEvent.setup>, testid = 'card-sync') {
  if (!screen.queryByTestId('card-details')) await user.click(screen.getByTestId('card-header'));
  await user.click(screen.getByTestId(testid));
}

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

  it('after a failed sync shows the failed attempt and keeps the last success in view', () => {
    const ok = '2025-03-04T05:06:07Z';
    const failed = '2025-03-05T09:00:00Z';
    setup({ status: 'error', last_sync: ok, last_attempt: failed });
    expect(screen.getByTestId('card-last-attempt')).toHaveTextContent(`Last attempt failed: ${formatDateTime(failed)}`);
    expect(screen.getByTestId('card-last-success')).toHaveTextContent(`Last success: ${formatDateTime(ok)}`);
    expect(screen.queryByTestId('card-last-sync')).not.toBeInTheDocument();
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

  it('shows the knowledge base size, version and schedule', async () => {
    const { user } = setup({
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
    const { user } = setup();
    expect(screen.queryByTestId('card-incidents')).not.toBeInTheDocument();
    await user.click(screen.getByTestId('card-header'));
    expect(screen.queryByTestId('card-summary')).not.toBeInTheDocument();
    expect(screen.getByTestId('card-schedule')).toHaveTextContent('Off (manual only)');
  });

  it('shows the schedule in words, and Off when the field is missing', async () => {
    const { user, rerender, integration } = setup({ schedule_minutes: 60 });
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
    setup({ running: true });
    expect(screen.getByTestId('card-running')).toHaveTextContent('Sync running');
  });
});

describe('IntegrationCard: sync', () => {
  it('Sync Now starts an incremental sync and shows an indeterminate bar until progress arrives', async () => {
    const { user } = setup();
    controlSync();
    await startSync(user);
    expect(api.integrationSync).toHaveBeenCalledWith(7, false, expect.any(Function), false);
    const bar = screen.getByTestId('sync-progress');
    expect(bar).toHaveAttribute('role', 'progressbar');
    expect(bar).toHaveAttribute('data-phase', 'connecting');
    expect(bar).not.toHaveAttribute('aria-valuenow');
    expect(bar).toHaveClass('progress--indeterminate');
    expect(screen.getByTestId('sync-phase')).toHaveTextContent('Connecting…');
    expect(screen.getByTestId('card-sync')).toBeDisabled();
    expect(screen.getByTestId('card-sync')).toHaveTextContent('Syncing…');
    expect(screen.getByTestId('sync-full')).toBeDisabled();
    expect(screen.getByTestId('sync-cancel')).toBeEnabled();
  });

  it('progress events update the bar, labels and aria values', async () => {
    const { user } = setup();
    const sync = controlSync();
    await startSync(user);
    await sync.progress();
    const bar = screen.getByTestId('sync-progress');
    expect(bar).toHaveAttribute('data-phase', 'embedding');
    expect(bar).toHaveAttribute('aria-valuenow', '3');
    expect(bar).toHaveAttribute('aria-valuemax', '12');
    expect(bar).toHaveAttribute('aria-valuemin', '0');
    expect(bar).toHaveAttribute('aria-valuetext', 'Embedding…, Batch 3 of 12');
    expect(bar).not.toHaveClass('progress--indeterminate');
    expect((bar.firstElementChild as HTMLElement).style.width).toBe('25%');
    expect(screen.getByTestId('sync-phase')).toHaveTextContent('Embedding…');
    expect(screen.getByTestId('sync-batch')).toHaveTextContent('Batch 3 of 12');
    expect(screen.getByTestId('sync-counts')).toHaveTextContent(/^240 incidents processed · 120 added · 30 updated$/);
    expect(screen.getByTestId('sync-rate')).toHaveTextContent('48/s');
    expect(screen.getByTestId('sync-eta')).toHaveTextContent('about 2 min left');

    await sync.progress({ phase: 'saving', batch: 9, processed: 1100, added: 700, updated: 250, unchanged: 140, skipped: 10, rate: 2.46, eta_s: 30 });
    expect(bar).toHaveAttribute('data-phase', 'saving');
    expect(bar).toHaveAttribute('aria-valuenow', '9');
    expect(screen.getByTestId('sync-phase')).toHaveTextContent('Saving…');
    expect(screen.getByTestId('sync-counts')).toHaveTextContent(
      '1,100 incidents processed · 700 added · 250 updated · 140 unchanged · 10 skipped',
    );
    expect(screen.getByTestId('sync-rate')).toHaveTextContent('2.5/s');
    expect(screen.getByTestId('sync-eta')).toHaveTextContent('less than a minute left');

    await sync.progress({ phase: 'pruning', batch: 12 });
    expect(screen.getByTestId('sync-phase')).toHaveTextContent('Checking deletions…');
    await sync.progress({ phase: 'fetching', batch: 1 });
    expect(screen.getByTestId('sync-phase')).toHaveTextContent('Fetching incidents…');
    await sync.progress({ phase: 'finishing', batch: 12, rate: 0, eta_s: null });
    expect(screen.getByTestId('sync-phase')).toHaveTextContent('Finishing…');
    expect(screen.queryByTestId('sync-rate')).not.toBeInTheDocument();
    expect(screen.queryByTestId('sync-eta')).not.toBeInTheDocument();
  });

  it('shows an indeterminate bar when the number of batches is unknown', async () => {
    const { user } = setup({ kind: 'jira', auth: 'token' });
    const sync = controlSync();
    await startSync(user);
    await sync.progress({ phase: 'fetching', batch: 4, total_batches: null, total_hint: null, eta_s: null });
    const bar = screen.getByTestId('sync-progress');
    expect(bar).toHaveClass('progress--indeterminate');
    expect(bar).not.toHaveAttribute('aria-valuenow');
    expect(bar).not.toHaveAttribute('aria-valuemax');
    expect(bar).toHaveAttribute('data-phase', 'fetching');
    expect(screen.getByTestId('sync-batch')).toHaveTextContent(/^Batch 4$/);
    expect(screen.queryByTestId('sync-eta')).not.toBeInTheDocument();
  });

  it('keeps a compact progress bar on the collapsed card', async () => {
    const { user } = setup();
    const sync = controlSync();
    await startSync(user);
    await sync.progress();
    await user.click(screen.getByTestId('card-header'));
    expect(screen.queryByTestId('card-details')).not.toBeInTheDocument();
    const bar = screen.getByTestId('sync-progress');
    expect(bar).toHaveAttribute('aria-valuenow', '3');
    expect(bar).toHaveAttribute('data-phase', 'embedding');
    expect(screen.getByTestId('sync-panel')).toHaveTextContent('Embedding…');
    expect(screen.getByTestId('sync-panel')).toHaveTextContent('240 processed');
    expect(screen.queryByTestId('sync-cancel')).not.toBeInTheDocument();
    await sync.finish();
    expect(screen.queryByTestId('sync-progress')).not.toBeInTheDocument();
    expect(screen.getByTestId('sync-result')).toHaveAttribute('data-status', 'success');
  });

  it('Full reconcile explains itself and passes full: true', async () => {
    const { user } = setup({ kind: 'jira', auth: 'token' });
    controlSync();
    await user.click(screen.getByTestId('card-header'));
    expect(screen.getByTestId('sync-full-help')).toHaveTextContent('Also removes incidents deleted in Jira');
    expect(screen.getByTestId('sync-full')).toHaveAccessibleDescription('Also removes incidents deleted in Jira.');
    await user.click(screen.getByTestId('sync-full'));
    expect(api.integrationSync).toHaveBeenCalledTimes(1);
    expect(api.integrationSync).toHaveBeenCalledWith(7, true, expect.any(Function), false);
    expect(screen.getByTestId('sync-panel')).toHaveTextContent('Full reconcile');
  });

  it('Cancel calls integration_sync_cancel and shows the cancelled result', async () => {
    const { user, onsynced } = setup();
    const sync = controlSync();
    vi.mocked(api.integrationSyncCancel).mockResolvedValue(null);
    await startSync(user);
    await sync.progress();
    await user.click(screen.getByTestId('sync-cancel'));
    expect(api.integrationSyncCancel).toHaveBeenCalledWith(7);
    expect(screen.getByTestId('sync-cancel')).toBeDisabled();
    expect(screen.getByTestId('sync-cancel')).toHaveTextContent('Cancelling…');
    expect(onsynced).not.toHaveBeenCalled();

    await sync.finish({ status: 'cancelled', added: 0, updated: 0, deleted: 0 });
    const result = screen.getByTestId('sync-result');
    expect(result).toHaveAttribute('data-status', 'cancelled');
    expect(result).toHaveClass('sync-result--cancelled');
    expect(result).toHaveTextContent('Sync cancelled; work done so far is kept.');
    expect(screen.queryByTestId('sync-result-detail')).not.toBeInTheDocument();
    expect(screen.queryByTestId('sync-progress')).not.toBeInTheDocument();
    expect(screen.getByTestId('card-sync')).toBeEnabled();
    expect(onsynced).toHaveBeenCalledTimes(1);
  });

  it('shows a failed cancel request as a card message and lets the user retry', async () => {
    const { user } = setup();
    controlSync();
    vi.mocked(api.integrationSyncCancel).mockRejectedValue({ code: 'not_found', message: 'No sync is running.' });
    await startSync(user);
    await user.click(screen.getByTestId('sync-cancel'));
    expect(await screen.findByTestId('card-message')).toHaveTextContent('No sync is running.');
    expect(screen.getByTestId('sync-cancel')).toBeEnabled();
  });

  it('success: reloads and shows the counts, total and version', async () => {
    const { user, onsynced } = setup();
    const sync = controlSync();
    await startSync(user);
    await sync.finish({ notes: ['Incidents deleted at the source are kept until a full reconcile.'] });
    const result = screen.getByTestId('sync-result');
    expect(result).toHaveAttribute('data-status', 'success');
    expect(result).toHaveAttribute('role', 'status');
    expect(screen.getByTestId('sync-result-line')).toHaveTextContent(
      /^Synced: 120 added, 30 updated, 4 deleted · 1,234 in the knowledge base · version 7$/,
    );
    expect(result).toHaveTextContent('took 12 s');
    expect(screen.getAllByTestId('sync-note').map((n) => n.textContent)).toEqual([
      'Incidents deleted at the source are kept until a full reconcile.',
    ]);
    expect(onsynced).toHaveBeenCalledTimes(1);
    expect(screen.getByTestId('card-sync')).toBeEnabled();
    expect(screen.getByTestId('card-sync')).toHaveTextContent('Sync Now');

    await user.click(screen.getByTestId('sync-result-dismiss'));
    expect(screen.queryByTestId('sync-result')).not.toBeInTheDocument();
  });

  it('success without a version leaves the version out', async () => {
    const { user } = setup();
    const sync = controlSync();
    await startSync(user);
    await sync.finish({ version: null, added: 1, updated: 0, deleted: 0, total: 1 });
    expect(screen.getByTestId('sync-result-line')).toHaveTextContent(
      /^Synced: 1 added, 0 updated, 0 deleted · 1 in the knowledge base$/,
    );
  });

  it('partial: amber, with the skipped records in an expandable list', async () => {
    const { user } = setup();
    const sync = controlSync();
    await startSync(user);
    await sync.finish({
      status: 'partial',
      skipped: 4,
      skipped_records: [
        { external_id: 'INC0010042', reason: 'Description is empty.' },
        { external_id: 'INC0010077', reason: 'Record is larger than 1 MB.' },
        { external_id: null, reason: 'Record has no sys_id.' },
      ],
    });
    const result = screen.getByTestId('sync-result');
    expect(result).toHaveAttribute('data-status', 'partial');
    expect(result).toHaveClass('sync-result--partial');
    expect(result).toHaveTextContent('Synced with problems: 120 added, 30 updated, 4 deleted · 1,234 in the knowledge base · version 7');
    const skipped = screen.getByTestId('sync-skipped');
    expect(skipped.tagName).toBe('DETAILS');
    expect(skipped).not.toHaveAttribute('open');
    expect(within(skipped).getByText('4 records skipped')).toBeInTheDocument();
    await user.click(within(skipped).getByText('4 records skipped'));
    expect(skipped).toHaveAttribute('open');
    const rows = within(skipped).getAllByTestId('sync-skipped-record');
    expect(rows).toHaveLength(3);
    expect(rows[0]).toHaveTextContent('INC0010042');
    expect(rows[0]).toHaveTextContent('Description is empty.');
    expect(rows[2]).toHaveTextContent('No ID');
    expect(rows[2]).toHaveTextContent('Record has no sys_id.');
    expect(skipped).toHaveTextContent('…and 1 more record not listed');
  });

  it('error: the report error is shown in red and the page reloads', async () => {
    const { user, onsynced } = setup();
    const sync = controlSync();
    await startSync(user);
    await sync.progress({ phase: 'fetching', batch: 1 });
    await sync.finish({
      status: 'error',
      added: 0,
      updated: 0,
      deleted: 0,
      error: { code: 'auth_invalid', message: 'ServiceNow rejected the credentials (HTTP 401). Edit the integration and enter the password again.' },
    });
    const result = screen.getByTestId('sync-result');
    expect(result).toHaveAttribute('data-status', 'error');
    expect(result).toHaveAttribute('role', 'alert');
    expect(result).toHaveClass('sync-result--error');
    expect(result).toHaveTextContent(
      'Sync failed: ServiceNow rejected the credentials (HTTP 401). Edit the integration and enter the password again.',
    );
    expect(onsynced).toHaveBeenCalledTimes(1);
  });

  it('the badge follows integration.status after the reload', async () => {
    const { user, rerender, integration } = setup();
    const sync = controlSync();
    await startSync(user);
    await sync.finish();
    expect(screen.getByTestId('card-status')).toHaveAttribute('data-status', 'never');
    await rerender({
      integration: {
        ...integration,
        status: 'success',
        last_sync: '2025-03-04T05:06:07Z',
        last_summary: { added: 120, updated: 30, deleted: 4, skipped: 0, total: 1234, version: 7 },
      },
    });
    expect(screen.getByTestId('card-status')).toHaveAttribute('data-status', 'success');
    expect(screen.getByTestId('card-incidents')).toHaveTextContent('1,234 incidents');
    expect(screen.getByTestId('sync-result')).toBeInTheDocument();
  });

  it('sync_running rejection shows its message as a card notice', async () => {
    const { user, onsynced } = setup();
    vi.mocked(api.integrationSync).mockRejectedValue({
      code: 'sync_running',
      message: 'A sync of this integration is already running',
    });
    await startSync(user);
    const msg = await screen.findByTestId('card-message');
    expect(msg).toHaveTextContent('A sync of this integration is already running');
    expect(msg).toHaveAttribute('data-tone', 'info');
    expect(screen.queryByTestId('sync-progress')).not.toBeInTheDocument();
    expect(screen.queryByTestId('sync-result')).not.toBeInTheDocument();
    expect(screen.getByTestId('card-sync')).toBeEnabled();
    expect(onsynced).not.toHaveBeenCalled();
  });

  it('other start errors (model_missing, permission_denied) are card notices too', async () => {
    const { user } = setup();
    vi.mocked(api.integrationSync).mockRejectedValueOnce({
      code: 'model_missing',
      message: 'The embedding model is not installed. Run bash scripts/fetch-model.sh.',
    });
    await startSync(user);
    const msg = await screen.findByTestId('card-message');
    expect(msg).toHaveTextContent('The embedding model is not installed. Run bash scripts/fetch-model.sh.');
    expect(msg).toHaveAttribute('data-tone', 'error');

    vi.mocked(api.integrationSync).mockRejectedValueOnce({ code: 'permission_denied', message: 'Viewer may not sync.' });
    await user.click(screen.getByTestId('card-sync'));
    await waitFor(() => expect(screen.getByTestId('card-message')).toHaveTextContent('Viewer may not sync.'));
    expect(screen.getByTestId('card-message')).toHaveAttribute('data-tone', 'warning');
  });

  it('a new sync clears the previous result', async () => {
    const { user } = setup();
    let sync = controlSync();
    await startSync(user);
    await sync.finish({ status: 'error', error: { code: 'unreachable', message: 'Timed out.' } });
    sync = controlSync();
    await user.click(screen.getByTestId('card-sync'));
    expect(screen.queryByTestId('sync-result')).not.toBeInTheDocument();
    expect(screen.getByTestId('sync-progress')).toBeInTheDocument();
    await sync.finish();
    expect(screen.getByTestId('sync-result')).toHaveAttribute('data-status', 'success');
  });

  it('a running sync survives the card being re-mounted (e.g. leaving the page)', async () => {
    const { user, unmount } = setup();
    const sync = controlSync();
    await startSync(user);
    await sync.progress();
    unmount();
    await sync.progress({ batch: 5 });
    setup();
    expect(screen.getByTestId('sync-progress')).toHaveAttribute('aria-valuenow', '5');
    await sync.finish();
    expect(screen.getByTestId('sync-result')).toHaveAttribute('data-status', 'success');
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

  it('preselects the current schedule and sends 0 when it is turned off', async () => {
    const { user, integration } = setup({ schedule_minutes: 360 });
    vi.mocked(api.integrationEdit).mockResolvedValue({ ...integration, schedule_minutes: null });
    await user.click(screen.getByTestId('card-header'));
    await user.click(screen.getByTestId('card-edit'));
    expect(screen.getByTestId('field-schedule_minutes')).toHaveValue('360');
    await user.selectOptions(screen.getByTestId('field-schedule_minutes'), '0');
    await user.click(screen.getByTestId('dialog-save'));
    expect(api.integrationEdit).toHaveBeenCalledWith(7, expect.objectContaining({ schedule_minutes: 0 }));
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
    expect(screen.queryByTestId('sync-full')).not.toBeInTheDocument();
    expect(screen.queryByTestId('card-edit')).not.toBeInTheDocument();
    expect(screen.queryByTestId('card-delete')).not.toBeInTheDocument();
  });

  it('operator may sync but not edit or delete', async () => {
    loginAs('operator');
    const { user } = setup();
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
    const { user } = setup({
      filters: { ...NONE, priority: ['1 - Critical', '2 - High'], updated_from: '2026-01-01', raw_query: 'active=true' },
    });
    await user.click(screen.getByTestId('card-header'));
    expect(screen.getByTestId('card-filters')).toHaveTextContent(
      /^Priority: 1 - Critical, 2 - High · Updated from 2026-01-01 · Query: active=true$/,
    );
  });

  it('labels categories as projects for Jira and shows no row without filters', async () => {
    const { user, unmount } = setup({ kind: 'jira', auth: 'token', filters: { ...NONE, category: ['OPS', 'SUP'] } });
    await user.click(screen.getByTestId('card-header'));
    expect(screen.getByTestId('card-filters')).toHaveTextContent(/^Project: OPS, SUP$/);
    unmount();
    const second = setup();
    await second.user.click(screen.getByTestId('card-header'));
    expect(screen.queryByTestId('card-filters')).not.toBeInTheDocument();
  });
});

describe('IntegrationCard: Test connection', () => {
  it('shows each step, the advice of a failed one and the source count of a passing check', async () => {
    const { user } = setup();
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

describe('IntegrationCard: source counts', () => {
  it('shows what the source counted next to what is stored, and what could not be read', async () => {
    const { user } = setup();
    const sync = controlSync();
    await startSync(user);
    await sync.finish({
      status: 'partial',
      source_total: 1240,
      unread: 6,
      notes: ['The source counted 1240 incidents for this sync but only 1234 could be read: 6 are hidden from this account (row-level ACLs) or were deleted while it ran.'],
    });
    const result = screen.getByTestId('sync-result');
    expect(result).toHaveTextContent('1,234 in the knowledge base · the source counted 1,240 for this sync, 6 could not be read');
    expect(result).toHaveTextContent('row-level ACLs');
  });
});

describe('IntegrationCard: held deletions', () => {
  it('offers to confirm the deletions a full reconcile held back, and confirms with a full sync', async () => {
    const { user } = setup();
    const sync = controlSync();
    await startSync(user, 'sync-full');
    await sync.finish({
      status: 'partial',
      held_deletions: 20,
      notes: ['The source listed 10 incidents while the knowledge base holds 30 from it: 20 would be removed, more than 10 %.'],
    });
    const held = screen.getByTestId('sync-held');
    expect(held).toHaveTextContent('Remove 20 incidents');
    await user.click(within(held).getByTestId('confirm-mass-delete'));
    expect(api.integrationSync).toHaveBeenLastCalledWith(7, true, expect.any(Function), true);
  });
});
