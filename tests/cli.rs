//! The CLI contract, through the real binary with a throw-away data directory: JSON shapes,
//! secrets only from the environment, permission errors, exit codes. Runs with no display.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

mod common;
use common::{json_err, json_ok, stdout};
#[path = "../src-tauri/core/tests/common/rogue.rs"]
mod rogue;
use rogue::{Reply, Server};

const BIN: &str = env!("CARGO_BIN_EXE_supportbot");
const SECRET: &str = "cli-secret-value-93841";
/// The Admin profile's password in tests that add profiles.
const ADMIN_PW: &str = "admin-pw-1";

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    // The CLI must not need a display or a keyring (common::command); no secret comes from
    // the environment unless a test gives it.
    let mut cmd = common::command(dir);
    cmd.args(args)
        .env_remove("SUPPORTBOT_PASSWORD")
        .env_remove("SUPPORTBOT_TOKEN")
        .env_remove("SUPPORTBOT_CLIENT_SECRET");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run supportbot")
}

fn add_basic(dir: &Path, name: &str) -> Output {
    run(
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
            "https://acme.service-now.com",
            "--username",
            "svc.bot",
            "--json",
        ],
        &[("SUPPORTBOT_PASSWORD", SECRET)],
    )
}

#[test]
fn add_list_edit_toggle_remove_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    let list = json_ok(&run(d, &["integrations", "list", "--json"], &[]));
    assert_eq!(list, Value::Array(vec![]));

    let added = json_ok(&add_basic(d, "Prod SN"));
    assert_eq!(added["name"], "Prod SN");
    assert_eq!(added["secrets"]["password"], true);

    let list = json_ok(&run(d, &["integrations", "list", "--json"], &[]));
    let item = &list[0];
    for key in [
        "name",
        "kind",
        "auth",
        "url",
        "enabled",
        "last_sync",
        "status",
        "error",
        "secrets",
    ] {
        assert!(item.get(key).is_some(), "missing key {key} in {item}");
    }
    assert_eq!(item["kind"], "servicenow");
    assert_eq!(item["auth"], "basic");
    assert_eq!(item["url"], "https://acme.service-now.com");
    assert_eq!(item["enabled"], true);
    assert_eq!(item["last_sync"], Value::Null);
    assert_eq!(item["status"], "never");
    assert_eq!(item["error"], Value::Null);
    assert!(!stdout(&run(d, &["integrations", "list", "--json"], &[])).contains(SECRET));

    let edited = json_ok(&run(
        d,
        &[
            "integrations",
            "edit",
            "Prod SN",
            "--name",
            "Production",
            "--url",
            "https://ACME.service-now.com/",
            "--json",
        ],
        &[],
    ));
    assert_eq!(edited["name"], "Production");
    assert_eq!(edited["url"], "https://ACME.service-now.com");
    assert_eq!(
        edited["secrets"]["password"], true,
        "password kept when SUPPORTBOT_PASSWORD is unset and the host stays"
    );

    assert_eq!(
        json_ok(&run(
            d,
            &["integrations", "disable", "Production", "--json"],
            &[]
        ))["enabled"],
        false
    );
    assert_eq!(
        json_ok(&run(
            d,
            &["integrations", "enable", "production", "--json"],
            &[]
        ))["enabled"],
        true
    );

    let removed = json_ok(&run(
        d,
        &["integrations", "remove", "Production", "--json"],
        &[],
    ));
    assert_eq!(removed["removed"], "Production");
    assert_eq!(
        json_ok(&run(d, &["integrations", "list", "--json"], &[])),
        Value::Array(vec![])
    );
}

#[test]
fn validation_and_duplicates_fail_with_codes_and_fields() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // No password in the environment and no terminal: refused, naming the variable.
    let out = run(
        d,
        &[
            "integrations",
            "add",
            "--name",
            "X",
            "--kind",
            "servicenow",
            "--auth",
            "basic",
            "--url",
            "https://x.service-now.com",
            "--username",
            "u",
            "--json",
        ],
        &[],
    );
    let err = json_err(&out);
    assert_eq!(err["code"], "validation");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("SUPPORTBOT_PASSWORD"),
        "{err}"
    );
    assert!(err["fields"]["password"].is_string());

    let err = json_err(&run(
        d,
        &[
            "integrations",
            "add",
            "--name",
            "X",
            "--kind",
            "jira",
            "--auth",
            "token",
            "--url",
            "not a url",
            "--json",
        ],
        &[("SUPPORTBOT_TOKEN", "t")],
    ));
    assert_eq!(err["code"], "validation");
    assert!(err["fields"]["url"].is_string());

    json_ok(&add_basic(d, "Dup"));
    let err = json_err(&add_basic(d, "dup"));
    assert_eq!(err["code"], "duplicate_name");

    let err = json_err(&run(d, &["integrations", "remove", "Nope", "--json"], &[]));
    assert_eq!(err["code"], "not_found");

    // Text mode: message on stderr, non-zero exit, nothing secret.
    let out = add_basic(d, "Dup");
    let out_text = run(
        d,
        &[
            "integrations",
            "add",
            "--name",
            "Dup",
            "--kind",
            "servicenow",
            "--auth",
            "basic",
            "--url",
            "https://a.b",
            "--username",
            "u",
        ],
        &[("SUPPORTBOT_PASSWORD", SECRET)],
    );
    assert!(!out.status.success() && !out_text.status.success());
    let stderr = String::from_utf8_lossy(&out_text.stderr);
    assert!(stderr.contains("exists already"), "{stderr}");
    assert!(!stderr.contains(SECRET));
}

#[test]
fn roles_are_enforced_and_passwords_required() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    json_ok(&add_basic(d, "Prod"));
    // A second profile needs the admin to have a password; the refusal says how to set one.
    let err = json_err(&run(
        d,
        &["profiles", "add", "Olga", "--role", "operator", "--json"],
        &[],
    ));
    assert_eq!(err["code"], "admin_password_required");
    assert!(err["message"]
        .as_str()
        .unwrap()
        .contains("supportbot profiles set-password"));
    json_ok(&run(
        d,
        &["profiles", "set-password", "Admin", "--json"],
        &[("SUPPORTBOT_NEW_PROFILE_PASSWORD", ADMIN_PW)],
    ));
    // From now on the active Admin needs its password.
    assert_eq!(
        json_err(&run(
            d,
            &["profiles", "add", "Olga", "--role", "operator", "--json"],
            &[]
        ))["code"],
        "profile_password_required"
    );
    let as_admin = [("SUPPORTBOT_PROFILE_PASSWORD", ADMIN_PW)];
    json_ok(&run(
        d,
        &["profiles", "add", "Olga", "--role", "operator", "--json"],
        &as_admin,
    ));
    json_ok(&run(
        d,
        &["profiles", "add", "Vic", "--role", "viewer", "--json"],
        &as_admin,
    ));
    json_ok(&run(
        d,
        &[
            "profiles",
            "add",
            "Root",
            "--role",
            "admin",
            "--with-password",
            "--json",
        ],
        &[
            ("SUPPORTBOT_NEW_PROFILE_PASSWORD", "root-pw-1"),
            ("SUPPORTBOT_PROFILE_PASSWORD", ADMIN_PW),
        ],
    ));

    let profiles = json_ok(&run(d, &["profiles", "list", "--json"], &[]));
    let names: Vec<&str> = profiles
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Admin", "Olga", "Root", "Vic"]);
    assert_eq!(profiles[0]["has_password"], true);
    assert_eq!(profiles[2]["has_password"], true);

    // A viewer can list but not change anything.
    json_ok(&run(
        d,
        &["--profile", "Vic", "integrations", "list", "--json"],
        &[],
    ));
    for args in [
        vec![
            "--profile",
            "Vic",
            "integrations",
            "disable",
            "Prod",
            "--json",
        ],
        vec![
            "--profile",
            "Vic",
            "integrations",
            "remove",
            "Prod",
            "--json",
        ],
        vec![
            "--profile",
            "Olga",
            "integrations",
            "edit",
            "Prod",
            "--url",
            "https://evil.example.com",
            "--json",
        ],
        vec![
            "--profile",
            "Olga",
            "profiles",
            "add",
            "Mallory",
            "--role",
            "admin",
            "--json",
        ],
    ] {
        let err = json_err(&run(d, &args, &[]));
        assert_eq!(err["code"], "permission_denied", "{args:?}");
    }
    let err = json_err(&run(
        d,
        &[
            "--profile",
            "Vic",
            "integrations",
            "add",
            "--name",
            "Y",
            "--kind",
            "jira",
            "--auth",
            "token",
            "--url",
            "https://y.atlassian.net",
            "--json",
        ],
        &[("SUPPORTBOT_TOKEN", "t")],
    ));
    assert_eq!(err["code"], "permission_denied");
    assert_eq!(
        json_ok(&run(d, &["integrations", "list", "--json"], &as_admin))[0]["enabled"],
        true,
        "nothing changed"
    );

    // The password-protected admin needs its password.
    assert_eq!(
        json_err(&run(
            d,
            &["--profile", "Root", "integrations", "list", "--json"],
            &[]
        ))["code"],
        "profile_password_required"
    );
    assert_eq!(
        json_err(&run(
            d,
            &["--profile", "Root", "integrations", "list", "--json"],
            &[("SUPPORTBOT_PROFILE_PASSWORD", "nope")]
        ))["code"],
        "profile_password_invalid"
    );
    json_ok(&run(
        d,
        &["--profile", "Root", "integrations", "list", "--json"],
        &[("SUPPORTBOT_PROFILE_PASSWORD", "root-pw-1")],
    ));

    // Switching the active profile down to the viewer needs no password (Vic has none) and
    // makes it the default actor.
    json_ok(&run(d, &["profiles", "switch", "Vic", "--json"], &[]));
    assert_eq!(
        json_err(&run(d, &["integrations", "disable", "Prod", "--json"], &[]))["code"],
        "permission_denied"
    );
    // From the viewer, more rights need a password: the password-less operator is out of
    // reach, by switching or by --profile, and the admin needs its own.
    for args in [
        vec!["profiles", "switch", "Olga", "--json"],
        vec!["--profile", "Olga", "integrations", "list", "--json"],
    ] {
        let err = json_err(&run(d, &args, &[]));
        assert_eq!(err["code"], "permission_denied", "{args:?}");
    }
    assert_eq!(
        json_err(&run(d, &["profiles", "switch", "Admin", "--json"], &[]))["code"],
        "profile_password_required"
    );
    json_ok(&run(
        d,
        &["profiles", "switch", "Admin", "--json"],
        &as_admin,
    ));
}

#[test]
fn set_password_rules_and_throttled_guessing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let as_admin = [("SUPPORTBOT_PROFILE_PASSWORD", ADMIN_PW)];
    let new_pw = |pw: &'static str| ("SUPPORTBOT_NEW_PROFILE_PASSWORD", pw);
    // Without a new password in the environment (and no terminal), nothing changes.
    let err = json_err(&run(
        d,
        &["profiles", "set-password", "Admin", "--json"],
        &[],
    ));
    assert_eq!(err["code"], "validation");
    assert!(err["message"]
        .as_str()
        .unwrap()
        .contains("SUPPORTBOT_NEW_PROFILE_PASSWORD"));
    json_ok(&run(
        d,
        &["profiles", "set-password", "Admin", "--json"],
        &[new_pw(ADMIN_PW)],
    ));
    json_ok(&run(
        d,
        &["profiles", "add", "Vic", "--role", "viewer", "--json"],
        &as_admin,
    ));
    json_ok(&run(
        d,
        &["profiles", "add", "Olga", "--role", "operator", "--json"],
        &as_admin,
    ));
    // A non-admin sets its own password, not another's.
    let vic = |extra: &[(&'static str, &'static str)], target: &str| {
        let mut args = vec!["--profile", "Vic", "profiles", "set-password"];
        args.push(target);
        args.push("--json");
        run(d, &args, extra)
    };
    assert_eq!(
        json_err(&vic(&[new_pw("vic-pw-1")], "Olga"))["code"],
        "permission_denied"
    );
    json_ok(&vic(&[new_pw("vic-pw-1")], "Vic"));
    // Changing it again proves the current one (which acting as Vic needs anyway).
    assert_eq!(
        json_err(&vic(&[new_pw("vic-pw-2")], "Vic"))["code"],
        "profile_password_required"
    );
    json_ok(&vic(
        &[
            new_pw("vic-pw-2"),
            ("SUPPORTBOT_PROFILE_PASSWORD", "vic-pw-1"),
        ],
        "Vic",
    ));
    // The admin sets anyone's without knowing it.
    let out = run(
        d,
        &["profiles", "set-password", "Vic"],
        &[new_pw("vic-pw-3"), as_admin[0]],
    );
    assert!(out.status.success());
    assert!(!stdout(&out).contains("vic-pw-3"));

    // Guessing: five wrong passwords, then the profile is locked even for the right one, in
    // every new process (the count is kept in the database).
    for _ in 0..5 {
        let err = json_err(&run(
            d,
            &["--profile", "Vic", "integrations", "list", "--json"],
            &[("SUPPORTBOT_PROFILE_PASSWORD", "guess")],
        ));
        assert_eq!(err["code"], "profile_password_invalid");
    }
    let err = json_err(&run(
        d,
        &["--profile", "Vic", "integrations", "list", "--json"],
        &[("SUPPORTBOT_PROFILE_PASSWORD", "vic-pw-3")],
    ));
    assert_eq!(err["code"], "too_many_attempts");
    assert!(err["message"].as_str().unwrap().contains("Try again in"));
    // Other profiles are not affected.
    json_ok(&run(d, &["integrations", "list", "--json"], &as_admin));
}

#[test]
fn secrets_never_reach_the_data_directory_or_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = add_basic(d, "Prod");
    json_ok(&out);
    let rotated = "rotated-secret-55120";
    json_ok(&run(
        d,
        &["integrations", "edit", "Prod", "--json"],
        &[("SUPPORTBOT_PASSWORD", rotated)],
    ));
    // Make SQLite fold its WAL into the main file, then search every file, logs included.
    json_ok(&run(d, &["integrations", "list", "--json"], &[]));
    for needle in [SECRET, rotated] {
        let hits = common::grep_dir(d, needle.as_bytes());
        assert!(hits.is_empty(), "{needle} found in {hits:?}");
    }
    assert!(
        d.join("logs").is_dir(),
        "logs are written to the data directory"
    );
}

#[test]
fn no_subcommand_help_mentions_secrets_policy() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains("integrations") && text.contains("SUPPORTBOT_PASSWORD"),
        "{text}"
    );
}

/// `base64("user:password")`, as a Basic header carries it.
fn basic_header(user: &str, password: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = format!("{user}:{password}").into_bytes();
    let mut out = String::from("Basic ");
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// An instance with nothing to sync: every Table API list is empty.
fn empty_instance() -> Server {
    Server::start(|_| {
        Reply::json(200, &serde_json::json!({"result": []})).with_header("X-Total-Count", "0")
    })
}

fn add_at(dir: &Path, name: &str, url: &str, extra: &[&str]) -> Output {
    let mut args = vec![
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
        "svc.bot",
        "--json",
    ];
    args.extend_from_slice(extra);
    run(dir, &args, &[("SUPPORTBOT_PASSWORD", SECRET)])
}

#[test]
fn a_new_host_needs_the_credentials_again_and_gets_nothing_without_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let old = empty_instance();
    let new = empty_instance();
    json_ok(&add_at(d, "Prod", &old.base, &[]));

    // Another port is another origin: refused without the password, on the url field.
    let err = json_err(&run(
        d,
        &["integrations", "edit", "Prod", "--url", &new.base, "--json"],
        &[],
    ));
    assert_eq!(err["code"], "validation");
    let on_url = err["fields"]["url"].as_str().unwrap();
    assert!(
        on_url.contains("enter the credentials again") && on_url.contains(&new.base),
        "{on_url}"
    );
    assert!(err["message"]
        .as_str()
        .unwrap()
        .contains("credentials again"));
    assert!(err["fields"]["password"]
        .as_str()
        .unwrap()
        .contains("SUPPORTBOT_PASSWORD"));
    let list = json_ok(&run(d, &["integrations", "list", "--json"], &[]));
    assert_eq!(list[0]["url"], old.base.as_str(), "nothing changed");

    // A sync still goes to the host the password was entered for, and only there.
    let synced = common::model_ready(d);
    if synced {
        json_ok(&run(d, &["sync", "Prod", "--json"], &[]));
        let to_old = old.requests();
        assert!(!to_old.is_empty());
        assert!(to_old
            .iter()
            .all(|r| r.header("authorization") == Some(&basic_header("svc.bot", SECRET))));
    }
    assert!(new.requests().is_empty(), "{:#?}", new.requests());

    // With the password typed again for it, the new host is accepted and gets only that one.
    let fresh = "entered-for-the-new-host-7730";
    let edited = json_ok(&run(
        d,
        &["integrations", "edit", "Prod", "--url", &new.base, "--json"],
        &[("SUPPORTBOT_PASSWORD", fresh)],
    ));
    assert_eq!(edited["url"], new.base.as_str());
    if synced {
        json_ok(&run(d, &["sync", "Prod", "--json"], &[]));
        let to_new = new.requests();
        assert!(!to_new.is_empty());
        for r in &to_new {
            assert_eq!(
                r.header("authorization"),
                Some(basic_header("svc.bot", fresh).as_str())
            );
            assert!(!r.everything().contains(SECRET));
        }
    }

    // A change of path or letter case keeps the origin, and the stored password with it.
    let moved = new.base.replace("http://", "HTTP://") + "/";
    json_ok(&run(
        d,
        &["integrations", "edit", "Prod", "--url", &moved, "--json"],
        &[],
    ));
}

#[test]
fn plain_http_is_only_for_this_machine_unless_confirmed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let err = json_err(&add_at(d, "Plain", "http://itsm.example.com", &[]));
    assert_eq!(err["code"], "validation");
    let on_url = err["fields"]["url"].as_str().unwrap();
    assert!(
        on_url.contains("unencrypted") && on_url.contains("--allow-insecure-http"),
        "{on_url}"
    );
    json_ok(&add_at(
        d,
        "Plain",
        "http://itsm.example.com",
        &["--allow-insecure-http"],
    ));
    for (name, url) in [
        ("Local", "http://localhost:8080"),
        ("Loop4", "http://127.0.0.1:8080"),
        ("Loop6", "http://[::1]:8080"),
    ] {
        json_ok(&add_at(d, name, url, &[]));
    }
    // Moving an https integration to plain http on another machine needs the same
    // confirmation (and, being another origin, the password).
    json_ok(&add_at(d, "Secure", "https://itsm.example.com", &[]));
    let err = json_err(&run(
        d,
        &[
            "integrations",
            "edit",
            "Secure",
            "--url",
            "http://itsm.example.com",
            "--json",
        ],
        &[("SUPPORTBOT_PASSWORD", SECRET)],
    ));
    assert!(err["fields"]["url"]
        .as_str()
        .unwrap()
        .contains("unencrypted"));
    json_ok(&run(
        d,
        &[
            "integrations",
            "edit",
            "Secure",
            "--url",
            "http://itsm.example.com",
            "--allow-insecure-http",
            "--json",
        ],
        &[("SUPPORTBOT_PASSWORD", SECRET)],
    ));
    // Editing something else keeps the accepted http URL as it is.
    json_ok(&run(
        d,
        &[
            "integrations",
            "edit",
            "Plain",
            "--name",
            "Plainer",
            "--json",
        ],
        &[],
    ));
}
