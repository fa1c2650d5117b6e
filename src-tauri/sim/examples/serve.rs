//! Runs the simulator until Ctrl-C; a stand-in for `supportbot sim` with the same flags.
//!
//! `cargo run -p supportbot-sim --example serve -- [--port N] [--incidents N] [--seed S]
//! [--fixture FILE] [--va-webhook URL] [--va-webhook-secret S]`. The first stdout line is
//! `listening on http://127.0.0.1:PORT`, which the conformance tests wait for.

use std::io::Write;
use std::process::ExitCode;

use supportbot_sim::{demo_credentials, start, SimConfig};

fn parse(args: &[String]) -> Result<SimConfig, String> {
    let mut config = SimConfig::default();
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let mut value = || {
            iter.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        let number = |v: String| v.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--port" => {
                config.port = u16::try_from(number(value()?)?).map_err(|e| e.to_string())?
            }
            "--incidents" => {
                config.incidents = usize::try_from(number(value()?)?).map_err(|e| e.to_string())?
            }
            "--seed" => config.seed = number(value()?)?,
            "--fixture" => config.fixture = Some(value()?.into()),
            "--va-webhook" => config.va_webhook = Some(value()?),
            "--va-webhook-secret" => config.va_webhook_secret = Some(value()?),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse(&args) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("serve: {message}");
            return ExitCode::from(2);
        }
    };
    let sim = match start(config).await {
        Ok(sim) => sim,
        Err(error) => {
            eprintln!("serve: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {}", sim.base_url());
    for (what, value) in demo_credentials() {
        let _ = writeln!(out, "  {what}: {value}");
    }
    let _ = out.flush();
    drop(out);
    let _ = tokio::signal::ctrl_c().await;
    sim.shutdown().await;
    ExitCode::SUCCESS
}
