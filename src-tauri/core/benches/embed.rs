//! Benchmark of the knowledge base's vector layer, printed as tables: embedding throughput and
//! peak memory by batch size with and without length sorting (500 simulated incidents), then
//! the usearch index at 100k vectors (add rate, search latency, recall@10, file size, save/load).
//!
//! Run: `cargo bench -p supportbot-core --bench embed`. Without the model (see
//! `scripts/fetch-model.sh`) the embedding part is skipped. `BENCH_TEXTS`, `BENCH_VECTORS` and
//! `BENCH_REPS` (rounds of the embedding settings; the best counts) change the sizes.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use supportbot_core::kb::{EmbedOptions, Embedder, ModelPaths, VectorIndex, DIM};

fn main() {
    let texts = env_usize("BENCH_TEXTS", 500);
    let vectors = env_usize("BENCH_VECTORS", 100_000);
    println!(
        "kb benchmark: {} CPUs, {texts} texts, {vectors} vectors",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    embeddings(texts);
    index(vectors);
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

// ---- Vector index -----------------------------------------------------------------------------

fn index(count: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.usearch");
    let mut gen = Gen(7);
    // Clustered like real embeddings (incidents fall into topics), not uniform on the sphere:
    // 1 000 topic centres, each vector a noisy copy of one.
    let centres: Vec<Vec<f32>> = (0..1000).map(|_| gen.unit()).collect();
    let sample = |gen: &mut Gen| {
        let centre = gen.below(centres.len());
        gen.around(&centres[centre])
    };
    let data: Vec<Vec<f32>> = (0..count).map(|_| sample(&mut gen)).collect();
    let queries: Vec<Vec<f32>> = (0..1000).map(|_| sample(&mut gen)).collect();
    println!("\nVector index: {count} × {DIM}-d clustered synthetic vectors, f16, cosine");

    // One add at a time, as a sync batch without add_many would: the first 20k vectors.
    let single = count.min(20_000);
    let mut index = VectorIndex::create(&path).expect("create");
    index.reserve(single).expect("reserve");
    let started = Instant::now();
    for (key, v) in data[..single].iter().enumerate() {
        index.add(key as u64 + 1, v).expect("add");
    }
    let single_rate = single as f64 / started.elapsed().as_secs_f64();
    drop(index);

    // All of them through add_many (all cores), as a rebuild from SQLite would.
    reset_peak_rss();
    let mut index = VectorIndex::create(&path).expect("create");
    let items: Vec<(u64, &[f32])> = data
        .iter()
        .enumerate()
        .map(|(key, v)| (key as u64 + 1, v.as_slice()))
        .collect();
    let started = Instant::now();
    index.add_many(&items).expect("add_many");
    let many_rate = count as f64 / started.elapsed().as_secs_f64();
    assert_eq!(index.len(), count);

    let mut latencies: Vec<Duration> = queries
        .iter()
        .map(|q| {
            let started = Instant::now();
            let hits = index.search(q, 10).expect("search");
            let took = started.elapsed();
            assert_eq!(hits.len(), 10);
            took
        })
        .collect();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e6;

    // Exact top-10 by brute force (f32 dot products of unit vectors = cosine) for 200 queries.
    let recall_queries = &queries[..200.min(queries.len())];
    let mut found = 0usize;
    for q in recall_queries {
        let mut scored: Vec<(f32, u64)> = data
            .iter()
            .enumerate()
            .map(|(i, v)| (dot(v, q), i as u64 + 1))
            .collect();
        scored.select_nth_unstable_by(9, |a, b| b.0.total_cmp(&a.0));
        let exact: Vec<u64> = scored[..10].iter().map(|&(_, k)| k).collect();
        let approx = index.search(q, 10).expect("search");
        found += approx.iter().filter(|(k, _)| exact.contains(k)).count();
    }
    let recall = found as f64 / (recall_queries.len() * 10) as f64;

    let started = Instant::now();
    index.save().expect("save");
    let save_secs = started.elapsed().as_secs_f64();
    let file_mb = std::fs::metadata(&path).map_or(0, |m| m.len()) as f64 / 1e6;
    let index_rss = peak_rss_mb();
    drop(index);
    let started = Instant::now();
    let reopened = VectorIndex::open(&path).expect("open");
    let load_secs = started.elapsed().as_secs_f64();
    assert_eq!(reopened.len(), count);

    println!("\n| add, 1 thread (vec/s, first {single}) | add_many, all cores (vec/s) | search p50 k=10 (µs) | p99 (µs) | recall@10 (200 q) | file (MB) | save (s) | load (s) | peak RSS (MB) |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {single_rate:.0} | {many_rate:.0} | {:.0} | {:.0} | {recall:.3} | {file_mb:.1} | {save_secs:.2} | {load_secs:.2} | {index_rss} |",
        pct(0.5),
        pct(0.99),
    );
    println!("(peak RSS includes the {count} input vectors held as f32 for the recall check)");
}

/// Deterministic random numbers (splitmix64), so every run measures the same data.
struct Gen(u64);

impl Gen {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    fn unit(&mut self) -> Vec<f32> {
        let v: Vec<f32> = (0..DIM)
            .map(|_| (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32 - 0.5)
            .collect();
        normalized(v)
    }

    /// A unit vector near `centre` (cosine to it about 0.6-0.8).
    fn around(&mut self, centre: &[f32]) -> Vec<f32> {
        let noise = self.unit();
        normalized(centre.iter().zip(noise).map(|(c, n)| c + 0.9 * n).collect())
    }
}

fn normalized(v: Vec<f32>) -> Vec<f32> {
    let norm = dot(&v, &v).sqrt();
    v.into_iter().map(|x| x / norm).collect()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// ---- Memory -----------------------------------------------------------------------------------

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Highest resident set size since start or the last [`reset_peak_rss`] (VmHWM).
fn peak_rss_mb() -> u64 {
    status_kb("VmHWM:") / 1024
}

fn current_rss_mb() -> u64 {
    status_kb("VmRSS:") / 1024
}

/// Resets VmHWM to the current RSS (Linux: writing 5 to clear_refs), so each row reports its
/// own peak rather than the highest so far.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
