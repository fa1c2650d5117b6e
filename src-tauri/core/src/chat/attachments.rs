//! Files the user sends to the agent: checked (size, type, name), kept in the data directory
//! under an unguessable token, and served to the instance by the webhook server.

use std::path::Path;

use base64::Engine;
use rand::Rng;
use serde_json::json;

use crate::error::{CoreError, CoreResult, ErrorCode};

/// How long a stored attachment stays available to the instance, unless Settings > Chat says
/// otherwise.
pub const DEFAULT_KEEP_DAYS: u32 = 30;

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

/// The size limit of the latest FileUpload element the instance sent (`maxSize`, megabytes),
/// in bytes, if the transcript has one.
pub fn requested_limit(transcript: &[super::store::Message]) -> Option<usize> {
    transcript
        .iter()
        .rev()
        .filter(|m| m.kind == "va_payload")
        .find_map(|m| {
            m.body["body"].as_array()?.iter().find_map(|e| {
                (e["uiType"] == "FileUpload").then(|| {
                    e["maxSize"]
                        .as_f64()
                        .or_else(|| e["maxSize"].as_str()?.trim().parse().ok())
                })?
            })
        })
        .filter(|mb| *mb > 0.0)
        .map(|mb| (mb * 1024.0 * 1024.0) as usize)
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

/// Removes attachments stored more than `days` days ago (file and metadata); returns how many.
/// The instance fetches a file soon after it is sent, so an old one is only a liability.
pub fn purge_older_than(dir: &Path, days: u32) -> usize {
    let limit = std::time::Duration::from_secs(u64::from(days) * 86_400);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > limit);
        let ours = path.extension().is_some_and(|e| e == "bin" || e == "json");
        if old && ours && std::fs::remove_file(&path).is_ok() {
            removed += usize::from(path.extension().is_some_and(|e| e == "bin"));
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_attachments_are_purged_and_recent_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["old.bin", "old.json", "new.bin", "new.json", "notes.txt"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let long_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(31 * 86_400);
        for name in ["old.bin", "old.json", "notes.txt"] {
            std::fs::File::options()
                .write(true)
                .open(dir.path().join(name))
                .unwrap()
                .set_modified(long_ago)
                .unwrap();
        }
        assert_eq!(purge_older_than(dir.path(), 30), 1);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["new.bin", "new.json", "notes.txt"]);
    }

    #[test]
    fn the_latest_file_upload_element_sets_the_limit() {
        let row = |body: serde_json::Value| crate::chat::store::Message {
            id: 1,
            session_id: 1,
            direction: crate::chat::store::Direction::Agent,
            kind: "va_payload".into(),
            body,
            order_key: 1,
            request_id: None,
            delivery_id: None,
            created_at: String::new(),
            helpful: None,
        };
        let older = row(json!({"body": [{"uiType": "FileUpload", "maxSize": 5}]}));
        let newer = row(json!({"body": [{"uiType": "OutputText", "value": "x"},
                                        {"uiType": "FileUpload", "maxSize": "2", "maxCount": 1}]}));
        assert_eq!(
            requested_limit(std::slice::from_ref(&older)),
            Some(5 * 1024 * 1024)
        );
        assert_eq!(requested_limit(&[older, newer]), Some(2 * 1024 * 1024));
        assert_eq!(requested_limit(&[row(json!({"body": []}))]), None);
    }

    #[test]
    fn a_file_too_large_is_refused_from_its_encoded_length() {
        let big = "A".repeat((MAX_ATTACHMENT_BYTES + 1024) / 3 * 4);
        let e = Upload::decode("x.png", "image/png", &big).unwrap_err();
        assert!(e.message.contains("larger than"), "{}", e.message);
    }
}
