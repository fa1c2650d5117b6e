//! The main window shows only the app's own pages. A link in an agent's HTML message (or
//! anything else) that would navigate the window, or open a new one, elsewhere is refused here;
//! an http(s) target is handed to the page ("navigation-blocked"), which shows the full address
//! and opens it in the system browser only when the user confirms (`open_external`).
//!
//! The app's own origin is `tauri://localhost` (Linux, macOS) or `http(s)://tauri.localhost`
//! (Windows, where the webview cannot serve a custom scheme); a configured dev server's origin
//! is allowed in debug builds only.

use tauri::webview::NewWindowResponse;
use tauri::{App, Emitter, Url, WebviewWindowBuilder, Wry};

/// The page's event for a refused http(s) target; its payload is the URL.
pub(crate) const BLOCKED_EVENT: &str = "navigation-blocked";

/// Whether `url` is one of the app's own pages.
pub(crate) fn is_app_url(url: &Url, dev: Option<&Url>) -> bool {
    let host = url.host_str().unwrap_or("");
    let own = match url.scheme() {
        "tauri" => host == "localhost",
        "http" | "https" => host == "tauri.localhost",
        _ => false,
    };
    own || dev.is_some_and(|d| d.origin() == url.origin())
}

/// Creates the main window from its configuration (`"create": false` in tauri.conf.json, so
/// that it can be given these handlers) with the navigation and new-window guards.
pub(crate) fn open_main_window(app: &mut App<Wry>) -> tauri::Result<()> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == "main")
        .cloned()
        .ok_or_else(|| tauri::Error::WindowNotFound)?;
    let dev = if cfg!(debug_assertions) {
        app.config().build.dev_url.clone()
    } else {
        None
    };
    let dev_for_windows = dev.clone();
    let handle = app.handle().clone();
    let handle_for_windows = app.handle().clone();
    WebviewWindowBuilder::from_config(app.handle(), &config)?
        .on_navigation(move |url| {
            if is_app_url(url, dev.as_ref()) {
                return true;
            }
            refused(&handle, url);
            false
        })
        // The app never opens a second window: `window.open` and `target=_blank` are refused
        // the same way (the default on some platforms is a new, unguarded webview window).
        .on_new_window(move |url, _features| {
            if !is_app_url(&url, dev_for_windows.as_ref()) {
                refused(&handle_for_windows, &url);
            }
            NewWindowResponse::Deny
        })
        .build()?;
    Ok(())
}

fn refused(app: &tauri::AppHandle<Wry>, url: &Url) {
    // Scheme and host only: a query string may carry a token.
    tracing::warn!(
        scheme = url.scheme(),
        host = url.host_str().unwrap_or(""),
        "refused to navigate the window away from the app"
    );
    if matches!(url.scheme(), "http" | "https") {
        if let Err(e) = app.emit_to("main", BLOCKED_EVENT, url.as_str()) {
            tracing::debug!(error = %e, "navigation-blocked not delivered to the window");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn only_the_apps_own_pages() {
        for ok in [
            "tauri://localhost/",
            "tauri://localhost/index.html#/kb/search",
            "http://tauri.localhost/",
            "https://tauri.localhost/#/settings/profiles",
        ] {
            assert!(is_app_url(&url(ok), None), "{ok}");
        }
        for bad in [
            "https://evil.example/",
            "http://localhost:5173/",
            "tauri://evil/",
            "https://tauri.localhost.evil.example/",
            "file:///etc/passwd",
            "data:text/html,<script>x</script>",
            "javascript:alert(1)",
            "about:blank",
        ] {
            assert!(!is_app_url(&url(bad), None), "{bad}");
        }
        let dev = url("http://localhost:5173/");
        assert!(is_app_url(&url("http://localhost:5173/#/chat"), Some(&dev)));
        assert!(!is_app_url(&url("http://localhost:5174/"), Some(&dev)));
    }
}
