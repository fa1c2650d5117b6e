//! Entry point of the one `supportbot` binary: no arguments opens the window, a subcommand runs
//! the CLI.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    std::process::exit(supportbot::main());
}
