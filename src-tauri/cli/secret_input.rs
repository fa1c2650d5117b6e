//! Secrets for the CLI: from environment variables, or a no-echo prompt on a terminal. Never
//! from arguments, which other users can read in the process list.

use std::io::IsTerminal;

use secrecy::SecretString;

/// The value of `var` if set and non-empty.
pub fn from_env(var: &str) -> Option<SecretString> {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .map(SecretString::from)
}

/// `var`, else a prompt when stdin is a terminal, else `None` (validation then says it is
/// missing).
pub fn from_env_or_prompt(var: &str, label: &str) -> Option<SecretString> {
    if let Some(v) = from_env(var) {
        return Some(v);
    }
    if !std::io::stdin().is_terminal() {
        return None;
    }
    rpassword::prompt_password(format!("{label}: "))
        .ok()
        .filter(|v| !v.is_empty())
        .map(SecretString::from)
}
