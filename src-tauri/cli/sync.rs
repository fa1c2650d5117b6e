//! `supportbot sync NAME`: runs a sync with a terminal progress bar, or JSON lines.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use clap::Args as ClapArgs;
use supportbot_core::sync::{SyncOptions, SyncOutcome, SyncProgress, SyncReport};
use supportbot_core::{CoreError, CoreResult};

use super::Context;

#[derive(Debug, ClapArgs)]
pub struct SyncArgs {
    /// The integration to sync.
    name: String,
    /// Full reconcile: also remove incidents deleted at the source.
    #[arg(long)]
    full: bool,
    /// With --full: remove the incidents the source no longer lists even when they are more
    /// than 10 % of the integration's (held back otherwise, as access may have been lost).
    #[arg(long, requires = "full")]
    allow_mass_delete: bool,
    /// Incidents embedded and committed together.
    #[arg(long, value_name = "N")]
    batch_size: Option<usize>,
}

/// Exit code of a cancelled sync (as for SIGINT).
const CANCELLED_EXIT: i32 = 130;

/// Runs the sync; returns the exit code (0 success or partial, 1 error, 130 cancelled).
pub(crate) fn run(ctx: &Context, args: SyncArgs) -> CoreResult<i32> {
    let actor = ctx.actor()?;
    let integration = ctx.core.integration_by_name(&actor, &args.name)?;
    let mut options = SyncOptions {
        full: args.full,
        allow_mass_delete: args.allow_mass_delete,
        ..SyncOptions::default()
    };
    if let Some(n) = args.batch_size {
        options.batch_size = n.max(1);
    }
    let json = ctx.out.is_json();
    let bar = !json && std::io::stderr().is_terminal();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CoreError::internal(format!("Cannot start the async runtime: {e}")))?;
    let core = Arc::clone(&ctx.core);
    let report = runtime.block_on(async move {
        let cancel_core = core.clone();
        let cancel_actor = actor.clone();
        let id = integration.id;
        // Ctrl-C cancels cleanly: committed batches stay, the version says "cancelled".
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = cancel_core.cancel_sync(&cancel_actor, id);
            }
        });
        core.sync(&actor, id, options, move |p| {
            if json {
                println!("{}", serde_json::to_string(&p).unwrap_or_default());
            } else if let Some(wait) = &p.wait {
                // A wait can last minutes: say so on its own line, bar or not.
                if bar {
                    eprintln!();
                }
                eprintln!("{}", wait.label);
            } else if bar {
                draw_bar(&p);
            }
        })
        .await
    })?;
    if bar {
        eprintln!();
    }
    print_report(ctx, &report);
    Ok(match report.status {
        SyncOutcome::Success | SyncOutcome::Partial => 0,
        SyncOutcome::Cancelled => CANCELLED_EXIT,
        SyncOutcome::Error => 1,
    })
}

fn draw_bar(p: &SyncProgress) {
    const WIDTH: usize = 30;
    let fraction = match (p.total_batches, p.total_hint) {
        (Some(t), _) if t > 0 => (p.batch as f64 / t as f64).min(1.0),
        (_, Some(t)) if t > 0 => (p.processed as f64 / t as f64).min(1.0),
        _ => 0.0,
    };
    let filled = (fraction * WIDTH as f64).round() as usize;
    let eta = p
        .eta_s
        .map(|s| format!(" · ETA {}s", s.round()))
        .unwrap_or_default();
    let batches = p.total_batches.map(|t| format!("/{t}")).unwrap_or_default();
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "\r[{}{}] {:>3.0}% {:?} · batch {}{} · {} processed ({} added, {} updated) · {:.1}/s{}   ",
        "#".repeat(filled),
        " ".repeat(WIDTH - filled),
        fraction * 100.0,
        p.phase,
        p.batch,
        batches,
        p.processed,
        p.added,
        p.updated,
        p.rate,
        eta
    );
    let _ = err.flush();
}

fn print_report(ctx: &Context, r: &SyncReport) {
    if ctx.out.is_json() {
        ctx.out.json(r);
        if let Some(e) = &r.error {
            ctx.out.json(&serde_json::json!({ "error": e }));
        }
        return;
    }
    match r.status {
        SyncOutcome::Error => {
            let e = r
                .error
                .as_ref()
                .map(|e| e.message.as_str())
                .unwrap_or("unknown error");
            eprintln!("error: the sync failed: {e}");
            if let Some(detail) = r.error.as_ref().and_then(|e| e.fields.get("detail")) {
                eprintln!("  detail: {detail}");
            }
        }
        SyncOutcome::Cancelled => println!("Sync cancelled; batches already committed are kept."),
        _ => {}
    }
    if r.held_deletions > 0 {
        println!(
            "Held back: {} deletions (more than 10 % of the incidents; see the note). Confirm with --full --allow-mass-delete.",
            r.held_deletions
        );
    }
    let counted = match (r.source_total, r.unread) {
        (Some(n), 0) => format!(" · the source counted {n}"),
        (Some(n), unread) => format!(" · the source counted {n}, {unread} could not be read"),
        (None, _) => String::new(),
    };
    println!(
        "{:?}: {} fetched, {} added, {} updated, {} unchanged, {} deleted, {} skipped · {} in the knowledge base{counted} · version {} · {:.1}s",
        r.status,
        r.fetched,
        r.added,
        r.updated,
        r.unchanged,
        r.deleted,
        r.skipped,
        r.total,
        r.version.map(|v| v.to_string()).unwrap_or_else(|| "-".into()),
        r.duration_s
    );
    for s in &r.skipped_records {
        println!(
            "  skipped {}: {}",
            s.external_id.as_deref().unwrap_or("(no id)"),
            s.reason
        );
    }
    for n in &r.notes {
        println!("  note: {n}");
    }
}
