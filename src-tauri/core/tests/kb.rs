//! The knowledge base's vector layer: local embeddings (need the model from
//! `scripts/fetch-model.sh`; skipped without it unless `SUPPORTBOT_REQUIRE_MODEL=1`) and the
//! persistent vector index (synthetic vectors, always run).

use std::path::Path;
use std::sync::OnceLock;

use supportbot_core::kb::{EmbedOptions, Embedder, ModelPaths, VectorIndex, DIM};
use supportbot_core::ErrorCode;

// ---- Embeddings -------------------------------------------------------------------------------

/// The one embedder of this test process (loading takes ~0.4 s, and ONNX Runtime is loaded once
/// per process anyway), or `None` with a notice when the model is absent and not required.
fn embedder() -> Option<&'static Embedder> {
    static EMBEDDER: OnceLock<Option<Embedder>> = OnceLock::new();
    EMBEDDER
        .get_or_init(|| {
            let paths = ModelPaths::resolve().expect("model paths");
            let required = std::env::var("SUPPORTBOT_REQUIRE_MODEL").as_deref() == Ok("1");
            if !required && !paths.missing().is_empty() {
                eprintln!(
                    "SKIPPED embedding tests: model not installed ({}). Run `bash scripts/fetch-model.sh`, or set SUPPORTBOT_REQUIRE_MODEL=1 to make this a failure.",
                    paths.model_dir.display()
                );
                return None;
            }
            Some(Embedder::load(&paths.model_dir, &paths.ort_lib).unwrap_or_else(|e| panic!("{e}")))
        })
        .as_ref()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn related_incidents_are_nearer_than_unrelated_ones() {
    let Some(embedder) = embedder() else { return };
    // (text, related text, unrelated text)
    let cases = [
        (
            "VPN disconnects every few minutes",
            "Cannot connect to VPN from home",
            "Printer on floor 3 is jammed",
        ),
        (
            "Outlook keeps asking for my password",
            "Email client prompts for credentials repeatedly",
            "Laptop battery swells and the case bends",
        ),
        (
            "Payroll report export to Excel fails with a timeout",
            "Finance report download times out",
            "Wi-Fi signal is weak in meeting room B",
        ),
    ];
    for (text, related, unrelated) in cases {
        let v = embedder.embed(&[text, related, unrelated]).unwrap();
        let (near, far) = (dot(&v[0], &v[1]), dot(&v[0], &v[2]));
        assert!(
            near > far + 0.1,
            "{text:?}: related {near:.3} should beat unrelated {far:.3} clearly"
        );
    }
}

#[test]
fn vectors_have_384_unit_length_components() {
    let Some(embedder) = embedder() else { return };
    let long = "The shared drive mapping fails after the password change. ".repeat(60);
    let texts = ["", "VPN", "Printer on floor 3 is jammed", long.as_str()];
    for (text, v) in texts.iter().zip(embedder.embed(&texts).unwrap()) {
        assert_eq!(v.len(), DIM);
        let norm = dot(&v, &v).sqrt();
        assert!(
            (norm - 1.0).abs() < 1e-3,
            "norm {norm} for a {}-byte text",
            text.len()
        );
    }
}

#[test]
fn results_keep_input_order_when_batches_are_sorted_by_length() {
    let Some(embedder) = embedder() else { return };
    // Lengths deliberately out of order, so sorting reorders them.
    let texts = [
        "Users in the Berlin office cannot reach the intranet since the firewall change this morning; the VPN works.",
        "Mouse broken",
        "The HR portal shows an error 500 when submitting holiday requests.",
        "Password reset",
        "Teams calls drop after ten minutes for the sales team, only on the guest Wi-Fi network in building C.",
        "Monitor flickers",
        "SAP login slow",
    ];
    let sorted = embedder
        .embed_with(
            &texts,
            EmbedOptions {
                batch_size: 3,
                sort_by_length: true,
            },
        )
        .unwrap();
    for (i, text) in texts.iter().enumerate() {
        let alone = embedder.embed_one(text).unwrap();
        // Padding within a batch does not change a text's mean-pooled vector beyond rounding.
        let same = dot(&sorted[i], &alone);
        assert!(same > 0.999, "{text:?}: batched vs alone cos {same}");
        for (j, other) in sorted.iter().enumerate() {
            if j != i {
                assert!(dot(other, &alone) < same, "{text:?} landed at position {j}");
            }
        }
    }
    assert!(embedder.embed(&[]).unwrap().is_empty());
}

#[test]
fn missing_model_is_reported_with_the_path_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let model_dir = dir.path().join("all-minilm-l6-v2");
    let err = Embedder::load(&model_dir, &dir.path().join("libonnxruntime.so")).unwrap_err();
    assert_eq!(err.code, ErrorCode::ModelMissing);
    assert_eq!(err.code.as_str(), "model_missing");
    assert!(err.message.contains(&model_dir.display().to_string()));
    assert!(err.message.contains("bash scripts/fetch-model.sh"), "{err}");
}

#[test]
fn each_missing_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let paths = ModelPaths::under(dir.path());
    fake_model_files(&paths.model_dir);
    std::fs::remove_file(paths.model_dir.join("tokenizer.json")).unwrap();
    let err = Embedder::load(&paths.model_dir, &paths.ort_lib).unwrap_err();
    assert_eq!(err.code, ErrorCode::ModelMissing);
    assert!(err
        .message
        .contains(&paths.model_dir.join("tokenizer.json").display().to_string()));
    assert!(err.message.contains(&paths.ort_lib.display().to_string()));
    assert!(!err.message.contains("model.onnx"), "{err}");
}

#[test]
fn damaged_model_files_are_model_invalid_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let paths = ModelPaths::under(dir.path());
    fake_model_files(&paths.model_dir);
    std::fs::create_dir_all(paths.ort_lib.parent().unwrap()).unwrap();
    std::fs::write(&paths.ort_lib, b"not a shared library").unwrap();
    // Whether or not another test loaded the real runtime first, the junk files are refused.
    let err = Embedder::load(&paths.model_dir, &paths.ort_lib).unwrap_err();
    assert_eq!(err.code, ErrorCode::ModelInvalid, "{err}");
    assert!(err.message.contains("fetch-model.sh"), "{err}");
}

fn fake_model_files(model_dir: &Path) {
    std::fs::create_dir_all(model_dir).unwrap();
    for name in [
        "model.onnx",
        "tokenizer.json",
        "config.json",
        "special_tokens_map.json",
        "tokenizer_config.json",
    ] {
        std::fs::write(model_dir.join(name), b"{}").unwrap();
    }
}

// ---- Vector index -----------------------------------------------------------------------------

/// Deterministic unit vectors (splitmix64), so failures reproduce.
struct Vectors(u64);

impl Vectors {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> Vec<f32> {
        let v: Vec<f32> = (0..DIM)
            .map(|_| (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32 - 0.5)
            .collect();
        normalized(v)
    }

    /// `base` moved a little in a random direction: its nearest neighbour is still `base`.
    fn near(&mut self, base: &[f32]) -> Vec<f32> {
        let noise = self.unit();
        normalized(base.iter().zip(noise).map(|(b, n)| b + 0.2 * n).collect())
    }
}

fn normalized(v: Vec<f32>) -> Vec<f32> {
    let norm = dot(&v, &v).sqrt();
    v.into_iter().map(|x| x / norm).collect()
}

fn filled(path: &Path, count: u64, seed: u64) -> (VectorIndex, Vec<Vec<f32>>) {
    let mut gen = Vectors(seed);
    let mut index = VectorIndex::create(path).unwrap();
    let vectors: Vec<Vec<f32>> = (0..count).map(|_| gen.unit()).collect();
    for (key, v) in vectors.iter().enumerate() {
        // Keys are SQLite row ids: start at 1, like AUTOINCREMENT.
        index.add(key as u64 + 1, v).unwrap();
    }
    (index, vectors)
}

#[test]
fn add_search_remove_save_open_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kb.usearch");
    let (mut index, vectors) = filled(&path, 200, 1);
    assert_eq!(index.len(), 200);

    let hits = index.search(&vectors[41], 5).unwrap();
    assert_eq!(hits.len(), 5);
    assert_eq!(hits[0].0, 42);
    assert!(hits[0].1 > 0.999, "similarity to itself: {}", hits[0].1);
    assert!(
        hits.windows(2).all(|w| w[0].1 >= w[1].1),
        "most similar first"
    );

    assert!(index.remove(42).unwrap());
    assert!(!index.remove(42).unwrap(), "second removal finds nothing");
    assert!(!index.contains(42));
    assert_eq!(index.len(), 199);
    assert!(index
        .search(&vectors[41], 10)
        .unwrap()
        .iter()
        .all(|(k, _)| *k != 42));

    // Adding under an existing key replaces its vector.
    index.add(7, &vectors[41]).unwrap();
    assert_eq!(index.len(), 199);
    assert_eq!(index.search(&vectors[41], 1).unwrap()[0].0, 7);

    index.save().unwrap();
    let reopened = VectorIndex::open(&path).unwrap();
    assert_eq!(reopened.len(), 199);
    for probe in [&vectors[0], &vectors[41], &vectors[199]] {
        assert_eq!(
            reopened.search(probe, 5).unwrap(),
            index.search(probe, 5).unwrap()
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["kb.usearch"], "no temp file left behind");

    // Saving again replaces the file; the reopened copy keeps working after more adds.
    let mut reopened = reopened;
    reopened.add(1000, &vectors[41]).unwrap();
    reopened.save().unwrap();
    assert_eq!(VectorIndex::open(&path).unwrap().len(), 200);
}

#[test]
fn nearest_neighbour_is_the_exact_one() {
    let dir = tempfile::tempdir().unwrap();
    // More than the first reservation, so growth is exercised too.
    let (index, vectors) = filled(&dir.path().join("kb.usearch"), 3000, 2);
    assert_eq!(index.len(), 3000);
    let mut gen = Vectors(99);
    for target in (0..3000).step_by(97) {
        let query = gen.near(&vectors[target]);
        let exact = vectors
            .iter()
            .enumerate()
            .max_by(|a, b| dot(a.1, &query).total_cmp(&dot(b.1, &query)))
            .map(|(i, _)| i as u64 + 1)
            .unwrap();
        assert_eq!(exact, target as u64 + 1, "the query's true neighbour");
        let hits = index.search(&query, 10).unwrap();
        assert_eq!(hits[0].0, exact);
        assert!((hits[0].1 - dot(&vectors[target], &query)).abs() < 5e-3);
    }
}

#[test]
fn add_many_matches_one_by_one_adds() {
    let dir = tempfile::tempdir().unwrap();
    let (mut index, vectors) = filled(&dir.path().join("kb.usearch"), 100, 4);
    let mut gen = Vectors(5);
    let fresh: Vec<Vec<f32>> = (0..2000).map(|_| gen.unit()).collect();
    // Keys 50..2050: 50 replace existing vectors, key 3000 comes twice and keeps its last vector.
    let mut items: Vec<(u64, &[f32])> = fresh
        .iter()
        .enumerate()
        .map(|(i, v)| (i as u64 + 50, v.as_slice()))
        .collect();
    items.push((3000, &vectors[0]));
    items.push((3000, &fresh[7]));
    index.add_many(&items).unwrap();

    assert_eq!(index.len(), 49 + 2000 + 1);
    // HNSW search is approximate: a vector's own key is among its ten nearest (a top-1 check
    // failed once in CI when the graph built by parallel adds missed the exact match).
    for (i, v) in fresh.iter().enumerate().step_by(101) {
        let keys: Vec<u64> = index.search(v, 10).unwrap().iter().map(|h| h.0).collect();
        assert!(keys.contains(&(i as u64 + 50)), "{i}: {keys:?}");
    }
    let near =
        |v: &[f32]| -> Vec<u64> { index.search(v, 10).unwrap().iter().map(|h| h.0).collect() };
    assert!(near(&vectors[10]).contains(&11), "untouched");
    // Key 3000 holds its last vector (fresh[7], as key 57 does), not its first.
    let keys = near(&fresh[7]);
    assert!(keys.contains(&57) && keys.contains(&3000), "{keys:?}");
    let stored = index.get(3000).unwrap().unwrap();
    assert!(dot(&stored, &fresh[7]) > 0.99, "the last vector was kept");
    assert!(dot(&stored, &vectors[0]) < 0.9, "not the first");
    assert!(
        index.add_many(&[(1, &[0.5][..])]).is_err(),
        "wrong dimensions"
    );
}

#[test]
fn damaged_files_are_index_corrupt_and_missing_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kb.usearch");
    let err = VectorIndex::open(&path).unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);

    let (index, _) = filled(&path, 50, 3);
    index.save().unwrap();
    let good = std::fs::read(&path).unwrap();

    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    let cases: [(&str, Vec<u8>); 5] = [
        ("one flipped bit", flipped),
        ("truncated", good[..good.len() - 100].to_vec()),
        ("header only", good[..28].to_vec()),
        ("empty", Vec::new()),
        ("another file", b"SQLite format 3\0 and then some".to_vec()),
    ];
    for (what, bytes) in cases {
        std::fs::write(&path, bytes).unwrap();
        let err = VectorIndex::open(&path).unwrap_err();
        assert_eq!(err.code, ErrorCode::IndexCorrupt, "{what}: {err}");
        assert_eq!(err.code.as_str(), "index_corrupt");
        assert!(err.message.contains("Rebuild"), "{what}: {err}");
    }

    // open_or_create starts afresh only when there is no file, never over a damaged one.
    assert_eq!(
        VectorIndex::open_or_create(&path).unwrap_err().code,
        ErrorCode::IndexCorrupt
    );
    std::fs::remove_file(&path).unwrap();
    assert!(VectorIndex::open_or_create(&path).unwrap().is_empty());
}

#[test]
fn empty_index_and_wrong_dimensions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kb.usearch");
    let mut index = VectorIndex::create(&path).unwrap();
    assert!(index.search(&vec![0.1; DIM], 5).unwrap().is_empty());
    assert!(!index.remove(1).unwrap());
    assert!(index.add(1, &[1.0, 0.0]).is_err());
    assert!(index.search(&[1.0, 0.0], 1).is_err());

    // An empty index saves and opens like any other.
    index.save().unwrap();
    assert!(VectorIndex::open(&path).unwrap().is_empty());

    index.reserve(5000).unwrap();
    index.add(1, &vec![0.1; DIM]).unwrap();
    assert_eq!(index.search(&vec![0.1; DIM], 3).unwrap().len(), 1);
}

#[test]
fn embedder_and_index_can_be_shared_across_threads() {
    // The app keeps one Embedder in an Arc and the index in an RwLock, used from blocking
    // threads: both must be Send + Sync.
    fn shareable<T: Send + Sync>() {}
    shareable::<Embedder>();
    shareable::<VectorIndex>();
}

/// The model is found in this order: `SUPPORTBOT_MODEL_DIR`, the user cache when complete, the
/// package's installed resources when complete, else the user cache (whose error says how to
/// fill it). An installed app syncs with an empty home this way.
#[test]
fn the_model_is_found_in_env_then_cache_then_installed_resources() {
    use supportbot_core::kb::ModelPaths;
    let tmp = tempfile::tempdir().unwrap();
    let fill = |root: &std::path::Path| {
        let p = ModelPaths::under(root);
        std::fs::create_dir_all(&p.model_dir).unwrap();
        for f in [
            "model.onnx",
            "tokenizer.json",
            "config.json",
            "special_tokens_map.json",
            "tokenizer_config.json",
        ] {
            std::fs::write(p.model_dir.join(f), b"x").unwrap();
        }
        std::fs::create_dir_all(p.ort_lib.parent().unwrap()).unwrap();
        std::fs::write(&p.ort_lib, b"x").unwrap();
        p
    };
    let env = tmp.path().join("env");
    let cache = tmp.path().join("cache");
    // A .deb puts the binary in /usr/bin and the resources in /usr/lib/<product>/.
    let exe = tmp.path().join("usr/bin/supportbot");
    let roots = ModelPaths::installed_roots(&exe, None);
    assert_eq!(
        roots[0],
        tmp.path().join("usr/bin/../lib/Support Bot Desktop/models")
    );
    let installed = fill(&roots[0]);

    // An empty cache falls through to the installed model.
    let found = ModelPaths::first_complete(None, Some(cache.clone()), &roots).unwrap();
    assert_eq!(found, installed);
    // A complete cache wins over it, and the environment over both.
    let cached = fill(&cache);
    assert_eq!(
        ModelPaths::first_complete(None, Some(cache.clone()), &roots).unwrap(),
        cached
    );
    assert_eq!(
        ModelPaths::first_complete(Some(env.clone()), Some(cache.clone()), &roots).unwrap(),
        ModelPaths::under(&env)
    );
    // Nothing anywhere: the cache, so the error names where to fetch to.
    let nowhere = tmp.path().join("nowhere");
    assert_eq!(
        ModelPaths::first_complete(None, Some(nowhere.clone()), &[]).unwrap(),
        ModelPaths::under(&nowhere)
    );
    // An AppImage mounts its resources under $APPDIR.
    let appimage = ModelPaths::installed_roots(&exe, Some(std::ffi::OsStr::new("/tmp/.mount_x")));
    assert_eq!(
        appimage[1],
        std::path::Path::new("/tmp/.mount_x/usr/lib/Support Bot Desktop/models")
    );
}
