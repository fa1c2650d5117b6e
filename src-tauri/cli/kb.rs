//! `supportbot kb …`: the knowledge base from the command line.

use clap::Subcommand;
use supportbot_core::CoreResult;

use super::Context;

#[derive(Debug, Subcommand)]
pub enum KbCommand {
    /// Incidents, vectors and versions, in total and per integration.
    Stats,
}

pub(crate) fn run(ctx: &Context, cmd: KbCommand) -> CoreResult<()> {
    let actor = ctx.actor()?;
    match cmd {
        KbCommand::Stats => {
            let s = ctx.core.kb_stats(&actor)?;
            if ctx.out.is_json() {
                ctx.out.json(&s);
                return Ok(());
            }
            println!(
                "{} incidents, {} vectors, {} versions",
                s.incidents, s.vectors, s.versions
            );
            for i in &s.by_integration {
                println!(
                    "  {:<32} {:>7} incidents {:>7} vectors {:>4} versions{}",
                    i.name,
                    i.incidents,
                    i.vectors,
                    i.versions,
                    if i.configured {
                        ""
                    } else {
                        "  (integration deleted)"
                    }
                );
            }
            if s.duplicates > 0 || s.orphans > 0 {
                println!(
                    "{} duplicates, {} orphans (the vector index is rebuilt from SQLite when it disagrees)",
                    s.duplicates, s.orphans
                );
            }
        }
    }
    Ok(())
}
