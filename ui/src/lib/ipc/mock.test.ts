import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMockInvoke, makeMockChannel } from './mock';
import type { ChatEvent, ChatMessage, ChatSession, Integration, IntegrationCheck, SyncProgress, SyncReport } from './types';

/** Runs the fake timers until `p` settles; a rejection is rethrown after the timers ran, so
 *  it is never reported as unhandled in between. */
async function settle<T>(p: Promise<T>): Promise<T> {
  const settled = p.then(
    (v) => ({ ok: true as const, v }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  await vi.runAllTimersAsync();
  const r = await settled;
  if (!r.ok) throw r.e;
  return r.v;
}

// The dev mock must follow the IPC contract, or `npm run dev` with `?mock` shows things the real
// core never sends.
describe('dev mock: integration_sync', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  async function run<T>(p: Promise<T>): Promise<T> {
    await vi.runAllTimersAsync();
    return p;
  }

  it('streams progress and resolves with a success report; the list reflects it', async () => {
    const invoke = createMockInvoke('');
    const events: SyncProgress[] = [];
    const report = await run(
      invoke<SyncReport>('integration_sync', { id: 1, full: true, onProgress: makeMockChannel<SyncProgress>((p) => events.push(p)) }),
    );
    expect(report.status).toBe('success');
    expect(report.deleted).toBeGreaterThan(0);
    expect(report.total).toBe(1187 + report.added - report.deleted);
    expect(events[0].phase).toBe('connecting');
    expect(events.map((e) => e.phase)).toContain('pruning');
    expect(events.at(-1)?.phase).toBe('finishing');
    expect(events.every((e) => e.total_batches === 12)).toBe(true);
    const list = await run(invoke<Integration[]>('integrations_list'));
    const it = list.find((i) => i.id === 1);
    expect(it?.running).toBe(false);
    expect(it?.last_summary?.version).toBe(report.version);
  });

  it('rejects a second sync of the same integration with sync_running, and cancels', async () => {
    const invoke = createMockInvoke('');
    const first = invoke<SyncReport>('integration_sync', { id: 1, full: false, onProgress: makeMockChannel(() => {}) });
    await vi.advanceTimersByTimeAsync(1000);
    const second = invoke('integration_sync', { id: 1, full: false, onProgress: makeMockChannel(() => {}) });
    const rejected = expect(second).rejects.toMatchObject({ code: 'sync_running' });
    await vi.advanceTimersByTimeAsync(200);
    await rejected;
    const running = invoke<Integration[]>('integrations_list');
    await vi.advanceTimersByTimeAsync(200);
    expect((await running).find((i) => i.id === 1)?.running).toBe(true);
    const cancel = invoke('integration_sync_cancel', { id: 1 });
    expect(await run(cancel)).toBeNull();
    expect((await run(first)).status).toBe('cancelled');
  });

  it('has an indeterminate partial scenario and an error scenario', async () => {
    const invoke = createMockInvoke('');
    const events: SyncProgress[] = [];
    const partial = await run(
      invoke<SyncReport>('integration_sync', { id: 2, full: false, onProgress: makeMockChannel<SyncProgress>((p) => events.push(p)) }),
    );
    expect(partial.status).toBe('partial');
    expect(partial.skipped_records.length).toBe(partial.skipped);
    expect(events.every((e) => e.total_batches === null)).toBe(true);
    // It waits for the rate limit once: one event when the wait starts, with the counts kept.
    const waits = events.filter((e) => e.phase === 'waiting');
    expect(waits).toHaveLength(1);
    expect(waits[0].wait).toMatchObject({ reason: 'rate_limit', label: expect.stringMatching(/^waiting for rate limit \(\d+ s\)$/) as unknown });
    const before = events[events.indexOf(waits[0]) - 1];
    expect(waits[0].processed).toBe(before.processed);
    expect(events.filter((e) => e.phase !== 'waiting').every((e) => e.wait === null)).toBe(true);
    const failed = await run(invoke<SyncReport>('integration_sync', { id: 3, full: false, onProgress: makeMockChannel(() => {}) }));
    expect(failed.status).toBe('error');
    expect(failed.error?.code).toBe('unreachable');
    const list = await run(invoke<Integration[]>('integrations_list'));
    expect(list.find((i) => i.id === 3)?.status).toBe('error');
    expect(list.find((i) => i.id === 2)?.status).toBe('partial');
  });

  it('needs integration.sync', async () => {
    const invoke = createMockInvoke('viewer');
    const p = expect(invoke('integration_sync', { id: 1, full: false })).rejects.toMatchObject({ code: 'permission_denied' });
    await vi.runAllTimersAsync();
    await p;
  });
});

describe('dev mock: schedule_minutes', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const run = settle;

  const input = {
    name: 'New',
    kind: 'servicenow',
    auth: 'basic',
    url: 'https://new.service-now.com',
    username: 'u',
    password: 'p',
  };

  it('carries schedule_minutes on every integration and stores it on add', async () => {
    const invoke = createMockInvoke('');
    const list = await run(invoke<Integration[]>('integrations_list'));
    for (const it of list) expect(it.schedule_minutes === null || typeof it.schedule_minutes === 'number').toBe(true);
    expect((await run(invoke<Integration>('integration_add', { input }))).schedule_minutes).toBeNull();
    const added = await run(invoke<Integration>('integration_add', { input: { ...input, name: 'B', schedule_minutes: 60 } }));
    expect(added.schedule_minutes).toBe(60);
  });

  it('edit: a number sets it, 0 turns it off, null/absent keeps it, out of range is a field error', async () => {
    const invoke = createMockInvoke('');
    const edit = (patch: object) => run(invoke<Integration>('integration_edit', { id: 1, patch }));
    expect((await edit({ schedule_minutes: 15 })).schedule_minutes).toBe(15);
    expect((await edit({ name: 'Renamed' })).schedule_minutes).toBe(15);
    expect((await edit({ schedule_minutes: null })).schedule_minutes).toBe(15);
    expect((await edit({ schedule_minutes: 0 })).schedule_minutes).toBeNull();
    await expect(edit({ schedule_minutes: 2 })).rejects.toMatchObject({
      code: 'validation',
      fields: { schedule_minutes: expect.stringContaining('5 minutes') as unknown },
    });
  });

  it('edit: a URL on another origin needs the secrets again, a path change keeps them', async () => {
    const invoke = createMockInvoke('');
    const edit = (patch: object) => run(invoke<Integration>('integration_edit', { id: 1, patch }));
    const before = (await run(invoke<Integration[]>('integrations_list')))[0];
    await expect(edit({ url: 'https://elsewhere.example.com' })).rejects.toMatchObject({
      code: 'validation',
      fields: { url: expect.stringContaining('enter the credentials again') as unknown },
    });
    expect((await edit({ url: `${before.url}/now` })).url).toBe(`${before.url}/now`);
    const moved = await edit({ url: 'https://elsewhere.example.com', password: 'p', token: 't', client_secret: 's' });
    expect(moved.url).toBe('https://elsewhere.example.com');
  });

  it('carries filters (empty by default), replaces them when present and keeps them when null/absent', async () => {
    const invoke = createMockInvoke('');
    const none = { priority: [], category: [], state: [], updated_from: null, updated_to: null, raw_query: null };
    const list = await run(invoke<Integration[]>('integrations_list'));
    for (const it of list) expect(Object.keys(it.filters).sort()).toEqual(Object.keys(none).sort());
    expect((await run(invoke<Integration>('integration_add', { input }))).filters).toEqual(none);
    const edit = (patch: object) => run(invoke<Integration>('integration_edit', { id: 2, patch }));
    const set = { ...none, category: [' OPS ', ''], raw_query: ' labels = vpn ' };
    expect((await edit({ filters: set })).filters).toEqual({ ...none, category: ['OPS'], raw_query: 'labels = vpn' });
    expect((await edit({ name: 'Renamed', filters: null })).filters.category).toEqual(['OPS']);
    await expect(edit({ filters: { ...none, updated_from: '2026-02-01', updated_to: '2026-01-01' } })).rejects.toMatchObject({
      code: 'validation',
      fields: { 'filters.updated_to': 'The end date is before the start date.' },
    });
  });
});

describe('dev mock: auth types, request budget and CA certificates', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
  const input = { name: 'CC', kind: 'servicenow', auth: 'oauth2_client_credentials', url: 'https://cc.service-now.com', username: 'ignored', client_id: 'app', client_secret: 's' };

  it('accepts client credentials for ServiceNow only, without a username', async () => {
    const invoke = createMockInvoke('');
    const added = await settle(invoke<Integration>('integration_add', { input }));
    expect(added).toMatchObject({ auth: 'oauth2_client_credentials', username: null, request_budget: null, ca_certificates: null });
    await expect(settle(invoke('integration_add', { input: { ...input, name: 'J', kind: 'jira' } }))).rejects.toMatchObject({
      code: 'validation',
      fields: { auth: expect.any(String) as unknown },
    });
    // Moving it to another host needs only the client secret again.
    const moved = await settle(invoke<Integration>('integration_edit', { id: added.id, patch: { url: 'https://other.service-now.com', client_secret: 'n' } }));
    expect(moved.url).toBe('https://other.service-now.com');
  });

  it('stores a budget and CA certificates, and edits them with the patch semantics', async () => {
    const invoke = createMockInvoke('');
    const added = await settle(invoke<Integration>('integration_add', { input: { ...input, request_budget: 500, ca_certificates: `  ${cert}\n` } }));
    expect(added).toMatchObject({ request_budget: 500, ca_certificates: cert });
    const edit = (patch: object) => settle(invoke<Integration>('integration_edit', { id: added.id, patch }));
    expect(await edit({ name: 'Kept' })).toMatchObject({ request_budget: 500, ca_certificates: cert });
    expect(await edit({ request_budget: null, ca_certificates: null })).toMatchObject({ request_budget: 500, ca_certificates: cert });
    expect(await edit({ request_budget: 800 })).toMatchObject({ request_budget: 800 });
    expect(await edit({ request_budget: 0, ca_certificates: '' })).toMatchObject({ request_budget: null, ca_certificates: null });
    await expect(edit({ request_budget: 5 })).rejects.toMatchObject({
      code: 'validation',
      fields: { request_budget: expect.stringContaining('from 10 to 1000000') as unknown },
    });
    await expect(edit({ ca_certificates: 'not a certificate' })).rejects.toMatchObject({
      code: 'validation',
      fields: { ca_certificates: expect.stringContaining('not a PEM certificate file') as unknown },
    });
  });

  it('checks a draft: passes, fails to sign in with a wrong secret or to reach a host that does not resolve', async () => {
    const invoke = createMockInvoke('');
    const draft = (over: object, id: number | null = null) =>
      settle(invoke<IntegrationCheck>('integration_check_draft', { input: { ...input, ...over }, id }));
    const ok = await draft({ ca_certificates: cert });
    expect(ok).toMatchObject({ ok: true, source_total: 500 });
    expect(ok.steps.map((s) => s.name)).toEqual(['reach', 'auth', 'read', 'count']);
    expect(ok.steps[0].detail).toContain("trusting the integration's CA certificates");
    const wrong = await draft({ client_secret: 'wrong' });
    expect(wrong.steps.map((s) => s.ok)).toEqual([true, false, false, false]);
    expect(wrong.steps[1].advice).toContain('refused the credentials');
    const away = await draft({ url: 'https://nowhere.invalid' });
    expect(away.steps[0]).toMatchObject({ name: 'reach', ok: false });
    // Validation as saving: a missing secret, a bad budget.
    await expect(draft({ client_secret: '' })).rejects.toMatchObject({ code: 'validation', fields: { client_secret: expect.any(String) as unknown } });
    await expect(draft({ request_budget: 2 })).rejects.toMatchObject({ code: 'validation', fields: { request_budget: expect.any(String) as unknown } });
  });

  it('checks a draft of an edit with the stored secrets on the same host only', async () => {
    const invoke = createMockInvoke('');
    const draft = (over: object) =>
      settle(invoke<IntegrationCheck>('integration_check_draft', {
        input: { name: 'Jira Cloud', kind: 'jira', auth: 'token', url: 'https://acme.atlassian.net', username: 'bot@acme.example', token: null, ...over },
        id: 2,
      }));
    // The seeded Jira integration's stored token is refused (its last sync got a 401); a new one passes.
    expect((await draft({})).steps[1]).toMatchObject({ name: 'auth', ok: false });
    expect((await draft({ token: 'fresh' })).ok).toBe(true);
    await expect(draft({ url: 'https://other.atlassian.net' })).rejects.toMatchObject({ code: 'validation', fields: { token: expect.any(String) as unknown } });
    const viewer = createMockInvoke('viewer');
    await expect(settle(viewer('integration_check_draft', { input, id: null }))).rejects.toMatchObject({ code: 'permission_denied' });
  });
});

describe('dev mock: Virtual Agent', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts a conversation (greeting + topic picker), switches topic, and refuses both during a handoff', async () => {
    const events: ChatEvent[] = [];
    const invoke = createMockInvoke('', (e) => events.push(e));
    const call = <T>(cmd: string, args?: Record<string, unknown>): Promise<T> => settle(invoke<T>(cmd, args));
    const s = await call<ChatSession>('chat_session');
    const started = await call<ChatMessage[]>('chat_start', { sessionId: s.id });
    expect(started[0]).toMatchObject({ from: 'user', text: 'Started a Virtual Agent conversation' });
    const bodies = () => events.flatMap((e) => (e.type === 'message' ? e.message.body : [])) as { uiType: string; label?: string }[];
    expect(bodies().map((b) => b.uiType)).toEqual(['OutputText', 'TopicPickerControl']);
    await expect(call('chat_switch', { sessionId: s.id, intent: ' ' })).rejects.toMatchObject({ code: 'validation', fields: { intent: expect.any(String) as unknown } });
    await call('chat_switch', { sessionId: s.id, intent: 'Reset my password' });
    expect(bodies().at(-1)).toMatchObject({ uiType: 'InputText', label: 'Reset my password input:' });
    await call('chat_escalate', { sessionId: s.id });
    await expect(call('chat_start', { sessionId: s.id })).rejects.toMatchObject({ code: 'chat_refused' });
    await expect(call('chat_switch', { sessionId: s.id, intent: 'x' })).rejects.toMatchObject({ code: 'chat_refused' });
  });
});
