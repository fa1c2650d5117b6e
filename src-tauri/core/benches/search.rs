//! Knowledge-base benchmark at scale (issue 5): 100k incidents stored the way a sync leaves them,
//! then everything a search pays for — index build from SQLite, file size, load time, resident
//! memory, recall@10 of the vector index against exact search, vector search latency, query
//! embedding latency with the real model, and the two together.
//!
//! Run: `cargo bench -p supportbot-core --bench search` (the model from
//! `scripts/fetch-model.sh` is needed for the embedding rows; without it they are skipped and the
//! cluster centres are random). `BENCH_INCIDENTS` changes the size (default 100000); `BENCH_KEEP=1`
//! keeps the data directory.
//!
//! Texts are the simulator's (`supportbot-sim`, 60-120-word ServiceNow incidents with journals).
//! Vectors are synthetic, since embedding 100k texts takes about an hour on 2 cores: 1,000 real
//! embeddings of incident texts serve as topic centres, and each incident's vector is a noisy
//! copy (cosine ~0.6-0.8) of a centre of its own subcategory. The index therefore sees the
//! clustered, overlapping geometry of real embeddings, and real query embeddings land among them.
//!
//! The process runs twice. The parent generates and stores the incidents and builds the index;
//! a fresh child (this binary again, with `SEARCH_BENCH_DIR` set) then opens the data directory
//! as the app does at start, so its load time and memory are not inflated by what came before.
//! Both read a warm OS file cache (the parent just wrote the files).

mod common;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use supportbot_core::connectors::SourceIncident;
use supportbot_core::integrations::{AuthType, Kind, NewIntegration};
use supportbot_core::kb::{bench_support, ModelPaths, SearchMethod, VectorIndex, DIM};
use supportbot_core::secrets::StorePreference;
use supportbot_core::store::open_connection;
use supportbot_core::Core;

use common::{
    current_rss_mb, dot, env_usize, loadavg, peak_rss_mb, percentile_ms, reset_peak_rss, Gen,
};

/// Set (to the data directory) in the child process.
const CHILD_ENV: &str = "SEARCH_BENCH_DIR";
const QUERIES_FILE: &str = "bench-queries.f32";
const RESULTS_FILE: &str = "bench-results.tsv";
const SEED: u64 = 20_250_630;
const CENTRES: usize = 1000;
const RECALL_QUERIES: usize = 1000;
const K: usize = 10;
const BASE_URL: &str = "https://bench.service-now.com";

/// Nearest neighbours as (row id, cosine similarity), best first.
type Hits = Vec<(u64, f32)>;

fn main() {
    match std::env::var_os(CHILD_ENV) {
        Some(dir) => measure(Path::new(&dir)),
        None => prepare(),
    }
}

// ---- Parent: data, insert, build ----------------------------------------------------------------

fn prepare() {
    let n = env_usize("BENCH_INCIDENTS", 100_000);
    println!(
        "knowledge-base benchmark: {n} incidents, {} CPUs, load average {} at start",
        std::thread::available_parallelism().map_or(1, |c| c.get()),
        loadavg()
    );
    let dir = tempfile::tempdir().expect("temp dir");
    // `BENCH_KEEP=1` leaves the data directory behind, so the measuring half can be rerun on it
    // alone (`SEARCH_BENCH_DIR=<dir> <this binary>`) while tuning, without regenerating 100k rows.
    let dir = if std::env::var_os("BENCH_KEEP").is_some() {
        let kept = dir.keep();
        println!("keeping the data directory: {}", kept.display());
        Kept::Path(kept)
    } else {
        Kept::Temp(dir)
    };
    let core = Core::open_with(dir.path(), StorePreference::File).expect("open core");
    let admin = core.actor(None, None).expect("admin");
    let integration = core
        .add_integration(
            &admin,
            NewIntegration {
                name: "Bench ServiceNow".into(),
                kind: Kind::Servicenow,
                auth: AuthType::Basic,
                url: BASE_URL.into(),
                username: Some("bench".into()),
                client_id: None,
                password: Some(SecretString::from("bench".to_string())),
                token: None,
                client_secret: None,
                enabled: Some(false),
                schedule_minutes: None,
                filters: None,
                request_budget: None,
                ca_certificates: None,
                allow_insecure_http: false,
            },
        )
        .expect("integration");

    let started = Instant::now();
    let incidents = source_incidents(n);
    let words: Vec<usize> = incidents
        .iter()
        .map(|i| embedding_text(i).split_whitespace().count())
        .collect();
    println!(
        "Generated {n} simulated incidents in {:.1} s; embedded text words min {} / mean {} / max {}",
        started.elapsed().as_secs_f64(),
        words.iter().min().unwrap_or(&0),
        words.iter().sum::<usize>() / words.len().max(1),
        words.iter().max().unwrap_or(&0)
    );

    // Topic centres: real embeddings of the first incidents' texts when the model is installed.
    let mut gen = Gen(SEED);
    let centre_incidents = &incidents[..CENTRES.min(n)];
    let centres: Vec<Vec<f32>> = if model_installed() {
        let embedder = core.knowledge_base().embedder().expect("load the model");
        let texts: Vec<String> = centre_incidents.iter().map(embedding_text).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let started = Instant::now();
        let out = embedder.embed(&refs).expect("embed centres");
        println!(
            "Cluster centres: {} real embeddings of incident texts ({:.1} s)",
            out.len(),
            started.elapsed().as_secs_f64()
        );
        out
    } else {
        println!("Cluster centres: random (model not installed)");
        centre_incidents.iter().map(|_| gen.unit()).collect()
    };
    let mut by_subcategory: HashMap<String, Vec<usize>> = HashMap::new();
    for (c, incident) in centre_incidents.iter().enumerate() {
        by_subcategory
            .entry(incident.subcategory.clone())
            .or_default()
            .push(c);
    }
    let all_centres: Vec<usize> = (0..centres.len()).collect();
    let items: Vec<(SourceIncident, Vec<f32>)> = incidents
        .into_iter()
        .map(|incident| {
            let pool = by_subcategory
                .get(incident.subcategory.as_str())
                .unwrap_or(&all_centres);
            let centre = pool[gen.below(pool.len())];
            let vector = gen.around(&centres[centre]);
            (incident, vector)
        })
        .collect();
    // Queries for the recall check: noisy copies of centres, like the stored vectors.
    let queries: Vec<f32> = (0..RECALL_QUERIES)
        .flat_map(|_| {
            let centre = gen.below(centres.len());
            gen.around(&centres[centre])
        })
        .collect();
    std::fs::write(
        dir.path().join(QUERIES_FILE),
        queries
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect::<Vec<u8>>(),
    )
    .expect("write queries");

    let mut results = Results::default();
    results.put("incidents", n as f64);

    // Insert: one transaction, complete rows, embeddings as BLOBs.
    let started = Instant::now();
    bench_support::insert_incidents(&core, integration.id, &integration.name, &items)
        .expect("insert");
    let insert = started.elapsed().as_secs_f64();
    results.put("insert_s", insert);
    let conn = open_connection(core.db_path()).expect("connection");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
    let db_mb = file_mb(core.db_path());
    results.put("db_mb", db_mb);
    println!(
        "Inserted {n} incidents with embeddings in {insert:.1} s ({:.0}/s); database {db_mb:.0} MB",
        n as f64 / insert
    );

    // Index build, the app's way: no file, so the knowledge base rebuilds it from SQLite.
    let kb = core.knowledge_base();
    let _ = std::fs::remove_file(kb.index_path());
    println!(
        "Building the index from SQLite (load average {}) ...",
        loadavg()
    );
    let started = Instant::now();
    let built = kb
        .index(&conn)
        .expect("rebuild")
        .as_ref()
        .map_or(0, |ix| ix.len());
    let build = started.elapsed().as_secs_f64();
    assert_eq!(built, n, "the rebuilt index holds every stored vector");
    let index_mb = file_mb(kb.index_path());
    results.put("build_s", build);
    results.put("index_mb", index_mb);
    println!(
        "Index rebuilt from SQLite in {build:.1} s ({:.0} vectors/s), file {index_mb:.1} MB",
        n as f64 / build
    );

    // For comparison: the same vectors through add_many (all cores), without SQLite or save.
    let scratch = dir.path().join("scratch.usearch");
    let mut index = VectorIndex::create(&scratch).expect("scratch index");
    let refs: Vec<(u64, &[f32])> = items
        .iter()
        .enumerate()
        .map(|(i, (_, v))| (i as u64 + 1, v.as_slice()))
        .collect();
    let started = Instant::now();
    index.add_many(&refs).expect("add_many");
    let add_many = started.elapsed().as_secs_f64();
    results.put("add_many_s", add_many);
    println!("add_many of the same vectors, all cores, in memory: {add_many:.1} s");
    drop(index);
    drop(refs);
    drop(items);
    drop(conn);
    drop(core);

    // Everything a running app measures, in a fresh process. The files just written are flushed
    // first: the kernel writing back half a gigabyte of dirty pages while the child measures
    // would be noise on 2 cores, and an app opens files that are long on disk.
    let _ = std::process::Command::new("sync").status();
    println!("\nOpening the data directory in a fresh process ...");
    let status = std::process::Command::new(std::env::current_exe().expect("own path"))
        .env(CHILD_ENV, dir.path())
        .status()
        .expect("start the measuring process");
    assert!(status.success(), "the measuring process failed: {status}");
    results.merge(&std::fs::read_to_string(dir.path().join(RESULTS_FILE)).expect("results"));
    results.put_text("loadavg_end", &loadavg());
    summary(&results);
}

/// The data directory: removed at the end unless `BENCH_KEEP` is set.
enum Kept {
    Temp(tempfile::TempDir),
    Path(std::path::PathBuf),
}

impl Kept {
    fn path(&self) -> &Path {
        match self {
            Kept::Temp(dir) => dir.path(),
            Kept::Path(path) => path,
        }
    }
}

// ---- Child: load, memory, recall, latency ---------------------------------------------------------

fn measure(dir: &Path) {
    let mut results = Results::default();
    results.put_text("loadavg_child", &loadavg());
    let rss_start = current_rss_mb();

    // Load, the app's way: open the data directory, then the knowledge base's index (which
    // checks its size against SQLite's count of stored embeddings before trusting it).
    let started = Instant::now();
    let core = Core::open_with(dir, StorePreference::File).expect("open core");
    let conn = open_connection(core.db_path()).expect("connection");
    let kb = core.knowledge_base();
    let len = kb
        .index(&conn)
        .expect("load")
        .as_ref()
        .map_or(0, |ix| ix.len());
    let load = started.elapsed().as_secs_f64();
    let rss_index = current_rss_mb();
    results.put("load_s", load);
    results.put("rss_start_mb", rss_start as f64);
    results.put("rss_index_mb", rss_index as f64);
    println!(
        "Opened the data directory and loaded the index ({len} vectors) in {load:.2} s; RSS {rss_start} MB → {rss_index} MB"
    );
    // The file read alone (header check, CRC, usearch deserialisation), without the SQL count.
    let started = Instant::now();
    let reopened = VectorIndex::open(kb.index_path()).expect("open index");
    let open_only = started.elapsed().as_secs_f64();
    drop(reopened);
    results.put("open_only_s", open_only);
    println!("VectorIndex::open alone: {open_only:.2} s");

    // Vector search alone: k=10 for queries near cluster centres.
    let queries = read_vectors(&dir.join(QUERIES_FILE));
    let search = |q: &[f32]| -> Hits {
        let guard = kb.index(&conn).expect("index");
        let index = guard.as_ref().expect("index loaded");
        index.search(q, K).expect("search")
    };
    let mut latencies = Vec::with_capacity(queries.len());
    let mut approx = Vec::with_capacity(queries.len());
    for q in &queries {
        let started = Instant::now();
        let hits = search(q);
        latencies.push(started.elapsed());
        assert_eq!(hits.len(), K);
        approx.push(hits);
    }
    latencies.sort();
    results.put_latency("search", &latencies);
    println!(
        "Vector search k={K}, {} queries: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        percentile_ms(&latencies, 0.5),
        percentile_ms(&latencies, 0.99),
        percentile_ms(&latencies, 1.0)
    );

    // The model, as the first chat query or search loads it.
    let mut questions_done = None;
    if model_installed() {
        reset_peak_rss();
        let started = Instant::now();
        let embedder = kb.embedder().expect("load the model");
        let model_load = started.elapsed().as_secs_f64();
        let rss_model = current_rss_mb();
        results.put("model_load_s", model_load);
        results.put("rss_model_mb", rss_model as f64);
        println!("Model loaded in {model_load:.2} s; RSS {rss_model} MB");

        let questions = questions();
        // Warm-up: ONNX Runtime allocates its arena and picks kernels on the first runs.
        for q in ["warm up", "printer not working at all today", "vpn"] {
            embedder.embed_one(q).expect("embed");
        }
        let embed_latencies = time_each(&questions, |q| {
            embedder.embed_one(q).expect("embed");
        });
        results.put_latency("embed", &embed_latencies);
        let mut vectors = Vec::with_capacity(questions.len());
        let both = time_each(&questions, |q| {
            let v = embedder.embed_one(q).expect("embed");
            let hits = search(&v);
            assert_eq!(hits.len(), K);
            vectors.push((v, hits));
        });
        results.put_latency("embed_search", &both);
        results.put("rss_after_queries_mb", current_rss_mb() as f64);
        results.put("peak_rss_mb", peak_rss_mb() as f64);
        println!(
            "Query embedding, {} questions: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            questions.len(),
            percentile_ms(&embed_latencies, 0.5),
            percentile_ms(&embed_latencies, 0.99),
            percentile_ms(&embed_latencies, 1.0)
        );
        println!(
            "Query embedding + vector search: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            percentile_ms(&both, 0.5),
            percentile_ms(&both, 0.99),
            percentile_ms(&both, 1.0)
        );
        questions_done = Some(vectors);
        end_to_end(&core, &questions, &mut results);
    } else {
        println!(
            "Query embedding: SKIPPED, model not installed (run `bash scripts/fetch-model.sh`)"
        );
    }

    pruning_quality(&core, &conn, &mut results);

    // Exact top 10 by brute force over every stored embedding (f32; unit vectors, so the dot
    // product is the cosine). Loaded after the memory readings above.
    println!("Exact search for recall ...");
    let stored = stored_vectors(&conn);
    let recall = recall_at_k(&stored, &queries, &approx);
    results.put("recall_centres", recall);
    println!(
        "recall@{K} vs exact, {} queries near centres: {recall:.4}",
        queries.len()
    );
    if let Some(done) = questions_done {
        let (vs, hits): (Vec<Vec<f32>>, Vec<Hits>) = done.into_iter().unzip();
        let recall = recall_at_k(&stored, &vs, &hits);
        results.put("recall_questions", recall);
        println!(
            "recall@{K} vs exact, {} real question embeddings: {recall:.4}",
            vs.len()
        );
    }
    std::fs::write(dir.join(RESULTS_FILE), results.text).expect("write results");
}

fn time_each(questions: &[String], mut f: impl FnMut(&str)) -> Vec<Duration> {
    let mut out: Vec<Duration> = questions
        .iter()
        .map(|q| {
            let started = Instant::now();
            f(q);
            started.elapsed()
        })
        .collect();
    out.sort();
    out
}

/// Fraction of the exact top `K` that the index returned, over all queries. Queries are split
/// over the available cores.
fn recall_at_k(stored: &[(u64, Vec<f32>)], queries: &[Vec<f32>], approx: &[Hits]) -> f64 {
    let threads = std::thread::available_parallelism().map_or(1, |c| c.get());
    let per = queries.len().div_ceil(threads).max(1);
    let found: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = queries
            .chunks(per)
            .zip(approx.chunks(per))
            .map(|(qs, hits)| {
                scope.spawn(move || {
                    qs.iter()
                        .zip(hits)
                        .map(|(q, hits)| {
                            let exact = exact_top_k(stored, q);
                            hits.iter().filter(|(k, _)| exact.contains(k)).count()
                        })
                        .sum::<usize>()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("recall worker"))
            .sum()
    });
    found as f64 / (queries.len() * K) as f64
}

fn exact_top_k(stored: &[(u64, Vec<f32>)], q: &[f32]) -> Vec<u64> {
    let mut scored: Vec<(f32, u64)> = stored.iter().map(|(id, v)| (dot(v, q), *id)).collect();
    scored.select_nth_unstable_by(K - 1, |a, b| b.0.total_cmp(&a.0));
    scored[..K].iter().map(|&(_, id)| id).collect()
}

fn stored_vectors(conn: &rusqlite::Connection) -> Vec<(u64, Vec<f32>)> {
    let mut stmt = conn
        .prepare("SELECT id, embedding FROM incidents WHERE embedding IS NOT NULL")
        .expect("query");
    let rows = stmt
        .query_map([], |r| {
            let blob: Vec<u8> = r.get(1)?;
            Ok((r.get::<_, i64>(0)? as u64, blob_to_vector(&blob)))
        })
        .expect("query");
    rows.collect::<Result<_, _>>().expect("rows")
}

fn blob_to_vector(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn read_vectors(path: &Path) -> Vec<Vec<f32>> {
    let floats = blob_to_vector(&std::fs::read(path).expect("read queries"));
    floats.chunks_exact(DIM).map(<[f32]>::to_vec).collect()
}

/// The whole query path users hit: `Core::kb_search` (query embedding, FTS5 BM25, vector search,
/// fusion, snippets, row reads) for each method, over the same questions.
fn end_to_end(core: &Core, questions: &[String], results: &mut Results) {
    use supportbot_core::kb::{SearchFilters, SearchRequest};
    let actor = core.actor(None, None).expect("actor");
    for method in ["hybrid", "bm25", "vector"] {
        let request = |q: &str| SearchRequest {
            query: q.to_string(),
            k: K,
            method: method.to_string(),
            filters: SearchFilters::default(),
        };
        core.kb_search(&actor, &request("warm up the caches"))
            .expect("warm-up");
        let latencies = time_each(questions, |q| {
            let found = core.kb_search(&actor, &request(q)).expect("kb_search");
            assert!(!found.hits.is_empty(), "no hits for {q:?}");
        });
        results.put_latency(&format!("e2e_{method}"), &latencies);
        println!(
            "Core::kb_search {method}, {} questions: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            latencies.len(),
            percentile_ms(&latencies, 0.5),
            percentile_ms(&latencies, 0.99),
            percentile_ms(&latencies, 1.0)
        );
    }
}

/// What dropping common words costs BM25 in quality at this size, and what it saves: the
/// labelled demo questions (`tests/data/kb_eval_demo.json`) against these incidents, each
/// question's relevant set being every incident of its scenario (the generator's labels,
/// recovered from the description). Precision@10 and reciprocal rank of the first relevant
/// hit, with the words pruned as search does and with every word kept.
fn pruning_quality(core: &Core, conn: &rusqlite::Connection, results: &mut Results) {
    use supportbot_sim::catalog::scenario_of;
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/kb_eval_demo.json");
    let labelled: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("kb_eval_demo.json"))
            .expect("a JSON array");
    // Demo incident number → scenario, to read each question's scenario off its labels.
    let demo: HashMap<String, usize> = supportbot_sim::data::generate(500, 42)
        .incidents
        .iter()
        .filter_map(|i| Some((i["number"].clone(), scenario_of(&i["description"])?)))
        .collect();
    let here: HashMap<i64, usize> = {
        let mut stmt = conn
            .prepare("SELECT id, description FROM incidents")
            .expect("incidents");
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .expect("incidents");
        rows.filter_map(|r| {
            let (id, description) = r.expect("row");
            Some((id, scenario_of(&description)?))
        })
        .collect()
    };
    let questions: Vec<(String, usize)> = labelled
        .iter()
        .filter_map(|q| {
            let first = q["relevant"][0].as_str()?;
            Some((q["query"].as_str()?.to_string(), *demo.get(first)?))
        })
        .collect();
    println!(
        "\nRanking with and without pruning, {} labelled questions over {} labelled incidents:",
        questions.len(),
        here.len()
    );
    let methods: &[(&str, SearchMethod)] = if model_installed() {
        &[
            ("bm25", SearchMethod::Bm25),
            ("hybrid", SearchMethod::Hybrid),
        ]
    } else {
        &[("bm25", SearchMethod::Bm25)]
    };
    for (method_name, method) in methods {
        for (name, prune) in [("pruned", true), ("all_words", false)] {
            let (mut precision, mut mrr) = (0.0, 0.0);
            let mut latencies = Vec::with_capacity(questions.len());
            for (text, scenario) in &questions {
                let started = Instant::now();
                let top = bench_support::ranked_top(core, text, K, *method, prune).expect("rank");
                latencies.push(started.elapsed());
                let relevant: Vec<bool> = top
                    .iter()
                    .map(|id| here.get(id) == Some(scenario))
                    .collect();
                precision += relevant.iter().filter(|r| **r).count() as f64 / K as f64;
                mrr += relevant
                    .iter()
                    .position(|r| *r)
                    .map_or(0.0, |i| 1.0 / (i as f64 + 1.0));
            }
            let n = questions.len().max(1) as f64;
            latencies.sort();
            let key = format!("quality_{method_name}_{name}");
            results.put(&format!("{key}_p10"), precision / n);
            results.put(&format!("{key}_mrr"), mrr / n);
            results.put_latency(&key, &latencies);
            println!(
                "  {method_name}, {name}: precision@{K} {:.3}, MRR {:.3}, ranking p50 {:.2} ms, p99 {:.2} ms",
                precision / n,
                mrr / n,
                percentile_ms(&latencies, 0.5),
                percentile_ms(&latencies, 0.99)
            );
        }
    }
}

// ---- Report ---------------------------------------------------------------------------------------

/// Measurements as `name<TAB>value` lines, so the child can hand them to the parent.
#[derive(Default)]
struct Results {
    text: String,
}

impl Results {
    fn put(&mut self, name: &str, value: f64) {
        let _ = writeln!(self.text, "{name}\t{value}");
    }

    fn put_text(&mut self, name: &str, value: &str) {
        let _ = writeln!(self.text, "{name}\t{value}");
    }

    fn put_latency(&mut self, name: &str, sorted: &[Duration]) {
        self.put(&format!("{name}_n"), sorted.len() as f64);
        self.put(&format!("{name}_p50_ms"), percentile_ms(sorted, 0.5));
        self.put(&format!("{name}_p99_ms"), percentile_ms(sorted, 0.99));
        self.put(&format!("{name}_max_ms"), percentile_ms(sorted, 1.0));
    }

    fn merge(&mut self, other: &str) {
        self.text.push_str(other);
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.text
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }

    fn num(&self, name: &str) -> Option<f64> {
        self.get(name).and_then(|v| v.parse().ok())
    }
}

fn summary(r: &Results) {
    let n = r.num("incidents").unwrap_or(0.0);
    let fmt = |name: &str, decimals: usize| {
        r.num(name)
            .map_or("skipped".to_string(), |v| format!("{v:.decimals$}"))
    };
    let verdict = |name: &str, ok: fn(f64) -> bool| match r.num(name) {
        Some(v) if ok(v) => "met",
        Some(_) => "MISSED",
        None => "-",
    };
    println!("\n| measurement ({n:.0} incidents) | value | target |");
    println!("|---|---:|---|");
    println!(
        "| insert into SQLite, one transaction (s) | {} | |",
        fmt("insert_s", 1)
    );
    println!("| database file (MB) | {} | |", fmt("db_mb", 0));
    println!(
        "| index build from SQLite, the app's rebuild (s) | {} | |",
        fmt("build_s", 1)
    );
    println!(
        "| same vectors through `add_many`, all cores, in memory (s) | {} | |",
        fmt("add_many_s", 1)
    );
    println!("| index file (MB) | {} | |", fmt("index_mb", 1));
    println!(
        "| load: open data dir + index, fresh process (s) | {} | |",
        fmt("load_s", 2)
    );
    println!(
        "| of which `VectorIndex::open` (s) | {} | |",
        fmt("open_only_s", 2)
    );
    println!(
        "| RSS: fresh process / + index / + model (MB) | {} / {} / {} | |",
        fmt("rss_start_mb", 0),
        fmt("rss_index_mb", 0),
        fmt("rss_model_mb", 0)
    );
    println!(
        "| peak RSS while querying (MB) | {} | |",
        fmt("peak_rss_mb", 0)
    );
    println!(
        "| recall@10 vs exact, {} queries near centres | {} | ≥ 0.98 {} |",
        RECALL_QUERIES,
        fmt("recall_centres", 4),
        verdict("recall_centres", |v| v >= 0.98)
    );
    println!(
        "| recall@10 vs exact, real question embeddings | {} | ≥ 0.98 {} |",
        fmt("recall_questions", 4),
        verdict("recall_questions", |v| v >= 0.98)
    );
    println!(
        "| vector search k=10, p50 / p99 / max (ms) | {} / {} / {} | |",
        fmt("search_p50_ms", 2),
        fmt("search_p99_ms", 2),
        fmt("search_max_ms", 2)
    );
    println!("| model load (s) | {} | |", fmt("model_load_s", 2));
    println!(
        "| query embedding, p50 / p99 / max (ms) | {} / {} / {} | |",
        fmt("embed_p50_ms", 2),
        fmt("embed_p99_ms", 2),
        fmt("embed_max_ms", 2)
    );
    println!(
        "| **query embedding + vector search**, p50 / p99 / max (ms) | {} / {} / {} | p50 < 15 {}, p99 < 50 {} |",
        fmt("embed_search_p50_ms", 2),
        fmt("embed_search_p99_ms", 2),
        fmt("embed_search_max_ms", 2),
        verdict("embed_search_p50_ms", |v| v < 15.0),
        verdict("embed_search_p99_ms", |v| v < 50.0)
    );
    for method in ["hybrid", "bm25", "vector"] {
        let key = |stat: &str| format!("e2e_{method}_{stat}_ms");
        println!(
            "| **`Core::kb_search` {method}** (embedding, FTS5, vectors, fusion, rows), p50 / p99 / max (ms) | {} / {} / {} | p50 < 15 {}, p99 < 50 {} |",
            fmt(&key("p50"), 2),
            fmt(&key("p99"), 2),
            fmt(&key("max"), 2),
            match r.num(&key("p50")) { Some(v) if v < 15.0 => "met", Some(_) => "MISSED", None => "-" },
            match r.num(&key("p99")) { Some(v) if v < 50.0 => "met", Some(_) => "MISSED", None => "-" },
        );
    }
    for method in ["bm25", "hybrid"] {
        for (name, label) in [
            ("pruned", "common words pruned (as search does)"),
            ("all_words", "every word kept"),
        ] {
            let key = format!("quality_{method}_{name}");
            println!(
                "| {method} top 10 of the labelled questions, {label}: precision@10 / MRR / ranking p50 (ms) | {} / {} / {} | |",
                fmt(&format!("{key}_p10"), 3),
                fmt(&format!("{key}_mrr"), 3),
                fmt(&format!("{key}_p50_ms"), 2)
            );
        }
    }
    println!(
        "\nLoad average: {} (measuring process start), {} (end)",
        r.get("loadavg_child").unwrap_or("?"),
        r.get("loadavg_end").unwrap_or("?")
    );
}

// ---- Data -------------------------------------------------------------------------------------

fn model_installed() -> bool {
    ModelPaths::resolve().is_ok_and(|p| p.missing().is_empty())
}

fn file_mb(path: &Path) -> f64 {
    std::fs::metadata(path).map_or(0, |m| m.len()) as f64 / 1e6
}

/// The text the knowledge base embeds for an incident (as `kb::store` builds it).
fn embedding_text(i: &SourceIncident) -> String {
    let mut t = format!("{}\n\n{}", i.short_description.trim(), i.description.trim());
    if !i.resolution.trim().is_empty() {
        t.push_str("\n\nResolution: ");
        t.push_str(i.resolution.trim());
    }
    t
}

/// `n` simulated ServiceNow incidents as the connector would deliver them: state and priority
/// labels, RFC 3339 dates, caller and assignee names, journal entries as comments.
fn source_incidents(n: usize) -> Vec<SourceIncident> {
    let data = supportbot_sim::data::generate(n, SEED);
    let field = |r: &supportbot_sim::data::Record, name: &str| -> String {
        r.get(name).cloned().unwrap_or_default()
    };
    let users: HashMap<String, String> = data
        .users
        .iter()
        .map(|u| (field(u, "sys_id"), field(u, "name")))
        .collect();
    let mut journal: HashMap<String, Vec<String>> = HashMap::new();
    for e in &data.journal {
        let kind = if field(e, "element") == "work_notes" {
            "Work notes"
        } else {
            "Comments"
        };
        journal
            .entry(field(e, "element_id"))
            .or_default()
            .push(format!(
                "{kind} by {} at {}: {}",
                field(e, "sys_created_by"),
                rfc3339(&field(e, "sys_created_on")).unwrap_or_default(),
                field(e, "value")
            ));
    }
    let label = |pairs: &[(&str, &str)], raw: String| -> String {
        pairs
            .iter()
            .find(|(code, _)| *code == raw)
            .map_or(raw, |(_, l)| (*l).to_string())
    };
    data.incidents
        .iter()
        .map(|r| {
            let sys_id = field(r, "sys_id");
            let person = |name: &str| {
                let id = field(r, name);
                (!id.is_empty()).then(|| users.get(&id).cloned().unwrap_or(id))
            };
            SourceIncident {
                number: field(r, "number"),
                short_description: field(r, "short_description"),
                description: field(r, "description"),
                resolution: field(r, "close_notes"),
                close_code: Some(field(r, "close_code")).filter(|c| !c.is_empty()),
                state: label(
                    &[
                        ("1", "New"),
                        ("2", "In Progress"),
                        ("3", "On Hold"),
                        ("6", "Resolved"),
                        ("7", "Closed"),
                        ("8", "Canceled"),
                    ],
                    field(r, "state"),
                ),
                priority: label(
                    &[
                        ("1", "1 - Critical"),
                        ("2", "2 - High"),
                        ("3", "3 - Moderate"),
                        ("4", "4 - Low"),
                        ("5", "5 - Planning"),
                    ],
                    field(r, "priority"),
                ),
                category: field(r, "category"),
                subcategory: field(r, "subcategory"),
                assigned_to: person("assigned_to"),
                resolved_by: person("resolved_by"),
                caller: person("caller_id"),
                opened_at: rfc3339(&field(r, "opened_at")),
                updated_at: rfc3339(&field(r, "sys_updated_on")).unwrap_or_default(),
                resolved_at: rfc3339(&field(r, "resolved_at")),
                comments: journal.remove(&sys_id).unwrap_or_default(),
                link: format!("{BASE_URL}/nav_to.do?uri=incident.do%3Fsys_id%3D{sys_id}"),
                external_id: sys_id,
            }
        })
        .collect()
}

/// ServiceNow's `YYYY-MM-DD HH:MM:SS` (UTC) as RFC 3339.
fn rfc3339(raw: &str) -> Option<String> {
    (raw.len() == 19).then(|| format!("{}T{}Z", &raw[..10], &raw[11..]))
}

/// 200 short questions the way users type them into the chat or the search box: symptoms and
/// paraphrases, not incident titles; four phrasings of 50 problems.
fn questions() -> Vec<String> {
    const BASE: [&str; 50] = [
        "vpn keeps dropping when I work from home",
        "cannot log in to the vpn after changing my password",
        "vpn connects but I cannot open the intranet",
        "wifi is really slow on the third floor",
        "can't join the corporate wireless network",
        "intranet site says name not found",
        "outlook stuck trying to connect",
        "not getting any new emails in outlook",
        "my mailbox is full and I can't send mail",
        "emails bounce back saying mailbox over quota",
        "the team shared mailbox disappeared from outlook",
        "got an email asking for my password, looks like phishing",
        "fake invoice email with a strange link",
        "laptop is super slow since the windows update",
        "windows update stuck at 35 percent",
        "blue screen after installing updates",
        "the finance app crashes as soon as I open it",
        "application closes when I open a report",
        "crm is very slow for everyone",
        "saving a record times out",
        "please install visio on my laptop",
        "software center does not show the app I need",
        "printer on the second floor is not printing",
        "print jobs stuck in the queue",
        "printer says paper jam but there is no paper",
        "scan to email fails with an smtp error",
        "second monitor not detected on the docking station",
        "screen keeps flickering",
        "low disk space warning on my c drive",
        "some keys on my keyboard stopped working",
        "keyboard types the wrong characters",
        "laptop gets very hot and shuts down",
        "my account is locked after too many attempts",
        "forgot my password",
        "password expired while I'm travelling",
        "access denied on the shared folder",
        "need permissions on the project share",
        "mfa code not arriving on my new phone",
        "lost my phone and can't do multi factor",
        "reports fail with ORA-01555 snapshot too old",
        "database queries time out since this morning",
        "sql error 9002 transaction log full",
        "batch job fails with a deadlock",
        "teams calls drop after a few minutes",
        "no sound in teams meetings",
        "teams camera not working",
        "desk network port not working, laptop gets 169.254 address",
        "file upload fails with an error",
        "how do I set up email on my phone",
        "how to request a new laptop",
    ];
    BASE.iter()
        .flat_map(|q| {
            [
                (*q).to_string(),
                format!("hi, {q}?"),
                format!("since this morning {q}"),
                format!("{q} - is there a known fix"),
            ]
        })
        .collect()
}
