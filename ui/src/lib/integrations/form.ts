import type {
  AuthType,
  Integration,
  IntegrationPatch,
  Kind,
  NewIntegration,
  SecretFlags,
  SyncFilters,
} from '$lib/ipc/types';

export type SecretField = keyof SecretFlags;
export type CredentialField = 'username' | 'client_id' | SecretField;
export type FormField =
  | 'name'
  | 'kind'
  | 'auth'
  | 'url'
  | 'enabled'
  | 'schedule_minutes'
  | 'request_budget'
  | 'ca_certificates'
  | CredentialField;

export interface FormValues {
  name: string;
  kind: Kind;
  auth: AuthType;
  url: string;
  username: string;
  client_id: string;
  password: string;
  token: string;
  client_secret: string;
  enabled: boolean;
  /** Automatic sync interval in minutes; 0 = off (manual only). */
  schedule_minutes: number;
  filters: FilterValues;
  /** The user accepted an unencrypted http:// URL on another machine. */
  allow_insecure_http: boolean;
  /** Requests per hour the app may send to the source; null (an empty input) = no budget. */
  request_budget: number | null;
  /** PEM text of the CA certificates to trust besides the OS trust store; '' = none. */
  ca_certificates: string;
}

/** The "Filters" inputs as typed: lists are comma-separated text, dates are `YYYY-MM-DD`. */
export interface FilterValues {
  priority: string;
  category: string;
  state: string;
  updated_from: string;
  updated_to: string;
  raw_query: string;
}

/** Server field-error keys of the filter inputs. */
export type FilterErrorKey = 'filters.updated_from' | 'filters.updated_to' | 'filters.raw_query';
export const FILTER_ERROR_KEYS: readonly FilterErrorKey[] = ['filters.updated_from', 'filters.updated_to', 'filters.raw_query'];

export type FieldErrors = Partial<Record<string, string>>;

export const SECRET_FIELDS: readonly SecretField[] = ['password', 'token', 'client_secret'];

/** Allowed auth types per kind (first one is the default). */
export const AUTHS_FOR_KIND: Record<Kind, AuthType[]> = {
  servicenow: ['basic', 'oauth2', 'oauth2_client_credentials'],
  jira: ['basic', 'token'],
};

export const URL_PLACEHOLDER: Record<Kind, string> = {
  servicenow: 'https://company.service-now.com',
  jira: 'https://company.atlassian.net',
};

export interface CredentialSpec {
  field: CredentialField;
  label: string;
  required: boolean;
  hint?: string;
}

/** Credential inputs shown for an auth type, in display order (URL is always shown first). */
export function credentialFields(auth: AuthType): CredentialSpec[] {
  switch (auth) {
    case 'basic':
      return [
        { field: 'username', label: 'Username', required: true },
        { field: 'password', label: 'Password', required: true },
      ];
    case 'token':
      return [
        {
          field: 'username',
          label: 'Username / email',
          required: false,
          hint: 'Leave empty for a Jira Data Center personal access token',
        },
        { field: 'token', label: 'Token', required: true },
      ];
    case 'oauth2':
      return [
        { field: 'client_id', label: 'Client ID', required: true },
        { field: 'client_secret', label: 'Client secret', required: true },
        { field: 'username', label: 'Username', required: true },
        { field: 'password', label: 'Password', required: true },
      ];
    // The client credentials grant signs in as the OAuth application itself: no user, no password.
    case 'oauth2_client_credentials':
      return [
        { field: 'client_id', label: 'Client ID', required: true },
        { field: 'client_secret', label: 'Client secret', required: true },
      ];
  }
}

/** The secrets an auth type needs, in display order (what the card lists as set / not set). */
export function secretsFor(auth: AuthType): SecretField[] {
  return credentialFields(auth)
    .map((c) => c.field)
    .filter(isSecret);
}

/** Request budget bounds per hour, as the core checks them. */
export const MIN_BUDGET = 10;
export const MAX_BUDGET = 1_000_000;
export const BUDGET_MESSAGE =
  'Choose a budget from 10 to 1,000,000 requests per hour, or leave it empty for none. Ask the instance admin for its rate limit rule (e.g. 500 per hour).';

/** The core refuses CA files larger than this: a CA bundle is a few kilobytes. */
export const MAX_CA_BYTES = 1024 * 1024;
export const CA_TOO_LARGE_MESSAGE = 'This file is larger than 1 MB: choose the PEM file of the CA certificate(s).';
export const CA_NOT_PEM_MESSAGE =
  'This is not a PEM certificate file: it needs at least one "-----BEGIN CERTIFICATE-----" block. Export the CA certificate as PEM (Base-64 encoded X.509).';

/** How many certificates a PEM text holds (its BEGIN CERTIFICATE blocks). */
export function countCertificates(pem: string): number {
  return pem.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
}

/**
 * Why a PEM text cannot be CA certificates, or null. Only the cheap checks: the core parses the
 * certificates and reports a damaged one on `ca_certificates`.
 */
export function pemProblem(pem: string): string | null {
  if (new TextEncoder().encode(pem).length > MAX_CA_BYTES) return CA_TOO_LARGE_MESSAGE;
  if (countCertificates(pem) === 0) return CA_NOT_PEM_MESSAGE;
  return null;
}

/** A budget the core can bound-check; null, NaN and 0 mean none. */
function budgetOrNull(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value !== 0 ? value : null;
}

const REQUIRED_MESSAGE: Record<CredentialField, string> = {
  username: 'Enter a username.',
  client_id: 'Enter the client ID.',
  password: 'Enter a password.',
  token: 'Enter the API token.',
  client_secret: 'Enter the client secret.',
};

export function isSecret(field: string): field is SecretField {
  return (SECRET_FIELDS as readonly string[]).includes(field);
}

export function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** `scheme://host:port` of a URL (host lower-cased, default port left out), or null. */
export function originOf(value: string): string | null {
  try {
    const u = new URL(value.trim());
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : null;
  } catch {
    return null;
  }
}

/**
 * Whether an edited URL stays on the origin (scheme, host, port) the stored secrets were
 * entered for. A path or letter-case change does; an invalid URL does not move anything yet.
 */
export function sameOrigin(before: string, after: string): boolean {
  const next = originOf(after);
  return next === null || next === originOf(before);
}

/** An http:// URL on another machine: credentials would cross the network unencrypted. */
export function isInsecureHttp(value: string): boolean {
  try {
    const u = new URL(value.trim());
    if (u.protocol !== 'http:') return false;
    const host = u.hostname.toLowerCase();
    return !(host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host));
  } catch {
    return false;
  }
}

export const NEW_HOST_MESSAGE =
  'The URL now points at another host: enter the credentials again for it. Stored credentials are only sent to the host they were entered for.';
export const INSECURE_HTTP_MESSAGE =
  'http:// would send the credentials and incidents unencrypted: use the https:// address, or confirm the insecure connection below.';

const AGAIN_MESSAGE: Record<SecretField, string> = {
  password: 'Enter the password again for the new host.',
  token: 'Enter the token again for the new host.',
  client_secret: 'Enter the client secret again for the new host.',
};

export function emptyForm(): FormValues {
  return {
    name: '',
    kind: 'servicenow',
    auth: 'basic',
    url: '',
    username: '',
    client_id: '',
    password: '',
    token: '',
    client_secret: '',
    enabled: true,
    schedule_minutes: 0,
    filters: emptyFilterValues(),
    allow_insecure_http: false,
    request_budget: null,
    ca_certificates: '',
  };
}

export function formFromIntegration(it: Integration): FormValues {
  return {
    name: it.name,
    kind: it.kind,
    auth: it.auth,
    url: it.url,
    username: it.username ?? '',
    client_id: it.client_id ?? '',
    password: '',
    token: '',
    client_secret: '',
    enabled: it.enabled,
    schedule_minutes: scheduleOrNull(it.schedule_minutes) ?? 0,
    filters: filterValuesFrom(it.filters),
    allow_insecure_http: false,
    // Missing on an older core: none.
    request_budget: it.request_budget ?? null,
    ca_certificates: it.ca_certificates ?? '',
  };
}

/**
 * Client-side checks (the core stays the authority). `stored` = secrets already
 * stored for the integration being edited: an empty secret input keeps them, unless the URL
 * moved to another origin than `storedUrl` (the URL they were entered for).
 */
export function validate(v: FormValues, stored?: SecretFlags, storedUrl?: string): FieldErrors {
  const errors: FieldErrors = {};
  if (!v.name.trim()) errors.name = 'Enter a service name.';
  if (!AUTHS_FOR_KIND[v.kind].includes(v.auth)) errors.auth = 'Choose an auth type supported by this system.';
  const url = v.url.trim();
  const moved = storedUrl !== undefined && !sameOrigin(storedUrl, url);
  if (!url) errors.url = 'Enter the URL of your instance.';
  else if (!isHttpUrl(url)) errors.url = 'Enter a valid URL starting with https:// or http://.';
  else if (isInsecureHttp(url) && !v.allow_insecure_http && (storedUrl === undefined || moved)) {
    errors.url = INSECURE_HTTP_MESSAGE;
  }
  for (const spec of credentialFields(v.auth)) {
    if (!spec.required) continue;
    const f = spec.field;
    if (isSecret(f)) {
      if (v[f] === '' && moved) {
        errors[f] = AGAIN_MESSAGE[f];
        errors.url ??= NEW_HOST_MESSAGE;
      } else if (v[f] === '' && !stored?.[f]) errors[f] = REQUIRED_MESSAGE[f];
    } else if (!v[f].trim()) {
      errors[f] = REQUIRED_MESSAGE[f];
    }
  }
  const f = v.filters;
  if (f.updated_from && f.updated_to && f.updated_to < f.updated_from) {
    errors['filters.updated_to'] = 'The end date is before the start date.';
  }
  if (f.raw_query.trim().includes('\n')) errors['filters.raw_query'] = 'Write the query on one line.';
  const budget = budgetOrNull(v.request_budget);
  if (budget !== null && (!Number.isInteger(budget) || budget < MIN_BUDGET || budget > MAX_BUDGET)) {
    errors.request_budget = BUDGET_MESSAGE;
  }
  const pem = v.ca_certificates.trim();
  const problem = pem === '' ? null : pemProblem(pem);
  if (problem) errors.ca_certificates = problem;
  return errors;
}

const orNull = (s: string): string | null => (s.trim() === '' ? null : s.trim());
const secretOrNull = (s: string): string | null => (s === '' ? null : s);

function shown(auth: AuthType): Set<CredentialField> {
  return new Set(credentialFields(auth).map((c) => c.field));
}

/** Payload for `integration_add`: fields not used by the auth type are sent as null. */
export function toNewIntegration(v: FormValues): NewIntegration {
  const s = shown(v.auth);
  return {
    name: v.name.trim(),
    kind: v.kind,
    auth: v.auth,
    url: v.url.trim(),
    username: s.has('username') ? orNull(v.username) : null,
    client_id: s.has('client_id') ? orNull(v.client_id) : null,
    password: s.has('password') ? secretOrNull(v.password) : null,
    token: s.has('token') ? secretOrNull(v.token) : null,
    client_secret: s.has('client_secret') ? secretOrNull(v.client_secret) : null,
    enabled: v.enabled,
    schedule_minutes: scheduleOrNull(v.schedule_minutes),
    filters: hasFilters(toFilters(v.filters)) ? toFilters(v.filters) : null,
    request_budget: budgetOrNull(v.request_budget),
    ca_certificates: orNull(v.ca_certificates),
    ...(v.allow_insecure_http && isInsecureHttp(v.url) ? { allow_insecure_http: true } : {}),
  };
}

/**
 * Payload for `integration_check_draft`: what saving would store, with the typed secrets (an
 * empty one is null: the core then uses the stored one while the URL keeps its origin). Editing
 * (`storedUrl`): an http:// URL that stays where it was was accepted when it was saved, so the
 * confirmation the dialog no longer asks for is sent.
 */
export function toDraft(v: FormValues, storedUrl?: string): NewIntegration {
  const draft = toNewIntegration(v);
  if (storedUrl !== undefined && isInsecureHttp(v.url) && sameOrigin(storedUrl, v.url)) draft.allow_insecure_http = true;
  return draft;
}

/**
 * Payload for `integration_edit`. Secrets: null = keep the stored value (input left
 * empty or not shown), a string = replace. username / client_id are sent (trimmed) when
 * the auth type uses them and omitted otherwise; an emptied one is sent as "" because
 * the core reads null as "keep" and empty text as "clear". schedule_minutes is compared with
 * `schedule` (the integration's current value): omitted when unchanged, 0 when turned off
 * (the core reads null as "keep"), the number otherwise. `filters` (the integration's current
 * filters) likewise: `filters` is omitted when unchanged and sent whole (replacing all) otherwise.
 * `advanced` (the integration's request budget and CA certificates): each is omitted when
 * unchanged; a removed budget is sent as 0 and removed certificates as "" (null keeps them).
 */
export function toPatch(
  v: FormValues,
  schedule: number | null = null,
  filters: SyncFilters | null | undefined = null,
  advanced: Partial<Pick<Integration, 'request_budget' | 'ca_certificates'>> = {},
): IntegrationPatch {
  const s = shown(v.auth);
  const patch: IntegrationPatch = {
    name: v.name.trim(),
    url: v.url.trim(),
    auth: v.auth,
    enabled: v.enabled,
    password: s.has('password') ? secretOrNull(v.password) : null,
    token: s.has('token') ? secretOrNull(v.token) : null,
    client_secret: s.has('client_secret') ? secretOrNull(v.client_secret) : null,
  };
  if (v.allow_insecure_http && isInsecureHttp(v.url)) patch.allow_insecure_http = true;
  if (s.has('username')) patch.username = v.username.trim();
  if (s.has('client_id')) patch.client_id = v.client_id.trim();
  const before = scheduleOrNull(schedule);
  const after = scheduleOrNull(v.schedule_minutes);
  if (after !== before) patch.schedule_minutes = after ?? 0;
  const original = normalizeFilters(filters);
  const next = toFilters(v.filters, original);
  if (!sameFilters(next, original)) patch.filters = next;
  const budget = budgetOrNull(v.request_budget);
  if (budget !== budgetOrNull(advanced.request_budget)) patch.request_budget = budget ?? 0;
  const pem = orNull(v.ca_certificates);
  if (pem !== orNull(advanced.ca_certificates ?? '')) patch.ca_certificates = pem ?? '';
  return patch;
}

/** Standard choices of the "Automatic sync" select (0 = off). */
export const SCHEDULE_CHOICES: readonly { minutes: number; label: string }[] = [
  { minutes: 0, label: 'Off (manual only)' },
  { minutes: 15, label: 'Every 15 minutes' },
  { minutes: 60, label: 'Every hour' },
  { minutes: 360, label: 'Every 6 hours' },
  { minutes: 1440, label: 'Every day' },
];

/** Interval the core can bound-check; anything else (null, 0, negative, NaN) means off. */
function scheduleOrNull(minutes: number | null | undefined): number | null {
  return typeof minutes === 'number' && Number.isFinite(minutes) && minutes > 0 ? minutes : null;
}

/**
 * Options of the "Automatic sync" select: the standard choices, plus `current` as
 * "Every N minutes" (in order) when it is set to a non-standard interval.
 */
export function scheduleOptions(current: number | null | undefined): { minutes: number; label: string }[] {
  const options = [...SCHEDULE_CHOICES];
  const m = scheduleOrNull(current);
  if (m !== null && !options.some((o) => o.minutes === m)) {
    options.push({ minutes: m, label: `Every ${m} minutes` });
    options.sort((x, y) => x.minutes - y.minutes);
  }
  return options;
}

export function emptyFilters(): SyncFilters {
  return { priority: [], category: [], state: [], updated_from: null, updated_to: null, raw_query: null };
}

export function emptyFilterValues(): FilterValues {
  return { priority: '', category: '', state: '', updated_from: '', updated_to: '', raw_query: '' };
}

/** A missing `filters` (an older core) reads as "no filters". */
export function normalizeFilters(f: SyncFilters | null | undefined): SyncFilters {
  return { ...emptyFilters(), ...(f ?? {}) };
}

export function hasFilters(f: SyncFilters | null | undefined): boolean {
  const n = normalizeFilters(f);
  return (
    n.priority.length > 0 ||
    n.category.length > 0 ||
    n.state.length > 0 ||
    !!n.updated_from ||
    !!n.updated_to ||
    !!n.raw_query
  );
}

/** "a, b ,, c" → ["a", "b", "c"] (trimmed, blanks and repeats dropped). */
export function parseList(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(',')) {
    const t = part.trim();
    if (t && !out.includes(t)) out.push(t);
  }
  return out;
}

/** A date input holds `YYYY-MM-DD`; an RFC 3339 time from the core shows as its date. */
const dateInput = (v: string | null): string => (v ? v.slice(0, 10) : '');

export function filterValuesFrom(f: SyncFilters | null | undefined): FilterValues {
  const n = normalizeFilters(f);
  return {
    priority: n.priority.join(', '),
    category: n.category.join(', '),
    state: n.state.join(', '),
    updated_from: dateInput(n.updated_from),
    updated_to: dateInput(n.updated_to),
    raw_query: n.raw_query ?? '',
  };
}

/**
 * Filters from the inputs. With `original` (edit), an input still showing the original value
 * keeps it exactly (an RFC 3339 time shown as its date, a list item containing a comma).
 */
export function toFilters(v: FilterValues, original?: SyncFilters): SyncFilters {
  const shownBefore = original ? filterValuesFrom(original) : null;
  const list = (k: 'priority' | 'category' | 'state'): string[] =>
    original && shownBefore && v[k] === shownBefore[k] ? [...original[k]] : parseList(v[k]);
  const date = (k: 'updated_from' | 'updated_to'): string | null =>
    original && shownBefore && v[k] === shownBefore[k] ? original[k] : orNull(v[k]);
  return {
    priority: list('priority'),
    category: list('category'),
    state: list('state'),
    updated_from: date('updated_from'),
    updated_to: date('updated_to'),
    raw_query: orNull(v.raw_query),
  };
}

function sameFilters(a: SyncFilters, b: SyncFilters): boolean {
  const sameList = (x: string[], y: string[]) => x.length === y.length && x.every((e, i) => e === y[i]);
  return (
    sameList(a.priority, b.priority) &&
    sameList(a.category, b.category) &&
    sameList(a.state, b.state) &&
    (a.updated_from ?? null) === (b.updated_from ?? null) &&
    (a.updated_to ?? null) === (b.updated_to ?? null) &&
    (a.raw_query?.trim() || null) === (b.raw_query?.trim() || null)
  );
}

/** Per-kind labels and placeholders of the filter inputs. */
export const FILTER_TEXT: Record<
  Kind,
  { priority: string; category: string; categoryLabel: string; state: string; rawQueryLabel: string; rawQuery: string }
> = {
  servicenow: {
    priority: '1 - Critical, 2 - High',
    categoryLabel: 'Category',
    category: 'Network, Software',
    state: 'Resolved, Closed',
    rawQueryLabel: 'Encoded query',
    rawQuery: 'assignment_group.name=Service Desk^active=true',
  },
  jira: {
    priority: 'Highest, High',
    categoryLabel: 'Project',
    category: 'OPS, SUP',
    state: 'Done, Closed',
    rawQueryLabel: 'JQL',
    rawQuery: 'labels = vpn',
  },
};

/** One-line summary for the card: "Priority: 1 - Critical · Updated from 2026-01-01 · Query: active=true". */
export function summarizeFilters(f: SyncFilters | null | undefined, kind: Kind): string | null {
  if (!hasFilters(f)) return null;
  const n = normalizeFilters(f);
  const parts: string[] = [];
  if (n.priority.length) parts.push(`Priority: ${n.priority.join(', ')}`);
  if (n.category.length) parts.push(`${FILTER_TEXT[kind].categoryLabel}: ${n.category.join(', ')}`);
  if (n.state.length) parts.push(`State: ${n.state.join(', ')}`);
  if (n.updated_from && n.updated_to) parts.push(`Updated from ${n.updated_from} to ${n.updated_to}`);
  else if (n.updated_from) parts.push(`Updated from ${n.updated_from}`);
  else if (n.updated_to) parts.push(`Updated to ${n.updated_to}`);
  if (n.raw_query) parts.push(`Query: ${n.raw_query}`);
  return parts.join(' · ');
}
