//! `supportbot sync` and `kb stats` through the real binary against `supportbot sim`: JSON
//! progress lines and result, error lines with codes, and a sync killed with SIGKILL mid-way
//! that the next sync completes with no loss and no duplicates; `integrations check` step by
//! step with its exit status.
//! Needs the embedding model; skips without it unless SUPPORTBOT_REQUIRE_MODEL=1.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use serde_json::Value;

mod common;

use common::{cli, command, model_ready, Sim};

const INCIDENTS: u64 = 600;

fn last_json(out: &[u8]) -> Value {
    let text = String::from_utf8_lossy(out);
    serde_json::from_str(text.lines().last().expect("output")).expect("JSON line")
}

#[test]
fn killed_sync_resumes_without_loss_or_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    if !model_ready(dir.path()) {
        return;
    }
    let sim = Sim::start(INCIDENTS);
    let add = command(dir.path())
        .args([
            "integrations",
            "add",
            "--name",
            "Sim",
            "--kind",
            "servicenow",
            "--auth",
            "basic",
            "--url",
            &sim.1,
            "--username",
            "admin",
            "--json",
        ])
        .env("SUPPORTBOT_PASSWORD", "admin")
        .output()
        .unwrap();
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stdout)
    );

    // Kill -9 once some batches are committed.
    let mut sync = command(dir.path())
        .args(["sync", "Sim", "--json", "--batch-size", "8"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let reader = BufReader::new(sync.stdout.take().unwrap());
    let mut progress_seen = 0;
    for line in reader.lines() {
        let v: Value = serde_json::from_str(&line.unwrap()).expect("every line is JSON");
        assert!(v.get("phase").is_some(), "progress line: {v}");
        for key in [
            "batch",
            "total_batches",
            "processed",
            "added",
            "updated",
            "rate",
            "eta_s",
        ] {
            assert!(v.get(key).is_some(), "{key} missing in {v}");
        }
        progress_seen += 1;
        if v["added"].as_u64().unwrap_or(0) >= 40 {
            break;
        }
    }
    sync.kill().unwrap(); // SIGKILL
    sync.wait().unwrap();
    assert!(progress_seen > 0);

    let out = command(dir.path())
        .args(["sync", "Sim", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let result = last_json(&out.stdout);
    for key in [
        "status",
        "fetched",
        "added",
        "updated",
        "unchanged",
        "deleted",
        "skipped",
        "total",
        "version",
    ] {
        assert!(result.get(key).is_some(), "{key} missing in {result}");
    }
    assert_eq!(result["status"], "success");
    assert_eq!(result["total"], INCIDENTS, "{result}");

    let stats = command(dir.path())
        .args(["kb", "stats", "--json"])
        .output()
        .unwrap();
    let stats = last_json(&stats.stdout);
    assert_eq!(stats["incidents"], INCIDENTS);
    assert_eq!(stats["vectors"], INCIDENTS);
    assert_eq!(stats["duplicates"], 0);
    assert_eq!(stats["orphans"], 0);
    assert_eq!(stats["by_integration"][0]["incidents"], INCIDENTS);
    assert!(stats["versions"].as_u64().unwrap() >= 2);

    let conn =
        supportbot_core::store::open_connection(&dir.path().join(supportbot_core::store::DB_FILE))
            .unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

#[test]
fn a_failed_sync_exits_non_zero_with_an_error_line() {
    let dir = tempfile::tempdir().unwrap();
    if !model_ready(dir.path()) {
        return;
    }
    let sim = Sim::start(INCIDENTS);
    let add = command(dir.path())
        .args([
            "integrations",
            "add",
            "--name",
            "Sim",
            "--kind",
            "servicenow",
            "--auth",
            "basic",
            "--url",
            &sim.1,
            "--username",
            "admin",
        ])
        .env("SUPPORTBOT_PASSWORD", "not-the-password")
        .output()
        .unwrap();
    assert!(add.status.success());
    let out = command(dir.path())
        .args(["sync", "Sim", "--json"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = last_json(&out.stdout);
    assert_eq!(err["error"]["code"], "auth_invalid", "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("not-the-password"));
    let list = command(dir.path())
        .args(["integrations", "list", "--json"])
        .output()
        .unwrap();
    let list = last_json(&list.stdout);
    assert_eq!(list[0]["status"], "error");
    assert_eq!(list[0]["error"]["code"], "auth_invalid");
}

#[test]
fn integrations_check_reports_each_step_and_sets_the_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start(30);
    common::add_sim_integration(dir.path(), "Sim", &sim.1);
    let out = cli(dir.path(), &["integrations", "check", "Sim", "--json"]);
    assert!(out.status.success());
    let check: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(check["ok"], true, "{check}");
    assert_eq!(check["source_total"], 30);
    let steps = check["steps"].as_array().unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["reach", "auth", "read", "count"]);
    for s in steps {
        for key in ["name", "ok", "detail", "advice"] {
            assert!(s.get(key).is_some(), "{key} in {s}");
        }
    }
    // A wrong password: exit non-zero, the auth step says why and what to do; the text form
    // says the same to a person.
    let out = common::command(dir.path())
        .args([
            "integrations",
            "add",
            "--name",
            "Wrong",
            "--kind",
            "servicenow",
            "--auth",
            "basic",
        ])
        .args(["--url", &sim.1, "--username", "admin", "--json"])
        .env("SUPPORTBOT_PASSWORD", "not-it")
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = cli(dir.path(), &["integrations", "check", "Wrong", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let check: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let auth = &check["steps"][1];
    assert_eq!(
        (auth["name"].as_str(), auth["ok"].as_bool()),
        (Some("auth"), Some(false))
    );
    assert!(auth["advice"]
        .as_str()
        .unwrap()
        .contains("Verify the username and password"));
    assert!(check["source_total"].is_null());
    let text =
        String::from_utf8(cli(dir.path(), &["integrations", "check", "Wrong"]).stdout).unwrap();
    assert!(
        text.contains("FAIL auth") && text.contains("→ ServiceNow refused the credentials"),
        "{text}"
    );
}

#[test]
fn allow_mass_delete_goes_with_a_full_reconcile_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = cli(dir.path(), &["sync", "Sim", "--allow-mass-delete"]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("--full"), "{said}");
}

#[test]
fn client_credentials_bare_429s_and_a_request_budget_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    if !model_ready(dir.path()) {
        return;
    }
    let sim = Sim::start_with(&["--incidents", "40", "--oauth-client-credentials"]);
    let add = command(dir.path())
        .args([
            "integrations",
            "add",
            "--name",
            "CC",
            "--kind",
            "servicenow",
            "--auth",
            "oauth2-client-credentials",
            "--client-id",
            "demo-client",
            "--url",
            &sim.1,
            "--request-budget",
            "500",
            "--json",
        ])
        .env("SUPPORTBOT_CLIENT_SECRET", "demo-secret")
        .output()
        .unwrap();
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let added = last_json(&add.stdout);
    assert_eq!(added["auth"], "oauth2_client_credentials");
    assert_eq!(added["request_budget"], 500);
    assert!(added["username"].is_null());
    assert_eq!(added["secrets"]["password"], false);

    // Three 429s without Retry-After or any rate-limit header: waited out, said on stderr.
    sim.control(
        "POST",
        "/sim/faults",
        r#"{"path_prefix": "/api/now/table/incident", "status": 429, "bare": true, "count": 3}"#,
    );
    let sync = command(dir.path()).args(["sync", "CC"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&sync.stderr);
    assert!(sync.status.success(), "{stderr}");
    assert_eq!(
        stderr.matches("waiting for rate limit (").count(),
        3,
        "{stderr}"
    );
    let stats = command(dir.path())
        .args(["kb", "stats", "--json"])
        .output()
        .unwrap();
    assert_eq!(last_json(&stats.stdout)["incidents"], 40);

    // A CA file that cannot be read or is not PEM: a clear error, nothing changed.
    let bogus = dir.path().join("ca.pem");
    std::fs::write(&bogus, "hello").unwrap();
    for (path, words) in [
        (dir.path().join("missing.pem"), "Cannot read the CA file"),
        (bogus, "not a PEM certificate file"),
    ] {
        let edit = command(dir.path())
            .args(["integrations", "edit", "CC", "--ca-file"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(!edit.status.success());
        let text = String::from_utf8_lossy(&edit.stderr);
        assert!(text.contains(words), "{text}");
    }
}
