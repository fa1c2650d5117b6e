import type { AppError, ErrorCode } from './types';

// A Record (not an array) so that adding a code to ErrorCode without listing it here fails `tsc`.
const CODE_SET: Record<ErrorCode, true> = {
  validation: true,
  duplicate_name: true,
  not_found: true,
  permission_denied: true,
  profile_password_required: true,
  profile_password_invalid: true,
  too_many_attempts: true,
  admin_password_required: true,
  secret_store_unavailable: true,
  storage: true,
  sync_running: true,
  model_missing: true,
  model_invalid: true,
  index_corrupt: true,
  auth_invalid: true,
  unreachable: true,
  tls: true,
  forbidden: true,
  rate_limited: true,
  server_error: true,
  malformed_response: true,
  query_invalid: true,
  cancelled: true,
  va_rejected: true,
  chat_refused: true,
  redirect_refused: true,
  response_too_large: true,
  paging_stalled: true,
  internal: true,
};
const CODES = Object.keys(CODE_SET) as readonly ErrorCode[];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** True when `e` already has the AppError shape the core sends. */
export function isAppError(e: unknown): e is AppError {
  return (
    isRecord(e) &&
    typeof e.code === 'string' &&
    (CODES as readonly string[]).includes(e.code) &&
    typeof e.message === 'string'
  );
}

/**
 * Normalize anything a rejected `invoke` (or our own code) throws into an AppError.
 * A well-formed AppError passes through (with `fields` kept only when it is a
 * string map). An object with an unknown code but a string message (a core newer than this
 * UI) keeps its message under `internal`; anything else becomes
 * `{ code: "internal", message: String(e) }`.
 */
export function toAppError(e: unknown): AppError {
  if (isAppError(e)) {
    const out: AppError = { code: e.code, message: e.message };
    if (isRecord(e.fields)) {
      const fields: Record<string, string> = {};
      for (const [k, v] of Object.entries(e.fields)) {
        if (typeof v === 'string') fields[k] = v;
      }
      out.fields = fields;
    }
    return out;
  }
  if (isRecord(e) && typeof e.message === 'string' && !(e instanceof Error)) {
    return { code: 'internal', message: e.message };
  }
  return { code: 'internal', message: String(e) };
}
