//! Integration management through `Core`: validation, editing, secrets kept or replaced.

mod common;

use common::{admin, basic, file_core, secret};
use secrecy::ExposeSecret;
use supportbot_core::integrations::{
    AuthType, IntegrationPatch, Kind, NewIntegration, SecretField, SyncStatus,
};
use supportbot_core::ErrorCode;

fn new(kind: Kind, auth: AuthType, url: &str) -> NewIntegration {
    NewIntegration {
        name: "X".into(),
        kind,
        auth,
        url: url.into(),
        username: None,
        client_id: None,
        password: None,
        token: None,
        client_secret: None,
        enabled: None,
        schedule_minutes: None,
        filters: None,
        request_budget: None,
        ca_certificates: None,
        allow_insecure_http: false,
    }
}

/// Each case: an input and the fields that must be reported invalid (empty = accepted).
#[test]
fn validation_reports_every_bad_field() {
    let cases: Vec<(&str, NewIntegration, &[&str])> = vec![
        ("basic ok", basic("A", "pw"), &[]),
        (
            "empty name",
            NewIntegration {
                name: "  ".into(),
                ..basic("", "pw")
            },
            &["name"],
        ),
        (
            "no password",
            NewIntegration {
                password: None,
                ..basic("B", "")
            },
            &["password"],
        ),
        (
            "empty password counts as missing",
            basic("C", ""),
            &["password"],
        ),
        (
            "no username",
            NewIntegration {
                username: Some(" ".into()),
                ..basic("D", "pw")
            },
            &["username"],
        ),
        (
            "not a url",
            NewIntegration {
                url: "company.service-now.com".into(),
                ..basic("E", "pw")
            },
            &["url"],
        ),
        (
            "ftp url",
            NewIntegration {
                url: "ftp://example.com".into(),
                ..basic("F", "pw")
            },
            &["url"],
        ),
        (
            "credentials in url",
            NewIntegration {
                url: "https://bob:hunter2@example.com".into(),
                ..basic("G", "pw")
            },
            &["url"],
        ),
        (
            "query in url",
            NewIntegration {
                url: "https://example.com/?a=b".into(),
                ..basic("H", "pw")
            },
            &["url"],
        ),
        (
            "empty everything",
            new(Kind::Servicenow, AuthType::Basic, ""),
            &["url", "username", "password"],
        ),
        (
            "oauth needs four",
            new(
                Kind::Servicenow,
                AuthType::Oauth2,
                "https://x.service-now.com",
            ),
            &["client_id", "client_secret", "username", "password"],
        ),
        (
            "jira token without email is a PAT",
            NewIntegration {
                token: secret("t"),
                ..new(Kind::Jira, AuthType::Token, "https://jira.example.com")
            },
            &[],
        ),
        (
            "jira token needs token",
            new(Kind::Jira, AuthType::Token, "https://x.atlassian.net"),
            &["token"],
        ),
        (
            "jira oauth refused",
            NewIntegration {
                client_id: Some("c".into()),
                client_secret: secret("s"),
                username: Some("u".into()),
                password: secret("p"),
                ..new(Kind::Jira, AuthType::Oauth2, "https://x.atlassian.net")
            },
            &["auth"],
        ),
        (
            "servicenow token refused",
            NewIntegration {
                token: secret("t"),
                ..new(
                    Kind::Servicenow,
                    AuthType::Token,
                    "https://x.service-now.com",
                )
            },
            &["auth"],
        ),
        (
            "long name",
            NewIntegration {
                name: "n".repeat(81),
                ..basic("", "pw")
            },
            &["name"],
        ),
    ];
    for (label, input, bad) in cases {
        let (_dir, core) = file_core();
        let result = core.add_integration(&admin(&core), input);
        if bad.is_empty() {
            assert!(result.is_ok(), "{label}: {result:?}");
            continue;
        }
        let err = result.expect_err(label);
        assert_eq!(err.code, ErrorCode::Validation, "{label}");
        let mut got: Vec<&str> = err.fields.keys().map(String::as_str).collect();
        got.sort();
        let mut want = bad.to_vec();
        want.sort();
        assert_eq!(got, want, "{label}: {:?}", err.fields);
        assert!(
            core.list_integrations(&admin(&core)).unwrap().is_empty(),
            "{label}: nothing saved"
        );
    }
}

#[test]
fn duplicate_names_are_refused_case_insensitively() {
    let (_dir, core) = file_core();
    let a = admin(&core);
    core.add_integration(&a, basic("Production ServiceNow", "pw"))
        .unwrap();
    let err = core
        .add_integration(&a, basic("  production servicenow ", "pw"))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::DuplicateName);
    assert!(err.fields.contains_key("name"));
    let other = core.add_integration(&a, basic("Staging", "pw")).unwrap();
    let err = core
        .edit_integration(
            &a,
            other.id,
            IntegrationPatch {
                name: Some("PRODUCTION SERVICENOW".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::DuplicateName);
    // Renaming to its own name in another case is fine.
    let renamed = core
        .edit_integration(
            &a,
            other.id,
            IntegrationPatch {
                name: Some("STAGING".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(renamed.name, "STAGING");
}

#[test]
fn new_integration_is_never_synced_and_normalised() {
    let (_dir, core) = file_core();
    let a = admin(&core);
    let i = core
        .add_integration(
            &a,
            NewIntegration {
                url: " https://example.service-now.com/ ".into(),
                ..basic(" Prod ", "pw")
            },
        )
        .unwrap();
    assert_eq!(i.name, "Prod");
    assert_eq!(i.url, "https://example.service-now.com");
    assert_eq!(i.status, SyncStatus::Never);
    assert!(i.last_sync.is_none() && i.error.is_none());
    assert!(i.enabled);
    assert!(i.secrets.password && !i.secrets.token && !i.secrets.client_secret);
}

#[test]
fn edit_keeps_untouched_secrets_and_replaces_typed_ones() {
    let (_dir, core) = file_core();
    let a = admin(&core);
    let i = core
        .add_integration(&a, basic("Prod", "first-password"))
        .unwrap();
    let edited = core
        .edit_integration(
            &a,
            i.id,
            IntegrationPatch {
                // The same origin: a path and letter case change keeps the stored password.
                url: Some("https://EXAMPLE.service-now.com/now".into()),
                password: secret(""),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(edited.url, "https://EXAMPLE.service-now.com/now");
    let kept = core
        .integration_secret(i.id, SecretField::Password)
        .unwrap()
        .unwrap();
    assert_eq!(kept.expose_secret(), "first-password");

    core.edit_integration(
        &a,
        i.id,
        IntegrationPatch {
            password: secret("second-password"),
            ..Default::default()
        },
    )
    .unwrap();
    let replaced = core
        .integration_secret(i.id, SecretField::Password)
        .unwrap()
        .unwrap();
    assert_eq!(replaced.expose_secret(), "second-password");
}

#[test]
fn a_url_on_another_origin_needs_every_secret_again() {
    let (_dir, core) = file_core();
    let a = admin(&core);
    let mut input = new(
        Kind::Servicenow,
        AuthType::Oauth2,
        "https://a.service-now.com",
    );
    input.username = Some("svc".into());
    input.client_id = Some("client".into());
    input.password = secret("pw");
    input.client_secret = secret("cs");
    let i = core.add_integration(&a, input).unwrap();
    for (url, password, client_secret, refused) in [
        // Another host, scheme or port, with no secret or only one of the two typed again.
        (
            "https://b.service-now.com",
            None,
            None,
            vec!["password", "client_secret"],
        ),
        (
            "http://a.service-now.com",
            secret("pw2"),
            None,
            vec!["client_secret"],
        ),
        (
            "https://a.service-now.com:8443",
            None,
            secret("cs2"),
            vec!["password"],
        ),
    ] {
        let err = core
            .edit_integration(
                &a,
                i.id,
                IntegrationPatch {
                    url: Some(url.into()),
                    password,
                    client_secret,
                    allow_insecure_http: true,
                    ..Default::default()
                },
            )
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::Validation, "{url}");
        assert!(
            err.message.contains("enter the credentials again"),
            "{err:?}"
        );
        assert!(err.fields["url"].contains("another host"), "{err:?}");
        for field in refused {
            assert!(
                err.fields[field].contains("again for the new host"),
                "{url}: {err:?}"
            );
        }
        let unchanged = core.integration(&a, i.id).unwrap();
        assert_eq!(unchanged.url, "https://a.service-now.com");
        let kept = core
            .integration_secret(i.id, SecretField::Password)
            .unwrap();
        assert_eq!(kept.unwrap().expose_secret(), "pw");
    }
    // Other problems are reported in the same answer.
    let err = core
        .edit_integration(
            &a,
            i.id,
            IntegrationPatch {
                url: Some("https://b.service-now.com".into()),
                name: Some(String::new()),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(err.fields.contains_key("name") && err.fields.contains_key("password"));
    // Both typed again: accepted, and only the new values are stored.
    let moved = core
        .edit_integration(
            &a,
            i.id,
            IntegrationPatch {
                url: Some("https://b.service-now.com".into()),
                password: secret("pw-b"),
                client_secret: secret("cs-b"),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(moved.url, "https://b.service-now.com");
    let stored = |f| core.integration_secret(i.id, f).unwrap().unwrap();
    assert_eq!(stored(SecretField::Password).expose_secret(), "pw-b");
    assert_eq!(stored(SecretField::ClientSecret).expose_secret(), "cs-b");
}

#[test]
fn plain_http_needs_a_confirmation_except_on_this_machine() {
    let (_dir, core) = file_core();
    let a = admin(&core);
    let mut input = basic("Plain", "pw");
    input.url = "http://itsm.example.com".into();
    let err = core.add_integration(&a, input.clone()).unwrap_err();
    assert!(err.fields["url"].contains("unencrypted"), "{err:?}");
    input.allow_insecure_http = true;
    core.add_integration(&a, input).unwrap();
    for (name, url) in [
        ("L1", "http://localhost"),
        ("L2", "http://127.0.0.2:8080"),
        ("L3", "http://[::1]:9000/sn"),
    ] {
        let mut local = basic(name, "pw");
        local.url = url.into();
        core.add_integration(&a, local).unwrap();
    }
    let mut lookalike = basic("Lookalike", "pw");
    lookalike.url = "http://localhost.example.com".into();
    assert!(core.add_integration(&a, lookalike).is_err());
}

#[test]
fn changing_auth_type_needs_new_secrets_and_drops_old_ones() {
    let (_dir, core) = file_core();
    let a = admin(&core);
    let i = core.add_integration(&a, basic("Prod", "pw")).unwrap();
    let err = core
        .edit_integration(
            &a,
            i.id,
            IntegrationPatch {
                auth: Some(AuthType::Oauth2),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Validation);
    assert!(err.fields.contains_key("client_id") && err.fields.contains_key("client_secret"));
    assert!(
        !err.fields.contains_key("password"),
        "the stored password still counts: {:?}",
        err.fields
    );

    let oauth = core
        .edit_integration(
            &a,
            i.id,
            IntegrationPatch {
                auth: Some(AuthType::Oauth2),
                client_id: Some("cid".into()),
                client_secret: secret("cs"),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(oauth.auth, AuthType::Oauth2);
    assert!(oauth.secrets.password && oauth.secrets.client_secret);

    let back = core
        .edit_integration(
            &a,
            i.id,
            IntegrationPatch {
                auth: Some(AuthType::Basic),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(!back.secrets.client_secret, "unused secret removed");
    assert_eq!(back.client_id, None, "unused client id cleared");
    assert!(core
        .integration_secret(i.id, SecretField::ClientSecret)
        .unwrap()
        .is_none());
}

#[test]
fn toggle_and_remove() {
    let (_dir, core) = file_core();
    let a = admin(&core);
    let i = core.add_integration(&a, basic("Prod", "pw")).unwrap();
    assert!(
        !core
            .set_integration_enabled(&a, i.id, false)
            .unwrap()
            .enabled
    );
    assert!(
        core.set_integration_enabled(&a, i.id, true)
            .unwrap()
            .enabled
    );
    core.remove_integration(&a, i.id).unwrap();
    assert!(core.list_integrations(&a).unwrap().is_empty());
    assert_eq!(
        core.integration_secret(i.id, SecretField::Password)
            .unwrap()
            .map(|_| ()),
        None
    );
    assert_eq!(
        core.remove_integration(&a, i.id).unwrap_err().code,
        ErrorCode::NotFound
    );
    // The name is free again, and the new integration gets a new id.
    let again = core.add_integration(&a, basic("Prod", "pw")).unwrap();
    assert!(again.id > i.id);
}

#[test]
fn demo_integration_is_created_once_repointed_and_not_forced_back() {
    let (_dir, core) = file_core();
    let a = admin(&core);
    assert_eq!(
        core.demo_port().unwrap(),
        Some(0),
        "first run: start the simulator anywhere"
    );
    let demo = core
        .ensure_demo_integration("http://127.0.0.1:40001", 40001)
        .unwrap()
        .unwrap();
    assert_eq!(demo.name, supportbot_core::DEMO_INTEGRATION_NAME);
    assert_eq!(demo.username.as_deref(), Some("svc.readonly"));
    assert_eq!(
        core.integration_secret(demo.id, SecretField::Password)
            .unwrap()
            .unwrap()
            .expose_secret(),
        "readonly"
    );
    assert_eq!(
        core.demo_port().unwrap(),
        Some(40001),
        "next start reuses the port"
    );

    let moved = core
        .ensure_demo_integration("http://127.0.0.1:40002", 40002)
        .unwrap()
        .unwrap();
    assert_eq!(
        (moved.id, moved.url.as_str()),
        (demo.id, "http://127.0.0.1:40002")
    );
    assert_eq!(
        core.list_integrations(&a).unwrap().len(),
        1,
        "no second demo"
    );

    core.remove_integration(&a, demo.id).unwrap();
    assert_eq!(
        core.demo_port().unwrap(),
        None,
        "deleted by the user: the simulator stays off"
    );
    assert!(core
        .ensure_demo_integration("http://127.0.0.1:40003", 40003)
        .unwrap()
        .is_none());
    assert!(core.list_integrations(&a).unwrap().is_empty());
}
