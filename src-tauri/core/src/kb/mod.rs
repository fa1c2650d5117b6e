//! The local knowledge base's vector layer: text → 384-dimensional embeddings ([`Embedder`]) and
//! a persistent approximate-nearest-neighbour index over them ([`VectorIndex`]).
//!
//! Invariants: vectors in one index all come from the same model ([`MODEL_ID`]); index keys are
//! SQLite row ids, so SQLite stays the source of truth and a lost or damaged index is rebuilt
//! from it.

pub mod embedder;
pub mod index;

pub use embedder::{EmbedOptions, Embedder, ModelPaths, DIM, MODEL_ID};
pub use index::VectorIndex;

mod base;
#[doc(hidden)]
pub mod bench_support;
pub(crate) mod store;

pub use base::{KnowledgeBase, INDEX_FILE};
pub use store::Counts;
mod stats;
pub use stats::{IntegrationStats, KbStats};
pub mod check;
pub mod rollback;
pub mod versions;
pub use check::{KbCheck, RebuildProgress, RebuildReport};
pub use rollback::{RollbackPhase, RollbackProgress};
pub use versions::{FieldDiff, SkippedRecord, VersionChange, VersionDetail, VersionSummary};
mod prune;
pub mod relevance;
pub mod search;
pub use search::{
    FacetIntegration, Facets, SearchFilters, SearchHit, SearchMethod, SearchRequest, SearchResults,
    SnippetPart, SnippetSource,
};
pub mod eval;
pub mod incident;
pub use eval::{BotRates, EvalQuery, EvalReport, Metrics};
pub use incident::IncidentDetail;
