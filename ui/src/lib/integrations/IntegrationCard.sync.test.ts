import { beforeEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor, within } from '@testing-library/svelte';
import * as api from '$lib/ipc/api';
import { controlSync, renderCard, resetCardState, startSync } from '../../test/integrationCard';

vi.mock('$lib/ipc/api');

// Syncing from the card: progress, cancel, results (success, partial, error), start errors,
// source counts and held deletions.

beforeEach(resetCardState);

describe('IntegrationCard: sync', () => {
  it('Sync Now starts an incremental sync and shows an indeterminate bar until progress arrives', async () => {
    const { user } = renderCard();
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
    const { user } = renderCard();
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
    const { user } = renderCard({ kind: 'jira', auth: 'token' });
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
    const { user } = renderCard();
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
    const { user } = renderCard({ kind: 'jira', auth: 'token' });
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
    const { user, onsynced } = renderCard();
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
    const { user } = renderCard();
    controlSync();
    vi.mocked(api.integrationSyncCancel).mockRejectedValue({ code: 'not_found', message: 'No sync is running.' });
    await startSync(user);
    await user.click(screen.getByTestId('sync-cancel'));
    expect(await screen.findByTestId('card-message')).toHaveTextContent('No sync is running.');
    expect(screen.getByTestId('sync-cancel')).toBeEnabled();
  });

  it('success: reloads and shows the counts, total and version', async () => {
    const { user, onsynced } = renderCard();
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
    const { user } = renderCard();
    const sync = controlSync();
    await startSync(user);
    await sync.finish({ version: null, added: 1, updated: 0, deleted: 0, total: 1 });
    expect(screen.getByTestId('sync-result-line')).toHaveTextContent(
      /^Synced: 1 added, 0 updated, 0 deleted · 1 in the knowledge base$/,
    );
  });

  it('partial: amber, with the skipped records in an expandable list', async () => {
    const { user } = renderCard();
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
    const { user, onsynced } = renderCard();
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
    const { user, rerender, integration } = renderCard();
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
    const { user, onsynced } = renderCard();
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
    const { user } = renderCard();
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
    const { user } = renderCard();
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
    const { user, unmount } = renderCard();
    const sync = controlSync();
    await startSync(user);
    await sync.progress();
    unmount();
    await sync.progress({ batch: 5 });
    renderCard();
    expect(screen.getByTestId('sync-progress')).toHaveAttribute('aria-valuenow', '5');
    await sync.finish();
    expect(screen.getByTestId('sync-result')).toHaveAttribute('data-status', 'success');
  });
});

describe('IntegrationCard: source counts', () => {
  it('shows what the source counted next to what is stored, and what could not be read', async () => {
    const { user } = renderCard();
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
    const { user } = renderCard();
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
