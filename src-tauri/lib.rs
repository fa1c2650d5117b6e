//! The `supportbot` application: the desktop shell (Tauri) and the CLI over the same core.

pub mod cli;
mod commands;
mod demo;
mod desktop;
mod external;
mod navigation;
mod notify;
mod scheduler;

use clap::Parser;

/// Parses the command line and runs the CLI subcommand, or opens the window when there is none.
/// Returns the process exit code.
pub fn main() -> i32 {
    let args = cli::Args::parse();
    match args.command {
        None => desktop::run(),
        Some(_) => cli::run(args),
    }
}
