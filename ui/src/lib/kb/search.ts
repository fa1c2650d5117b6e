import type { SearchFilters, SearchMethod } from '$lib/ipc/types';

export const METHOD_LABEL: Record<SearchMethod, string> = {
  hybrid: 'Keywords + meaning',
  bm25: 'Keywords only',
  vector: 'Meaning only',
};

/** Drops unset filters (empty strings from cleared inputs, nulls) before sending them. */
export function cleanFilters(f: SearchFilters): SearchFilters {
  const out: SearchFilters = {};
  if (f.integration_id !== null && f.integration_id !== undefined) out.integration_id = f.integration_id;
  for (const key of ['priority', 'category', 'state', 'from', 'to'] as const) {
    const v = f[key];
    if (typeof v === 'string' && v.trim() !== '') out[key] = v.trim();
  }
  return out;
}

export function hasFilters(f: SearchFilters): boolean {
  return Object.keys(cleanFilters(f)).length > 0;
}
