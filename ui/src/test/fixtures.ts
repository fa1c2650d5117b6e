import type { AppStatus, ChatEvent, ChatSession, ChatSettings, Integration, Permission, Role, SyncProgress, SyncReport } from '$lib/ipc/types';
import { session } from '$lib/state/session.svelte';
import { defaultChatSettings } from '$lib/ipc/mock_chat';

export const PERMS: Record<Role, Permission[]> = {
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
    last_summary: null,
    running: false,
    schedule_minutes: null,
    filters: { priority: [], category: [], state: [], updated_from: null, updated_to: null, raw_query: null },
    request_budget: null,
    ca_certificates: null,
    ...over,
  };
}

export function makeProgress(over: Partial<SyncProgress> = {}): SyncProgress {
  return {
    phase: 'embedding',
    batch: 3,
    total_batches: 12,
    processed: 240,
    total_hint: 1200,
    added: 120,
    updated: 30,
    unchanged: 0,
    skipped: 0,
    rate: 48,
    eta_s: 120,
    wait: null,
    ...over,
  };
}

export function makeReport(over: Partial<SyncReport> = {}): SyncReport {
  return {
    status: 'success',
    fetched: 154,
    added: 120,
    updated: 30,
    unchanged: 0,
    deleted: 4,
    skipped: 0,
    total: 1234,
    version: 7,
    skipped_records: [],
    notes: [],
    duration_s: 12.4,
    error: null,
    ...over,
  };
}

/** Settings > Chat as the core returns them: simulated mode, a stored password. */
export function makeChatSettings(over: Partial<ChatSettings> = {}): ChatSettings {
  const base = defaultChatSettings();
  return { ...base, secrets: { ...base.secrets, password: true }, ...over };
}

/** A chat session as the core sends it; `over` replaces fields. */
export function makeChatSession(over: Partial<ChatSession> = {}): ChatSession {
  return {
    id: 's1',
    mode: 'simulated',
    state: 'active',
    started_at: '2026-11-22T08:00:00Z',
    updated_at: '2026-11-22T08:00:00Z',
    agent: null,
    waiting_since: null,
    notice: null,
    take_control: false,
    wait_time: null,
    reason: null,
    details: { client_session_id: 'sb-1', now_session_id: null, client_variables: null },
    messages: [],
    ...over,
  };
}

/** A `state` chat event for session s1; `over` replaces fields. */
export function makeStateEvent(over: Partial<Extract<ChatEvent, { type: 'state' }>> = {}): ChatEvent {
  return {
    type: 'state',
    session_id: 's1',
    state: 'active',
    notice: null,
    agent: null,
    take_control: false,
    wait_time: null,
    reason: null,
    details: { client_session_id: 'sb-1', now_session_id: null, client_variables: null },
    ...over,
  };
}
