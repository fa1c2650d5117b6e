import { beforeEach, describe, expect, it, vi } from 'vitest';
import { invoke } from '@tauri-apps/api/core';
import * as api from './api';
import { toAppError } from './errors';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
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
    expect(toAppError({ code: 'weird', message: 'x' }).code).toBe('internal');
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
    await api.integrationSync(3);
    await api.profilesList();
    await api.profileAdd('Bob', 'viewer', null);
    await api.profileSwitch('Bob', 'pw');
    await api.profileRemove('Bob');
    expect(invokeMock.mock.calls).toEqual([
      ['app_status', undefined],
      ['integrations_list', undefined],
      ['integration_add', { input: { name: 'A', kind: 'jira', auth: 'token', url: 'https://a.atlassian.net' } }],
      ['integration_edit', { id: 3, patch: { name: 'B', password: null } }],
      ['integration_set_enabled', { id: 3, enabled: false }],
      ['integration_remove', { id: 3 }],
      ['integration_sync', { id: 3 }],
      ['profiles_list', undefined],
      ['profile_add', { name: 'Bob', role: 'viewer', password: null }],
      ['profile_switch', { name: 'Bob', password: 'pw' }],
      ['profile_remove', { name: 'Bob' }],
    ]);
  });

  it('rejects with the AppError from the core', async () => {
    invokeMock.mockRejectedValueOnce({ code: 'sync_unavailable', message: 'Not yet' });
    await expect(api.integrationSync(1)).rejects.toEqual({ code: 'sync_unavailable', message: 'Not yet' });
  });

  it('normalizes a non-AppError rejection', async () => {
    invokeMock.mockRejectedValueOnce('IPC channel closed');
    await expect(api.integrationsList()).rejects.toEqual({ code: 'internal', message: 'IPC channel closed' });
  });
});
