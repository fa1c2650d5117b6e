//! Who may do what: roles, permissions, and the local profiles that carry a role.

mod profiles;
mod session;
pub(crate) mod throttle;

use serde::{Deserialize, Serialize};

pub(crate) use profiles::{
    active_profile_name, add_profile, admins_without_password, list_profiles, load_profile,
    password_stamp, remove_profile, set_active_profile, set_password, verify_password,
};
pub use profiles::{Actor, Profile};

use crate::error::{CoreError, CoreResult, ErrorCode};

/// A profile's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Operator,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Operator, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Admin 2, Operator 1, Viewer 0: each role's permissions include those of the roles below.
    pub fn rank(self) -> u8 {
        match self {
            Role::Admin => 2,
            Role::Operator => 1,
            Role::Viewer => 0,
        }
    }

    /// The permission matrix. Admin: everything; Operator: view + sync; Viewer: view.
    pub fn allows(self, p: Permission) -> bool {
        match self {
            Role::Admin => true,
            Role::Operator => {
                matches!(p, Permission::IntegrationView | Permission::IntegrationSync)
            }
            Role::Viewer => matches!(p, Permission::IntegrationView),
        }
    }

    pub fn permissions(self) -> Vec<Permission> {
        Permission::ALL
            .into_iter()
            .filter(|p| self.allows(*p))
            .collect()
    }
}

/// The integrations guide's permissions, plus `profiles.manage` so that only an admin can
/// create a profile (otherwise any role could mint itself an admin profile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Permission {
    #[serde(rename = "integration.view")]
    IntegrationView,
    #[serde(rename = "integration.create")]
    IntegrationCreate,
    #[serde(rename = "integration.edit")]
    IntegrationEdit,
    #[serde(rename = "integration.delete")]
    IntegrationDelete,
    #[serde(rename = "integration.sync")]
    IntegrationSync,
    #[serde(rename = "profiles.manage")]
    ProfilesManage,
    /// Roll the knowledge base back to an earlier version (admin only: it rewrites what every
    /// profile sees).
    #[serde(rename = "kb.rollback")]
    KbRollback,
}

impl Permission {
    pub const ALL: [Permission; 7] = [
        Permission::IntegrationView,
        Permission::IntegrationCreate,
        Permission::IntegrationEdit,
        Permission::IntegrationDelete,
        Permission::IntegrationSync,
        Permission::ProfilesManage,
        Permission::KbRollback,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::IntegrationView => "integration.view",
            Permission::IntegrationCreate => "integration.create",
            Permission::IntegrationEdit => "integration.edit",
            Permission::IntegrationDelete => "integration.delete",
            Permission::IntegrationSync => "integration.sync",
            Permission::ProfilesManage => "profiles.manage",
            Permission::KbRollback => "kb.rollback",
        }
    }
}

impl Actor {
    /// Fails with `permission_denied` unless this actor's role grants `p`.
    pub fn require(&self, p: Permission) -> CoreResult<()> {
        if self.role.allows(p) {
            return Ok(());
        }
        Err(CoreError::new(
            ErrorCode::PermissionDenied,
            format!(
                "The profile \"{}\" ({}) does not have the {} permission. Switch to a profile with that permission, or ask an admin.",
                self.name,
                self.role.as_str(),
                p.as_str()
            ),
        ))
    }
}

/// What the desktop keeps of an unlocked profile instead of an [`Actor`]: the name and a
/// digest of the password hash it was unlocked against. Each command turns it into an Actor
/// again with [`crate::Core::resume`], which reads the profile afresh, so a removed profile, a
/// changed role or a new password takes effect at the next command, not at the next start.
#[derive(Clone, PartialEq, Eq)]
pub struct Unlocked {
    pub(crate) name: String,
    pub(crate) stamp: [u8; 32],
}

impl Unlocked {
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl std::fmt::Debug for Unlocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unlocked")
            .field("name", &self.name)
            .finish()
    }
}
