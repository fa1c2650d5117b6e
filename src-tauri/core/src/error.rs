//! The error every core operation returns: a stable code the UI and CLI switch on, plus a message
//! that tells the user what to do.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// Stable error codes. The UI and scripts switch on these, so a code is never renamed; new
/// failure kinds get new codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// One or more inputs are invalid; `fields` says which and why.
    Validation,
    /// An integration or profile with that name exists already.
    DuplicateName,
    NotFound,
    /// The acting profile's role does not grant the permission.
    PermissionDenied,
    /// The profile is password protected and no password was given.
    ProfilePasswordRequired,
    ProfilePasswordInvalid,
    /// Too many wrong passwords for a profile: it is locked for a while (the message says how
    /// long); the lock is kept in the database, so a new process does not reset it.
    TooManyAttempts,
    /// A second profile needs every admin profile to have a password first; the message says
    /// how to set one.
    AdminPasswordRequired,
    /// The store holding a secret cannot be reached (e.g. a locked OS keyring).
    SecretStoreUnavailable,
    /// The local database failed or belongs to a newer version of the app.
    Storage,
    /// A sync of that integration is already running.
    SyncRunning,
    /// A file of the local embedding model or the ONNX Runtime library is not installed; the
    /// message names it and says to run `bash scripts/fetch-model.sh`.
    ModelMissing,
    /// The embedding model or ONNX Runtime library is there but cannot be loaded (damaged file,
    /// wrong platform, runtime too old).
    ModelInvalid,
    /// The vector index file is unreadable or damaged; rebuild it from the local database.
    IndexCorrupt,
    /// The ITSM system refused the credentials (wrong, expired, locked, MFA-enforced, or an
    /// OAuth app that does not allow the grant).
    AuthInvalid,
    /// The ITSM system could not be reached: DNS, refused connection or timeout.
    Unreachable,
    /// The TLS handshake failed: a certificate this computer does not trust (self-signed, a
    /// TLS-inspecting proxy), an expired one, or one for another host name.
    Tls,
    /// The credentials are valid but lack read permission on a table or project.
    Forbidden,
    /// The ITSM system kept answering 429 beyond the retry budget.
    RateLimited,
    /// The ITSM system kept failing with 5xx or cancelled transactions beyond the retry budget.
    ServerError,
    /// The answer was not the JSON the API documents (HTML page, cut connection, wrong URL).
    MalformedResponse,
    /// The ITSM system rejected the query (bad encoded query or JQL in the filters).
    QueryInvalid,
    /// The operation was cancelled by the user.
    Cancelled,
    /// The Virtual Agent API rejected a chat request (4xx other than auth, or
    /// `{"status":"failure"}`), or is not installed at that URL.
    VaRejected,
    /// A chat command does not apply in the conversation's state (e.g. cancelling a wait that
    /// is not waiting); the message says why.
    ChatRefused,
    /// The system answered with a redirect the app does not follow: to another origin (where
    /// the credentials must not go), or a chain longer than the few same-origin hops allowed.
    /// The message names the new location.
    RedirectRefused,
    /// A response body was larger than the cap (64 MB by default); reading stopped there.
    ResponseTooLarge,
    /// Paging made no progress: the system answered the same records again instead of the
    /// next page, or endless pages without new records.
    PagingStalled,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Validation => "validation",
            ErrorCode::DuplicateName => "duplicate_name",
            ErrorCode::NotFound => "not_found",
            ErrorCode::PermissionDenied => "permission_denied",
            ErrorCode::ProfilePasswordRequired => "profile_password_required",
            ErrorCode::ProfilePasswordInvalid => "profile_password_invalid",
            ErrorCode::TooManyAttempts => "too_many_attempts",
            ErrorCode::AdminPasswordRequired => "admin_password_required",
            ErrorCode::SecretStoreUnavailable => "secret_store_unavailable",
            ErrorCode::Storage => "storage",
            ErrorCode::SyncRunning => "sync_running",
            ErrorCode::ModelMissing => "model_missing",
            ErrorCode::ModelInvalid => "model_invalid",
            ErrorCode::IndexCorrupt => "index_corrupt",
            ErrorCode::AuthInvalid => "auth_invalid",
            ErrorCode::Unreachable => "unreachable",
            ErrorCode::Tls => "tls",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::ServerError => "server_error",
            ErrorCode::MalformedResponse => "malformed_response",
            ErrorCode::QueryInvalid => "query_invalid",
            ErrorCode::Cancelled => "cancelled",
            ErrorCode::VaRejected => "va_rejected",
            ErrorCode::ChatRefused => "chat_refused",
            ErrorCode::RedirectRefused => "redirect_refused",
            ErrorCode::ResponseTooLarge => "response_too_large",
            ErrorCode::PagingStalled => "paging_stalled",
            ErrorCode::Internal => "internal",
        }
    }
}

/// A failure with a code, a message that says what to do, and for validation failures the
/// message for each offending input (keyed by input name, so the UI can show it inline).
///
/// Invariant: no message ever contains a secret value; messages are built from names and
/// constant text only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoreError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

pub type CoreResult<T> = Result<T, CoreError>;

impl CoreError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        CoreError {
            code,
            message: message.into(),
            fields: BTreeMap::new(),
        }
    }

    /// A validation error listing each offending field.
    pub fn invalid(fields: BTreeMap<String, String>) -> Self {
        let message = match fields.len() {
            1 => fields.values().next().cloned().unwrap_or_default(),
            n => format!("{n} fields need attention: fix the highlighted inputs and try again."),
        };
        CoreError {
            code: ErrorCode::Validation,
            message,
            fields,
        }
    }

    pub fn with_field(mut self, field: &str, message: impl Into<String>) -> Self {
        self.fields.insert(field.to_string(), message.into());
        self
    }

    pub fn not_found(what: &str, name: &str) -> Self {
        CoreError::new(
            ErrorCode::NotFound,
            format!(
                "No {what} named \"{name}\" exists. Check the name (list them to see what exists)."
            ),
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        CoreError::new(ErrorCode::Internal, message)
    }
}

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for (field, msg) in &self.fields {
            if self.fields.len() > 1 || *msg != self.message {
                write!(f, "\n  {field}: {msg}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for CoreError {}

impl From<rusqlite::Error> for CoreError {
    fn from(e: rusqlite::Error) -> Self {
        // SQL errors carry statement text and constraint names, never bound parameter values,
        // so they cannot leak a secret.
        CoreError::new(
            ErrorCode::Storage,
            format!("The local database reported an error: {e}. If this persists, check free disk space and the data directory's permissions."),
        )
    }
}
