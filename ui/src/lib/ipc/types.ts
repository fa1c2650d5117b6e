// IPC contract with the Rust core. Keep verbatim in sync with the Rust side.
export type ErrorCode = "validation" | "duplicate_name" | "not_found" | "permission_denied" | "profile_password_required" | "profile_password_invalid" | "secret_store_unavailable" | "storage" | "sync_running" | "model_missing" | "model_invalid" | "index_corrupt" | "auth_invalid" | "unreachable" | "forbidden" | "rate_limited" | "server_error" | "malformed_response" | "query_invalid" | "cancelled" | "va_rejected" | "chat_refused" | "internal";
export interface AppError { code: ErrorCode; message: string; fields?: Record<string, string> } // fields: inline messages keyed by input name: name, kind, auth, url, username, client_id, password, token, client_secret, schedule_minutes, filters.updated_from, filters.updated_to, filters.raw_query, role
export type Kind = "servicenow" | "jira";
export type AuthType = "basic" | "token" | "oauth2";
export type SyncStatus = "never" | "success" | "partial" | "error";
export type Role = "admin" | "operator" | "viewer";
export type Permission = "integration.view" | "integration.create" | "integration.edit" | "integration.delete" | "integration.sync" | "profiles.manage";
export interface SyncError { code: string; message: string; detail: string | null; at: string }
export interface SecretFlags { password: boolean; token: boolean; client_secret: boolean } // set / not set only: the UI never receives secret values
/** What a sync pulls: empty lists / nulls = no restriction (sync everything). */
export interface SyncFilters { priority: string[]; category: string[]; state: string[]; updated_from: string | null /* YYYY-MM-DD or RFC 3339, inclusive */; updated_to: string | null; raw_query: string | null /* ServiceNow encoded query or JQL fragment, AND-ed with the rest */ }
export interface Integration { id: number; name: string; kind: Kind; auth: AuthType; url: string; username: string | null; client_id: string | null; enabled: boolean; last_sync: string | null /* RFC 3339 */; last_attempt: string | null; status: SyncStatus; error: SyncError | null; secrets: SecretFlags; created_at: string; updated_at: string; last_summary: SyncSummary | null; running: boolean; schedule_minutes: number | null; filters: SyncFilters }
export interface NewIntegration { name: string; kind: Kind; auth: AuthType; url: string; username?: string | null; client_id?: string | null; password?: string | null; token?: string | null; client_secret?: string | null; enabled?: boolean; schedule_minutes?: number | null; filters?: SyncFilters | null } // schedule_minutes: null/absent = manual only. filters: null/absent = sync everything
export interface IntegrationPatch { name?: string; url?: string; auth?: AuthType; username?: string | null; client_id?: string | null; password?: string | null; token?: string | null; client_secret?: string | null; enabled?: boolean; schedule_minutes?: number | null; filters?: SyncFilters | null } // a secret left undefined/null keeps the stored one; a string replaces it. schedule_minutes: 0 = off, a number (5..10080) sets it, null/absent keeps it. filters: present = replace all filters, null/absent = keep
export interface Profile { name: string; role: Role; has_password: boolean; active: boolean }
export interface SecretStoreInfo { kind: "os_keyring" | "encrypted_file"; label: string; detail: string }
export interface AppStatus { version: string; data_dir: string; secret_store: SecretStoreInfo; profile: Profile; permissions: Permission[] }
export type SyncPhase = "connecting" | "fetching" | "embedding" | "saving" | "pruning" | "finishing";
export interface SyncProgress { phase: SyncPhase; batch: number; total_batches: number | null; processed: number; total_hint: number | null; added: number; updated: number; unchanged: number; skipped: number; rate: number /* incidents per second */; eta_s: number | null }
export type SyncOutcome = "success" | "partial" | "error" | "cancelled";
export interface SkippedRecord { external_id: string | null; reason: string }
export interface SyncReport { status: SyncOutcome; fetched: number; added: number; updated: number; unchanged: number; deleted: number; skipped: number; total: number /* incidents of this integration in the knowledge base */; version: number | null; skipped_records: SkippedRecord[]; notes: string[]; duration_s: number; error: AppError | null }
export interface SyncSummary { added: number; updated: number; deleted: number; skipped: number; total: number; version: number | null }
