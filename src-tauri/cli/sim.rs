//! `supportbot sim`: serves the ServiceNow/Jira simulator until stopped.

use std::io::Write;
use std::path::PathBuf;

use clap::Args as ClapArgs;
use supportbot_core::{CoreError, CoreResult, ErrorCode};
use supportbot_sim::{demo_credentials, SimConfig};

#[derive(Debug, ClapArgs)]
pub struct SimArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Number of generated incidents.
    #[arg(long, default_value_t = 500)]
    incidents: usize,
    /// Seed of the data generator: same seed, same data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Serve these Table-API-shaped JSON records instead of generated ones.
    #[arg(long, value_name = "FILE")]
    fixture: Option<PathBuf>,
    /// Where the Virtual Agent posts its replies.
    #[arg(long, value_name = "URL")]
    va_webhook: Option<String>,
    /// Bearer secret sent with each webhook delivery.
    #[arg(long, value_name = "S")]
    va_webhook_secret: Option<String>,
    /// Accept the OAuth client credentials grant (client demo-client / demo-secret; tokens act
    /// as svc.readonly). Off by default, as on a real instance.
    #[arg(long)]
    oauth_client_credentials: bool,
}

/// Serves until Ctrl-C or SIGTERM. The first stdout line is `listening on http://127.0.0.1:PORT`.
pub(crate) fn run(args: SimArgs) -> CoreResult<()> {
    let config = SimConfig {
        port: args.port,
        incidents: args.incidents,
        seed: args.seed,
        fixture: args.fixture,
        va_webhook: args.va_webhook,
        va_webhook_secret: args.va_webhook_secret,
        oauth_client_credentials: args.oauth_client_credentials,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CoreError::internal(format!("Cannot start the async runtime: {e}")))?;
    runtime.block_on(async move {
        let sim = supportbot_sim::start(config).await.map_err(|e| {
            CoreError::new(
                ErrorCode::Validation,
                format!("The simulator could not start: {e}. Choose another --port or fix the fixture file."),
            )
        })?;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {}", sim.base_url());
        for (what, value) in demo_credentials() {
            let _ = writeln!(out, "  {what}: {value}");
        }
        let _ = out.flush();
        drop(out);
        wait_for_stop().await;
        sim.shutdown().await;
        Ok(())
    })
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
