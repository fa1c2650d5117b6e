//! `Core`'s profile API: who is acting, unlocking and switching profiles, passwords.
//!
//! The rules (SECURITY.md, "Profiles"):
//! - a password-protected profile is entered (switched to, or acted as with `--profile`) only
//!   with its password, and wrong passwords are throttled per profile (`throttle.rs`);
//! - a profile *without* a password is entered without one only when it has no more rights
//!   than the active profile: rights are never gained without a password;
//! - once there is more than one profile, every admin profile has a password: adding a
//!   profile is refused while an admin has none, and an admin profile cannot be added without;
//! - an admin may set anyone's password; anyone may set their own, proving the current one.

use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use super::{throttle, Actor, Permission, Profile, Role, Unlocked};
use crate::access;
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::Core;

/// The environment variable and the UI place that set a password, for messages.
const HOW_TO_SET: &str = "In the window: Settings > Profiles > Set password. On the command \
     line: SUPPORTBOT_NEW_PROFILE_PASSWORD=… supportbot profiles set-password";

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

impl Core {
    /// Resolves who is acting: the named profile, or the active one when `profile` is `None`,
    /// under the rules of the module docs.
    pub fn actor(
        &self,
        profile: Option<&str>,
        password: Option<&SecretString>,
    ) -> CoreResult<Actor> {
        Ok(self.unlock(profile, password)?.0)
    }

    /// Like [`Core::actor`], also returning the [`Unlocked`] token a long-lived session (the
    /// window) keeps and re-checks with [`Core::resume`] before each command.
    pub fn unlock(
        &self,
        profile: Option<&str>,
        password: Option<&SecretString>,
    ) -> CoreResult<(Actor, Unlocked)> {
        let (name, role, hash, ceiling) = {
            let conn = self.db().conn();
            let active = access::active_profile_name(&conn)?;
            let target = profile.unwrap_or(&active);
            let (name, role, hash) = access::load_profile(&conn, target)?;
            // The rights a password-less profile may reach: the active profile's.
            let ceiling = if name.eq_ignore_ascii_case(&active) {
                role
            } else {
                access::load_profile(&conn, &active).map_or(Role::Viewer, |(_, r, _)| r)
            };
            (name, role, hash, ceiling)
        };
        match hash.as_deref() {
            Some(hash) => self.check_password(&name, hash, password)?,
            None if role.rank() > ceiling.rank() => {
                return Err(CoreError::new(
                    ErrorCode::PermissionDenied,
                    format!(
                        "The profile \"{name}\" ({}) has more rights than the active profile and no password, so it cannot be entered from it. Switch to an admin profile first, or have an admin set a password for \"{name}\" ({HOW_TO_SET} \"{name}\").",
                        role.as_str()
                    ),
                ))
            }
            None => {}
        }
        let unlocked = Unlocked {
            stamp: access::password_stamp(hash.as_deref()),
            name: name.clone(),
        };
        Ok((Actor { name, role }, unlocked))
    }

    /// The acting profile of a session unlocked earlier, read afresh: refused with
    /// `profile_password_required` when the profile was removed or its password changed since,
    /// and with the profile's current role otherwise.
    pub fn resume(&self, unlocked: &Unlocked) -> CoreResult<Actor> {
        let conn = self.db().conn();
        let locked = |why: &str| {
            CoreError::new(
                ErrorCode::ProfilePasswordRequired,
                format!(
                    "The profile \"{}\" {why}. Choose a profile in Settings > Profiles.",
                    unlocked.name
                ),
            )
        };
        let (name, role, hash) = match access::load_profile(&conn, &unlocked.name) {
            Ok(p) => p,
            Err(e) if e.code == ErrorCode::NotFound => return Err(locked("was removed")),
            Err(e) => return Err(e),
        };
        let stamp = access::password_stamp(hash.as_deref());
        if !bool::from(stamp.ct_eq(&unlocked.stamp)) {
            return Err(locked("has a new password; enter it again"));
        }
        Ok(Actor { name, role })
    }

    /// Checks the password (throttled) and makes `name` the active profile for later starts.
    pub fn switch_profile(&self, name: &str, password: Option<&SecretString>) -> CoreResult<Actor> {
        Ok(self.switch_session(name, password)?.0)
    }

    /// [`Core::switch_profile`] for the window, which keeps the [`Unlocked`] token.
    pub fn switch_session(
        &self,
        name: &str,
        password: Option<&SecretString>,
    ) -> CoreResult<(Actor, Unlocked)> {
        let (actor, unlocked) = self.unlock(Some(name), password)?;
        access::set_active_profile(&self.db().conn(), &actor.name)?;
        tracing::info!(profile = %actor.name, role = actor.role.as_str(), "switched profile");
        Ok((actor, unlocked))
    }

    /// The active profile's name and whether it needs a password to act as it.
    pub fn active_profile(&self) -> CoreResult<Profile> {
        let conn = self.db().conn();
        let name = access::active_profile_name(&conn)?;
        access::list_profiles(&conn)?
            .into_iter()
            .find(|p| p.name.eq_ignore_ascii_case(&name))
            .ok_or_else(|| CoreError::not_found("profile", &name))
    }

    /// Every profile. Listing is open to all: it reveals names and roles only.
    pub fn profiles(&self) -> CoreResult<Vec<Profile>> {
        access::list_profiles(&self.db().conn())
    }

    /// Adds a profile (admin only). Refused with `admin_password_required` while an admin
    /// profile has no password, and an admin profile needs a password of its own.
    pub fn add_profile(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
        password: Option<&SecretString>,
    ) -> CoreResult<Profile> {
        actor.require(Permission::ProfilesManage)?;
        let conn = self.db().conn();
        let open_admins = access::admins_without_password(&conn)?;
        if let Some(first) = open_admins.first() {
            return Err(CoreError::new(
                ErrorCode::AdminPasswordRequired,
                format!(
                    "Set a password for the admin profile \"{first}\" before adding another profile: without one, anyone using the new profile could act as \"{first}\". {HOW_TO_SET} \"{first}\"."
                ),
            ));
        }
        let has_password = password.is_some_and(|p| !p.expose_secret().is_empty());
        if role == Role::Admin && !has_password {
            return Err(CoreError::invalid(
                [(
                    "password".to_string(),
                    "An admin profile needs a password: anyone could act as it otherwise."
                        .to_string(),
                )]
                .into(),
            ));
        }
        let p = access::add_profile(&conn, name, role, password)?;
        tracing::info!(profile = %p.name, role = role.as_str(), by = %actor.name, "added profile");
        Ok(p)
    }

    pub fn remove_profile(&self, actor: &Actor, name: &str) -> CoreResult<()> {
        actor.require(Permission::ProfilesManage)?;
        access::remove_profile(&mut self.db().conn(), name, &actor.name)?;
        tracing::info!(profile = %name, by = %actor.name, "removed profile");
        Ok(())
    }

    /// Sets `name`'s password. An admin may set anyone's; any profile may set its own, proving
    /// its current password with `current` when it has one (also an admin: an unlocked window
    /// left alone must not let a passer-by lock its owner out). The new password is never
    /// logged or returned.
    pub fn set_profile_password(
        &self,
        actor: &Actor,
        name: &str,
        current: Option<&SecretString>,
        new_password: &SecretString,
    ) -> CoreResult<Profile> {
        let (name, _, hash) = access::load_profile(&self.db().conn(), name)?;
        let own = name.eq_ignore_ascii_case(&actor.name);
        if !own {
            actor.require(Permission::ProfilesManage).map_err(|_| {
                CoreError::new(
                    ErrorCode::PermissionDenied,
                    format!(
                        "Only an admin can set the password of another profile (\"{name}\"); a profile can set its own."
                    ),
                )
            })?;
        } else if let Some(hash) = hash.as_deref() {
            self.check_password(&name, hash, current)
                .map_err(|e| move_to_field(e, "current_password"))?;
        }
        if new_password.expose_secret().is_empty() {
            return Err(CoreError::invalid(
                [(
                    "password".to_string(),
                    "Enter the new password (on the command line: SUPPORTBOT_NEW_PROFILE_PASSWORD)."
                        .to_string(),
                )]
                .into(),
            ));
        }
        let conn = self.db().conn();
        access::set_password(&conn, &name, new_password)?;
        // A new password starts with a clean slate of attempts.
        throttle::clear(&conn, &name)?;
        tracing::info!(profile = %name, by = %actor.name, "set profile password");
        access::list_profiles(&conn)?
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| CoreError::not_found("profile", &name))
    }

    /// Checks `password` against `hash`, throttled per profile (see `throttle.rs`). A missing
    /// password is not an attempt and is not counted.
    fn check_password(
        &self,
        name: &str,
        hash: &str,
        password: Option<&SecretString>,
    ) -> CoreResult<()> {
        let given = password.filter(|p| !p.expose_secret().is_empty());
        if given.is_some() {
            throttle::reserve(&mut self.db().conn(), name, now_ms())?;
        }
        // Argon2 runs without the connection held: it takes tens of milliseconds.
        access::verify_password(name, Some(hash), given)?;
        throttle::clear(&self.db().conn(), name)
    }
}

/// The current-password check's error, shown on the dialog's `current_password` input.
fn move_to_field(mut e: CoreError, field: &str) -> CoreError {
    if matches!(
        e.code,
        ErrorCode::ProfilePasswordInvalid | ErrorCode::ProfilePasswordRequired
    ) {
        e.fields.clear();
        let message = e.message.clone();
        e = e.with_field(field, message);
    }
    e
}
