//! The built-in demo: the simulator runs in-process and a ready "Demo ServiceNow (simulated)"
//! integration points at it, so a new user sees the product work before connecting anything.

use supportbot_core::Core;
use supportbot_sim::{RunningSim, SimConfig};

/// `SUPPORTBOT_DEMO=0` turns the demo off (tests that need an empty start).
const DEMO_ENV: &str = "SUPPORTBOT_DEMO";

/// Starts the simulator and creates or re-points the demo integration. Returns the running
/// simulator (keep it alive), or `None` when the demo is off, was deleted by the user, or could
/// not start (logged; the app works without it).
pub(crate) fn start(core: &Core) -> Option<RunningSim> {
    if std::env::var(DEMO_ENV).as_deref() == Ok("0") {
        return None;
    }
    let port = match core.demo_port() {
        Ok(Some(port)) => port,
        Ok(None) => return None,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the demo settings");
            return None;
        }
    };
    let start_on = |port: u16| {
        tauri::async_runtime::block_on(supportbot_sim::start(SimConfig {
            port,
            ..SimConfig::default()
        }))
    };
    // Reuse the last port so the stored URL stays valid; another program may hold it now.
    let sim = match start_on(port).or_else(|_| start_on(0)) {
        Ok(sim) => sim,
        Err(e) => {
            tracing::warn!(error = %e, "the demo simulator could not start");
            return None;
        }
    };
    if let Err(e) = core.ensure_demo_integration(&sim.base_url(), sim.addr().port()) {
        tracing::warn!(error = %e, "cannot set up the demo integration");
    }
    Some(sim)
}
