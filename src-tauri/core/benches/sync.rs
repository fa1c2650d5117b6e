//! Sync benchmark: end-to-end incidents/s of the real pipeline (simulator over HTTP → embed →
//! SQLite + index) against the raw throughput of the same model on the same texts in the same
//! run, and the seed design (fetch 5, embed 5, no overlap, no length sorting) for comparison.
//!
//! `cargo bench -p supportbot-core --bench sync` (needs scripts/fetch-model.sh). Set
//! SUPPORTBOT_BENCH_INCIDENTS to change the size (default 2000).

use std::sync::Arc;
use std::time::Instant;

use secrecy::SecretString;
use supportbot_core::connectors::{Connector, ConnectorOptions, Credentials, Filters};
use supportbot_core::integrations::{AuthType, Kind, NewIntegration};
use supportbot_core::kb::{EmbedOptions, Embedder};
use supportbot_core::secrets::StorePreference;
use supportbot_core::sync::SyncOptions;
use supportbot_core::Core;
use supportbot_sim::SimConfig;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_string)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The text the pipeline embeds for an incident (the same fields, so all three measurements
/// embed identical texts).
fn embedding_text(i: &supportbot_core::connectors::SourceIncident) -> String {
    let mut t = format!("{}\n\n{}", i.short_description.trim(), i.description.trim());
    if !i.resolution.trim().is_empty() {
        t.push_str("\n\nResolution: ");
        t.push_str(i.resolution.trim());
    }
    t
}

fn credentials() -> Credentials {
    Credentials {
        username: Some("admin".into()),
        password: Some(SecretString::from("admin".to_string())),
        ..Credentials::default()
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::var("SUPPORTBOT_BENCH_INCIDENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let sim = supportbot_sim::start(SimConfig {
        incidents: n,
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    let dir = tempfile::tempdir().unwrap();
    let core = Arc::new(Core::open_with(dir.path(), StorePreference::File).unwrap());
    let embedder: Arc<Embedder> = core
        .knowledge_base()
        .embedder()
        .expect("model: run scripts/fetch-model.sh");

    // The texts the pipeline will embed, fetched once up front for the raw measurement.
    let mut connector = Connector::new(
        Kind::Servicenow,
        AuthType::Basic,
        &sim.base_url(),
        credentials(),
        ConnectorOptions::default(),
    )
    .unwrap();
    let mut texts = Vec::new();
    let mut after = None;
    loop {
        let page = connector
            .next_page(after.as_ref(), &Filters::default(), 500)
            .await
            .unwrap();
        texts.extend(page.incidents.iter().map(embedding_text));
        after = page.next.or(after);
        if page.done {
            break;
        }
    }
    assert_eq!(texts.len(), n);

    // 1. Raw model throughput, the pipeline's way (length-sorted batches of 32).
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let t = Instant::now();
    embedder.embed(&refs).unwrap();
    let raw = n as f64 / t.elapsed().as_secs_f64();

    // 2. The real pipeline, end to end.
    let admin = core.actor(None, None).unwrap();
    let id = core
        .add_integration(
            &admin,
            NewIntegration {
                name: "Bench".into(),
                kind: Kind::Servicenow,
                auth: AuthType::Basic,
                url: sim.base_url(),
                username: Some("admin".into()),
                client_id: None,
                password: Some(SecretString::from("admin".to_string())),
                token: None,
                client_secret: None,
                enabled: None,
                schedule_minutes: None,
                filters: None,
                request_budget: None,
                ca_certificates: None,
                allow_insecure_http: false,
            },
        )
        .unwrap()
        .id;
    let t = Instant::now();
    let report = core
        .sync(&admin, id, SyncOptions::default(), |_| {})
        .await
        .unwrap();
    let pipeline_s = t.elapsed().as_secs_f64();
    assert_eq!(report.added as usize, n, "{report:?}");
    let pipeline = n as f64 / pipeline_s;

    // 3. The seed's design: pages of 5, each embedded as it arrives (no overlap, no sorting).
    let mut connector = Connector::new(
        Kind::Servicenow,
        AuthType::Basic,
        &sim.base_url(),
        credentials(),
        ConnectorOptions::default(),
    )
    .unwrap();
    let seed_n = n.min(500);
    let t = Instant::now();
    let mut after = None;
    let mut done = 0;
    while done < seed_n {
        let page = connector
            .next_page(after.as_ref(), &Filters::default(), 5)
            .await
            .unwrap();
        let batch: Vec<String> = page
            .incidents
            .iter()
            .map(|i| format!("{}\n\n{}", i.short_description, i.description))
            .collect();
        let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
        embedder
            .embed_with(
                &refs,
                EmbedOptions {
                    batch_size: 5,
                    sort_by_length: false,
                },
            )
            .unwrap();
        done += batch.len();
        after = page.next.or(after);
        if page.done {
            break;
        }
    }
    let seed = done as f64 / t.elapsed().as_secs_f64();

    // 4. Incremental re-sync with nothing changed.
    let t = Instant::now();
    let again = core
        .sync(&admin, id, SyncOptions::default(), |_| {})
        .await
        .unwrap();
    let resync_s = t.elapsed().as_secs_f64();

    println!(
        "sync benchmark: {n} simulated incidents, {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("| measurement | value |");
    println!("|---|---|");
    println!("| raw model throughput (length-sorted batches of 32) | {raw:.1} texts/s |");
    println!("| end-to-end sync (fetch ∥ embed, batches of {}) | {pipeline:.1} incidents/s ({pipeline_s:.1} s) |", supportbot_core::sync::DEFAULT_BATCH_SIZE);
    println!("| ratio end-to-end / raw | {:.2}× |", pipeline / raw);
    println!(
        "| seed design (pages of 5, no overlap, unsorted), first {done} | {seed:.1} incidents/s |"
    );
    println!("| pipeline / seed design | {:.2}× |", pipeline / seed);
    println!(
        "| re-sync with nothing changed | {resync_s:.2} s ({} fetched, {} re-embedded) |",
        again.fetched,
        again.added + again.updated
    );
    println!("| peak resident memory | {:.0} MB |", peak_rss_mb());
    sim.shutdown().await;
}
