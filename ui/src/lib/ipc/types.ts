// IPC contract with the Rust core. Keep verbatim in sync with the Rust side.
export type ErrorCode = "validation" | "duplicate_name" | "not_found" | "permission_denied" | "profile_password_required" | "profile_password_invalid" | "too_many_attempts" | "admin_password_required" | "secret_store_unavailable" | "storage" | "sync_running" | "model_missing" | "model_invalid" | "index_corrupt" | "auth_invalid" | "unreachable" | "tls" | "forbidden" | "rate_limited" | "server_error" | "malformed_response" | "query_invalid" | "cancelled" | "va_rejected" | "chat_refused" | "redirect_refused" | "response_too_large" | "paging_stalled" | "internal";
export interface AppError { code: ErrorCode; message: string; fields?: Record<string, string> } // fields: inline messages keyed by input name: name, kind, auth, url, username, client_id, password, token, client_secret, schedule_minutes, request_budget, ca_certificates, filters.updated_from, filters.updated_to, filters.raw_query, role
export type Kind = "servicenow" | "jira";
export type AuthType = "basic" | "token" | "oauth2" | "oauth2_client_credentials"; // oauth2: the password grant; oauth2_client_credentials (ServiceNow): client id + secret, no user
export type SyncStatus = "never" | "success" | "partial" | "error";
export type Role = "admin" | "operator" | "viewer";
export type Permission = "integration.view" | "integration.create" | "integration.edit" | "integration.delete" | "integration.sync" | "profiles.manage" | "kb.rollback";
export interface SyncError { code: string; message: string; detail: string | null; at: string }
export interface SecretFlags { password: boolean; token: boolean; client_secret: boolean } // set / not set only: the UI never receives secret values
/** What a sync pulls: empty lists / nulls = no restriction (sync everything). */
export interface SyncFilters { priority: string[]; category: string[]; state: string[]; updated_from: string | null /* YYYY-MM-DD or RFC 3339, inclusive */; updated_to: string | null; raw_query: string | null /* ServiceNow encoded query or JQL fragment, AND-ed with the rest */ }
export interface Integration { id: number; name: string; kind: Kind; auth: AuthType; url: string; username: string | null; client_id: string | null; enabled: boolean; last_sync: string | null /* RFC 3339 */; last_attempt: string | null; status: SyncStatus; error: SyncError | null; secrets: SecretFlags; created_at: string; updated_at: string; last_summary: SyncSummary | null; running: boolean; schedule_minutes: number | null; filters: SyncFilters; request_budget: number | null /* requests per rolling hour the app may send to the source; null = no budget */; ca_certificates: string | null /* PEM text of CA certificates trusted besides the OS trust store; public, not secret */ }
export interface NewIntegration { name: string; kind: Kind; auth: AuthType; url: string; username?: string | null; client_id?: string | null; password?: string | null; token?: string | null; client_secret?: string | null; enabled?: boolean; schedule_minutes?: number | null; filters?: SyncFilters | null; request_budget?: number | null; ca_certificates?: string | null; allow_insecure_http?: boolean } // schedule_minutes: null/absent = manual only. filters: null/absent = sync everything. request_budget: 10..1000000, null/absent = none. ca_certificates: PEM, null/absent = none. allow_insecure_http: accept an http:// URL on another machine (localhost, 127.x and [::1] need no confirmation)
export interface IntegrationPatch { name?: string; url?: string; auth?: AuthType; username?: string | null; client_id?: string | null; password?: string | null; token?: string | null; client_secret?: string | null; enabled?: boolean; schedule_minutes?: number | null; filters?: SyncFilters | null; request_budget?: number | null; ca_certificates?: string | null; allow_insecure_http?: boolean } // a secret left undefined/null keeps the stored one; a string replaces it, and a url on another origin (scheme, host, port) needs every secret of the auth type again (validation error on url otherwise). schedule_minutes: 0 = off, a number (5..10080) sets it, null/absent keeps it. filters: present = replace all filters, null/absent = keep. request_budget: 0 = remove, a number sets it, null/absent keeps it. ca_certificates: "" = remove, PEM text replaces, null/absent keeps
export interface Profile { name: string; role: Role; has_password: boolean; active: boolean }
export interface SecretStoreInfo { kind: "os_keyring" | "encrypted_file"; label: string; detail: string }
export interface AppStatus { version: string; data_dir: string; secret_store: SecretStoreInfo; profile: Profile; permissions: Permission[] }
export type SyncPhase = "connecting" | "fetching" | "embedding" | "saving" | "pruning" | "waiting" | "finishing";
/** A wait a sync is in (phase "waiting"); sent once when it starts. label: the core's text, e.g. "waiting for rate limit (12 s)". */
export interface SyncWait { reason: "rate_limit" | "maintenance" | "request_budget"; seconds: number /* whole seconds, rounded up */; label: string }
export interface SyncProgress { phase: SyncPhase; batch: number; total_batches: number | null; processed: number; total_hint: number | null; added: number; updated: number; unchanged: number; skipped: number; rate: number /* incidents per second */; eta_s: number | null; wait: SyncWait | null /* set while the phase is "waiting" */ }
export type SyncOutcome = "success" | "partial" | "error" | "cancelled";
export interface SkippedRecord { external_id: string | null; reason: string }
export interface SyncReport { status: SyncOutcome; fetched: number; added: number; updated: number; unchanged: number; deleted: number; skipped: number; total: number /* incidents of this integration in the knowledge base */; /** what the source counted for this sync's query; null when it gives no count */ source_total?: number | null; /** counted by the source but not readable (ACL-hidden or deleted meanwhile): the sync is partial */ unread?: number; /** deletions a full reconcile held back (more than 10 % of the incidents): confirm with allowMassDelete */ held_deletions?: number; version: number | null; skipped_records: SkippedRecord[]; notes: string[]; duration_s: number; error: AppError | null }
export interface SyncSummary { added: number; updated: number; deleted: number; skipped: number; total: number; version: number | null }

// ---- Knowledge base (core/src/kb) ----
export interface IntegrationKbStats { integration_id: number; name: string; configured: boolean /* false: integration deleted, its data stays */; incidents: number; vectors: number; versions: number }
export interface KbStats { incidents: number; vectors: number; versions: number; by_integration: IntegrationKbStats[]; duplicates: number; orphans: number }
export type SearchMethod = "hybrid" | "bm25" | "vector";
/** Empty / null = no restriction. Dates are YYYY-MM-DD, inclusive, on the incident's opened date. */
export interface SearchFilters { integration_id?: number | null; priority?: string | null; category?: string | null; state?: string | null; from?: string | null; to?: string | null }
export interface SearchRequest { query: string; k?: number /* 1..=100, default 10 */; method?: SearchMethod; filters?: SearchFilters }
export interface SnippetPart { text: string; hit: boolean } // hit = matched a query term: shown highlighted
export interface SearchHit { incident_id: number; number: string; short_description: string; integration: string; integration_id: number; priority: string; category: string; state: string; opened_at: string | null; resolved_at: string | null; link: string; close_code: string | null; score: number /* ranking score: weighted RRF (hybrid), BM25 or cosine; not for display */; bm25_rank: number | null; vector_rank: number | null; similarity: number | null; /** 0..1, calibrated: how often a match this close was right on labelled questions; null for keyword-only searches */ relevance: number | null; snippet: SnippetPart[]; snippet_source: "resolution" | "description" }
export interface SearchResults { hits: SearchHit[]; took_ms: number; method: SearchMethod }
export interface Facets { integrations: { id: number; name: string }[]; priorities: string[]; categories: string[]; states: string[] }
/** Every synced field of one incident (core `kb::IncidentDetail`). Dates are RFC 3339 / as the source gave them. */
export interface IncidentDetail { id: number; number: string; short_description: string; description: string; state: string; priority: string; category: string; subcategory: string; assigned_to: string | null; resolved_by: string | null; resolution: string; close_code: string | null; caller: string | null; opened_at: string | null; updated_at: string; resolved_at: string | null; comments: string[]; integration_id: number; integration: string; version_id: number /* the dataset version that last added or changed it */; external_id: string; link: string }
export type VersionKind = "sync" | "full_sync" | "rollback";
export type VersionStatus = "running" | "success" | "partial" | "error" | "cancelled";
export interface VersionSummary { id: number; created_at: string; finished_at: string | null; integration_id: number | null; source: string; kind: VersionKind; status: VersionStatus; fetched: number; added: number; updated: number; unchanged: number; deleted: number; skipped: number; notes: string; rollback_to: number | null; size_after: number /* incidents in the knowledge base after this version */; /** what the source counted for the sync's query (null: rollback, or no count given) */ source_total?: number | null; /** counted but not readable by the account */ unread?: number }
export type ChangeKind = "added" | "updated" | "deleted";
export interface FieldDiff { field: string; before: string | null; after: string | null }
export interface VersionChange { incident_id: number; number: string; short_description: string; change: ChangeKind; fields: FieldDiff[] /* updated: changed fields only */; before: Record<string, unknown> | null; after: Record<string, unknown> | null }
export interface VersionDetail { version: VersionSummary; changes: VersionChange[]; changes_total: number; offset: number; skipped: SkippedRecord[] }
export interface RollbackProgress { phase: "undo" | "index" | "done"; done: number; total: number }
export interface KbCheck { ok: boolean; incidents: number; embedded: number; index_vectors: number; missing_from_index: number; orphans_in_index: number; fts_rows: number | null; sqlite_integrity: string; problems: string[] }
export interface RebuildProgress { done: number; total: number }
export interface RebuildReport { vectors: number; reembedded: number; took_ms: number }

// ---- Chat console (core/src/chat) ----
export type ChatMode = "simulated" | "real";
/** The LiveChat handoff spec's handoff state machine. */
export type HandoffState = "active" | "waiting" | "connected" | "completed" | "fail" | "cancelled";
export interface Citation { incident_id?: number | null /* the incident detail view's key */; number: string; short_description: string; link: string; score: number }
/** declined: no good answer in the knowledge base; nothing is cited and a human is offered. */
export interface BotAnswer { text: string; resolution: string | null; citations: Citation[]; confidence: number /* 0..1, calibrated */; low_confidence: boolean; declined: boolean }
export interface AgentInfo { name: string | null; avatar: string | null }
export type ChatFrom = "user" | "bot" | "agent" | "system";
export interface ChatAttachment { file_name: string; content_type: string; size: number }
/** body: the VA Bot Integration API reference body elements as received (lenient JSON; OutputHtml already sanitized by the core). */
export interface ChatMessage { id: number; session_id: string; seq: number; at: string; from: ChatFrom; text: string | null; answer: BotAnswer | null; body: unknown[]; agent: AgentInfo | null; /** from "agent": the live agent (true) or the instance's Virtual Agent (false) */ live_agent: boolean; feedback: "helpful" | "not_helpful" | null; attachment: ChatAttachment | null }
/** What the instance told about the conversation: its ids and the LiveChat spec's clientVariables (tenantId, botId, conversationId…). */
export interface ChatSessionDetails { client_session_id: string; now_session_id: string | null; client_variables: Record<string, unknown> | null }
/** Who is in control, at a glance: take_control = the live agent took control; wait_time = the wait the instance announced (StartSpinner); reason = why a handoff failed (error_message). */
export interface ChatSession { id: string; mode: ChatMode; state: HandoffState; started_at: string; updated_at: string; agent: AgentInfo | null; waiting_since: string | null; notice: string | null; take_control: boolean; wait_time: string | null; reason: string | null; details: ChatSessionDetails; messages: ChatMessage[] }
/** What the user sends back for a control (picker option, boolean, date, input): `typed: false`. */
export interface ChatReply { value: string; label: string; typed: boolean; secure?: boolean }
export type ChatEvent =
  | { type: "message"; session_id: string; message: ChatMessage }
  | { type: "state"; session_id: string; state: HandoffState; notice: string | null; agent: AgentInfo | null; take_control: boolean; wait_time: string | null; reason: string | null; details: ChatSessionDetails }
  | { type: "typing"; session_id: string; on: boolean }
  | { type: "wait_timeout"; session_id: string; waited_s: number };
export type ChatAuth = "oauth2" | "basic" | "token";
/** Settings > Chat. Secrets: set / not set only. from_env: fields taken from the LiveChat handoff spec environment variables (read-only here). */
export interface ChatSettings { mode: ChatMode; instance_url: string | null; auth: ChatAuth; client_id: string | null; username: string | null; bot_id: string | null /* nowBotId */; email: string | null /* sent as emailId */; enterprise_id: string | null /* sent as enterpriseId */; webhook_port: number; tunnel: boolean; public_hosts: string[]; wait_timeout_s: number; attachment_days: number /* sent attachments are deleted after this */; secrets: { client_secret: boolean; password: boolean; va_token: boolean; webhook_secret: boolean }; from_env: string[] /* fields the environment decides; "mode" when SERVICENOW_INSTANCE chose real mode */; env_vars: Record<string, string> /* field → variable in force */ }
/** Absent = keep; "" clears a text. A secret: absent/null keeps the stored one, "" removes it, a string replaces it. */
export interface ChatSettingsPatch { mode?: ChatMode; instance_url?: string; auth?: ChatAuth; client_id?: string; username?: string; bot_id?: string; email?: string; enterprise_id?: string; webhook_port?: number; tunnel?: boolean; public_hosts?: string[]; wait_timeout_s?: number; attachment_days?: number; client_secret?: string | null; password?: string | null; va_token?: string | null; webhook_secret?: string | null }

/** An agent's image loaded by the core (`chat_image`), for a `data:` URL. */
export interface ChatImage { content_type: string; data_base64: string }

/** One knowledge gap (core `chat::outcomes::KnowledgeGap`): similar questions the bot declined, or answers rated unhelpful. */
export interface KnowledgeGap { question: string; reason: "declined" | "unhelpful"; count: number; last_asked: string; examples: string[]; cited: string[] }
/** What the bot did with the questions (core `chat::outcomes::ChatStats`); deflection counts only answers rated helpful. */
export interface ChatStats { sessions: number; answered: number; declined: number; helpful: number; unhelpful: number; handed_off: number; deflection_rate: number | null }
/** One step of a connection check (core `integrations::CheckStep`): reach, auth, read or count. */
export interface CheckStep { name: "reach" | "auth" | "read" | "count"; ok: boolean; detail: string; advice: string | null }
/** A connection check (core `integrations::IntegrationCheck`); source_total: what the source counts for the filters. */
export interface IntegrationCheck { ok: boolean; steps: CheckStep[]; source_total: number | null }
