//! The permission matrix: every role against every action, enforced in the core.

mod common;

use common::{basic, file_core, secret};
use supportbot_core::integrations::IntegrationPatch;
use supportbot_core::{ErrorCode, Role};

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
            core.add_profile(&admin, "Subject", role, None).unwrap();
            let actor = core.actor(Some("Subject"), None).unwrap();
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
