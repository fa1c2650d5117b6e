import { integrationSync, integrationSyncCancel } from '$lib/ipc/api';
import { toAppError } from '$lib/ipc/errors';
import type { SyncProgress, SyncReport } from '$lib/ipc/types';

/** A sync started from this window and still running. */
export interface SyncRun {
  full: boolean;
  /** The latest progress event; null until the first one arrives. */
  progress: SyncProgress | null;
  /** Cancel was requested and the core has not answered with the final report yet. */
  cancelling: boolean;
  /** Identifies the run, so late progress events of an older run are ignored. */
  token: number;
}

/**
 * Syncs started from this window, keyed by integration id. Kept outside the cards so that a
 * sync keeps reporting progress (and its result stays visible) when the Integrations page is
 * left and opened again, or when a list reload re-renders the cards.
 */
class Syncs {
  runs = $state<Record<number, SyncRun>>({});
  /** The report of the last sync of each integration started here, until dismissed. */
  results = $state<Record<number, SyncReport>>({});
  #nextToken = 1;

  /**
   * Starts a sync and resolves with its report. Rejects with an AppError when the sync could
   * not start (sync_running, permission_denied, model_missing, not_found…).
   */
  async start(id: number, full: boolean, allowMassDelete = false): Promise<SyncReport> {
    if (this.runs[id]) throw toAppError({ code: 'sync_running', message: 'A sync of this integration is already running.' });
    const token = this.#nextToken++;
    this.runs[id] = { full, progress: null, cancelling: false, token };
    delete this.results[id];
    try {
      const report = await integrationSync(
        id,
        full,
        (progress) => {
          const run = this.runs[id];
          if (run?.token === token) run.progress = progress;
        },
        allowMassDelete,
      );
      this.results[id] = report;
      return report;
    } catch (e) {
      throw toAppError(e);
    } finally {
      if (this.runs[id]?.token === token) delete this.runs[id];
    }
  }

  /** Asks the core to stop the sync; its `start` promise then resolves with "cancelled". */
  async cancel(id: number): Promise<void> {
    const run = this.runs[id];
    if (run) run.cancelling = true;
    try {
      await integrationSyncCancel(id);
    } catch (e) {
      const current = this.runs[id];
      if (current) current.cancelling = false;
      throw toAppError(e);
    }
  }

  dismiss(id: number): void {
    delete this.results[id];
  }

  /** Forget everything (tests; a profile switch does not need it). */
  reset(): void {
    this.runs = {};
    this.results = {};
  }
}

export const syncs = new Syncs();
