//! The permission matrix: every role against every action, enforced in the core.

mod common;

use common::{basic, file_core, protect_admin, secret, ADMIN_PASSWORD};
use secrecy::SecretString;
use supportbot_core::integrations::IntegrationPatch;
use supportbot_core::{Core, ErrorCode, Role};

#[derive(Debug, Clone, Copy)]
enum Action {
    View,
    Create,
    Edit,
    Toggle,
    Delete,
    Sync,
    ManageProfiles,
    Rollback,
}

const ACTIONS: [Action; 8] = [
    Action::View,
    Action::Create,
    Action::Edit,
    Action::Toggle,
    Action::Delete,
    Action::Sync,
    Action::ManageProfiles,
    Action::Rollback,
];

fn allowed(role: Role, action: Action) -> bool {
    match role {
        Role::Admin => true,
        Role::Operator => matches!(action, Action::View | Action::Sync),
        Role::Viewer => matches!(action, Action::View),
    }
}

#[test]
fn every_role_against_every_action() {
    for role in Role::ALL {
        for action in ACTIONS {
            let (_dir, core) = file_core();
            let admin = common::admin(&core);
            let existing = core
                .add_integration(&admin, basic("Existing", "pw"))
                .unwrap();
            protect_admin(&core, &admin);
            // An admin profile needs a password of its own.
            let password =
                (role == Role::Admin).then(|| SecretString::from("subject-pw".to_string()));
            core.add_profile(&admin, "Subject", role, password.as_ref())
                .unwrap();
            let actor = core.actor(Some("Subject"), password.as_ref()).unwrap();
            let result = match action {
                Action::View => core.list_integrations(&actor).map(|_| ()),
                Action::Create => core.add_integration(&actor, basic("New", "pw")).map(|_| ()),
                Action::Edit => core
                    .edit_integration(
                        &actor,
                        existing.id,
                        IntegrationPatch {
                            name: Some("Renamed".into()),
                            ..Default::default()
                        },
                    )
                    .map(|_| ()),
                Action::Toggle => core
                    .set_integration_enabled(&actor, existing.id, false)
                    .map(|_| ()),
                Action::Delete => core.remove_integration(&actor, existing.id),
                // Cancelling needs the sync permission; with no sync running it just says so.
                Action::Sync => core
                    .cancel_sync(&actor, existing.id)
                    .map(|running| assert!(!running)),
                Action::ManageProfiles => core
                    .add_profile(&actor, "Another", Role::Viewer, None)
                    .map(|_| ()),
                // Past the permission check there is no version 1 yet: that answer means allowed.
                Action::Rollback => match core.kb_rollback(&actor, 1, |_| {}) {
                    Err(e) if e.code == ErrorCode::NotFound => Ok(()),
                    other => other.map(|_| ()),
                },
            };
            if allowed(role, action) {
                assert!(result.is_ok(), "{role:?} {action:?}: {result:?}");
            } else {
                let err = result.expect_err(&format!("{role:?} {action:?} must be denied"));
                assert_eq!(err.code, ErrorCode::PermissionDenied, "{role:?} {action:?}");
                // Nothing changed.
                let after = core.list_integrations(&admin).unwrap();
                assert_eq!(after.len(), 1, "{role:?} {action:?}");
                assert_eq!(after[0].name, "Existing");
                assert!(after[0].enabled);
                assert_eq!(core.profiles().unwrap().len(), 2);
            }
        }
    }
}

#[test]
fn role_permission_lists_match_the_guide() {
    let names = |r: Role| {
        r.permissions()
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(Role::Viewer), ["integration.view"]);
    assert_eq!(
        names(Role::Operator),
        ["integration.view", "integration.sync"]
    );
    assert_eq!(names(Role::Admin).len(), 7);
    assert!(names(Role::Admin).contains(&"kb.rollback"));
}

#[test]
fn password_protected_profile_needs_its_password() {
    let (_dir, core) = file_core();
    let admin = common::admin(&core);
    protect_admin(&core, &admin);
    core.add_profile(&admin, "Boss", Role::Admin, secret("s3cret-pw").as_ref())
        .unwrap();
    assert_eq!(
        core.actor(Some("Boss"), None).unwrap_err().code,
        ErrorCode::ProfilePasswordRequired
    );
    assert_eq!(
        core.actor(Some("Boss"), secret("wrong").as_ref())
            .unwrap_err()
            .code,
        ErrorCode::ProfilePasswordInvalid
    );
    assert_eq!(
        core.actor(Some("Boss"), secret("s3cret-pw").as_ref())
            .unwrap()
            .role,
        Role::Admin
    );
    // Switching persists the active profile; acting as it again needs the password again.
    core.switch_profile("Boss", secret("s3cret-pw").as_ref())
        .unwrap();
    assert_eq!(
        core.actor(None, None).unwrap_err().code,
        ErrorCode::ProfilePasswordRequired
    );
    let status = core.status(None).unwrap();
    assert!(
        status.permissions.is_empty(),
        "a locked session can do nothing"
    );
    assert_eq!(status.profile.name, "Boss");
}

#[test]
fn profiles_cannot_lose_their_last_admin_or_the_active_one() {
    let (_dir, core) = file_core();
    let admin = common::admin(&core);
    protect_admin(&core, &admin);
    core.add_profile(&admin, "Viewer", Role::Viewer, None)
        .unwrap();
    assert_eq!(
        core.remove_profile(&admin, "Admin").unwrap_err().code,
        ErrorCode::Validation
    );
    assert_eq!(
        core.add_profile(&admin, "viewer", Role::Viewer, None)
            .unwrap_err()
            .code,
        ErrorCode::DuplicateName
    );
    core.switch_profile("Viewer", None).unwrap();
    let viewer = core.actor(None, None).unwrap();
    assert_eq!(
        core.remove_profile(&viewer, "Admin").unwrap_err().code,
        ErrorCode::PermissionDenied
    );
    core.remove_profile(&admin, "Viewer").unwrap_err();
}

fn pw(s: &str) -> SecretString {
    SecretString::from(s.to_string())
}

/// Admin (with password), Olga (operator) and Vic (viewer), both without a password.
fn three_profiles() -> (tempfile::TempDir, Core) {
    let (dir, core) = file_core();
    let admin = common::admin(&core);
    protect_admin(&core, &admin);
    core.add_profile(&admin, "Olga", Role::Operator, None)
        .unwrap();
    core.add_profile(&admin, "Vic", Role::Viewer, None).unwrap();
    (dir, core)
}

#[test]
fn a_second_profile_needs_the_admin_to_have_a_password() {
    let (_dir, core) = file_core();
    let admin = common::admin(&core);
    // A fresh install: one admin profile, no password, and nothing asks for one.
    let profiles = core.profiles().unwrap();
    assert_eq!(profiles.len(), 1);
    assert!(!profiles[0].has_password);
    let err = core
        .add_profile(&admin, "Vic", Role::Viewer, None)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::AdminPasswordRequired);
    assert!(
        err.message.contains("set-password") && err.message.contains("Set password"),
        "says how to set one: {}",
        err.message
    );
    assert_eq!(core.profiles().unwrap().len(), 1, "nothing was added");

    protect_admin(&core, &admin);
    core.add_profile(&admin, "Vic", Role::Viewer, None).unwrap();
    // Another admin needs a password of its own.
    let err = core
        .add_profile(&admin, "Root", Role::Admin, None)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Validation);
    assert!(err.fields.contains_key("password"));
    core.add_profile(&admin, "Root", Role::Admin, Some(&pw("root-pw")))
        .unwrap();
}

#[test]
fn rights_are_never_gained_without_a_password() {
    let (_dir, core) = three_profiles();
    // From the admin, going down needs no password (Olga and Vic have none).
    assert_eq!(core.actor(Some("Olga"), None).unwrap().role, Role::Operator);
    core.switch_profile("Vic", None).unwrap();
    // From the viewer, the password-less operator is out of reach, in both ways.
    for err in [
        core.actor(Some("Olga"), None).unwrap_err(),
        core.switch_profile("Olga", None).unwrap_err(),
    ] {
        assert_eq!(err.code, ErrorCode::PermissionDenied);
        assert!(err.message.contains("no password"), "{}", err.message);
    }
    // The admin needs its password.
    assert_eq!(
        core.actor(Some("Admin"), None).unwrap_err().code,
        ErrorCode::ProfilePasswordRequired
    );
    assert_eq!(
        core.switch_profile("Admin", Some(&pw("wrong")))
            .unwrap_err()
            .code,
        ErrorCode::ProfilePasswordInvalid
    );
    assert_eq!(
        core.active_profile().unwrap().name,
        "Vic",
        "nothing switched"
    );
    core.switch_profile("Admin", Some(&pw(ADMIN_PASSWORD)))
        .unwrap();
    assert_eq!(core.actor(Some("Olga"), None).unwrap().role, Role::Operator);
}

#[test]
fn wrong_passwords_lock_the_profile_for_a_while() {
    let (_dir, core) = three_profiles();
    for _ in 0..5 {
        assert_eq!(
            core.actor(Some("Admin"), Some(&pw("guess")))
                .unwrap_err()
                .code,
            ErrorCode::ProfilePasswordInvalid
        );
    }
    // Locked: even the right password is refused until the lock ends.
    let err = core
        .actor(Some("Admin"), Some(&pw(ADMIN_PASSWORD)))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::TooManyAttempts);
    assert!(err.message.contains("Try again in"), "{}", err.message);
    assert!(!err.message.contains(ADMIN_PASSWORD));
    // Kept in the database: a new process (here, a second Core on the same directory) is
    // locked too.
    let again = Core::open_with(
        core.data_dir(),
        supportbot_core::secrets::StorePreference::File,
    )
    .unwrap();
    assert_eq!(
        again
            .switch_profile("Admin", Some(&pw(ADMIN_PASSWORD)))
            .unwrap_err()
            .code,
        ErrorCode::TooManyAttempts
    );
    // No password at all is not a guess and does not count.
    assert_eq!(
        core.actor(Some("Admin"), None).unwrap_err().code,
        ErrorCode::ProfilePasswordRequired
    );
}

#[test]
fn who_may_set_which_password() {
    let (_dir, core) = three_profiles();
    let admin = core.actor(None, Some(&pw(ADMIN_PASSWORD))).unwrap();
    let vic = core.actor(Some("Vic"), None).unwrap();
    // Not someone else's, unless admin.
    let err = core
        .set_profile_password(&vic, "Olga", None, &pw("olga-pw"))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::PermissionDenied);
    // Its own: no current password to prove yet.
    let p = core
        .set_profile_password(&vic, "Vic", None, &pw("vic-pw-1"))
        .unwrap();
    assert!(p.has_password);
    // Changing it needs the current one, on the current_password field.
    let err = core
        .set_profile_password(&vic, "Vic", None, &pw("vic-pw-2"))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ProfilePasswordRequired);
    assert!(err.fields.contains_key("current_password"));
    let err = core
        .set_profile_password(&vic, "Vic", Some(&pw("nope")), &pw("vic-pw-2"))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ProfilePasswordInvalid);
    core.set_profile_password(&vic, "Vic", Some(&pw("vic-pw-1")), &pw("vic-pw-2"))
        .unwrap();
    core.actor(Some("Vic"), Some(&pw("vic-pw-2"))).unwrap();
    // An admin sets anyone's without knowing it.
    core.set_profile_password(&admin, "Vic", None, &pw("vic-pw-3"))
        .unwrap();
    core.actor(Some("Vic"), Some(&pw("vic-pw-3"))).unwrap();
    // Too short, or empty.
    for bad in ["abc", ""] {
        let err = core
            .set_profile_password(&admin, "Olga", None, &pw(bad))
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::Validation, "{bad:?}");
        assert!(err.fields.contains_key("password"));
    }
}

#[test]
fn a_kept_session_is_checked_again_for_each_use() {
    let (_dir, core) = three_profiles();
    let admin = core.actor(None, Some(&pw(ADMIN_PASSWORD))).unwrap();
    let (_, vic_session) = core.switch_session("Vic", None).unwrap();
    assert_eq!(core.resume(&vic_session).unwrap().role, Role::Viewer);
    // A new password ends the session: the window must unlock again.
    core.set_profile_password(&admin, "Vic", None, &pw("vic-pw"))
        .unwrap();
    let err = core.resume(&vic_session).unwrap_err();
    assert_eq!(err.code, ErrorCode::ProfilePasswordRequired);
    let (_, vic_session) = core.unlock(Some("Vic"), Some(&pw("vic-pw"))).unwrap();
    core.resume(&vic_session).unwrap();
    // So does removing the profile.
    core.switch_profile("Admin", Some(&pw(ADMIN_PASSWORD)))
        .unwrap();
    core.remove_profile(&admin, "Vic").unwrap();
    assert_eq!(
        core.resume(&vic_session).unwrap_err().code,
        ErrorCode::ProfilePasswordRequired
    );
}
