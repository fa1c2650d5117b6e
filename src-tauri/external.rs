//! Opening a source record's link in the user's browser, without a plugin: the platform's
//! own opener (`xdg-open`, `open`, `url.dll`) gets an http(s) URL and nothing else.

use std::process::{Command, Stdio};

use supportbot_core::{CoreError, ErrorCode};

/// Checks that `url` is an absolute http(s) URL without whitespace or control characters.
pub(crate) fn check_web_url(url: &str) -> Result<(), CoreError> {
    let lower = url.to_ascii_lowercase();
    let scheme_ok = lower.starts_with("https://") || lower.starts_with("http://");
    let clean = !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if scheme_ok && clean && url.len() <= 4096 {
        Ok(())
    } else {
        Err(CoreError::new(
            ErrorCode::Validation,
            "Only http and https links can be opened. Copy the link and open it yourself.",
        ))
    }
}

pub(crate) fn open_in_browser(url: &str) -> Result<(), CoreError> {
    check_web_url(url)?;
    let mut cmd = if cfg!(target_os = "macos") {
        Command::new("open")
    } else if cfg!(target_os = "windows") {
        // Not `cmd /C start`: cmd would treat `&` in a query string as a command separator.
        let mut c = Command::new("rundll32");
        c.arg("url.dll,FileProtocolHandler");
        c
    } else {
        Command::new("xdg-open")
    };
    let mut child = cmd
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|_| {
            CoreError::new(
                ErrorCode::Internal,
                "No browser could be started. Copy the link and open it yourself.",
            )
        })?;
    // Reap the opener when it exits so it does not linger as a zombie.
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_web_url;

    #[test]
    fn only_plain_web_links_pass() {
        assert!(check_web_url("https://acme.service-now.com/nav_to.do?uri=incident.do").is_ok());
        assert!(check_web_url("HTTP://localhost:8080/x").is_ok());
        for bad in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "https://a b",
            "https://a\nb",
            "",
            "mailto:x@y",
        ] {
            assert!(check_web_url(bad).is_err(), "{bad}");
        }
    }
}
