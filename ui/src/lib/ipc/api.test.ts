import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Channel, invoke } from '@tauri-apps/api/core';
import * as api from './api';
import { toAppError } from './errors';

vi.mock('@tauri-apps/api/core', () => ({
  invoke: vi.fn(),
  // A real Channel needs the Tauri runtime; this stand-in keeps the handler like the real one.
  Channel: class {
    onmessage: (m: unknown) => void = () => {};
  },
}));
const invokeMock = vi.mocked(invoke);

describe('toAppError', () => {
  it('passes an AppError through and keeps string fields only', () => {
    expect(
      toAppError({ code: 'validation', message: 'Bad', fields: { url: 'Enter a URL', junk: 3 } }),
    ).toEqual({ code: 'validation', message: 'Bad', fields: { url: 'Enter a URL' } });
  });

  it('normalizes strings, Errors and unknown codes into internal', () => {
    expect(toAppError('boom')).toEqual({ code: 'internal', message: 'boom' });
    expect(toAppError(new Error('kaput'))).toEqual({ code: 'internal', message: 'Error: kaput' });
    expect(toAppError({ code: 'weird', message: 'x' })).toEqual({ code: 'internal', message: 'x' });
    expect(toAppError({ code: 'model_missing', message: 'Run fetch-model.sh' }).code).toBe('model_missing');
    expect(toAppError(undefined)).toEqual({ code: 'internal', message: 'undefined' });
  });
});

describe('api', () => {
  beforeEach(() => invokeMock.mockResolvedValue(null));

  it('calls each command with camelCase argument keys', async () => {
    await api.appStatus();
    await api.integrationsList();
    await api.integrationAdd({ name: 'A', kind: 'jira', auth: 'token', url: 'https://a.atlassian.net' });
    await api.integrationEdit(3, { name: 'B', password: null });
    await api.integrationSetEnabled(3, false);
    await api.integrationRemove(3);
    await api.integrationSyncCancel(3);
    await api.profilesList();
    await api.profileAdd('Bob', 'viewer', null);
    await api.profileSwitch('Bob', 'pw');
    await api.profileRemove('Bob');
    await api.profileSetPassword('Bob', 'old', 'new-pw');
    await api.chatImage('https://img.example/a.png');
    expect(invokeMock.mock.calls).toEqual([
      ['app_status', undefined],
      ['integrations_list', undefined],
      ['integration_add', { input: { name: 'A', kind: 'jira', auth: 'token', url: 'https://a.atlassian.net' } }],
      ['integration_edit', { id: 3, patch: { name: 'B', password: null } }],
      ['integration_set_enabled', { id: 3, enabled: false }],
      ['integration_remove', { id: 3 }],
      ['integration_sync_cancel', { id: 3 }],
      ['profiles_list', undefined],
      ['profile_add', { name: 'Bob', role: 'viewer', password: null }],
      ['profile_switch', { name: 'Bob', password: 'pw' }],
      ['profile_remove', { name: 'Bob' }],
      ['profile_set_password', { name: 'Bob', current: 'old', password: 'new-pw' }],
      ['chat_image', { url: 'https://img.example/a.png' }],
    ]);
  });

  it('calls the knowledge-base commands with the core argument names', async () => {
    await api.kbStats();
    await api.kbSearch({ query: 'vpn drops', k: 5, method: 'hybrid', filters: { priority: '1 - Critical' } });
    await api.kbFacets();
    await api.kbVersions();
    await api.kbVersion(7, 200, 100);
    await api.kbCheck();
    await api.kbRollback(4, () => {});
    await api.kbRebuild(() => {});
    expect(invokeMock.mock.calls).toEqual([
      ['kb_stats', undefined],
      ['kb_search', { request: { query: 'vpn drops', k: 5, method: 'hybrid', filters: { priority: '1 - Critical' } } }],
      ['kb_facets', undefined],
      ['kb_versions', undefined],
      ['kb_version', { id: 7, offset: 200, limit: 100 }],
      ['kb_check', undefined],
      ['kb_rollback', { target: 4, onProgress: expect.any(Channel) }],
      ['kb_rebuild', { onProgress: expect.any(Channel) }],
    ]);
  });

  it('calls the connection checks with the core argument names', async () => {
    const input = { name: 'A', kind: 'servicenow' as const, auth: 'basic' as const, url: 'https://a.service-now.com' };
    await api.integrationCheck(3);
    await api.integrationCheckDraft(input, null);
    await api.integrationCheckDraft(input, 3);
    expect(invokeMock.mock.calls).toEqual([
      ['integration_check', { id: 3 }],
      ['integration_check_draft', { input, id: null }],
      ['integration_check_draft', { input, id: 3 }],
    ]);
  });

  it('calls the Virtual Agent commands with the core argument names', async () => {
    await api.chatStart('7');
    await api.chatSwitch('7', 'Reset my password');
    expect(invokeMock.mock.calls).toEqual([
      ['chat_start', { sessionId: '7' }],
      ['chat_switch', { sessionId: '7', intent: 'Reset my password' }],
    ]);
  });

  it('passes a Channel as onProgress to integration_sync and resolves with the report', async () => {
    const report = { status: 'success', added: 1 };
    const seen: unknown[] = [];
    invokeMock.mockImplementationOnce(async (_cmd, args) => {
      const ch = (args as { onProgress: Channel<unknown> }).onProgress;
      ch.onmessage({ phase: 'fetching', batch: 1 });
      return report;
    });
    await expect(api.integrationSync(3, true, (p) => seen.push(p))).resolves.toBe(report);
    const [cmd, args] = invokeMock.mock.calls[0];
    expect(cmd).toBe('integration_sync');
    expect(args).toEqual({ id: 3, full: true, allowMassDelete: false, onProgress: expect.any(Channel) });
    expect(seen).toEqual([{ phase: 'fetching', batch: 1 }]);
  });

  it('rejects with the AppError from the core', async () => {
    invokeMock.mockRejectedValueOnce({ code: 'sync_running', message: 'A sync of this integration is already running' });
    await expect(api.integrationSync(1, false, () => {})).rejects.toEqual({
      code: 'sync_running',
      message: 'A sync of this integration is already running',
    });
  });

  it('normalizes a non-AppError rejection', async () => {
    invokeMock.mockRejectedValueOnce('IPC channel closed');
    await expect(api.integrationsList()).rejects.toEqual({ code: 'internal', message: 'IPC channel closed' });
  });
});
