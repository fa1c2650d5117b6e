//! Moving the chat instance to another origin: the stored VA secrets were entered for the old
//! host, so the ones in use must be typed again and the others are dropped.

use super::{secret_ref, ChatAuth, ChatValues};
use crate::error::CoreResult;
use crate::Core;

/// Which VA secrets a save typed (any value, empty included: it replaces or removes).
#[derive(Clone, Copy)]
pub(super) struct TypedSecrets {
    pub client_secret: bool,
    pub password: bool,
    pub va_token: bool,
}

/// See [`Core::secrets_for_new_instance`].
#[derive(Default)]
pub(super) struct RehomedSecrets {
    pub missing: Vec<(&'static str, String)>,
    pub stale: Vec<&'static str>,
}

/// How a VA secret is named in messages.
fn secret_label(field: &str) -> &'static str {
    match field {
        "client_secret" => "OAuth client secret",
        "password" => "password",
        _ => "VA API token",
    }
}

impl Core {
    /// What a move of the instance URL to another origin asks for: the stored VA secrets the
    /// auth method uses must be typed again (`missing`, keyed by input), the others are
    /// dropped (`stale`). Nothing when the origin stays, or no URL was stored before.
    pub(super) fn secrets_for_new_instance(
        &self,
        conn: &rusqlite::Connection,
        stored_url: Option<&str>,
        next: &ChatValues,
        typed: TypedSecrets,
    ) -> CoreResult<RehomedSecrets> {
        let mut out = RehomedSecrets::default();
        let (Some(old), Some(new)) = (stored_url, next.instance_url.as_deref()) else {
            return Ok(out);
        };
        if crate::integrations::same_origin(old, new) || url::Url::parse(new).is_err() {
            return Ok(out);
        }
        let used: &[&str] = match next.auth {
            ChatAuth::Token => &["va_token"],
            ChatAuth::Basic => &["password"],
            ChatAuth::Oauth2 => &["client_secret", "password"],
        };
        let typed = |field: &str| match field {
            "client_secret" => typed.client_secret,
            "password" => typed.password,
            _ => typed.va_token,
        };
        for field in ["client_secret", "password", "va_token"] {
            if typed(field) || !self.vault().is_set(conn, secret_ref(field))? {
                continue;
            }
            if used.contains(&field) {
                out.missing.push((
                    field,
                    format!("Enter the {} again for the new host.", secret_label(field)),
                ));
            } else {
                out.stale.push(field);
            }
        }
        if !out.missing.is_empty() {
            let labels: Vec<&str> = out.missing.iter().map(|(f, _)| secret_label(f)).collect();
            out.missing.insert(
                0,
                (
                    "instance_url",
                    format!(
                        "The instance URL now points at another host ({new}): enter the credentials again for it ({}). \
                         Stored credentials are only sent to the instance they were entered for.",
                        labels.join(" and ")
                    ),
                ),
            );
        }
        Ok(out)
    }
}
