import type {
  AuthType,
  Integration,
  IntegrationPatch,
  Kind,
  NewIntegration,
  SecretFlags,
} from '$lib/ipc/types';

export type SecretField = keyof SecretFlags;
export type CredentialField = 'username' | 'client_id' | SecretField;
export type FormField = 'name' | 'kind' | 'auth' | 'url' | 'enabled' | 'schedule_minutes' | CredentialField;

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
}

export type FieldErrors = Partial<Record<string, string>>;

export const SECRET_FIELDS: readonly SecretField[] = ['password', 'token', 'client_secret'];

/** Allowed auth types per kind (first one is the default). */
export const AUTHS_FOR_KIND: Record<Kind, AuthType[]> = {
  servicenow: ['basic', 'oauth2'],
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
  }
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
  };
}

/**
 * Client-side checks (the core stays the authority). `stored` = secrets already
 * stored for the integration being edited: an empty secret input keeps them.
 */
export function validate(v: FormValues, stored?: SecretFlags): FieldErrors {
  const errors: FieldErrors = {};
  if (!v.name.trim()) errors.name = 'Enter a service name.';
  if (!AUTHS_FOR_KIND[v.kind].includes(v.auth)) errors.auth = 'Choose an auth type supported by this system.';
  const url = v.url.trim();
  if (!url) errors.url = 'Enter the URL of your instance.';
  else if (!isHttpUrl(url)) errors.url = 'Enter a valid URL starting with https:// or http://.';
  for (const spec of credentialFields(v.auth)) {
    if (!spec.required) continue;
    const f = spec.field;
    if (isSecret(f)) {
      if (v[f] === '' && !stored?.[f]) errors[f] = REQUIRED_MESSAGE[f];
    } else if (!v[f].trim()) {
      errors[f] = REQUIRED_MESSAGE[f];
    }
  }
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
  };
}

/**
 * Payload for `integration_edit`. Secrets: null = keep the stored value (input left
 * empty or not shown), a string = replace. username / client_id are sent (trimmed) when
 * the auth type uses them and omitted otherwise; an emptied one is sent as "" because
 * the core reads null as "keep" and empty text as "clear". schedule_minutes is compared with
 * `schedule` (the integration's current value): omitted when unchanged, 0 when turned off
 * (the core reads null as "keep"), the number otherwise.
 */
export function toPatch(v: FormValues, schedule: number | null = null): IntegrationPatch {
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
  if (s.has('username')) patch.username = v.username.trim();
  if (s.has('client_id')) patch.client_id = v.client_id.trim();
  const before = scheduleOrNull(schedule);
  const after = scheduleOrNull(v.schedule_minutes);
  if (after !== before) patch.schedule_minutes = after ?? 0;
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
