import type { AppError, ErrorCode } from './types';

const CODES: readonly ErrorCode[] = [
  'validation',
  'duplicate_name',
  'not_found',
  'permission_denied',
  'profile_password_required',
  'profile_password_invalid',
  'secret_store_unavailable',
  'storage',
  'sync_unavailable',
  'internal',
];

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
 * string map); anything else becomes `{ code: "internal", message: String(e) }`.
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
  return { code: 'internal', message: String(e) };
}
