//! The command-line face of the app: clap subcommands that call the same core functions as the
//! window. `--json` prints machine-readable output; a failure then ends with one
//! `{"error":{"code":…,"message":…}}` line on stdout and a non-zero exit code.

mod chat;
mod integration_check;
mod integrations;
mod kb;
mod kb_quality;
mod output;
mod profiles;
mod secret_input;
mod sim;
mod sync;

use std::sync::Arc;

use clap::{Parser, Subcommand};
use supportbot_core::{Actor, Core, CoreResult};

pub use output::Output;

#[derive(Debug, Parser)]
#[command(
    name = "supportbot",
    version,
    about = "Support Bot Desktop. Without a subcommand it opens the window.",
    after_help = "Secrets are never taken as arguments: set SUPPORTBOT_PASSWORD, SUPPORTBOT_TOKEN or SUPPORTBOT_CLIENT_SECRET, or answer the prompt on a terminal.\nSUPPORTBOT_DATA_DIR overrides the data directory."
)]
pub struct Args {
    /// Act as this profile instead of the active one. A password-protected profile needs
    /// SUPPORTBOT_PROFILE_PASSWORD.
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,

    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List, add, edit, remove, enable or disable integrations.
    #[command(subcommand)]
    Integrations(integrations::IntegrationsCommand),
    /// List, add, remove or switch local profiles, and set their passwords.
    #[command(subcommand)]
    Profiles(profiles::ProfilesCommand),
    /// Sync an integration now: pull new and changed incidents into the knowledge base.
    Sync(sync::SyncArgs),
    /// Knowledge base: statistics, search, retrieval evaluation, version history, rollback,
    /// integrity check and rebuild.
    #[command(subcommand)]
    Kb(kb::KbCommand),
    /// Serve the ServiceNow/Jira simulator (demo data, test peer) until stopped.
    Sim(sim::SimArgs),
    /// Chat console: the knowledge-base bot and live-agent handoff, one stdin line a message.
    Chat(chat::ChatArgs),
}

/// Runs a subcommand; returns the exit code.
pub fn run(args: Args) -> i32 {
    let out = Output::new(args.json);
    let result = match args.command {
        None => Ok(0),
        // The simulator needs no data directory or profile.
        Some(Command::Sim(sim_args)) => sim::run(sim_args).map(|()| 0),
        Some(command) => with_core(args.profile, out, command),
    };
    match result {
        Ok(code) => code,
        Err(e) => out.fail(&e),
    }
}

/// Opens the data directory and logging, then runs a subcommand that works on it.
fn with_core(profile: Option<String>, out: Output, command: Command) -> CoreResult<i32> {
    let core = Arc::new(Core::open_default()?);
    let _log_guard = supportbot_core::logging::init(core.data_dir());
    let ctx = Context { core, profile, out };
    match command {
        Command::Integrations(integrations::IntegrationsCommand::Check { name }) => {
            integration_check::run(&ctx, &name)
        }
        Command::Integrations(cmd) => integrations::run(&ctx, cmd).map(|()| 0),
        Command::Profiles(cmd) => profiles::run(&ctx, cmd).map(|()| 0),
        Command::Sync(args) => sync::run(&ctx, args),
        Command::Kb(cmd) => kb::run(&ctx, cmd).map(|()| 0),
        Command::Sim(args) => sim::run(args).map(|()| 0),
        Command::Chat(args) => chat::run(&ctx, args),
    }
}

/// What every subcommand gets: the opened core, who to act as, and how to print.
pub(crate) struct Context {
    pub core: Arc<Core>,
    pub profile: Option<String>,
    pub out: Output,
}

impl Context {
    /// The acting profile: `--profile` or the active one, unlocked with
    /// SUPPORTBOT_PROFILE_PASSWORD when it has a password.
    pub fn actor(&self) -> CoreResult<Actor> {
        let password = secret_input::from_env("SUPPORTBOT_PROFILE_PASSWORD");
        self.core.actor(self.profile.as_deref(), password.as_ref())
    }
}
