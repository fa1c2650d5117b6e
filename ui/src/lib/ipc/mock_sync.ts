// DEV-ONLY simulated syncs of the mock core (mock.ts): progress events per scenario and the
// report at the end, so the sync UI can be tried without a source.
import type { AppError, Integration, SkippedRecord, SyncPhase, SyncProgress, SyncReport } from './types';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long each simulated step takes; `?mock&speed=4` runs syncs 4× faster. */
const STEP_MS = (() => {
  const speed = typeof location !== 'undefined' ? Number(new URLSearchParams(location.search).get('speed')) : 0;
  return speed > 0 ? 450 / speed : 450;
})();

/** Per-integration scenario: id 1 succeeds with a known batch count, id 2 (Jira) has no total
 *  (indeterminate bar), waits for the source's rate limit once and ends partial, id 3 fails while
 *  fetching; others succeed quickly. */
interface Scenario {
  batches: number;
  batchSize: number;
  knownTotal: boolean;
  outcome: 'success' | 'partial' | 'error';
  failAtBatch?: number;
  /** Before fetching this batch, the source answers 429 and the sync waits. */
  waitAtBatch?: number;
}

function scenarioFor(it: Integration): Scenario {
  if (it.id === 1) return { batches: 12, batchSize: 100, knownTotal: true, outcome: 'success' };
  if (it.id === 2) return { batches: 6, batchSize: 50, knownTotal: false, outcome: 'partial', waitAtBatch: 3 };
  if (it.id === 3) return { batches: 8, batchSize: 100, knownTotal: true, outcome: 'error', failAtBatch: 2 };
  return { batches: 3, batchSize: 40, knownTotal: true, outcome: 'success' };
}

export function mockErrorDetail(it: Integration, r: SyncReport): string | null {
  return r.status === 'error' ? `GET ${it.url}/api/now/table/incident: connection timed out after 30 s` : null;
}

export async function simulateSync(
  it: Integration,
  full: boolean,
  flag: { cancelled: boolean },
  emit: (p: SyncProgress) => void,
): Promise<SyncReport> {
  const sc = scenarioFor(it);
  const started = Date.now();
  const before = it.last_summary?.total ?? 0;
  const first = before === 0;
  const p: SyncProgress = {
    phase: 'connecting',
    batch: 0,
    total_batches: sc.knownTotal ? sc.batches : null,
    processed: 0,
    total_hint: sc.knownTotal ? sc.batches * sc.batchSize : null,
    added: 0,
    updated: 0,
    unchanged: 0,
    skipped: 0,
    rate: 0,
    eta_s: null,
    wait: null,
  };
  const skippedRecords: SkippedRecord[] = [];
  let deleted = 0;
  const step = async (phase: SyncPhase) => {
    p.phase = phase;
    const elapsed = (Date.now() - started) / 1000;
    p.rate = elapsed > 0 && p.processed > 0 ? p.processed / elapsed : 0;
    p.eta_s = p.total_hint !== null && p.rate > 0 ? Math.max(0, (p.total_hint - p.processed) / p.rate) : null;
    emit({ ...p });
    await sleep(STEP_MS);
  };
  const report = (status: SyncReport['status'], error: AppError | null, notes: string[] = []): SyncReport => ({
    status,
    fetched: p.processed,
    added: p.added,
    updated: p.updated,
    unchanged: p.unchanged,
    deleted,
    skipped: p.skipped,
    total: before + p.added - deleted,
    version: status === 'error' ? (it.last_summary?.version ?? null) : (it.last_summary?.version ?? 0) + 1,
    skipped_records: skippedRecords,
    notes,
    duration_s: (Date.now() - started) / 1000,
    error,
  });

  await step('connecting');
  for (let b = 1; b <= sc.batches; b++) {
    if (flag.cancelled) return report('cancelled', null);
    p.batch = b;
    if (sc.waitAtBatch === b) {
      // As the core: one event when the wait starts (counts kept), the next one ends it.
      const seconds = Math.max(1, Math.round((STEP_MS * 8) / 1000));
      p.wait = { reason: 'rate_limit', seconds, label: `waiting for rate limit (${seconds} s)` };
      await step('waiting');
      await sleep(seconds * 1000 - STEP_MS);
      p.wait = null;
      if (flag.cancelled) return report('cancelled', null);
    }
    await step('fetching');
    if (sc.failAtBatch === b) {
      return report('error', {
        code: 'unreachable',
        message: `Could not reach ${new URL(it.url).host}: the connection timed out. Check the URL and your network or VPN, then try again.`,
      });
    }
    await step('embedding');
    // Split the batch into added / updated / unchanged / skipped.
    const n = sc.batchSize;
    const skipped = sc.outcome === 'partial' && (b === 2 || b === 5) ? (b === 2 ? 2 : 1) : 0;
    for (let k = 0; k < skipped; k++) {
      skippedRecords.push({
        external_id: b === 5 ? null : `SUP-${1000 + b * 37 + k}`,
        reason: b === 5 ? 'Record has no key field; it cannot be stored.' : 'Description is empty after removing markup.',
      });
    }
    const added = first ? n - skipped : Math.round(n * 0.1);
    const updated = first ? 0 : Math.round(n * 0.25);
    p.added += added;
    p.updated += updated;
    p.skipped += skipped;
    p.unchanged += n - skipped - added - updated;
    p.processed += n;
    await step('saving');
  }
  if (flag.cancelled) return report('cancelled', null);
  if (full) {
    await step('pruning');
    await sleep(STEP_MS * 2);
    deleted = Math.min(4, before);
  }
  await step('finishing');
  if (flag.cancelled) return report('cancelled', null);
  const notes = [
    ...(full ? [] : ['Incidents deleted at the source are kept until a full reconcile.']),
    ...(sc.knownTotal ? [] : ['Jira does not report a total up front, so no ETA is shown.']),
  ];
  return sc.outcome === 'partial'
    ? report('partial', null, notes)
    : report('success', null, notes);
}
