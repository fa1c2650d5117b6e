//! Benchmark of the embedding model, printed as a table: throughput and peak memory by batch
//! size with and without length sorting (500 simulated incidents). The vector index at 100k
//! incidents (build, search latency, recall, file size, load, memory) is `benches/search.rs`.
//!
//! Run: `cargo bench -p supportbot-core --bench embed` (needs `scripts/fetch-model.sh`; without
//! the model it says so and stops). `BENCH_TEXTS` and `BENCH_REPS` (rounds of the settings; the
//! best counts) change the sizes.

mod common;

use std::collections::HashMap;
use std::time::Instant;

use common::{current_rss_mb, env_usize, peak_rss_mb, reset_peak_rss};
use supportbot_core::kb::{EmbedOptions, Embedder, ModelPaths};

fn main() {
    let texts = env_usize("BENCH_TEXTS", 500);
    println!(
        "embedding benchmark: {} CPUs, {texts} texts, load average {}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        common::loadavg()
    );
    embeddings(texts);
    println!("\nPeak RSS of the whole run: {} MB", peak_rss_mb());
}

// ---- Embeddings -------------------------------------------------------------------------------

fn embeddings(count: usize) {
    let paths = ModelPaths::resolve().expect("model paths");
    if !paths.missing().is_empty() {
        println!(
            "\nEmbeddings: SKIPPED, model not installed in {} (run `bash scripts/fetch-model.sh`).",
            paths.model_dir.display()
        );
        return;
    }
    let texts = incident_texts(count);
    let words: Vec<usize> = texts.iter().map(|t| t.split_whitespace().count()).collect();
    println!(
        "\nEmbeddings: {} simulated incidents as indexed (short description, description, work notes, comments, close notes), words min {} / mean {} / max {}",
        texts.len(),
        words.iter().min().unwrap_or(&0),
        words.iter().sum::<usize>() / words.len().max(1),
        words.iter().max().unwrap_or(&0)
    );
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();

    let started = Instant::now();
    let embedder = Embedder::load(&paths.model_dir, &paths.ort_lib).expect("load the model");
    println!(
        "Model load: {:.2} s, RSS after load {} MB",
        started.elapsed().as_secs_f64(),
        current_rss_mb()
    );
    // Warm-up: ONNX Runtime allocates arenas and tunes kernels on the first runs.
    embedder.embed(&refs[..16.min(refs.len())]).expect("embed");

    // Rounds run every setting once, in order, so a burst of load elsewhere on the machine hits
    // one round, not one setting; the best round counts. Peak RSS is from the first round:
    // ONNX Runtime keeps its memory arena, so later rounds start at the largest batch's peak.
    let reps = env_usize("BENCH_REPS", 2).max(1);
    let settings: Vec<EmbedOptions> = [1, 8, 16, 32, 64]
        .into_iter()
        .flat_map(|batch_size| {
            [false, true].map(|sort_by_length| EmbedOptions {
                batch_size,
                sort_by_length,
            })
        })
        .collect();
    let mut runs: Vec<Vec<f64>> = vec![Vec::new(); settings.len()];
    let mut peaks = vec![0u64; settings.len()];
    for round in 0..reps {
        for (i, options) in settings.iter().enumerate() {
            reset_peak_rss();
            let started = Instant::now();
            let out = embedder.embed_with(&refs, *options).expect("embed");
            runs[i].push(refs.len() as f64 / started.elapsed().as_secs_f64());
            assert_eq!(out.len(), refs.len());
            if round == 0 {
                peaks[i] = peak_rss_mb();
            }
        }
    }
    println!(
        "\n| batch | sorted by length | texts/s (best of {reps}) | every round | peak RSS (MB) |"
    );
    println!("|------:|:----------------:|------------------:|:------------|--------------:|");
    for (i, options) in settings.iter().enumerate() {
        let best = runs[i].iter().copied().fold(0.0, f64::max);
        let all: Vec<String> = runs[i].iter().map(|r| format!("{r:.1}")).collect();
        println!(
            "| {:>5} | {:^16} | {best:>17.1} | {:<11} | {:>13} |",
            options.batch_size,
            if options.sort_by_length { "yes" } else { "no" },
            all.join(" / "),
            peaks[i]
        );
    }
}

/// `count` texts of 60-120 words: every text field of a simulated incident with its journal,
/// from a pool generated until enough are in range (the simulator's seed is fixed).
fn incident_texts(count: usize) -> Vec<String> {
    let data = supportbot_sim::data::generate(count * 4, 20_250_630);
    let mut journal: HashMap<&str, Vec<&str>> = HashMap::new();
    for entry in &data.journal {
        journal
            .entry(entry["element_id"].as_str())
            .or_default()
            .push(entry["value"].as_str());
    }
    let texts: Vec<String> = data
        .incidents
        .iter()
        .map(|inc| {
            let mut parts = vec![
                inc["short_description"].as_str(),
                inc["description"].as_str(),
            ];
            parts.extend(journal.get(inc["sys_id"].as_str()).into_iter().flatten());
            parts.push(inc["close_notes"].as_str());
            parts.retain(|p| !p.is_empty());
            parts.join("\n")
        })
        .filter(|t| (60..=120).contains(&t.split_whitespace().count()))
        .take(count)
        .collect();
    assert!(
        texts.len() == count,
        "only {} of {count} simulated incidents have 60-120 words",
        texts.len()
    );
    texts
}
