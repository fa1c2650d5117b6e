//! Helpers shared by the CLI tests: the `supportbot` binary with a private data directory,
//! a `supportbot sim` child process, JSON output lines, and the embedding-model gate.
// Each test crate uses a different subset.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

pub mod console;
pub mod documents;
pub mod fake_instance;
pub mod window;

pub const BIN: &str = env!("CARGO_BIN_EXE_supportbot");

/// A `supportbot sim` child, killed when dropped; `.1` is its base URL.
pub struct Sim(pub Child, pub String);

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Sim {
    /// Starts `supportbot sim` on a free port with `incidents` generated incidents.
    pub fn start(incidents: u64) -> Sim {
        Sim::start_with(&["--incidents", &incidents.to_string()])
    }

    /// Starts `supportbot sim` on a free port serving the records of `fixture` (a JSON file).
    pub fn fixture(fixture: &Path) -> Sim {
        Sim::start_with(&["--fixture", fixture.to_str().expect("a UTF-8 path")])
    }

    pub fn start_with(args: &[&str]) -> Sim {
        let mut child = Command::new(BIN)
            .args(["sim", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .expect("first line names the URL")
            .to_string();
        Sim(child, url)
    }

    /// A request to the simulator's `/sim/` control API.
    pub fn control(&self, method: &str, path: &str, body: &str) {
        sim_control(&self.1, method, path, body);
    }
}

/// `admin:admin` in Base64: the simulator's admin account, whose HTTP Basic credentials its
/// control API requires.
pub const SIM_CONTROL_AUTHORIZATION: &str = "Basic YWRtaW46YWRtaW4=";

/// A request to the `/sim/` control API of the simulator at `base` (plain HTTP/1.1, no client
/// crate) with the admin credentials, asserting a 200, 201 or 204.
pub fn sim_control(base: &str, method: &str, path: &str, body: &str) {
    sim_request(base, method, path, body);
}

/// [`sim_control`] for any path the admin account may use (the Table API too), returning the
/// response body.
pub fn sim_request(base: &str, method: &str, path: &str, body: &str) -> String {
    let addr = base.trim_start_matches("http://").trim_end_matches('/');
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {SIM_CONTROL_AUTHORIZATION}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200")
            || answer.starts_with("HTTP/1.1 201")
            || answer.starts_with("HTTP/1.1 204"),
        "{path}: {answer}"
    );
    answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default()
}

/// `supportbot` with its own data directory, the file secret store, and no display (the CLI
/// must never need one).
pub fn command(dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env("SUPPORTBOT_DATA_DIR", dir)
        .env("SUPPORTBOT_SECRET_STORE", "file")
        .env_remove("SUPPORTBOT_PROFILE_PASSWORD")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
    c
}

/// The Admin profile's password once a test has set it with [`protect_admin`].
pub const ADMIN_PROFILE_PASSWORD: &str = "admin-profile-pw";

/// Runs `supportbot ARGS` to the end; `SUPPORTBOT_PASSWORD` is the simulator's admin password,
/// `SUPPORTBOT_PROFILE_PASSWORD` the Admin profile's (ignored while it has none).
pub fn cli(dir: &Path, args: &[&str]) -> Output {
    command(dir)
        .args(args)
        .env("SUPPORTBOT_PASSWORD", "admin")
        .env("SUPPORTBOT_PROFILE_PASSWORD", ADMIN_PROFILE_PASSWORD)
        .output()
        .expect("run supportbot")
}

/// `integrations add NAME` for the simulator at `url` (ServiceNow, Basic `admin`), asserting
/// success; `SUPPORTBOT_PASSWORD` gives the password.
pub fn add_sim_integration(dir: &Path, name: &str, url: &str) -> Value {
    json_ok(&cli(
        dir,
        &[
            "integrations",
            "add",
            "--name",
            name,
            "--kind",
            "servicenow",
            "--auth",
            "basic",
            "--url",
            url,
            "--username",
            "admin",
            "--json",
        ],
    ))
}

/// Gives the Admin profile [`ADMIN_PROFILE_PASSWORD`], as adding another profile requires.
pub fn protect_admin(dir: &Path) {
    let out = command(dir)
        .args(["profiles", "set-password", "Admin", "--json"])
        .env("SUPPORTBOT_NEW_PROFILE_PASSWORD", ADMIN_PROFILE_PASSWORD)
        .output()
        .expect("run supportbot");
    json_ok(&out);
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The last stdout line as JSON, asserting success.
pub fn json_ok(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        stdout(out),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(out);
    serde_json::from_str(text.lines().last().expect("output")).expect("a JSON line")
}

/// The last stdout line's error object, asserting a non-zero exit.
pub fn json_err(out: &Output) -> Value {
    assert!(!out.status.success(), "expected failure: {}", stdout(out));
    let text = stdout(out);
    let v: Value = serde_json::from_str(text.lines().last().expect("an error line"))
        .expect("error line is JSON");
    v["error"].clone()
}

/// Whether the embedding model loads; without it a test skips, unless
/// SUPPORTBOT_REQUIRE_MODEL=1 (the test command sets it), when it fails.
pub fn model_ready(dir: &Path) -> bool {
    let core = supportbot_core::Core::open(dir).unwrap();
    match core.knowledge_base().embedder() {
        Ok(_) => true,
        Err(e) if std::env::var("SUPPORTBOT_REQUIRE_MODEL").as_deref() == Ok("1") => {
            panic!("model required: {e}")
        }
        Err(e) => {
            eprintln!("skipping: {e}");
            false
        }
    }
}

/// Files under `dir` (recursively) whose bytes contain `needle`: a secret must match none.
pub fn grep_dir(dir: &Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            hits.extend(grep_dir(&path, needle));
        } else if let Ok(bytes) = std::fs::read(&path) {
            if bytes.windows(needle.len()).any(|w| w == needle) {
                hits.push(path);
            }
        }
    }
    hits
}
