import type { ChangeKind, VersionKind, VersionStatus } from '$lib/ipc/types';

export const KIND_LABEL: Record<VersionKind, string> = { sync: 'Sync', full_sync: 'Full sync', rollback: 'Rollback' };

export const VERSION_STATUS_LABEL: Record<VersionStatus, string> = {
  running: 'Running',
  success: 'Success',
  partial: 'Partial',
  error: 'Error',
  cancelled: 'Cancelled',
};

export const CHANGE_LABEL: Record<ChangeKind, string> = { added: 'Added', updated: 'Updated', deleted: 'Deleted' };

/** A field value in a diff cell: empty shown as a dash, long text cut at 300 characters. */
export function shortValue(v: string | null): string {
  if (v === null || v === '') return '—';
  return v.length > 300 ? `${v.slice(0, 300)}…` : v;
}
