//! `supportbot integrations check NAME`: the connection check, step by step, with advice for
//! each failed step; exit 0 only when every step passed.

use supportbot_core::{CoreError, CoreResult};

use super::output::terminal_safe;
use super::Context;

/// Exit status when a step failed (the check itself ran).
const CHECK_FAILED: i32 = 1;

pub(crate) fn run(ctx: &Context, name: &str) -> CoreResult<i32> {
    let actor = ctx.actor()?;
    let integration = ctx.core.integration_by_name(&actor, name)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CoreError::internal(format!("Cannot start the async runtime: {e}")))?;
    let check = runtime.block_on(ctx.core.check_integration(&actor, integration.id))?;
    if ctx.out.is_json() {
        ctx.out.json(&check);
    } else {
        for step in &check.steps {
            let mark = if step.ok { "ok  " } else { "FAIL" };
            println!("{mark} {:<6} {}", step.name, terminal_safe(&step.detail));
            if let Some(advice) = &step.advice {
                println!("            → {}", terminal_safe(advice));
            }
        }
        match (check.ok, check.source_total) {
            (true, Some(n)) => println!("{name}: connection ok; the source counts {n} incidents."),
            (true, None) => println!("{name}: connection ok."),
            (false, _) => println!("{name}: the connection check failed (see above)."),
        }
    }
    Ok(if check.ok { 0 } else { CHECK_FAILED })
}
