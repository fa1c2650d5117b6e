//! "Load image": the core fetches an agent's image for the window (which may not fetch remote
//! images itself), only when it came in the profile's own chat, capped, without redirects, and
//! only raster images whose bytes match their type. The image server is written here.

use std::sync::Arc;

use base64::Engine;
use secrecy::SecretString;
use serde_json::json;
use supportbot_core::chat::image::{load_image, MAX_IMAGE_BYTES};
use supportbot_core::chat::store::{self, Direction, Mode};
use supportbot_core::secrets::StorePreference;
use supportbot_core::{Core, ErrorCode, Role};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDRfake-but-shaped";

/// Serves /ok.png, /svg, /moved, /huge and /liar (HTML labelled image/png), one request per
/// connection.
async fn image_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let (status, extra, ctype, body): (&str, &str, &str, Vec<u8>) = match path.as_str()
                {
                    "/ok.png" => ("200 OK", "", "image/png", PNG.to_vec()),
                    "/svg" => (
                        "200 OK",
                        "",
                        "image/svg+xml",
                        b"<svg onload=\"x()\"/>".to_vec(),
                    ),
                    "/moved" => (
                        "302 Found",
                        "Location: http://127.0.0.1:1/x.png\r\n",
                        "text/plain",
                        Vec::new(),
                    ),
                    "/liar" => (
                        "200 OK",
                        "",
                        "image/png",
                        b"<html>not an image</html>".to_vec(),
                    ),
                    _ => ("404 Not Found", "", "text/plain", Vec::new()),
                };
                if path == "/huge" {
                    // No Content-Length: the cap must hold while streaming.
                    let _ = s
                        .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n\r\n")
                        .await;
                    let _ = s.write_all(PNG).await;
                    let chunk = vec![0u8; 64 * 1024];
                    for _ in 0..(MAX_IMAGE_BYTES / chunk.len() + 2) {
                        if s.write_all(&chunk).await.is_err() {
                            return;
                        }
                    }
                    return;
                }
                let response = format!(
                    "HTTP/1.1 {status}\r\n{extra}Content-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(response.as_bytes()).await;
                let _ = s.write_all(&body).await;
            });
        }
    });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_images_are_loaded_by_the_core_with_limits() {
    let base = image_server().await;
    let dir = tempfile::tempdir().unwrap();
    let core = Arc::new(Core::open_with(dir.path(), StorePreference::File).unwrap());
    let admin = core.actor(None, None).unwrap();
    // An agent sent these images in the admin's chat.
    let urls: Vec<String> = ["ok.png", "svg", "moved", "huge", "liar"]
        .iter()
        .map(|p| format!("{base}/{p}"))
        .collect();
    {
        let conn = supportbot_core::store::open_connection(core.db_path()).unwrap();
        let session =
            store::create_session(&conn, Mode::Simulated, "sb-img", &admin.name, None).unwrap();
        let body = json!({"body": urls.iter().map(|u| json!({"uiType": "OutputImage", "value": u})).collect::<Vec<_>>()});
        store::add_local(&conn, session.id, Direction::Agent, "va_payload", &body).unwrap();
    }
    let load = |url: &str| load_image(Arc::clone(&core), admin.clone(), url.to_owned());

    let image = load(&urls[0]).await.unwrap();
    assert_eq!(image.content_type, "image/png");
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(&image.data_base64)
            .unwrap(),
        PNG
    );
    for (url, what) in [
        (&urls[1], "SVG"),
        (&urls[2], "a redirect"),
        (&urls[3], "more than the cap"),
        (&urls[4], "bytes that are not the declared image"),
    ] {
        let err = load(url).await.expect_err(what);
        assert_eq!(err.code, ErrorCode::Validation, "{what}: {err:?}");
    }
    // Not sent in a chat of this profile: not fetched at all.
    let err = load(&format!("{base}/other.png")).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::PermissionDenied);
    assert_eq!(
        load("file:///etc/passwd").await.unwrap_err().code,
        ErrorCode::Validation
    );
    core.set_profile_password(
        &admin,
        "Admin",
        None,
        &SecretString::from("admin-pw".to_owned()),
    )
    .unwrap();
    core.add_profile(&admin, "Vic", Role::Viewer, None).unwrap();
    let vic = core.actor(Some("Vic"), None).unwrap();
    let err = load_image(Arc::clone(&core), vic, urls[0].clone())
        .await
        .unwrap_err();
    assert_eq!(
        err.code,
        ErrorCode::PermissionDenied,
        "another profile's chat"
    );
}
