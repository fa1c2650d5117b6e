// The only module that talks to the Rust core. Components import from here
// (never from @tauri-apps/* directly; ESLint enforces that).
import { Channel, invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { toAppError } from './errors';
import type {
  AppStatus,
  ChatEvent,
  ChatImage,
  ChatMessage,
  ChatMode,
  ChatStats,
  ChatReply,
  ChatSession,
  ChatSettings,
  ChatSettingsPatch,
  Facets,
  Integration,
  IntegrationPatch,
  KbCheck,
  KbStats,
  KnowledgeGap,
  IntegrationCheck,
  NewIntegration,
  Profile,
  RebuildProgress,
  RebuildReport,
  Role,
  RollbackProgress,
  SearchRequest,
  SearchResults,
  SyncProgress,
  SyncReport,
  VersionDetail,
  VersionSummary,
  IncidentDetail,
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
    backend = m.createMockInvoke(new URLSearchParams(location.search).get('mock') ?? '', (e) =>
      chatListeners.forEach((h) => h(e)),
    );
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
 * `model_missing`, `not_found`. `full` also removes incidents deleted at the source;
 * `allowMassDelete` confirms removing more than 10 % of them (held back otherwise).
 * `onProgress` is called for every progress event until the promise settles.
 */
export async function integrationSync(
  id: number,
  full: boolean,
  onProgress: (progress: SyncProgress) => void,
  allowMassDelete = false,
): Promise<SyncReport> {
  await ready;
  return call('integration_sync', { id, full, allowMassDelete, onProgress: makeChannel<SyncProgress>(onProgress) });
}

/** Asks a running sync to stop; the pending `integrationSync` then resolves with "cancelled". */
export const integrationSyncCancel = (id: number): Promise<null> => call('integration_sync_cancel', { id });

export const profilesList = (): Promise<Profile[]> => call('profiles_list');

export const profileAdd = (name: string, role: Role, password: string | null): Promise<Profile> =>
  call('profile_add', { name, role, password });

export const profileSwitch = (name: string, password: string | null): Promise<AppStatus> =>
  call('profile_switch', { name, password });

export const profileRemove = (name: string): Promise<null> => call('profile_remove', { name });

/** Sets a profile's password: an admin anyone's, a profile its own (`current` proves the old
 *  one). Rejects with `validation` (fields.password), `profile_password_invalid` /
 *  `profile_password_required` (fields.current_password), `too_many_attempts`. */
export const profileSetPassword = (name: string, current: string | null, password: string): Promise<Profile> =>
  call('profile_set_password', { name, current, password });

/** Opens an http(s) link in the system browser. Links from remote content go through
 *  `askToOpen` (the user sees the address first). */
export const openExternal = (url: string): Promise<null> => call('open_external', { url });

export const kbStats = (): Promise<KbStats> => call('kb_stats');

/** Hybrid (keyword + semantic) search of the synced incidents. Rejects with `validation` for an
 *  empty query or bad filters, `model_missing` when semantic search cannot load the model. */
export const kbSearch = (request: SearchRequest): Promise<SearchResults> => call('kb_search', { request });

/** The values the search filters offer (integrations, priorities, categories, states). */
export const kbFacets = (): Promise<Facets> => call('kb_facets');

/** The connection check of a saved integration: reach, auth, read, count, with advice. */
export const integrationCheck = (id: number): Promise<IntegrationCheck> => call('integration_check', { id });

/**
 * The connection check of the add/edit dialog's values, before saving; nothing is stored.
 * `id`: the integration being edited (its stored secrets stand in for empty inputs while the URL
 * keeps the stored origin), null when adding. Rejects with `validation` (fields keyed as for
 * saving) for input that saving would refuse.
 */
export const integrationCheckDraft = (input: NewIntegration, id: number | null): Promise<IntegrationCheck> =>
  call('integration_check_draft', { input, id });

/** Knowledge gaps: declined questions and answers rated unhelpful, grouped, newest first. */
export const kbGaps = (): Promise<KnowledgeGap[]> => call('kb_gaps');

/** What the bot did with the questions: answered, declined, rated, handed off. */
export const chatStats = (): Promise<ChatStats> => call('chat_stats');

/** Every dataset version, newest first. */
export const kbVersions = (): Promise<VersionSummary[]> => call('kb_versions');

/** Every synced field of one incident (the incident detail view). */
export const kbIncident = (id: number): Promise<IncidentDetail> => call('kb_incident', { id });

/** One version with a page of its changes (before/after per incident). */
export const kbVersion = (id: number, offset = 0, limit = 200): Promise<VersionDetail> =>
  call('kb_version', { id, offset, limit });

/** Rolls the knowledge base back to version `target`; resolves with the new "Rollback to vN" version. */
export async function kbRollback(target: number, onProgress: (p: RollbackProgress) => void): Promise<VersionSummary> {
  await ready;
  return call('kb_rollback', { target, onProgress: makeChannel<RollbackProgress>(onProgress) });
}

/** Verifies that the vector index and SQLite agree (counts and ids) and SQLite's integrity. */
export const kbCheck = (): Promise<KbCheck> => call('kb_check');

/** Rebuilds the vector index from SQLite (stored vectors; re-embeds rows without one). */
export async function kbRebuild(onProgress: (p: RebuildProgress) => void): Promise<RebuildReport> {
  await ready;
  return call('kb_rebuild', { onProgress: makeChannel<RebuildProgress>(onProgress) });
}

export const chatSettings = (): Promise<ChatSettings> => call('chat_settings');

/** Saves Settings > Chat (Admin). Rejects with `validation` and `fields` keyed by input name. */
export const chatSettingsSave = (patch: ChatSettingsPatch): Promise<ChatSettings> => call('chat_settings_save', { patch });

/** The open chat session (resumed after a restart), or a new one in the configured mode. */
export const chatSession = (): Promise<ChatSession> => call('chat_session');

/** Ends nothing: starts a fresh session (the old one stays in history). */
export const chatNew = (mode: ChatMode | null = null): Promise<ChatSession> => call('chat_new', { mode });

/** Sends a typed message. Resolves with the messages it produced at once (the user's message and,
 *  while the bot answers, its answer); agent messages arrive later as `message` events. */
export const chatSend = (sessionId: string, text: string): Promise<ChatMessage[]> =>
  call('chat_send', { sessionId, text });

/** Answers a control (picker option, boolean, date, input): sent with `typed: false`. */
export const chatReply = (sessionId: string, reply: ChatReply): Promise<ChatMessage[]> =>
  call('chat_reply', { sessionId, reply });

/** START_CONVERSATION: the Virtual Agent's greeting and topic picker follow as events. Refused
 *  (chat_refused) while waiting for or talking to an agent. Returns the user's action line. */
export const chatStart = (sessionId: string): Promise<ChatMessage[]> => call('chat_start', { sessionId });

/** SWITCH to a topic (`intent.id`); an empty one is a validation error on the field `intent`. */
export const chatSwitch = (sessionId: string, intent: string): Promise<ChatMessage[]> =>
  call('chat_switch', { sessionId, intent });

/** Sends a file as an attachment (bytes base64-encoded). */
export const chatAttach = (sessionId: string, fileName: string, contentType: string, dataBase64: string): Promise<ChatMessage[]> =>
  call('chat_attach', { sessionId, fileName, contentType, dataBase64 });

/** "Talk to a human": hands the conversation to a live agent. */
export const chatEscalate = (sessionId: string): Promise<ChatSession> => call('chat_escalate', { sessionId });

/** Cancels a handoff that is still waiting for an agent. */
export const chatCancel = (sessionId: string): Promise<ChatSession> => call('chat_cancel', { sessionId });

/** Ends a conversation with an agent (END_CONVERSATION). */
export const chatEnd = (sessionId: string): Promise<ChatSession> => call('chat_end', { sessionId });

/** After a wait timeout: keep waiting for an agent. */
export const chatKeepWaiting = (sessionId: string): Promise<ChatSession> => call('chat_keep_waiting', { sessionId });

/** "Load image": an agent's image fetched by the core (the window loads no remote images), as
 *  base64 bytes and a type for a `data:` URL. Only images sent in the profile's own chat. */
export const chatImage = (url: string): Promise<ChatImage> => call('chat_image', { url });

/** "Did this help?" on a bot answer. */
export const chatFeedback = (messageId: number, helpful: boolean): Promise<null> => call('chat_feedback', { messageId, helpful });

/** Calls `handler` for every chat event (agent messages, state changes, typing). Returns the
 *  unsubscribe function. Outside Tauri the dev mock delivers events through `mockEvents`. */
export function onChatEvent(handler: (e: ChatEvent) => void): () => void {
  if (typeof window === 'undefined' || !('__TAURI_INTERNALS__' in window)) {
    chatListeners.add(handler);
    return () => chatListeners.delete(handler);
  }
  let unlisten: (() => void) | null = null;
  let cancelled = false;
  void listen<ChatEvent>('chat-event', (e) => handler(e.payload)).then((u) => {
    if (cancelled) u();
    else unlisten = u;
  });
  return () => {
    cancelled = true;
    unlisten?.();
  };
}

/**
 * Calls `handler` with the address of a navigation the window refused (a link that would have
 * replaced the app's page, or opened a window). Returns the unsubscribe function; nothing
 * happens outside Tauri.
 */
export function onNavigationBlocked(handler: (url: string) => void): () => void {
  if (typeof window === 'undefined' || !('__TAURI_INTERNALS__' in window)) return () => {};
  let unlisten: (() => void) | null = null;
  let cancelled = false;
  void listen<string>('navigation-blocked', (e) => handler(e.payload)).then((u) => {
    if (cancelled) u();
    else unlisten = u;
  });
  return () => {
    cancelled = true;
    unlisten?.();
  };
}

/** Outside Tauri (dev mock, tests): who listens for chat events. */
export const chatListeners = new Set<(e: ChatEvent) => void>();

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
