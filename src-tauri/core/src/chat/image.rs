//! Images an agent sent (OutputImage, images in OutputHtml, picker options, avatars), loaded
//! by the core when the user asks ("Load image") and handed to the window as bytes: the
//! window's CSP allows no remote images, so a message cannot make the window fetch anything
//! (no tracking pixel, no request carrying the user's address the moment a message arrives).
//!
//! Only a URL that arrived in one of the acting profile's own chat sessions is fetched (the
//! window cannot be used to make the core fetch arbitrary addresses), over http(s) with no
//! credentials and no cookies, without following redirects, within 10 s and 5 MB, and only
//! when the answer is a PNG, JPEG, GIF or WebP whose first bytes agree (never SVG, which can
//! carry script).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde::Serialize;

use crate::access::{Actor, Permission};
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::Core;

/// Largest image loaded.
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(10);

/// A loaded image, for a `data:` URL.
#[derive(Debug, Clone, Serialize)]
pub struct ChatImage {
    pub content_type: String,
    pub data_base64: String,
}

fn refused(message: &str) -> CoreError {
    CoreError::new(ErrorCode::Validation, message).with_field("url", message)
}

/// The image type its first bytes show, if it is one the window may display.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Loads the image at `url` for `actor` (see the module docs for the rules).
pub async fn load_image(core: Arc<Core>, actor: Actor, url: String) -> CoreResult<ChatImage> {
    actor.require(Permission::IntegrationView)?;
    let parsed = url::Url::parse(&url).map_err(|_| refused("This is not an image address."))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(refused("Only http and https images can be loaded."));
    }
    let check_url = url.clone();
    let sent_to_actor = tokio::task::spawn_blocking(move || {
        super::store::url_in_own_messages(&core.db().conn(), &actor.name, &check_url)
    })
    .await
    .map_err(|_| CoreError::internal("The image check failed."))??;
    if !sent_to_actor {
        return Err(CoreError::new(
            ErrorCode::PermissionDenied,
            "Only images sent in your own chat sessions can be loaded.",
        ));
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .build()
        .map_err(|_| CoreError::internal("The image client could not start."))?;
    let unreachable = |_| {
        CoreError::new(
            ErrorCode::Unreachable,
            "The image could not be loaded (the server did not answer in time, or not at all).",
        )
    };
    let mut response = client.get(parsed).send().await.map_err(unreachable)?;
    if response.status().is_redirection() {
        return Err(refused(
            "The image's server points elsewhere; open the image in the browser instead.",
        ));
    }
    if !response.status().is_success() {
        return Err(CoreError::new(
            ErrorCode::Unreachable,
            format!(
                "The image's server answered {}; it cannot be shown.",
                response.status().as_u16()
            ),
        ));
    }
    let too_large = || {
        refused(&format!(
            "The image is larger than {} MB; open it in the browser instead.",
            MAX_IMAGE_BYTES / (1024 * 1024)
        ))
    };
    if response
        .content_length()
        .is_some_and(|n| n > MAX_IMAGE_BYTES as u64)
    {
        return Err(too_large());
    }
    let declared = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
        if bytes.len() + chunk.len() > MAX_IMAGE_BYTES {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    let content_type = match sniff(&bytes) {
        Some(t) if declared == t || (declared == "image/jpg" && t == "image/jpeg") => t,
        _ => {
            return Err(refused(
                "This is not a PNG, JPEG, GIF or WebP image; it is not shown.",
            ))
        }
    };
    Ok(ChatImage {
        content_type: content_type.to_owned(),
        data_base64: base64::engine::general_purpose::STANDARD.encode(&bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::sniff;

    #[test]
    fn only_raster_images_by_their_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(sniff(&[0xff, 0xd8, 0xff, 0xe0]), Some("image/jpeg"));
        assert_eq!(sniff(b"GIF89a..."), Some("image/gif"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), None);
        assert_eq!(sniff(b"<html>"), None);
        assert_eq!(sniff(b""), None);
    }
}
