// DEV-ONLY in-memory fake of the Rust core, used by `npm run dev` with `?mock`.
// Loaded through a dynamic import guarded by `import.meta.env.DEV` in api.ts,
// so it is never part of a production build.
import type {
  AppError,
  AppStatus,
  AuthType,
  ChatEvent,
  Integration,
  IntegrationPatch,
  NewIntegration,
  Permission,
  Profile,
  Role,
  SecretFlags,
  SyncProgress,
  SyncReport,
  SyncStatus,
  SyncFilters,
  SyncSummary,
} from './types';
import { kbHandlers } from './mock_kb';
import { chatHandlers } from './mock_chat';
import { mockCheck } from './mock_check';
import { mockErrorDetail, simulateSync } from './mock_sync';

const ROLE_PERMS: Record<Role, Permission[]> = {
  admin: [
    'integration.view',
    'integration.create',
    'integration.edit',
    'integration.delete',
    'integration.sync',
    'profiles.manage',
    'kb.rollback',
  ],
  operator: ['integration.view', 'integration.sync'],
  viewer: ['integration.view'],
};

interface MockProfile extends Profile {
  password: string | null;
}

function fail(code: AppError['code'], message: string, fields?: Record<string, string>): never {
  const e: AppError = { code, message };
  if (fields) e.fields = fields;
  throw e;
}

const noFilters = (): SyncFilters => ({
  priority: [],
  category: [],
  state: [],
  updated_from: null,
  updated_to: null,
  raw_query: null,
});

/** A made-up CA certificate (not parseable): enough for the UI, which only counts the blocks. */
const DEMO_CA = '-----BEGIN CERTIFICATE-----\nMIIBdemoCorporateProxyRootCA\n-----END CERTIFICATE-----';

/** The secrets each auth type needs, as the core's `AuthType::secret_fields`. */
const SECRETS_FOR: Record<AuthType, (keyof SecretFlags)[]> = {
  basic: ['password'],
  token: ['token'],
  oauth2: ['client_secret', 'password'],
  oauth2_client_credentials: ['client_secret'],
};

const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

function seedIntegrations(): Integration[] {
  return [
    {
      id: 1,
      name: 'ServiceNow Production',
      kind: 'servicenow',
      auth: 'basic',
      url: 'https://acme.service-now.com',
      username: 'svc_supportbot',
      client_id: null,
      enabled: true,
      last_sync: ago(42),
      last_attempt: ago(42),
      status: 'success',
      error: null,
      secrets: { password: true, token: false, client_secret: false },
      created_at: ago(60 * 24 * 30),
      updated_at: ago(60 * 24 * 2),
      last_summary: { added: 14, updated: 9, deleted: 0, skipped: 0, total: 1187, version: 6 },
      running: false,
      schedule_minutes: 60,
      filters: {
        ...noFilters(),
        priority: ['1 - Critical', '2 - High'],
        updated_from: '2025-01-01',
        raw_query: 'active=true',
      },
      request_budget: 500,
      ca_certificates: null,
    },
    {
      id: 2,
      name: 'Jira Cloud',
      kind: 'jira',
      auth: 'token',
      url: 'https://acme.atlassian.net',
      username: 'bot@acme.example',
      client_id: null,
      enabled: true,
      last_sync: ago(60 * 26),
      last_attempt: ago(15),
      status: 'error',
      error: {
        code: 'auth_invalid',
        message: 'The server rejected the credentials (HTTP 401).',
        detail: 'GET /rest/api/3/search returned 401 Unauthorized',
        at: ago(15),
      },
      secrets: { password: false, token: true, client_secret: false },
      created_at: ago(60 * 24 * 10),
      updated_at: ago(60 * 24 * 10),
      last_summary: { added: 412, updated: 0, deleted: 0, skipped: 0, total: 412, version: 1 },
      running: false,
      schedule_minutes: null,
      filters: noFilters(),
      request_budget: null,
      ca_certificates: null,
    },
    {
      id: 3,
      name: 'ServiceNow Staging',
      kind: 'servicenow',
      auth: 'oauth2',
      url: 'https://acme-staging.service-now.com',
      username: 'svc_supportbot',
      client_id: 'a1b2c3d4e5',
      enabled: false,
      last_sync: null,
      last_attempt: null,
      status: 'never',
      error: null,
      secrets: { password: true, token: false, client_secret: true },
      created_at: ago(60 * 3),
      updated_at: ago(60 * 3),
      last_summary: null,
      running: false,
      // Disabled, so this non-standard schedule does not run (the Edit dialog lists it as is).
      schedule_minutes: 30,
      filters: noFilters(),
      request_budget: null,
      ca_certificates: DEMO_CA,
    },
  ];
}

/** Create a fake `invoke`. `variant`: "" | "admin" | "operator" | "viewer" | "empty" | "file". */
export function createMockInvoke(variant: string, emit: (e: ChatEvent) => void = () => {}) {
  const profiles: MockProfile[] = [
    { name: 'Admin', role: 'admin', has_password: true, active: false, password: 'admin' },
    { name: 'Operator', role: 'operator', has_password: false, active: false, password: null },
    { name: 'Viewer', role: 'viewer', has_password: false, active: false, password: null },
  ];
  const start = variant === 'operator' ? 'Operator' : variant === 'viewer' ? 'Viewer' : 'Admin';
  for (const p of profiles) p.active = p.name === start;
  let integrations = variant === 'empty' ? [] : seedIntegrations();
  let nextId = 100;
  const store =
    variant === 'file'
      ? { kind: 'encrypted_file' as const, label: 'Encrypted file', detail: 'No OS keyring found; secrets are kept in an encrypted file in the data directory.' }
      : { kind: 'os_keyring' as const, label: 'OS keyring', detail: 'Secrets are kept in the operating system keyring (Secret Service).' };

  const active = () => profiles.find((p) => p.active) as MockProfile;
  const pub = (p: MockProfile): Profile => ({ name: p.name, role: p.role, has_password: p.has_password, active: p.active });
  const status = (): AppStatus => ({
    version: '0.1.0-mock',
    data_dir: '/home/user/.local/share/support-bot',
    secret_store: store,
    profile: pub(active()),
    permissions: ROLE_PERMS[active().role],
  });
  const need = (perm: Permission) => {
    if (!ROLE_PERMS[active().role].includes(perm)) {
      fail('permission_denied', `Profile "${active().name}" is not allowed to do this (${perm}).`);
    }
  };
  const originOf = (u: string) => {
    try {
      const url = new URL(u.trim());
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : null;
    } catch {
      return null;
    }
  };
  const find = (id: number) => integrations.find((i) => i.id === id) ?? fail('not_found', `Integration ${id} not found.`);
  const checkAuth = (kind: string, auth: AuthType) => {
    const ok = kind === 'servicenow' ? ['basic', 'oauth2', 'oauth2_client_credentials'] : ['basic', 'token'];
    if (!ok.includes(auth)) fail('validation', 'Invalid auth type.', { auth: 'Not supported for this kind.' });
  };
  /** Same bounds and field error as the core: 5 minutes .. one week. */
  const checkSchedule = (minutes: number) => {
    if (!Number.isInteger(minutes) || minutes < 5 || minutes > 10_080) {
      fail('validation', 'Invalid schedule.', {
        schedule_minutes: 'Choose an interval from 5 minutes to one week (10080 minutes), or turn automatic sync off.',
      });
    }
  };

  /** Same bounds and field error as the core: 10 .. 1,000,000 requests per hour. */
  const checkBudget = (budget: number) => {
    if (!Number.isInteger(budget) || budget < 10 || budget > 1_000_000) {
      fail('validation', 'Invalid request budget.', {
        request_budget:
          'Choose a budget from 10 to 1000000 requests per hour, or none. Ask the instance admin for its rate limit rule (e.g. 500 per hour).',
      });
    }
  };
  /** As the core: trimmed, empty = none; the cheap checks of `check_pem` (it also parses them). */
  const checkCa = (pem: string): string | null => {
    const text = pem.trim();
    if (text === '') return null;
    if (new TextEncoder().encode(text).length > 1024 * 1024) {
      fail('validation', 'Invalid CA certificates.', {
        ca_certificates: 'This file is larger than 1 MB: choose the PEM file of the CA certificate(s).',
      });
    }
    if (!text.includes('-----BEGIN CERTIFICATE-----')) {
      fail('validation', 'Invalid CA certificates.', {
        ca_certificates:
          'This is not a PEM certificate file: it needs at least one "-----BEGIN CERTIFICATE-----" block. Export the CA certificate as PEM (Base-64 encoded X.509).',
      });
    }
    return text;
  };

  /** Same normalisation and field errors as the core's filter checks. */
  const checkFilters = (input: SyncFilters): SyncFilters => {
    const list = (v: string[] | undefined) => (v ?? []).map((x) => x.trim()).filter((x) => x !== '');
    const text = (v: string | null | undefined) => (v && v.trim() !== '' ? v.trim() : null);
    const f: SyncFilters = {
      priority: list(input.priority),
      category: list(input.category),
      state: list(input.state),
      updated_from: text(input.updated_from),
      updated_to: text(input.updated_to),
      raw_query: text(input.raw_query),
    };
    const fields: Record<string, string> = {};
    const day = (v: string | null) => (v === null ? null : Number.isNaN(Date.parse(v)) ? undefined : v.slice(0, 10));
    const from = day(f.updated_from);
    const to = day(f.updated_to);
    if (from === undefined) fields['filters.updated_from'] = 'Use a date like 2026-01-31 (or an RFC 3339 time).';
    if (to === undefined) fields['filters.updated_to'] = 'Use a date like 2026-01-31 (or an RFC 3339 time).';
    if (from && to && from > to) fields['filters.updated_to'] = 'The end date is before the start date.';
    if (f.raw_query !== null && f.raw_query.length > 2000) fields['filters.raw_query'] = 'Keep the query under 2,000 characters.';
    else if (f.raw_query?.includes('\n')) fields['filters.raw_query'] = 'Write the query on one line.';
    if (Object.keys(fields).length > 0) fail('validation', 'Invalid filters.', fields);
    return f;
  };

  /** Running syncs by integration id, with their cancel flag. */
  const running = new Map<number, { cancelled: boolean }>();
  const setIntegration = (id: number, patch: Partial<Integration>) => {
    integrations = integrations.map((i) => (i.id === id ? { ...i, ...patch } : i));
  };
  const finishSync = (id: number, r: SyncReport) => {
    const it = integrations.find((i) => i.id === id);
    if (!it) return;
    const now = new Date().toISOString();
    const summary: SyncSummary = {
      added: r.added,
      updated: r.updated,
      deleted: r.deleted,
      skipped: r.skipped,
      total: r.total,
      version: r.version,
    };
    if (r.status === 'cancelled') {
      setIntegration(id, { last_attempt: now, last_summary: { ...summary } });
      return;
    }
    const status: SyncStatus = r.status;
    setIntegration(id, {
      last_attempt: now,
      last_sync: r.status === 'error' ? it.last_sync : now,
      status,
      error: r.error ? { code: r.error.code, message: r.error.message, detail: mockErrorDetail(it, r), at: now } : null,
      last_summary: r.status === 'error' ? it.last_summary : summary,
    });
  };

  const handlers: Record<string, (a: Record<string, unknown>) => unknown> = {
    ...kbHandlers(need, variant === 'empty'),
    ...chatHandlers(emit),
    app_status: () => status(),
    open_external: (a) => {
      window.open(String(a.url), '_blank', 'noopener');
      return null;
    },
    integrations_list: () => {
      need('integration.view');
      return integrations;
    },
    integration_add: (a) => {
      need('integration.create');
      const input = a.input as NewIntegration;
      if (integrations.some((i) => i.name.toLowerCase() === input.name.trim().toLowerCase())) {
        fail('duplicate_name', 'An integration with this name already exists.', {
          name: 'An integration with this name already exists.',
        });
      }
      checkAuth(input.kind, input.auth);
      const schedule = input.schedule_minutes ? input.schedule_minutes : null;
      if (schedule !== null) checkSchedule(schedule);
      const filters = input.filters ? checkFilters(input.filters) : noFilters();
      if (input.request_budget) checkBudget(input.request_budget);
      const ca = input.ca_certificates ? checkCa(input.ca_certificates) : null;
      const now = new Date().toISOString();
      const it: Integration = {
        id: nextId++,
        name: input.name.trim(),
        kind: input.kind,
        auth: input.auth,
        url: input.url,
        username: input.auth === 'oauth2_client_credentials' ? null : (input.username ?? null),
        client_id: input.client_id ?? null,
        enabled: input.enabled ?? true,
        last_sync: null,
        last_attempt: null,
        status: 'never',
        error: null,
        secrets: { password: !!input.password, token: !!input.token, client_secret: !!input.client_secret },
        created_at: now,
        updated_at: now,
        last_summary: null,
        running: false,
        schedule_minutes: schedule,
        filters,
        request_budget: input.request_budget || null,
        ca_certificates: ca,
      };
      integrations = [...integrations, it];
      return it;
    },
    integration_edit: (a) => {
      need('integration.edit');
      const it = find(a.id as number);
      const p = a.patch as IntegrationPatch;
      if (p.name !== undefined && integrations.some((i) => i.id !== it.id && i.name.toLowerCase() === p.name?.trim().toLowerCase())) {
        fail('duplicate_name', 'An integration with this name already exists.', {
          name: 'An integration with this name already exists.',
        });
      }
      if (p.auth) checkAuth(it.kind, p.auth);
      // As the core: stored secrets are never sent to another origin than they were entered for.
      if (p.url !== undefined && originOf(p.url) !== null && originOf(p.url) !== originOf(it.url)) {
        const missing = SECRETS_FOR[p.auth ?? it.auth].filter((f) => !p[f]);
        if (missing.length > 0) {
          const message = `The URL now points at another host (${originOf(p.url)}): enter the credentials again for it. Stored credentials are only sent to the host they were entered for.`;
          const fields: Record<string, string> = { url: message };
          for (const f of missing) fields[f] = `Enter the ${f.replace('_', ' ')} again for the new host.`;
          fail('validation', message, fields);
        }
      }
      // 0 turns automatic sync off, a number sets it, null/absent keeps it.
      if (p.schedule_minutes) checkSchedule(p.schedule_minutes);
      const schedule =
        p.schedule_minutes === undefined || p.schedule_minutes === null
          ? it.schedule_minutes
          : p.schedule_minutes === 0
            ? null
            : p.schedule_minutes;
      // Present filters replace all of them; null/absent keeps them.
      const filters = p.filters ? checkFilters(p.filters) : it.filters;
      // Budget: 0 removes it, a number sets it, null/absent keeps it. CA: "" removes, null/absent keeps.
      if (p.request_budget) checkBudget(p.request_budget);
      const budget = p.request_budget === undefined || p.request_budget === null ? it.request_budget : p.request_budget || null;
      const ca = p.ca_certificates === undefined || p.ca_certificates === null ? it.ca_certificates : checkCa(p.ca_certificates);
      const auth = p.auth ?? it.auth;
      const next: Integration = {
        ...it,
        filters,
        name: p.name?.trim() ?? it.name,
        url: p.url ?? it.url,
        auth,
        username: auth === 'oauth2_client_credentials' ? null : p.username !== undefined ? p.username : it.username,
        client_id: p.client_id !== undefined ? p.client_id : it.client_id,
        enabled: p.enabled ?? it.enabled,
        schedule_minutes: schedule,
        request_budget: budget,
        ca_certificates: ca,
        secrets: {
          password: it.secrets.password || !!p.password,
          token: it.secrets.token || !!p.token,
          client_secret: it.secrets.client_secret || !!p.client_secret,
        },
        updated_at: new Date().toISOString(),
      };
      integrations = integrations.map((i) => (i.id === it.id ? next : i));
      return next;
    },
    integration_set_enabled: (a) => {
      need('integration.edit');
      const it = { ...find(a.id as number), enabled: a.enabled as boolean };
      integrations = integrations.map((i) => (i.id === it.id ? it : i));
      return it;
    },
    integration_remove: (a) => {
      need('integration.delete');
      find(a.id as number);
      integrations = integrations.filter((i) => i.id !== a.id);
      return null;
    },
    integration_sync: async (a) => {
      need('integration.sync');
      const it = find(a.id as number);
      if (running.has(it.id)) fail('sync_running', 'A sync of this integration is already running.');
      const onProgress = a.onProgress as MockChannel<SyncProgress> | undefined;
      const flag = { cancelled: false };
      running.set(it.id, flag);
      setIntegration(it.id, { running: true });
      try {
        const report = await simulateSync(it, a.full === true, flag, (p) => onProgress?.onmessage(structuredClone(p)));
        finishSync(it.id, report);
        return report;
      } finally {
        running.delete(it.id);
        setIntegration(it.id, { running: false });
      }
    },
    integration_check: (a) => {
      need('integration.sync');
      const it = find(a.id as number);
      // The seeded Jira integration failed its last sync with a 401: its check fails to sign in.
      const wrong = it.status === 'error' && it.error?.code === 'auth_invalid';
      return mockCheck({ url: it.url, kind: it.kind, wrongCredentials: wrong, customCa: !!it.ca_certificates });
    },
    integration_check_draft: (a) => {
      const input = a.input as NewIntegration;
      const id = (a.id as number | null | undefined) ?? null;
      need(id === null ? 'integration.create' : 'integration.edit');
      const stored = id === null ? null : find(id);
      // As the core: an empty secret is the stored one, only while the URL keeps its origin.
      const sameHost = stored !== null && stored.kind === input.kind && originOf(stored.url) === originOf(input.url);
      const secret = (f: keyof SecretFlags) => input[f] || (sameHost && stored.secrets[f] ? `stored ${f}` : null);
      const fields: Record<string, string> = {};
      if (!input.name.trim()) fields.name = 'Enter a name for the integration.';
      if (originOf(input.url) === null) fields.url = 'Enter the address of the instance, starting with https://.';
      for (const f of SECRETS_FOR[input.auth] ?? []) if (!secret(f)) fields[f] = `Enter the ${f.replace('_', ' ')}.`;
      if (Object.keys(fields).length > 0) fail('validation', 'Check the highlighted fields.', fields);
      checkAuth(input.kind, input.auth);
      if (input.schedule_minutes) checkSchedule(input.schedule_minutes);
      if (input.filters) checkFilters(input.filters);
      if (input.request_budget) checkBudget(input.request_budget);
      const ca = input.ca_certificates ? checkCa(input.ca_certificates) : null;
      // Try it out: a host under .invalid (or named "unreachable") does not resolve, and a secret
      // typed as "wrong" is refused, as a stored one of an integration whose last sync got a 401.
      const host = new URL(input.url).hostname;
      const typedWrong = SECRETS_FOR[input.auth].some((f) => input[f] === 'wrong');
      const storedWrong = sameHost && stored.status === 'error' && stored.error?.code === 'auth_invalid';
      return mockCheck({
        url: input.url.trim(),
        kind: input.kind,
        unreachable: host.endsWith('.invalid') || host.includes('unreachable'),
        wrongCredentials: typedWrong || (storedWrong && !SECRETS_FOR[input.auth].some((f) => input[f])),
        customCa: ca !== null,
      });
    },
    integration_sync_cancel: (a) => {
      need('integration.sync');
      find(a.id as number);
      const flag = running.get(a.id as number);
      if (flag) flag.cancelled = true;
      return null;
    },
    profiles_list: () => profiles.map(pub),
    profile_add: (a) => {
      need('profiles.manage');
      const name = String(a.name ?? '').trim();
      if (!name) fail('validation', 'Invalid profile.', { name: 'Enter a profile name.' });
      if (profiles.some((p) => p.name.toLowerCase() === name.toLowerCase())) {
        fail('duplicate_name', 'A profile with this name already exists.', { name: 'A profile with this name already exists.' });
      }
      // Same rules as the core: every admin has a password before a second profile exists.
      const open = profiles.find((p) => p.role === 'admin' && p.password === null);
      if (open) {
        fail('admin_password_required', `Set a password for the admin profile "${open.name}" before adding another profile.`);
      }
      const pw = (a.password as string | null) || null;
      if (a.role === 'admin' && !pw) {
        fail('validation', 'An admin profile needs a password.', { password: 'An admin profile needs a password: anyone could act as it otherwise.' });
      }
      const p: MockProfile = { name, role: a.role as Role, has_password: !!pw, active: false, password: pw };
      profiles.push(p);
      return pub(p);
    },
    profile_switch: (a) => {
      const p = profiles.find((x) => x.name === a.name) ?? fail('not_found', `Profile ${String(a.name)} not found.`);
      if (p.password !== null) {
        if (!a.password) fail('profile_password_required', 'This profile is protected by a password.');
        if (a.password !== p.password) {
          fail('profile_password_invalid', 'Wrong password.', { password: 'Wrong password. Try again.' });
        }
      }
      for (const x of profiles) x.active = x === p;
      return status();
    },
    profile_set_password: (a) => {
      const p = profiles.find((x) => x.name === a.name) ?? fail('not_found', `Profile ${String(a.name)} not found.`);
      const me = active();
      if (p !== me) need('profiles.manage');
      else if (p.password !== null && a.current !== p.password) {
        const msg = a.current ? 'Wrong password. Try again.' : 'Enter the current password.';
        fail(a.current ? 'profile_password_invalid' : 'profile_password_required', msg, { current_password: msg });
      }
      const pw = String(a.password ?? '');
      if (pw.length < 4) fail('validation', 'Use at least 4 characters.', { password: 'Use at least 4 characters.' });
      p.password = pw;
      p.has_password = true;
      return pub(p);
    },
    profile_remove: (a) => {
      need('profiles.manage');
      const i = profiles.findIndex((x) => x.name === a.name);
      if (i < 0) fail('not_found', 'Profile not found.');
      if (profiles[i].active) fail('validation', 'The active profile cannot be removed.');
      profiles.splice(i, 1);
      return null;
    },
  };

  return async function mockInvoke<T>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    await new Promise((r) => setTimeout(r, 120));
    const h = handlers[cmd];
    if (!h) fail('internal', `Unknown command ${cmd}`);
    // Structured clone so callers cannot mutate the fake store.
    return structuredClone(await h(args)) as T;
  };
}

/** What the mock receives in place of a Tauri `Channel<T>` (a real one needs the Tauri runtime). */
export interface MockChannel<T> {
  onmessage: (message: T) => void;
}

export function makeMockChannel<T>(onmessage: (message: T) => void): MockChannel<T> {
  return { onmessage };
}
