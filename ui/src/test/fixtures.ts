import type { AppStatus, Integration, Permission, Role } from '$lib/ipc/types';
import { session } from '$lib/state/session.svelte';

export const PERMS: Record<Role, Permission[]> = {
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

export function makeStatus(role: Role = 'admin', name = 'Alice'): AppStatus {
  return {
    version: '0.1.0',
    data_dir: '/tmp/sb',
    secret_store: { kind: 'os_keyring', label: 'OS keyring', detail: 'Secret Service via D-Bus' },
    profile: { name, role, has_password: false, active: true },
    permissions: PERMS[role],
  };
}

export function loginAs(role: Role = 'admin', name = 'Alice'): AppStatus {
  const status = makeStatus(role, name);
  session.status = status;
  return status;
}

export function makeIntegration(over: Partial<Integration> = {}): Integration {
  return {
    id: 7,
    name: 'ServiceNow Production',
    kind: 'servicenow',
    auth: 'basic',
    url: 'https://acme.service-now.com',
    username: 'svc_bot',
    client_id: null,
    enabled: true,
    last_sync: null,
    last_attempt: null,
    status: 'never',
    error: null,
    secrets: { password: true, token: false, client_secret: false },
    created_at: '2025-01-01T10:00:00Z',
    updated_at: '2025-01-01T10:00:00Z',
    ...over,
  };
}
