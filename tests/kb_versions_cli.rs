//! `supportbot kb versions|show|rollback|check|rebuild` through the real binary against
//! `supportbot sim`: JSON shapes, human output, version ids as 12 or v12, progress on stderr,
//! `kb check` failing with `index_corrupt` on a damaged index until `kb rebuild`, and the
//! admin-only rollback. Needs the embedding model; skips without it unless
//! SUPPORTBOT_REQUIRE_MODEL=1.

mod common;

use common::{cli, json_err, json_ok, model_ready, protect_admin, Sim};
use serde_json::Value;

#[test]
fn versions_show_rollback_check_and_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    if !model_ready(dir.path()) {
        return;
    }
    let d = dir.path();
    let sim = Sim::start(25);
    json_ok(&cli(
        d,
        &[
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
        ],
    ));
    assert_eq!(json_ok(&cli(d, &["sync", "Sim", "--json"]))["added"], 25);
    sim.control(
        "POST",
        "/sim/records/incident",
        r#"{"short_description": "Shared mailbox stops syncing on phones"}"#,
    );
    let second = json_ok(&cli(d, &["sync", "Sim", "--json"]));
    assert_eq!(second["added"], 1);

    // versions --json: an array of VersionSummary, newest first.
    let list = json_ok(&cli(d, &["kb", "versions", "--json"]));
    let list = list.as_array().expect("an array");
    assert_eq!(list.len(), 2);
    for key in [
        "id",
        "created_at",
        "finished_at",
        "integration_id",
        "source",
        "kind",
        "status",
        "fetched",
        "added",
        "updated",
        "unchanged",
        "deleted",
        "skipped",
        "notes",
        "rollback_to",
        "size_after",
    ] {
        assert!(list[0].get(key).is_some(), "{key} missing in {}", list[0]);
    }
    assert_eq!(list[0]["size_after"], 26);
    assert_eq!(list[1]["size_after"], 25);
    let (v1, v2) = (
        list[1]["id"].as_i64().unwrap(),
        list[0]["id"].as_i64().unwrap(),
    );
    let human = cli(d, &["kb", "versions"]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains(&format!("v{v2}")) && text.contains("Sim"),
        "{text}"
    );

    // show: "v2" and "2" both work.
    let shown = json_ok(&cli(d, &["kb", "show", &format!("v{v2}"), "--json"]));
    assert_eq!(shown["version"]["id"], v2);
    assert_eq!(shown["changes_total"], 1);
    assert_eq!(shown["changes"][0]["change"], "added");
    assert_eq!(
        shown["changes"][0]["short_description"],
        "Shared mailbox stops syncing on phones"
    );
    assert!(shown["skipped"].as_array().unwrap().is_empty());
    let human = cli(d, &["kb", "show", &v2.to_string(), "--limit", "5"]);
    assert!(human.status.success());
    assert!(String::from_utf8_lossy(&human.stdout).contains("Shared mailbox stops syncing"));
    let bad = cli(d, &["kb", "show", "version-two"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("like 12 or v12"));

    // rollback: a viewer is refused; the admin gets the new version, progress on stderr.
    protect_admin(d);
    json_ok(&cli(
        d,
        &["profiles", "add", "Reader", "--role", "viewer", "--json"],
    ));
    let denied = cli(
        d,
        &[
            "kb",
            "rollback",
            &format!("v{v1}"),
            "--profile",
            "Reader",
            "--json",
        ],
    );
    assert_eq!(json_err(&denied)["code"], "permission_denied");
    let out = cli(d, &["kb", "rollback", &format!("v{v1}"), "--json"]);
    let rb = json_ok(&out);
    assert_eq!(rb["kind"], "rollback");
    assert_eq!(rb["rollback_to"], v1);
    assert_eq!(rb["notes"], format!("Rollback to v{v1}"));
    assert_eq!(
        (rb["deleted"].as_u64(), rb["size_after"].as_u64()),
        (Some(1), Some(25))
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("done"));
    let latest = cli(d, &["kb", "rollback", &rb["id"].to_string(), "--json"]);
    assert_eq!(json_err(&latest)["code"], "validation");

    // check: ok now; a damaged index file fails with index_corrupt until a rebuild.
    let check = json_ok(&cli(d, &["kb", "check", "--json"]));
    assert_eq!(check["ok"], true, "{check}");
    assert_eq!(check["incidents"], 25);
    assert_eq!(check["index_vectors"], 25);
    let index = d.join(supportbot_core::kb::INDEX_FILE);
    let mut bytes = std::fs::read(&index).unwrap();
    let n = bytes.len();
    bytes[n - 100] ^= 0x5a;
    std::fs::write(&index, &bytes).unwrap();
    let out = cli(d, &["kb", "check", "--json"]);
    let err = json_err(&out);
    assert_eq!(err["code"], "index_corrupt");
    assert!(err["message"]
        .as_str()
        .unwrap()
        .contains("supportbot kb rebuild"));
    let report: Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(report["ok"], false);
    assert!(!report["problems"].as_array().unwrap().is_empty());
    let text = cli(d, &["kb", "check"]);
    assert!(!text.status.success());
    assert!(String::from_utf8_lossy(&text.stderr).contains("supportbot kb rebuild"));

    let rebuilt = json_ok(&cli(d, &["kb", "rebuild", "--json"]));
    assert_eq!(rebuilt["vectors"], 25);
    assert_eq!(rebuilt["reembedded"], 0);
    assert!(rebuilt["took_ms"].as_f64().is_some());
    assert_eq!(json_ok(&cli(d, &["kb", "check", "--json"]))["ok"], true);
    let human = cli(d, &["kb", "check"]);
    assert!(human.status.success());
    assert!(String::from_utf8_lossy(&human.stdout).contains("ok"));

    // The next sync re-applies what the source changed after v1.
    let again = json_ok(&cli(d, &["sync", "Sim", "--json"]));
    assert_eq!(
        (again["added"].as_u64(), again["total"].as_u64()),
        (Some(1), Some(26))
    );
}
