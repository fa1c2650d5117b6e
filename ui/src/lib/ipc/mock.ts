// DEV-ONLY in-memory fake of the Rust core, used by `npm run dev` with `?mock`.
// Loaded through a dynamic import guarded by `import.meta.env.DEV` in api.ts,
// so it is never part of a production build.
import type {
  AppError,
  AppStatus,
  AuthType,
  Integration,
  IntegrationPatch,
  NewIntegration,
  Permission,
  Profile,
  Role,
} from './types';

const ROLE_PERMS: Record<Role, Permission[]> = {
  admin: [
    'integration.view',
    'integration.create',
    'integration.edit',
    'integration.delete',
    'integration.sync',
    'profiles.manage',
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
        code: 'auth_failed',
        message: 'The server rejected the credentials (HTTP 401).',
        detail: 'GET /rest/api/3/search returned 401 Unauthorized',
        at: ago(15),
      },
      secrets: { password: false, token: true, client_secret: false },
      created_at: ago(60 * 24 * 10),
      updated_at: ago(60 * 24 * 10),
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
    },
  ];
}

/** Create a fake `invoke`. `variant`: "" | "admin" | "operator" | "viewer" | "empty" | "file". */
export function createMockInvoke(variant: string) {
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
  const find = (id: number) => integrations.find((i) => i.id === id) ?? fail('not_found', `Integration ${id} not found.`);
  const checkAuth = (kind: string, auth: AuthType) => {
    const ok = kind === 'servicenow' ? ['basic', 'oauth2'] : ['basic', 'token'];
    if (!ok.includes(auth)) fail('validation', 'Invalid auth type.', { auth: 'Not supported for this kind.' });
  };

  const handlers: Record<string, (a: Record<string, unknown>) => unknown> = {
    app_status: () => status(),
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
      const now = new Date().toISOString();
      const it: Integration = {
        id: nextId++,
        name: input.name.trim(),
        kind: input.kind,
        auth: input.auth,
        url: input.url,
        username: input.username ?? null,
        client_id: input.client_id ?? null,
        enabled: input.enabled ?? true,
        last_sync: null,
        last_attempt: null,
        status: 'never',
        error: null,
        secrets: { password: !!input.password, token: !!input.token, client_secret: !!input.client_secret },
        created_at: now,
        updated_at: now,
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
      const next: Integration = {
        ...it,
        name: p.name?.trim() ?? it.name,
        url: p.url ?? it.url,
        auth: p.auth ?? it.auth,
        username: p.username !== undefined ? p.username : it.username,
        client_id: p.client_id !== undefined ? p.client_id : it.client_id,
        enabled: p.enabled ?? it.enabled,
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
    integration_sync: (a) => {
      need('integration.sync');
      find(a.id as number);
      fail('sync_unavailable', 'Syncing is not available in this build yet. Your settings are saved.');
    },
    profiles_list: () => profiles.map(pub),
    profile_add: (a) => {
      need('profiles.manage');
      const name = String(a.name ?? '').trim();
      if (!name) fail('validation', 'Invalid profile.', { name: 'Enter a profile name.' });
      if (profiles.some((p) => p.name.toLowerCase() === name.toLowerCase())) {
        fail('duplicate_name', 'A profile with this name already exists.', { name: 'A profile with this name already exists.' });
      }
      const pw = (a.password as string | null) || null;
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
    return structuredClone(h(args)) as T;
  };
}
