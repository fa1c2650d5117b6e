import type { AuthType, Kind, Role, SyncPhase, SyncStatus } from '$lib/ipc/types';

export const KIND_LABEL: Record<Kind, string> = { servicenow: 'ServiceNow', jira: 'Jira' };

/** Label shown on cards ("Basic auth", "API token", "OAuth 2.0"): the core's labels. */
export const AUTH_LABEL: Record<AuthType, string> = {
  basic: 'Basic auth',
  token: 'API token',
  oauth2: 'OAuth 2.0',
  oauth2_client_credentials: 'OAuth 2.0 client credentials',
};

/** Label in the auth type select ("Basic", "API token", "OAuth 2.0"). */
export const AUTH_OPTION_LABEL: Record<AuthType, string> = {
  basic: 'Basic',
  token: 'API token',
  oauth2: 'OAuth 2.0',
  oauth2_client_credentials: 'OAuth 2.0 client credentials',
};

export const STATUS_LABEL: Record<SyncStatus, string> = {
  never: 'Never synced',
  success: 'Success',
  partial: 'Partial',
  error: 'Error',
};

export const ROLE_LABEL: Record<Role, string> = { admin: 'Admin', operator: 'Operator', viewer: 'Viewer' };

export const ROLE_HELP: Record<Role, string> = {
  admin: 'Everything: integrations, syncing and profiles.',
  operator: 'View integrations and run syncs.',
  viewer: 'View only.',
};

const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dayFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

/** RFC 3339 or YYYY-MM-DD → local date; unparsable input is shown as is. */
export function formatDate(value: string): string {
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : dayFmt.format(d);
}

/** RFC 3339 → local date and time; unparsable input is shown as is. */
export function formatDateTime(value: string): string {
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : dateFmt.format(d);
}

export const PHASE_LABEL: Record<SyncPhase, string> = {
  connecting: 'Connecting…',
  fetching: 'Fetching incidents…',
  embedding: 'Embedding…',
  saving: 'Saving…',
  pruning: 'Checking deletions…',
  // Shown only without a wait in the event: with one, its own label says what for and how long.
  waiting: 'Waiting…',
  finishing: 'Finishing…',
};

// The UI text is English, so numbers use English digit grouping ("1,234") everywhere.
const countFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const rateFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** 1234 → "1,234". */
export function formatCount(n: number): string {
  return countFmt.format(n);
}

/** "1 record" / "3 records". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** Incidents per second → "48/s", "2.5/s"; null when there is nothing to show yet. */
export function formatRate(rate: number): string | null {
  if (!Number.isFinite(rate) || rate <= 0) return null;
  return `${rate >= 10 ? countFmt.format(Math.round(rate)) : rateFmt.format(rate)}/s`;
}

/** Seconds left → "about 2 min left"; null when unknown. */
export function formatEta(seconds: number | null): string | null {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return null;
  if (seconds < 10) return 'a few seconds left';
  if (seconds < 60) return 'less than a minute left';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} min left`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? `about ${h} h left` : `about ${h} h ${m} min left`;
}

/** 75.3 → "1 min 15 s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  return m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${Math.floor(m / 60)} h`;
}

/**
 * The core's wait label ("waiting for rate limit (12 s)") with the seconds still left in place of
 * the announced ones, capitalised for a phase line: "Waiting for rate limit (9 s)". The core sends
 * the label once, when the wait starts, so the window counts down itself. A label that does not
 * end in "(N s)" is only capitalised.
 */
export function formatWait(label: string, secondsLeft: number): string {
  const text = label.replace(/\(\d+ s\)$/, `(${formatDuration(secondsLeft)})`);
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * schedule_minutes → "Every 30 minutes", "Every hour", "Off (manual only)". A missing field
 * (undefined, e.g. from an older core) or 0 reads as off.
 */
export function formatSchedule(minutes: number | null | undefined): string {
  if (typeof minutes !== 'number' || !Number.isFinite(minutes) || minutes <= 0) return 'Off (manual only)';
  if (minutes === 60) return 'Every hour';
  if (minutes === 1440) return 'Every day';
  if (minutes % 60 === 0) return `Every ${minutes / 60} hours`;
  return minutes === 1 ? 'Every minute' : `Every ${minutes} minutes`;
}
