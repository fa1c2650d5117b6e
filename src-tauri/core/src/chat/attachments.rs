//! Files the user sends to the agent: checked (size, type, name), kept in the data directory
//! under an unguessable token, and served to the instance by the webhook server.

use std::path::Path;

use base64::Engine;
use rand::Rng;
use serde_json::json;

use crate::error::{CoreError, CoreResult, ErrorCode};

/// Largest attachment accepted.
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;
/// Subdirectory of the data directory holding attachments.
pub const DIR: &str = "chat_attachments";

/// A file as the user sent it, checked.
#[derive(Debug)]
pub struct Upload {
    /// Without path separators or control characters; "attachment" when nothing is left.
    pub file_name: String,
    /// A MIME type (`type/subtype`).
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Upload {
    /// Decodes and checks a file; problems are validation errors on the field `file`.
    pub fn decode(file_name: &str, content_type: &str, data_base64: &str) -> CoreResult<Upload> {
        let invalid = |m: &str| CoreError::new(ErrorCode::Validation, m).with_field("file", m);
        // The size follows from the encoded length: a file too large is refused before it is
        // decoded into memory.
        if data_base64.trim().len() / 4 * 3 > MAX_ATTACHMENT_BYTES + 3 {
            return Err(too_large());
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data_base64.trim())
            .map_err(|_| invalid("The file could not be read (bad base64)."))?;
        if bytes.len() > MAX_ATTACHMENT_BYTES {
            return Err(too_large());
        }
        let content_type = content_type.trim();
        if content_type.is_empty()
            || !content_type.contains('/')
            || content_type.chars().any(|c| c.is_control())
        {
            return Err(invalid(
                "The file's type is not a MIME type (like application/pdf).",
            ));
        }
        let file_name: String = file_name
            .chars()
            .filter(|c| !c.is_control() && *c != '/' && *c != '\\')
            .collect();
        let file_name = if file_name.trim().is_empty() {
            "attachment".to_owned()
        } else {
            file_name
        };
        Ok(Upload {
            file_name,
            content_type: content_type.to_owned(),
            bytes,
        })
    }
}

fn too_large() -> CoreError {
    let m = format!(
        "The file is larger than {} MB; attach a smaller one.",
        MAX_ATTACHMENT_BYTES / (1024 * 1024)
    );
    CoreError::new(ErrorCode::Validation, &m).with_field("file", &m)
}

/// Writes the file and its metadata under a fresh random token and returns the token (the
/// last segment of the URL the webhook serves it at).
pub async fn store(dir: &Path, upload: &Upload) -> CoreResult<String> {
    let mut raw = [0u8; 32];
    rand::rng().fill(&mut raw[..]);
    let token = hex::encode(raw);
    let meta = json!({"file_name": upload.file_name, "content_type": upload.content_type});
    let cannot = |e: std::io::Error| {
        CoreError::new(
            ErrorCode::Storage,
            format!("Cannot keep the attachment: {e}"),
        )
    };
    tokio::fs::write(dir.join(format!("{token}.bin")), &upload.bytes)
        .await
        .map_err(cannot)?;
    tokio::fs::write(dir.join(format!("{token}.json")), meta.to_string())
        .await
        .map_err(cannot)?;
    Ok(token)
}
