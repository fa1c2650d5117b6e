//! Local profiles: a name, a role and an optional password (Argon2id hash).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;
use rusqlite::{Connection, OptionalExtension};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Role;
use crate::clock::now_rfc3339;
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::store::{get_setting, set_setting};

/// A profile as listed (never with its hash).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub role: Role,
    pub has_password: bool,
    pub active: bool,
}

/// The identity an operation runs as; obtained only through [`crate::Core::actor`], which
/// checks the profile's password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub role: Role,
}

const ACTIVE_KEY: &str = "active_profile";
/// A profile password's minimum length (kept from the first release, so no stored password
/// becomes invalid; the throttle in `throttle.rs` is what stands against guessing).
const MIN_PASSWORD_CHARS: usize = 4;

pub(crate) fn active_profile_name(conn: &Connection) -> CoreResult<String> {
    Ok(get_setting(conn, ACTIVE_KEY)?.unwrap_or_else(|| "Admin".into()))
}

pub(crate) fn set_active_profile(conn: &Connection, name: &str) -> CoreResult<()> {
    set_setting(conn, ACTIVE_KEY, name)
}

/// A profile's role and password hash.
pub(crate) fn load_profile(
    conn: &Connection,
    name: &str,
) -> CoreResult<(String, Role, Option<String>)> {
    let row: Option<(String, String, Option<String>)> = conn
        .query_row(
            "SELECT name, role, password_hash FROM profiles WHERE name = ?1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let (name, role, hash) = row.ok_or_else(|| CoreError::not_found("profile", name))?;
    let role = Role::parse(&role)
        .ok_or_else(|| CoreError::internal(format!("Profile \"{name}\" has an unknown role.")))?;
    Ok((name, role, hash))
}

pub(crate) fn list_profiles(conn: &Connection) -> CoreResult<Vec<Profile>> {
    let active = active_profile_name(conn)?;
    let mut stmt = conn.prepare(
        "SELECT name, role, password_hash IS NOT NULL FROM profiles ORDER BY name COLLATE NOCASE",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, bool>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (name, role, has_password) = row?;
        out.push(Profile {
            active: name.eq_ignore_ascii_case(&active),
            role: Role::parse(&role).unwrap_or(Role::Viewer),
            name,
            has_password,
        });
    }
    Ok(out)
}

/// Checks `password` against the profile's hash; a profile without a hash needs none.
pub(crate) fn verify_password(
    name: &str,
    hash: Option<&str>,
    password: Option<&SecretString>,
) -> CoreResult<()> {
    let Some(hash) = hash else { return Ok(()) };
    let Some(password) = password.filter(|p| !p.expose_secret().is_empty()) else {
        return Err(CoreError::new(
            ErrorCode::ProfilePasswordRequired,
            format!("The profile \"{name}\" is password protected. Enter its password (on the command line: set SUPPORTBOT_PROFILE_PASSWORD)."),
        ));
    };
    let parsed = PasswordHash::new(hash)
        .map_err(|_| CoreError::internal("A profile's stored password hash is damaged."))?;
    Argon2::default()
        .verify_password(password.expose_secret().as_bytes(), &parsed)
        .map_err(|_| {
            CoreError::new(
                ErrorCode::ProfilePasswordInvalid,
                format!("Wrong password for the profile \"{name}\". Try again."),
            )
        })
}

pub(crate) fn add_profile(
    conn: &Connection,
    name: &str,
    role: Role,
    password: Option<&SecretString>,
) -> CoreResult<Profile> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(CoreError::invalid(
            [(
                "name".to_string(),
                "Enter a profile name of 1 to 60 characters.".to_string(),
            )]
            .into(),
        ));
    }
    let exists: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM profiles WHERE name = ?1)",
        [name],
        |r| r.get(0),
    )?;
    if exists {
        return Err(CoreError::new(
            ErrorCode::DuplicateName,
            format!("A profile named \"{name}\" exists already. Choose another name."),
        )
        .with_field("name", "This name is taken."));
    }
    let hash = match password.filter(|p| !p.expose_secret().is_empty()) {
        Some(p) => Some(hash_password(p)?),
        None => None,
    };
    conn.execute(
        "INSERT INTO profiles (name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
        rusqlite::params![name, role.as_str(), hash, now_rfc3339()],
    )?;
    let active = active_profile_name(conn)?;
    Ok(Profile {
        name: name.to_string(),
        role,
        has_password: hash.is_some(),
        active: active.eq_ignore_ascii_case(name),
    })
}

/// Checks a new password's length and hashes it (Argon2id, random salt).
fn hash_password(password: &SecretString) -> CoreResult<String> {
    if password.expose_secret().chars().count() < MIN_PASSWORD_CHARS {
        return Err(CoreError::invalid(
            [(
                "password".to_string(),
                format!("Use at least {MIN_PASSWORD_CHARS} characters."),
            )]
            .into(),
        ));
    }
    let mut salt_bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|_| CoreError::internal("Generating a password salt failed."))?;
    Ok(Argon2::default()
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map_err(|_| CoreError::internal("Hashing the profile password failed."))?
        .to_string())
}

/// Replaces a profile's password (the caller has checked who may).
pub(crate) fn set_password(
    conn: &Connection,
    name: &str,
    password: &SecretString,
) -> CoreResult<()> {
    let hash = hash_password(password)?;
    conn.execute(
        "UPDATE profiles SET password_hash = ?2 WHERE name = ?1",
        rusqlite::params![name, hash],
    )?;
    Ok(())
}

/// Names of admin profiles without a password: while one exists, no other profile may be added
/// (anyone could act as that admin).
pub(crate) fn admins_without_password(conn: &Connection) -> CoreResult<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT name FROM profiles WHERE role = 'admin' AND password_hash IS NULL
         ORDER BY name COLLATE NOCASE",
    )?;
    let names = stmt.query_map([], |r| r.get(0))?;
    Ok(names.collect::<Result<_, _>>()?)
}

/// What a session remembers of the password it was unlocked with: a digest of the stored hash
/// (which changes with every new password, its salt being random), or of nothing.
pub(crate) fn password_stamp(hash: Option<&str>) -> [u8; 32] {
    Sha256::digest(hash.unwrap_or("").as_bytes()).into()
}

pub(crate) fn remove_profile(conn: &mut Connection, name: &str, acting: &str) -> CoreResult<()> {
    let (name, role, _) = load_profile(conn, name)?;
    if name.eq_ignore_ascii_case(acting) || name.eq_ignore_ascii_case(&active_profile_name(conn)?) {
        return Err(CoreError::new(
            ErrorCode::Validation,
            format!("\"{name}\" is the profile in use. Switch to another profile first."),
        ));
    }
    let tx = conn.transaction()?;
    if role == Role::Admin {
        let admins: i64 = tx.query_row(
            "SELECT COUNT(*) FROM profiles WHERE role = 'admin'",
            [],
            |r| r.get(0),
        )?;
        if admins <= 1 {
            return Err(CoreError::new(
                ErrorCode::Validation,
                "This is the last admin profile; keep at least one so someone can manage the app.",
            ));
        }
    }
    tx.execute("DELETE FROM profiles WHERE name = ?1", [&name])?;
    tx.commit()?;
    Ok(())
}
