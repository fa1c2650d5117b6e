//! The real window under test: tauri-driver + WebKitWebDriver start the built app under Xvfb,
//! and small helpers wait for elements, text and attributes. Skips without a display or
//! tauri-driver, or fails when SUPPORTBOT_REQUIRE_E2E=1 (the test command sets it).

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{elements::Element, Client, ClientBuilder, Locator};
use serde_json::json;

pub const BIN: &str = env!("CARGO_BIN_EXE_supportbot");
pub const WAIT: Duration = Duration::from_secs(15);

pub struct Driver(pub Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn find_tauri_driver() -> Option<std::path::PathBuf> {
    let home = std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo/bin/tauri-driver"));
    std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("tauri-driver"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .chain(home)
        .find(|p| p.is_file())
}

pub fn prerequisites() -> Result<std::path::PathBuf, String> {
    if std::env::var_os("DISPLAY").is_none() {
        return Err("no DISPLAY (run under xvfb-run)".into());
    }
    if !Path::new("/usr/bin/WebKitWebDriver").exists() {
        return Err("WebKitWebDriver missing (Debian package webkit2gtk-driver)".into());
    }
    find_tauri_driver().ok_or_else(|| "tauri-driver missing (cargo install tauri-driver)".into())
}

pub async fn connect(port: u16) -> Client {
    let caps = json!({
        "browserName": "wry",
        "tauri:options": { "application": BIN }
    });
    let caps = caps.as_object().unwrap().clone();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => return c,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("could not start a WebDriver session: {e}"),
        }
    }
}

pub async fn el(c: &Client, css: &str) -> Element {
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("element {css} did not appear: {e}"))
}

/// Waits until `css` matches nothing.
pub async fn gone(c: &Client, css: &str) {
    let deadline = Instant::now() + WAIT;
    while !c.find_all(Locator::Css(css)).await.unwrap().is_empty() {
        assert!(Instant::now() < deadline, "{css} is still present");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the text of `css` contains `want`.
pub async fn text_contains(c: &Client, css: &str, want: &str) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        // textContent, not the rendered text: WebKit's driver drops ellipsised spans.
        let text = el(c, css)
            .await
            .prop("textContent")
            .await
            .unwrap_or_default()
            .unwrap_or_default();
        if text.contains(want) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{css} never contained {want:?}; last text {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn click(c: &Client, css: &str) {
    el(c, css).await.click().await.unwrap();
}

pub async fn type_into(c: &Client, css: &str, text: &str) {
    let e = el(c, css).await;
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

/// One window at a time: two apps on one Xvfb display would fight over focus.
pub static ONE_WINDOW: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Starts the app through tauri-driver with a fresh data directory, or `None` to skip.
pub async fn open_app(demo: bool) -> Option<(Driver, Client, tempfile::TempDir)> {
    open_app_with(demo, &[]).await
}

/// [`open_app`] with extra environment variables for the app (e.g. the LiveChat handoff
/// spec's `SERVICENOW_*`).
pub async fn open_app_with(
    demo: bool,
    env: &[(&str, &str)],
) -> Option<(Driver, Client, tempfile::TempDir)> {
    let driver_bin = match prerequisites() {
        Ok(p) => p,
        Err(why) if std::env::var("SUPPORTBOT_REQUIRE_E2E").as_deref() != Ok("1") => {
            eprintln!("skipping the window test: {why}");
            return None;
        }
        Err(why) => panic!("the window test is required but {why}"),
    };
    let data = tempfile::tempdir().unwrap();
    let (port, native) = (free_port(), free_port());
    let driver = Driver(
        Command::new(driver_bin)
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
                "--native-driver",
                "/usr/bin/WebKitWebDriver",
            ])
            .env("SUPPORTBOT_DATA_DIR", data.path())
            .env("SUPPORTBOT_DEMO", if demo { "1" } else { "0" })
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tauri-driver"),
    );
    let client = connect(port).await;
    Some((driver, client, data))
}

/// Saves a screenshot when SUPPORTBOT_E2E_SCREENSHOT_DIR is set (to look at the window).
pub async fn screenshot(c: &Client, name: &str) {
    if let Ok(dir) = std::env::var("SUPPORTBOT_E2E_SCREENSHOT_DIR") {
        tokio::time::sleep(Duration::from_secs(1)).await;
        std::fs::write(Path::new(&dir).join(name), c.screenshot().await.unwrap()).unwrap();
    }
}

pub async fn wait_attr(c: &Client, css: &str, attr: &str, want: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let got = el(c, css).await.attr(attr).await.unwrap();
        if got.as_deref() == Some(want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{css}[{attr}] never became {want}; is {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn wait_prop(c: &Client, css: &str, prop: &str, want: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let got = el(c, css).await.prop(prop).await.unwrap();
        if got.as_deref() == Some(want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{css}.{prop} never became {want}; is {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
