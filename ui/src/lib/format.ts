import type { AuthType, Kind, Role, SyncStatus } from '$lib/ipc/types';

export const KIND_LABEL: Record<Kind, string> = { servicenow: 'ServiceNow', jira: 'Jira' };

/** Label shown on cards ("Basic auth", "API token", "OAuth 2.0"). */
export const AUTH_LABEL: Record<AuthType, string> = {
  basic: 'Basic auth',
  token: 'API token',
  oauth2: 'OAuth 2.0',
};

/** Label in the auth type select ("Basic", "API token", "OAuth 2.0"). */
export const AUTH_OPTION_LABEL: Record<AuthType, string> = {
  basic: 'Basic',
  token: 'API token',
  oauth2: 'OAuth 2.0',
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

/** RFC 3339 → local date and time; unparsable input is shown as is. */
export function formatDateTime(value: string): string {
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : dateFmt.format(d);
}
