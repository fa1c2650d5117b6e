//! ServiceNow- and Jira-compatible simulator: the demo default and the test peer of Support Bot.
//!
//! It speaks the real protocols over real HTTP (Table API, OAuth, Jira Cloud and Data Center
//! search, the Virtual Agent Bot Integration API) so the same client code serves the demo, the
//! tests, the benchmarks and real instances. See `docs/simulator.md` for what differs from a real
//! instance and for the `/sim/` control API.
//!
//! Code map (each module has one job):
//! - `data`: deterministic generator of realistic IT incidents, users, journals (public: benches).
//! - `catalog`: the problem scenarios and word lists the generator draws from (public: labelled
//!   search evaluation sets are built from the scenarios).
//! - `query`: encoded-query parser and evaluator (public: pure, unit-tested).
//! - `store`: the in-memory tables behind one lock, with a cache of ordered query results.
//! - `table_api`: `/api/now/table` rendering, paging headers and error bodies.
//! - `auth`, `oauth`: accounts, roles, Basic/Bearer checks and `/oauth_token.do`.
//! - `faults`: fault rules and the middleware that applies them.
//! - `control`: the `/sim/` control API.
//! - `jira`, `jql`: Jira Cloud and Data Center REST endpoints and the JQL subset.
//! - `va`: the Virtual Agent Bot Integration API, the simulated live agent and webhook delivery.
//! - `server`: shared state, router assembly, start and shutdown.
//! - `tz`: the few IANA zones the simulated accounts use (raw dates are UTC, display values not).

#![allow(
    clippy::result_large_err,
    reason = "handlers return a ready axum Response as the early-exit error; boxing it only adds noise"
)]

mod auth;
pub mod catalog;
mod control;
pub mod data;
mod errors;
mod faults;
mod fixture;
mod jira;
mod jql;
mod oauth;
pub mod query;
mod server;
mod store;
mod table_api;
pub mod tz;
mod va;

use std::net::SocketAddr;
use std::path::PathBuf;

pub use server::RunningSim;

/// How to start a simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// TCP port on 127.0.0.1; 0 picks a free port.
    pub port: u16,
    /// Number of generated incidents (ignored when `fixture` is set).
    pub incidents: usize,
    /// Seed of the generator and of rate-based faults: same seed, same data.
    pub seed: u64,
    /// Table-API-shaped JSON records to serve instead of generated incidents.
    pub fixture: Option<PathBuf>,
    /// URL the Virtual Agent posts its asynchronous replies to.
    pub va_webhook: Option<String>,
    /// Bearer secret sent with each webhook delivery.
    pub va_webhook_secret: Option<String>,
    /// Accept the OAuth client credentials grant (off by default, as on a real instance).
    pub oauth_client_credentials: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            port: 0,
            incidents: 500,
            seed: 42,
            fixture: None,
            va_webhook: None,
            va_webhook_secret: None,
            oauth_client_credentials: false,
        }
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot bind 127.0.0.1:{port}: {source}")]
    Bind {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read fixture {path}: {source}")]
    FixtureRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("fixture {path} is not Table-API-shaped JSON: {reason}")]
    FixtureFormat { path: PathBuf, reason: String },
    #[error("invalid VA webhook URL {url:?}: {reason}")]
    Webhook { url: String, reason: String },
}

/// Starts the simulator on 127.0.0.1 in the current tokio runtime; returns once it is listening.
pub async fn start(config: SimConfig) -> Result<RunningSim, SimError> {
    server::start(config).await
}

/// The built-in demo credentials as (what, value) pairs, in the order the CLI prints them.
pub fn demo_credentials() -> Vec<(String, String)> {
    auth::DEMO_CREDENTIALS
        .iter()
        .map(|(what, value)| ((*what).to_owned(), (*value).to_owned()))
        .collect()
}

impl RunningSim {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}
