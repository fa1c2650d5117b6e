//! Knowledge-base search: BM25 over the FTS5 index (`incidents_fts`, migration 0006), cosine
//! similarity over the vector index, and their weighted reciprocal rank fusion ("hybrid"), with filters
//! and a highlighted snippet of each hit's resolution.
//!
//! Invariants: the user's text never reaches FTS5 query syntax — it is split into words here,
//! stop words dropped, and each word sent as a quoted string OR-ed with the others, so `"`, `*`,
//! `NEAR(`, `AND`, `-`… are just words or separators and can never raise an SQLite error.
//! Rankings are deterministic: ties are broken by incident id.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::{Actor, Core, Permission};

mod filters;
mod lists;
mod query;
mod snippets;

pub(crate) use filters::FilterSql;
pub(crate) use lists::Lists;
use lists::{nearest, pin_first, typed_numbers, vector_list};
pub(crate) use query::{bm25_query, content_words, fts_query};
use snippets::hydrate;

/// Results per search unless the request says otherwise.
pub const DEFAULT_K: usize = 10;
/// Most results one search returns.
pub const MAX_K: usize = 100;
/// The `k` of weighted reciprocal rank fusion: a hit's fused score is the sum over the lists
/// it is in of `weight / (RRF_K + rank)`. Chosen with [`BM25_WEIGHT`] on the tuning set
/// (user-style questions over the demo incidents, `scripts/retrieval/tune.py`), where plain
/// RRF (k = 60, equal weights) ranked worse than the vector list alone: user questions share
/// few words with ticket text, so keyword ranks are the weaker evidence.
pub const RRF_K: f64 = 30.0;
/// The BM25 list's weight in the fusion (the vector list's is 1).
pub const BM25_WEIGHT: f64 = 0.3;
/// Longer search text is refused rather than silently cut.
pub const MAX_QUERY_CHARS: usize = 10_000;

/// What to search for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchRequest {
    pub query: String,
    /// Results wanted, 1..=[`MAX_K`].
    #[serde(default = "default_k")]
    pub k: usize,
    /// `hybrid`, `bm25` or `vector`.
    #[serde(default = "default_method")]
    pub method: String,
    #[serde(default)]
    pub filters: SearchFilters,
}

fn default_k() -> usize {
    DEFAULT_K
}

fn default_method() -> String {
    SearchMethod::Hybrid.as_str().to_string()
}

impl SearchRequest {
    /// A hybrid search for `query`, [`DEFAULT_K`] results, no filters.
    pub fn new(query: impl Into<String>) -> SearchRequest {
        SearchRequest {
            query: query.into(),
            k: DEFAULT_K,
            method: default_method(),
            filters: SearchFilters::default(),
        }
    }
}

/// Restrictions on the incidents searched. Empty strings count as "no filter", as an unset
/// select in the UI sends them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchFilters {
    #[serde(default)]
    pub integration_id: Option<i64>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    /// `YYYY-MM-DD`, inclusive, on the incident's opened date (UTC).
    #[serde(default)]
    pub from: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    #[serde(default)]
    pub to: Option<String>,
}

/// How a search ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchMethod {
    /// Reciprocal rank fusion of the BM25 and vector rankings.
    #[default]
    Hybrid,
    /// Full-text BM25 alone.
    Bm25,
    /// Embedding cosine similarity alone.
    Vector,
}

impl SearchMethod {
    pub const ALL: [SearchMethod; 3] = [
        SearchMethod::Bm25,
        SearchMethod::Vector,
        SearchMethod::Hybrid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SearchMethod::Hybrid => "hybrid",
            SearchMethod::Bm25 => "bm25",
            SearchMethod::Vector => "vector",
        }
    }

    /// Parses `hybrid`, `bm25` or `vector` (any case); anything else is a validation error.
    pub fn parse(s: &str) -> CoreResult<SearchMethod> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "hybrid" => Ok(SearchMethod::Hybrid),
            "bm25" => Ok(SearchMethod::Bm25),
            "vector" => Ok(SearchMethod::Vector),
            _ => Err(invalid(
                "method",
                format!("Unknown search method \"{s}\": use hybrid, bm25 or vector."),
            )),
        }
    }
}

/// One piece of a snippet; the UI marks `hit` parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnippetPart {
    pub text: String,
    pub hit: bool,
}

/// One result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub incident_id: i64,
    pub number: String,
    pub short_description: String,
    /// The integration's name, or the name it had when it was deleted.
    pub integration: String,
    pub integration_id: i64,
    pub priority: String,
    pub category: String,
    pub state: String,
    pub opened_at: Option<String>,
    pub resolved_at: Option<String>,
    /// The record in its source system.
    pub link: String,
    pub close_code: Option<String>,
    /// Fused RRF score (hybrid), BM25 score (higher is better) or cosine similarity.
    pub score: f64,
    /// 1-based rank in the BM25 list, if the hit is in it.
    pub bm25_rank: Option<u32>,
    /// 1-based rank in the vector list, if the hit is in it.
    pub vector_rank: Option<u32>,
    /// Cosine similarity of the query and the incident, when the query was embedded.
    pub similarity: Option<f32>,
    /// How well the incident matches the question, in [0, 1] (calibrated on labelled
    /// questions: [`crate::kb::relevance`]); what the search page shows. `None` without a
    /// similarity (a keyword-only search).
    pub relevance: Option<f32>,
    /// Highlighted snippet of the resolution (the description when there is none).
    pub snippet: Vec<SnippetPart>,
    /// Which text the snippet is from: an open incident's snippet is its description, never
    /// to be labelled as a resolution.
    pub snippet_source: SnippetSource,
}

/// Where a hit's snippet comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnippetSource {
    Resolution,
    Description,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    pub took_ms: f64,
    pub method: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetIntegration {
    pub id: i64,
    pub name: String,
}

/// The values the filters can take, from the knowledge base's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facets {
    pub integrations: Vec<FacetIntegration>,
    pub priorities: Vec<String>,
    pub categories: Vec<String>,
    pub states: Vec<String>,
}

impl Core {
    /// Searches the knowledge base. Permission: `integration.view`.
    ///
    /// Errors: [`ErrorCode::Validation`] for an empty or wordless query, `k` outside
    /// 1..=[`MAX_K`], an unknown method or a bad date; model errors for `vector`/`hybrid`
    /// when the embedding model is missing.
    pub fn kb_search(&self, actor: &Actor, req: &SearchRequest) -> CoreResult<SearchResults> {
        actor.require(Permission::IntegrationView)?;
        let started = Instant::now();
        let method = SearchMethod::parse(&req.method)?;
        let query = validate_query(&req.query)?;
        if !(1..=MAX_K).contains(&req.k) {
            return Err(invalid(
                "k",
                format!("The number of results must be between 1 and {MAX_K}."),
            ));
        }
        let filters = FilterSql::new(&req.filters)?;
        let kb = self.knowledge_base();
        let embedder = match method {
            SearchMethod::Bm25 => None,
            _ => Some(kb.embedder()?),
        };
        let n = candidates(req.k);
        let conn = self.db().conn();
        // The query embedding (ONNX Runtime) with the vector search, and the BM25 list (SQLite)
        // need nothing from each other, so they run at the same time: together they are most
        // of a hybrid search. The second thread only takes the index's lock, never the
        // connection, so the lock order (connection, then index) holds.
        let (fts, bm25, vector, searched) = std::thread::scope(|scope| -> CoreResult<_> {
            let embedding = embedder.as_ref().map(|e| {
                scope.spawn(move || -> CoreResult<_> {
                    let vector = e.embed_one(query)?;
                    let searched = if filters.active {
                        None
                    } else {
                        match kb.loaded_index().as_ref() {
                            Some(index) => Some(nearest(index, &vector, n)?),
                            None => None,
                        }
                    };
                    Ok((vector, searched))
                })
            });
            let fts = bm25_query(&conn, kb, query)?;
            let bm25 = Lists::bm25(
                &conn,
                fts.as_ref().map(|q| q.rank.as_str()),
                method,
                &filters,
                n,
            )?;
            let (vector, searched) = match embedding {
                Some(handle) => {
                    let (v, s) = handle.join().map_err(|_| {
                        CoreError::internal(
                            "The embedding model stopped while embedding the query.",
                        )
                    })??;
                    (Some(v), s)
                }
                None => (None, None),
            };
            Ok((fts, bm25, vector, searched))
        })?;
        let lists = Lists {
            bm25,
            vector: match (searched, &vector) {
                (Some(list), _) => list,
                // Filtered, or the index not opened yet (it opens with the connection).
                (None, Some(v)) => vector_list(&conn, kb, v, &filters, n)?,
                (None, None) => Vec::new(),
            },
        };
        let mut ranked = lists.rank(method);
        if method != SearchMethod::Vector {
            ranked = pin_first(ranked, &typed_numbers(&conn, query, &filters)?);
        }
        let hits = hydrate(
            &conn,
            &ranked[..ranked.len().min(req.k)],
            &lists,
            fts.as_ref().map(|q| q.mark.as_str()),
            vector.as_deref(),
        )?;
        Ok(SearchResults {
            hits,
            took_ms: started.elapsed().as_secs_f64() * 1000.0,
            method: method.as_str().to_string(),
        })
    }

    /// The values the search filters can take. Permission: `integration.view`.
    pub fn kb_facets(&self, actor: &Actor) -> CoreResult<Facets> {
        actor.require(Permission::IntegrationView)?;
        let conn = self.db().conn();
        let mut stmt = conn.prepare(
            "SELECT s.integration_id, COALESCE(i.name, s.source_name)
             FROM (SELECT integration_id, MAX(source_name) AS source_name
                   FROM incidents GROUP BY integration_id) s
             LEFT JOIN integrations i ON i.id = s.integration_id
             ORDER BY 2 COLLATE NOCASE, 1",
        )?;
        let integrations = stmt
            .query_map([], |r| {
                Ok(FacetIntegration {
                    id: r.get(0)?,
                    name: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let distinct = |column: &str| -> CoreResult<Vec<String>> {
            let mut stmt = conn.prepare(&format!(
                "SELECT DISTINCT {column} FROM incidents WHERE {column} <> '' ORDER BY {column}"
            ))?;
            let values = stmt
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(values)
        };
        Ok(Facets {
            integrations,
            priorities: distinct("priority")?,
            categories: distinct("category")?,
            states: distinct("state")?,
        })
    }
}

/// Candidates taken from each list before fusing and cutting to `k`: deep enough that a hit
/// ranked modestly by both lists can still surface.
pub(crate) fn candidates(k: usize) -> usize {
    (5 * k).max(50)
}

fn invalid(field: &str, message: impl Into<String>) -> CoreError {
    let message = message.into();
    CoreError::new(ErrorCode::Validation, message.clone()).with_field(field, message)
}

/// The trimmed query, or a validation error saying what to type.
pub(crate) fn validate_query(query: &str) -> CoreResult<&str> {
    let query = query.trim();
    if query.is_empty() {
        return Err(invalid(
            "query",
            "Type what you are looking for: a symptom, an error message or an incident number.",
        ));
    }
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(invalid(
            "query",
            format!("The search text is longer than {MAX_QUERY_CHARS} characters; shorten it to the symptom or error message."),
        ));
    }
    if !query.chars().any(char::is_alphanumeric) {
        return Err(invalid(
            "query",
            "The search text has no words or numbers in it; type what you are looking for.",
        ));
    }
    Ok(query)
}
