//! `supportbot profiles …`.

use clap::{Subcommand, ValueEnum};
use supportbot_core::{CoreError, CoreResult, Role};

use super::secret_input::{from_env, from_env_or_prompt};
use super::Context;

#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// List profiles and their roles.
    List,
    /// Add a profile (admin only).
    Add {
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Protect it with a password, read from SUPPORTBOT_NEW_PROFILE_PASSWORD or a prompt.
        #[arg(long)]
        with_password: bool,
    },
    /// Remove a profile (admin only).
    Remove { name: String },
    /// Make a profile the active one (its password from SUPPORTBOT_PROFILE_PASSWORD).
    Switch { name: String },
    /// Set a profile's password, read from SUPPORTBOT_NEW_PROFILE_PASSWORD or a prompt. An
    /// admin may set anyone's; a profile its own, with its current password in
    /// SUPPORTBOT_PROFILE_PASSWORD.
    SetPassword { name: String },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Admin,
    Operator,
    Viewer,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Admin => Role::Admin,
            RoleArg::Operator => Role::Operator,
            RoleArg::Viewer => Role::Viewer,
        }
    }
}

pub(crate) fn run(ctx: &Context, cmd: ProfilesCommand) -> CoreResult<()> {
    let core = &ctx.core;
    match cmd {
        ProfilesCommand::List => {
            let profiles = core.profiles()?;
            if ctx.out.is_json() {
                ctx.out.json(&profiles);
            } else {
                for p in &profiles {
                    println!(
                        "{} {:<24} {:<9}{}",
                        if p.active { "*" } else { " " },
                        p.name,
                        p.role.as_str(),
                        if p.has_password { "  password" } else { "" }
                    );
                }
                // Data directories from before the rule may have an open admin beside others.
                if profiles.len() > 1 {
                    for p in profiles
                        .iter()
                        .filter(|p| p.role == Role::Admin && !p.has_password)
                    {
                        eprintln!(
                            "warning: the admin profile \"{}\" has no password, so anyone can act as it; set one: supportbot profiles set-password \"{}\"",
                            p.name, p.name
                        );
                    }
                }
            }
        }
        ProfilesCommand::Add {
            name,
            role,
            with_password,
        } => {
            let actor = ctx.actor()?;
            let password = if with_password {
                from_env_or_prompt(
                    "SUPPORTBOT_NEW_PROFILE_PASSWORD",
                    "Password for the new profile",
                )
            } else {
                None
            };
            if with_password && password.is_none() {
                return Err(new_password_missing());
            }
            let p = core.add_profile(&actor, &name, role.into(), password.as_ref())?;
            if ctx.out.is_json() {
                ctx.out.json(&p);
            } else {
                println!("Added profile \"{}\" ({}).", p.name, p.role.as_str());
            }
        }
        ProfilesCommand::Remove { name } => {
            let actor = ctx.actor()?;
            core.remove_profile(&actor, &name)?;
            if ctx.out.is_json() {
                ctx.out.json(&serde_json::json!({ "removed": name }));
            } else {
                println!("Removed profile \"{name}\".");
            }
        }
        ProfilesCommand::Switch { name } => {
            let password = from_env("SUPPORTBOT_PROFILE_PASSWORD");
            let actor = core.switch_profile(&name, password.as_ref())?;
            if ctx.out.is_json() {
                ctx.out.json(&core.status(Some(&actor))?);
            } else {
                println!(
                    "Active profile: \"{}\" ({}).",
                    actor.name,
                    actor.role.as_str()
                );
            }
        }
        ProfilesCommand::SetPassword { name } => {
            let actor = ctx.actor()?;
            let Some(new_password) =
                from_env_or_prompt("SUPPORTBOT_NEW_PROFILE_PASSWORD", "New password")
            else {
                return Err(new_password_missing());
            };
            // The acting profile's password also proves the current one when it sets its own.
            let current = from_env("SUPPORTBOT_PROFILE_PASSWORD");
            let p = core.set_profile_password(&actor, &name, current.as_ref(), &new_password)?;
            if ctx.out.is_json() {
                ctx.out.json(&p);
            } else {
                println!("Set the password of the profile \"{}\".", p.name);
            }
        }
    }
    Ok(())
}

fn new_password_missing() -> CoreError {
    CoreError::invalid(
        [(
            "password".to_string(),
            "Set SUPPORTBOT_NEW_PROFILE_PASSWORD (or run on a terminal to be prompted)."
                .to_string(),
        )]
        .into(),
    )
}
