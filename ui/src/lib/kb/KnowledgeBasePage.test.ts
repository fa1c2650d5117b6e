import { beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import KnowledgeBasePage from './KnowledgeBasePage.svelte';
import * as api from '$lib/ipc/api';
import type { KbStats, VersionDetail, VersionSummary } from '$lib/ipc/types';
import { loginAs } from '../../test/fixtures';
import { layoutChart } from './chart';

vi.mock('$lib/ipc/api');

const stats: KbStats = {
  incidents: 30,
  vectors: 30,
  versions: 3,
  by_integration: [{ integration_id: 1, name: 'Old SN', configured: false, incidents: 30, vectors: 30, versions: 3 }],
  duplicates: 0,
  orphans: 0,
};

const version = (id: number, over: Partial<VersionSummary> = {}): VersionSummary => ({
  id,
  created_at: `2026-10-0${id}T08:00:00Z`,
  finished_at: `2026-10-0${id}T08:01:00Z`,
  integration_id: 1,
  source: 'Old SN',
  kind: 'sync',
  status: 'success',
  fetched: 10,
  added: 10,
  updated: 0,
  unchanged: 0,
  deleted: 0,
  skipped: 0,
  notes: `Sync ${id}`,
  rollback_to: null,
  size_after: id * 10,
  ...over,
});

const versions = [version(3, { updated: 2, deleted: 1 }), version(2), version(1)];

beforeEach(() => {
  loginAs('admin');
  vi.mocked(api.kbStats).mockResolvedValue(stats);
  vi.mocked(api.kbVersions).mockResolvedValue(versions);
});

describe('KnowledgeBasePage', () => {
  it('lists versions newest first with stats, marks the current one, and keeps deleted integrations', async () => {
    render(KnowledgeBasePage);
    const rows = await screen.findAllByTestId('version-row');
    expect(rows.map((r) => r.dataset.version)).toEqual(['3', '2', '1']);
    expect(rows[0]).toHaveTextContent('Current');
    expect(rows[0]).toHaveTextContent('+10');
    expect(rows[0]).toHaveTextContent('~2');
    expect(rows[0]).toHaveTextContent('−1');
    expect(within(rows[0]).queryByTestId('version-rollback')).not.toBeInTheDocument();
    expect(within(rows[1]).getByTestId('version-rollback')).toBeInTheDocument();
    expect(screen.getByTestId('kb-stats')).toHaveTextContent('Old SN (deleted): 30');
    expect(screen.getByTestId('kb-chart')).toBeInTheDocument();
  });

  it('says what to do when there are no versions', async () => {
    vi.mocked(api.kbVersions).mockResolvedValue([]);
    render(KnowledgeBasePage);
    expect(await screen.findByTestId('versions-empty')).toHaveTextContent('Each sync records one: run Sync Now on an integration.');
  });

  it('hides rollback from profiles without kb.rollback', async () => {
    loginAs('operator');
    render(KnowledgeBasePage);
    await screen.findAllByTestId('version-row');
    expect(screen.queryByTestId('version-rollback')).not.toBeInTheDocument();
    expect(screen.getByText('Only an Admin can roll the knowledge base back.')).toBeInTheDocument();
  });

  it('opens a version and shows before → after for an updated incident', async () => {
    const user = userEvent.setup();
    const detail: VersionDetail = {
      version: versions[0],
      changes_total: 2,
      offset: 0,
      skipped: [],
      changes: [
        { incident_id: 5, number: 'INC5', short_description: 'Printer jam', change: 'updated', fields: [{ field: 'state', before: 'In Progress', after: 'Resolved' }], before: {}, after: {} },
        { incident_id: 6, number: 'INC6', short_description: 'Old ticket', change: 'deleted', fields: [], before: {}, after: null },
      ],
    };
    vi.mocked(api.kbVersion).mockResolvedValue(detail);
    render(KnowledgeBasePage);
    const rows = await screen.findAllByTestId('version-row');
    await user.click(within(rows[0]).getByTestId('version-open'));
    const dialog = await screen.findByTestId('version-detail');
    expect(api.kbVersion).toHaveBeenCalledWith(3, 0, 200);
    const changes = await within(dialog).findAllByTestId('version-change');
    expect(changes.map((c) => c.dataset.change)).toEqual(['updated', 'deleted']);
    expect(changes[0]).toHaveTextContent('In Progress');
    expect(changes[0]).toHaveTextContent('Resolved');
    await user.click(within(dialog).getByTestId('changes-deleted'));
    expect(within(dialog).getAllByTestId('version-change').map((c) => c.dataset.number)).toEqual(['INC6']);
  });

  it('rolls back after confirmation and says how to undo', async () => {
    const user = userEvent.setup();
    const created = version(4, { kind: 'rollback', rollback_to: 2, notes: 'Rollback to v2', size_after: 20 });
    vi.mocked(api.kbRollback).mockImplementation(async (_target, onProgress) => {
      onProgress({ phase: 'undo', done: 1, total: 2 });
      return created;
    });
    render(KnowledgeBasePage);
    const rows = await screen.findAllByTestId('version-row');
    await user.click(within(rows[1]).getByTestId('version-rollback'));
    const dialog = screen.getByTestId('rollback-dialog');
    expect(dialog).toHaveTextContent('undoing the latest version');
    vi.mocked(api.kbVersions).mockResolvedValue([created, ...versions]);
    await user.click(within(dialog).getByTestId('confirm-ok'));
    expect(api.kbRollback).toHaveBeenCalledWith(2, expect.any(Function));
    expect(await screen.findByTestId('kb-notice')).toHaveTextContent('Rolled back to v2. This is recorded as v4; roll back to v3 to undo it.');
    expect(screen.queryByTestId('rollback-dialog')).not.toBeInTheDocument();
    await vi.waitFor(() => expect(screen.getAllByTestId('version-row')[0].dataset.version).toBe('4'));
  });

  it('keeps the dialog open with the reason when a rollback is refused', async () => {
    const user = userEvent.setup();
    vi.mocked(api.kbRollback).mockRejectedValue({ code: 'sync_running', message: 'A sync is running. Wait for it to finish, then roll back.' });
    render(KnowledgeBasePage);
    const rows = await screen.findAllByTestId('version-row');
    await user.click(within(rows[2]).getByTestId('version-rollback'));
    await user.click(screen.getByTestId('confirm-ok'));
    expect(await screen.findByTestId('rollback-error')).toHaveTextContent('A sync is running.');
    expect(screen.getByTestId('rollback-dialog')).toBeInTheDocument();
  });

  it('checks integrity and rebuilds the index with progress', async () => {
    const user = userEvent.setup();
    vi.mocked(api.kbCheck)
      .mockResolvedValueOnce({ ok: false, incidents: 30, embedded: 30, index_vectors: 0, missing_from_index: 30, orphans_in_index: 0, fts_rows: 30, sqlite_integrity: 'ok', problems: ['30 incidents are missing from the search index. Rebuild the index.'] })
      .mockResolvedValueOnce({ ok: true, incidents: 30, embedded: 30, index_vectors: 30, missing_from_index: 0, orphans_in_index: 0, fts_rows: 30, sqlite_integrity: 'ok', problems: [] });
    vi.mocked(api.kbRebuild).mockResolvedValue({ vectors: 30, reembedded: 0, took_ms: 1200 });
    render(KnowledgeBasePage);
    await user.click(await screen.findByTestId('kb-check'));
    expect(await screen.findByTestId('kb-check-result')).toHaveTextContent('30 incidents are missing from the search index.');
    await user.click(screen.getByTestId('kb-rebuild'));
    expect(await screen.findByTestId('kb-rebuilt')).toHaveTextContent('Rebuilt 30 vectors in 1.2 s.');
    expect(screen.getByTestId('kb-check-result')).toHaveAttribute('data-ok', 'true');
  });
});

describe('layoutChart', () => {
  it('orders oldest → newest, scales sizes and puts deletions below the zero line', () => {
    const c = layoutChart(versions, 300, 100, 100);
    expect(c.points.map((p) => p.id)).toEqual([1, 2, 3]);
    expect(c.points[0].x).toBe(50);
    expect(c.maxSize).toBe(30);
    expect(c.points[2].sizeY).toBeLessThan(c.points[0].sizeY);
    expect(c.points[2].deletedH).toBeGreaterThan(0);
    expect(c.zeroY).toBeLessThan(200);
    expect(c.zeroY).toBeGreaterThan(100);
  });

  it('handles no versions and no deletions', () => {
    expect(layoutChart([]).points).toEqual([]);
    const c = layoutChart([version(1)], 100, 50, 50);
    expect(c.zeroY).toBe(100);
    expect(c.points[0].deletedH).toBe(0);
  });
});
