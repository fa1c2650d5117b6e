// The only module that talks to the Rust core. Components import from here
// (never from @tauri-apps/* directly; ESLint enforces that).
import { Channel, invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { toAppError } from './errors';
import type {
  AppStatus,
  Integration,
  IntegrationPatch,
  NewIntegration,
  Profile,
  Role,
  SyncProgress,
  SyncReport,
} from './types';

type Invoke = <T>(cmd: string, args?: Record<string, unknown>) => Promise<T>;

let backend: Invoke = invoke;

/** Builds the object passed as a `Channel<T>` argument. The mock swaps in a plain `{ onmessage }`
 *  because a real Channel needs the Tauri runtime. */
type MakeChannel = <T>(onmessage: (message: T) => void) => unknown;
let makeChannel: MakeChannel = <T>(onmessage: (message: T) => void) => {
  const ch = new Channel<T>();
  ch.onmessage = onmessage;
  return ch;
};

/**
 * Dev-only: `npm run dev` then open `/?mock` (or `/?mock=viewer`, `/?mock=operator`,
 * `/?mock=empty`) to run the UI in a browser against an in-memory fake core.
 * `import.meta.env.DEV` is a compile-time `false` in `vite build`, so the mock
 * module is not part of the production bundle.
 */
let ready: Promise<void> = Promise.resolve();
if (import.meta.env.DEV && typeof location !== 'undefined' && new URLSearchParams(location.search).has('mock')) {
  ready = import('./mock').then((m) => {
    backend = m.createMockInvoke(new URLSearchParams(location.search).get('mock') ?? '');
    makeChannel = m.makeMockChannel;
  });
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  await ready;
  try {
    return await backend<T>(cmd, args);
  } catch (e) {
    throw toAppError(e);
  }
}

export const appStatus = (): Promise<AppStatus> => call('app_status');

export const integrationsList = (): Promise<Integration[]> => call('integrations_list');

export const integrationAdd = (input: NewIntegration): Promise<Integration> =>
  call('integration_add', { input });

export const integrationEdit = (id: number, patch: IntegrationPatch): Promise<Integration> =>
  call('integration_edit', { id, patch });

export const integrationSetEnabled = (id: number, enabled: boolean): Promise<Integration> =>
  call('integration_set_enabled', { id, enabled });

export const integrationRemove = (id: number): Promise<null> => call('integration_remove', { id });

/**
 * Runs a sync and resolves with its report when it ends, whatever the outcome: a failure during
 * the sync resolves with `status: "error"` and `error` set, a cancelled one with "cancelled".
 * Rejects (AppError) only when the sync cannot start: `sync_running`, `permission_denied`,
 * `model_missing`, `not_found`. `full` also removes incidents deleted at the source.
 * `onProgress` is called for every progress event until the promise settles.
 */
export async function integrationSync(
  id: number,
  full: boolean,
  onProgress: (progress: SyncProgress) => void,
): Promise<SyncReport> {
  await ready;
  return call('integration_sync', { id, full, onProgress: makeChannel<SyncProgress>(onProgress) });
}

/** Asks a running sync to stop; the pending `integrationSync` then resolves with "cancelled". */
export const integrationSyncCancel = (id: number): Promise<null> => call('integration_sync_cancel', { id });

export const profilesList = (): Promise<Profile[]> => call('profiles_list');

export const profileAdd = (name: string, role: Role, password: string | null): Promise<Profile> =>
  call('profile_add', { name, role, password });

export const profileSwitch = (name: string, password: string | null): Promise<AppStatus> =>
  call('profile_switch', { name, password });

export const profileRemove = (name: string): Promise<null> => call('profile_remove', { name });

/**
 * Calls `handler` when integrations change outside this window's own actions (a scheduled sync
 * started or finished). Returns the unsubscribe function. Outside Tauri (tests, the dev mock)
 * there is no event bus and this does nothing.
 */
export function onIntegrationsChanged(handler: () => void): () => void {
  if (typeof window === 'undefined' || !('__TAURI_INTERNALS__' in window)) return () => {};
  let unlisten: (() => void) | null = null;
  let cancelled = false;
  void listen('integrations-changed', () => handler()).then((u) => {
    if (cancelled) u();
    else unlisten = u;
  });
  return () => {
    cancelled = true;
    unlisten?.();
  };
}
