//! Knowledge-base search: BM25 over the FTS5 index (`incidents_fts`, migration 0006), cosine
//! similarity over the vector index, and their reciprocal rank fusion ("hybrid"), with filters
//! and a highlighted snippet of each hit's resolution.
//!
//! Invariants: the user's text never reaches FTS5 query syntax — it is split into words here,
//! stop words dropped, and each word sent as a quoted string OR-ed with the others, so `"`, `*`,
//! `NEAR(`, `AND`, `-`… are just words or separators and can never raise an SQLite error.
//! Rankings are deterministic: ties are broken by incident id.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};
use serde::{Deserialize, Serialize};

use super::prune::{prune_common_terms, Bm25Query};
use super::store::blob_to_vector;
use super::{KnowledgeBase, VectorIndex};
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::{Actor, Core, Permission};

/// Results per search unless the request says otherwise.
pub const DEFAULT_K: usize = 10;
/// Most results one search returns.
pub const MAX_K: usize = 100;
/// The `k` of reciprocal rank fusion: a hit's fused score is the sum of `1 / (RRF_K + rank)`
/// over the lists it is in. 60 is the value of Cormack et al. (2009); it keeps one list's top
/// hit from drowning hits that both lists rank well.
pub const RRF_K: f64 = 60.0;
/// Longer search text is refused rather than silently cut.
pub const MAX_QUERY_CHARS: usize = 10_000;
/// Distinct words of the text that go into the BM25 query; a pasted log excerpt does not turn
/// into a query of thousands of terms.
const MAX_TERMS: usize = 64;
/// With filters, allowed sets up to this size are scored exactly from the stored embeddings.
/// Why: usearch's filtered HNSW walk visits neighbours the filter rejects and can stop before it
/// finds enough allowed vectors when they are a small fraction of the index; exact scoring is
/// exact, and cheap at this size (5 000 × 384 multiply-adds and ~7.5 MB of blobs, a few ms).
/// Larger allowed sets are a large fraction of the graph, where the filtered walk works well.
const EXACT_LIMIT: usize = 5_000;
/// FTS5 `bm25()` column weights, in the table's column order: number, short description,
/// description, resolution, category, comments. A typed incident number must win outright;
/// the title and the resolution say what the incident is about more densely than the
/// description; comments are mostly chatter ("any update on this?").
const BM25_WEIGHTS: &str = "10.0, 3.0, 1.0, 2.0, 1.0, 0.5";
/// Column indexes of `incidents_fts` for `snippet()`.
const COL_DESCRIPTION: usize = 2;
const COL_RESOLUTION: usize = 3;
/// Tokens in a snippet (FTS5 allows at most 64).
const SNIPPET_TOKENS: usize = 32;
/// Words of the fallback snippet when the text has no hit.
const FALLBACK_WORDS: usize = 30;
/// Markers snippet() puts around hits: Unicode noncharacters, which no incident text uses, so
/// no HTML and no escaping is ever involved.
const HIT_START: char = '\u{FDD0}';
const HIT_END: char = '\u{FDD1}';

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
    /// Highlighted snippet of the resolution (the description when there is none).
    pub snippet: Vec<SnippetPart>,
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
        let ranked = lists.rank(method);
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

/// The BM25 query for `text`: its words as an FTS5 OR query, without the words too common to
/// be worth scoring at scale (see [`super::prune`]). `None` when no word is left to search for.
pub(crate) fn bm25_query(
    conn: &Connection,
    kb: &KnowledgeBase,
    text: &str,
) -> CoreResult<Option<Bm25Query>> {
    match fts_query(text) {
        Some(q) => Ok(Some(prune_common_terms(conn, &mut kb.term_counts(), &q)?)),
        None => Ok(None),
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

/// English words that carry no topic. Dropped from the BM25 query so that a question such as
/// "why can't I print from my laptop" ranks on "print" and "laptop", not on "my".
const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "anymore", "are",
    "as", "at", "be", "been", "before", "being", "but", "by", "can", "cannot", "cant", "could",
    "did", "do", "does", "doesn", "doesnt", "don", "dont", "for", "from", "get", "gets", "getting",
    "got", "had", "has", "have", "having", "he", "her", "here", "him", "his", "how", "i", "if",
    "im", "in", "into", "is", "isn", "isnt", "it", "its", "ive", "just", "keep", "keeps", "me",
    "mine", "my", "myself", "no", "not", "now", "of", "on", "or", "our", "out", "please", "s",
    "she", "should", "so", "some", "still", "t", "than", "that", "the", "their", "them", "then",
    "there", "these", "they", "this", "those", "to", "too", "up", "us", "very", "was", "wasn",
    "we", "were", "what", "when", "where", "which", "while", "who", "why", "will", "with", "won",
    "wont", "would", "you", "your",
];

/// The words of `text`: maximal runs of letters and digits, lowercased; apostrophes inside a
/// word are dropped ("can't" → "cant") so contractions meet the stop list.
pub(crate) fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() {
            current.extend(c.to_lowercase());
        } else if matches!(c, '\'' | '’')
            && !current.is_empty()
            && chars.peek().is_some_and(|n| n.is_alphanumeric())
        {
            // Inside a word: skip the apostrophe, keep the word together.
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The FTS5 query for `text`: its distinct non-stop words, each a quoted string, OR-ed; `None`
/// when it has no words. Only letters and digits are ever inside the quotes, so nothing the
/// user types can be FTS syntax. When every word is a stop word ("how do I"), they are used
/// after all rather than returning nothing.
pub(crate) fn fts_query(text: &str) -> Option<String> {
    let all = words(text);
    let mut seen = HashSet::new();
    let mut terms: Vec<&str> = all
        .iter()
        .map(String::as_str)
        .filter(|w| !STOP_WORDS.contains(w))
        .filter(|w| seen.insert(*w))
        .take(MAX_TERMS)
        .collect();
    if terms.is_empty() {
        terms = all
            .iter()
            .map(String::as_str)
            .filter(|w| seen.insert(*w))
            .take(MAX_TERMS)
            .collect();
    }
    if terms.is_empty() {
        return None;
    }
    Some(
        terms
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(" OR "),
    )
}

/// The filters as an SQL condition on `inc` (the incidents table) and its parameters.
pub(crate) struct FilterSql {
    condition: String,
    params: Vec<Value>,
    active: bool,
}

impl FilterSql {
    pub(crate) fn new(f: &SearchFilters) -> CoreResult<FilterSql> {
        let mut parts = vec!["1".to_string()];
        let mut params = Vec::new();
        if let Some(id) = f.integration_id {
            parts.push("inc.integration_id = ?".into());
            params.push(Value::Integer(id));
        }
        for (column, value) in [
            ("priority", &f.priority),
            ("category", &f.category),
            ("state", &f.state),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.trim().is_empty()) {
                parts.push(format!("inc.{column} = ?"));
                params.push(Value::Text(v.to_string()));
            }
        }
        let from = parse_day("from", f.from.as_deref())?;
        let to = parse_day("to", f.to.as_deref())?;
        if let (Some(a), Some(b)) = (from, to) {
            if a > b {
                return Err(invalid(
                    "to",
                    "The end date is before the start date; swap them or widen the range.",
                ));
            }
        }
        // opened_at is RFC 3339 UTC text, so whole days compare as string prefixes.
        if let Some(day) = from {
            parts.push("inc.opened_at >= ?".into());
            params.push(Value::Text(day.to_string()));
        }
        if let Some(day) = to {
            let next = day.next_day().unwrap_or(day);
            parts.push("inc.opened_at < ?".into());
            params.push(Value::Text(next.to_string()));
        }
        Ok(FilterSql {
            active: parts.len() > 1,
            condition: parts.join(" AND "),
            params,
        })
    }
}

fn parse_day(field: &str, value: Option<&str>) -> CoreResult<Option<time::Date>> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(value, &format).map(Some).map_err(|_| {
        invalid(
            field,
            format!("\"{value}\" is not a date: use YYYY-MM-DD, e.g. 2025-06-30."),
        )
    })
}

/// The two candidate lists of one query, best first.
pub(crate) struct Lists {
    pub bm25: Vec<(i64, f64)>,
    pub vector: Vec<(i64, f32)>,
}

impl Lists {
    /// The lists `method` needs: BM25 when there is an FTS query, vector when there is a query
    /// vector, `n` deep each.
    pub(crate) fn fetch(
        conn: &Connection,
        kb: &KnowledgeBase,
        fts: Option<&str>,
        vector: Option<&[f32]>,
        method: SearchMethod,
        filters: &FilterSql,
        n: usize,
    ) -> CoreResult<Lists> {
        let bm25 = Lists::bm25(conn, fts, method, filters, n)?;
        let vector = match (method, vector) {
            (SearchMethod::Bm25, _) | (_, None) => Vec::new(),
            (_, Some(v)) => vector_list(conn, kb, v, filters, n)?,
        };
        Ok(Lists { bm25, vector })
    }

    /// The BM25 list `method` needs: none for `vector` or without an FTS query.
    fn bm25(
        conn: &Connection,
        fts: Option<&str>,
        method: SearchMethod,
        filters: &FilterSql,
        n: usize,
    ) -> CoreResult<Vec<(i64, f64)>> {
        match (method, fts) {
            (SearchMethod::Vector, _) | (_, None) => Ok(Vec::new()),
            (_, Some(q)) => bm25_list(conn, q, filters, n),
        }
    }

    /// Incident ids with their scores, best first, as `method` ranks them.
    pub(crate) fn rank(&self, method: SearchMethod) -> Vec<(i64, f64)> {
        match method {
            SearchMethod::Bm25 => self.bm25.clone(),
            SearchMethod::Vector => self
                .vector
                .iter()
                .map(|(id, s)| (*id, f64::from(*s)))
                .collect(),
            SearchMethod::Hybrid => fuse(
                &self.bm25.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
                &self.vector.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            ),
        }
    }
}

/// Reciprocal rank fusion of two rankings. Ties (equal fused scores, e.g. #1 in one list only
/// versus #1 in the other only) go to the hit with the better single rank, then the better
/// vector rank (the list that understands paraphrases), then the lower incident id.
pub(crate) fn fuse(bm25: &[i64], vector: &[i64]) -> Vec<(i64, f64)> {
    struct Entry {
        score: f64,
        best: usize,
        vector: usize,
    }
    let mut fused: HashMap<i64, Entry> = HashMap::new();
    for (list, is_vector) in [(bm25, false), (vector, true)] {
        for (index, id) in list.iter().enumerate() {
            let rank = index + 1;
            let e = fused.entry(*id).or_insert(Entry {
                score: 0.0,
                best: usize::MAX,
                vector: usize::MAX,
            });
            e.score += 1.0 / (RRF_K + rank as f64);
            e.best = e.best.min(rank);
            if is_vector {
                e.vector = rank;
            }
        }
    }
    let mut out: Vec<(i64, Entry)> = fused.into_iter().collect();
    out.sort_by(|(a_id, a), (b_id, b)| {
        b.score
            .total_cmp(&a.score)
            .then(a.best.cmp(&b.best))
            .then(a.vector.cmp(&b.vector))
            .then(a_id.cmp(b_id))
    });
    out.into_iter().map(|(id, e)| (id, e.score)).collect()
}

/// The `n` best BM25 matches of `fts` among the filtered incidents: `(id, -bm25)` so that
/// higher is better.
fn bm25_list(
    conn: &Connection,
    fts: &str,
    filters: &FilterSql,
    n: usize,
) -> CoreResult<Vec<(i64, f64)>> {
    // Without filters the incidents table is not needed at all: joining it costs a row lookup
    // per matching document, which at 100k incidents was more than half the query.
    let sql = if filters.active {
        format!(
            "SELECT incidents_fts.rowid, -bm25(incidents_fts, {BM25_WEIGHTS}) AS score
             FROM incidents_fts JOIN incidents inc ON inc.id = incidents_fts.rowid
             WHERE incidents_fts MATCH ? AND {}
             ORDER BY score DESC, incidents_fts.rowid
             LIMIT ?",
            filters.condition
        )
    } else {
        format!(
            "SELECT rowid, -bm25(incidents_fts, {BM25_WEIGHTS}) AS score
             FROM incidents_fts WHERE incidents_fts MATCH ?
             ORDER BY score DESC, rowid
             LIMIT ?"
        )
    };
    let mut params = vec![Value::Text(fts.to_string())];
    if filters.active {
        params.extend(filters.params.iter().cloned());
    }
    params.push(Value::Integer(n as i64));
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params_from_iter(params), |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<(i64, f64)>>>()?;
    Ok(rows)
}

/// The `n` incidents most similar to `query` among the filtered ones: `(id, cosine)`.
fn vector_list(
    conn: &Connection,
    kb: &KnowledgeBase,
    query: &[f32],
    filters: &FilterSql,
    n: usize,
) -> CoreResult<Vec<(i64, f32)>> {
    if !filters.active {
        let guard = kb.index(conn)?;
        let Some(index) = guard.as_ref() else {
            return Ok(Vec::new());
        };
        return nearest(index, query, n);
    }
    let allowed: Vec<i64> = {
        let sql = format!(
            "SELECT inc.id FROM incidents inc WHERE inc.embedding IS NOT NULL AND {}",
            filters.condition
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let ids = stmt
            .query_map(params_from_iter(filters.params.iter()), |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        ids
    };
    if allowed.is_empty() {
        return Ok(Vec::new());
    }
    if allowed.len() > EXACT_LIMIT {
        let set: HashSet<u64> = allowed.iter().map(|id| *id as u64).collect();
        let guard = kb.index(conn)?;
        if let Some(index) = guard.as_ref() {
            let found = index.search_filtered(query, n, |key| set.contains(&key))?;
            // A walk that ended early falls through to exact scoring below.
            if found.len() >= n.min(allowed.len()) {
                return Ok(sorted(
                    found.into_iter().map(|(key, s)| (key as i64, s)).collect(),
                ));
            }
        }
    }
    exact_scores(conn, query, &allowed, n)
}

/// The `n` nearest incidents in the whole index: `(id, cosine)`, best first.
fn nearest(index: &VectorIndex, query: &[f32], n: usize) -> CoreResult<Vec<(i64, f32)>> {
    Ok(sorted(
        index
            .search(query, n)?
            .into_iter()
            .map(|(key, s)| (key as i64, s))
            .collect(),
    ))
}

/// Cosine similarity of `query` with the stored embeddings of `ids` (unit vectors, so the dot
/// product), the `n` best.
fn exact_scores(
    conn: &Connection,
    query: &[f32],
    ids: &[i64],
    n: usize,
) -> CoreResult<Vec<(i64, f32)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT embedding FROM incidents WHERE id = ?1 AND embedding IS NOT NULL",
    )?;
    let mut scored = Vec::with_capacity(ids.len());
    for id in ids {
        let blob: Option<Vec<u8>> =
            stmt.query_row([id], |r| r.get(0))
                .map(Some)
                .or_else(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    e => Err(e),
                })?;
        if let Some(blob) = blob {
            let v = blob_to_vector(&blob);
            if v.len() == query.len() {
                scored.push((*id, dot(query, &v)));
            }
        }
    }
    let mut scored = sorted(scored);
    scored.truncate(n);
    Ok(scored)
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Best first; equal similarities by id, so results do not depend on index internals.
fn sorted(mut v: Vec<(i64, f32)>) -> Vec<(i64, f32)> {
    v.sort_by(|(a_id, a), (b_id, b)| b.total_cmp(a).then(a_id.cmp(b_id)));
    v
}

/// The hits for `ranked` (already cut to k), in that order, with ranks, similarity and snippet.
fn hydrate(
    conn: &Connection,
    ranked: &[(i64, f64)],
    lists: &Lists,
    fts: Option<&str>,
    vector: Option<&[f32]>,
) -> CoreResult<Vec<SearchHit>> {
    if ranked.is_empty() {
        return Ok(Vec::new());
    }
    let bm25_rank: HashMap<i64, u32> = lists
        .bm25
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (*id, i as u32 + 1))
        .collect();
    let vector_rank: HashMap<i64, (u32, f32)> = lists
        .vector
        .iter()
        .enumerate()
        .map(|(i, (id, s))| (*id, (i as u32 + 1, *s)))
        .collect();
    let ids: Vec<Value> = ranked.iter().map(|(id, _)| Value::Integer(*id)).collect();
    let placeholders = vec!["?"; ids.len()].join(", ");

    let snippets = match fts {
        Some(q) => fts_snippets(
            conn,
            q,
            &ranked.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        )?,
        None => HashMap::new(),
    };

    let sql = format!(
        "SELECT inc.id, inc.number, inc.short_description, COALESCE(i.name, inc.source_name),
                inc.integration_id, inc.priority, inc.category, inc.state, inc.opened_at,
                inc.resolved_at, inc.link, inc.close_code, inc.resolution, inc.description,
                inc.embedding
         FROM incidents inc LEFT JOIN integrations i ON i.id = inc.integration_id
         WHERE inc.id IN ({placeholders})"
    );
    // One statement per result count (k is at most MAX_K), so the cache stays small.
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows: HashMap<i64, SearchHit> = HashMap::new();
    let mut query_rows = stmt.query(params_from_iter(ids.iter()))?;
    while let Some(r) = query_rows.next()? {
        let id: i64 = r.get(0)?;
        let resolution: String = r.get(12)?;
        let description: String = r.get(13)?;
        let embedding: Option<Vec<u8>> = r.get(14)?;
        let (resolution_snippet, description_snippet) =
            snippets.get(&id).cloned().unwrap_or((None, None));
        let snippet = choose_snippet(
            &resolution,
            &description,
            resolution_snippet,
            description_snippet,
        );
        let similarity = match (vector_rank.get(&id), vector, embedding) {
            (Some((_, s)), _, _) => Some(*s),
            (None, Some(q), Some(blob)) => {
                let v = blob_to_vector(&blob);
                (v.len() == q.len()).then(|| dot(q, &v))
            }
            _ => None,
        };
        rows.insert(
            id,
            SearchHit {
                incident_id: id,
                number: r.get(1)?,
                short_description: r.get(2)?,
                integration: r.get(3)?,
                integration_id: r.get(4)?,
                priority: r.get(5)?,
                category: r.get(6)?,
                state: r.get(7)?,
                opened_at: r.get(8)?,
                resolved_at: r.get(9)?,
                link: r.get(10)?,
                close_code: r.get(11)?,
                score: 0.0,
                bm25_rank: bm25_rank.get(&id).copied(),
                vector_rank: vector_rank.get(&id).map(|(rank, _)| *rank),
                similarity,
                snippet,
            },
        );
    }
    // Ids the index still had but SQLite no longer has (never, while they agree) drop out.
    Ok(ranked
        .iter()
        .filter_map(|(id, score)| {
            rows.remove(id).map(|mut hit| {
                hit.score = *score;
                hit
            })
        })
        .collect())
}

type SnippetPair = (Option<String>, Option<String>);

/// FTS5 snippets of the resolution and the description of each id that matches `fts`. One
/// statement per id with `rowid = ?`, which FTS5 answers by seeking in the posting lists; an
/// `IN (…)` list made it evaluate the whole match first.
fn fts_snippets(
    conn: &Connection,
    fts: &str,
    ids: &[i64],
) -> CoreResult<HashMap<i64, SnippetPair>> {
    let sql = format!(
        "SELECT snippet(incidents_fts, {COL_RESOLUTION}, '{HIT_START}', '{HIT_END}', '…', {SNIPPET_TOKENS}),
                snippet(incidents_fts, {COL_DESCRIPTION}, '{HIT_START}', '{HIT_END}', '…', {SNIPPET_TOKENS})
         FROM incidents_fts WHERE incidents_fts MATCH ?1 AND rowid = ?2"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut out = HashMap::new();
    for id in ids {
        let pair = rusqlite::OptionalExtension::optional(
            stmt.query_row(rusqlite::params![fts, id], |r| Ok((r.get(0)?, r.get(1)?))),
        )?;
        if let Some(pair) = pair {
            out.insert(*id, pair);
        }
    }
    Ok(out)
}

/// The resolution's snippet when it has a hit; else the start of the resolution; with no
/// resolution (open incidents), the description's snippet or start.
fn choose_snippet(
    resolution: &str,
    description: &str,
    resolution_snippet: Option<String>,
    description_snippet: Option<String>,
) -> Vec<SnippetPart> {
    let with_hit = |s: Option<String>| {
        s.map(|s| parse_snippet(&s))
            .filter(|parts| parts.iter().any(|p| p.hit))
    };
    if let Some(parts) = with_hit(resolution_snippet) {
        return parts;
    }
    if !resolution.trim().is_empty() {
        return leading_words(resolution);
    }
    if let Some(parts) = with_hit(description_snippet) {
        return parts;
    }
    leading_words(description)
}

/// Splits snippet() output at the hit markers; whitespace runs become single spaces.
pub(crate) fn parse_snippet(s: &str) -> Vec<SnippetPart> {
    let mut parts: Vec<SnippetPart> = Vec::new();
    let mut current = String::new();
    let mut hit = false;
    let flush = |text: &mut String, hit: bool, parts: &mut Vec<SnippetPart>| {
        if text.is_empty() {
            return;
        }
        match parts.last_mut() {
            Some(last) if last.hit == hit => last.text.push_str(text),
            _ => parts.push(SnippetPart {
                text: text.clone(),
                hit,
            }),
        }
        text.clear();
    };
    let mut last_space = false;
    for c in s.chars() {
        match c {
            HIT_START => {
                flush(&mut current, hit, &mut parts);
                hit = true;
            }
            HIT_END => {
                flush(&mut current, hit, &mut parts);
                hit = false;
            }
            c if c.is_whitespace() => {
                if !last_space {
                    current.push(' ');
                }
                last_space = true;
                continue;
            }
            c => current.push(c),
        }
        last_space = false;
    }
    flush(&mut current, hit, &mut parts);
    parts
}

/// The first [`FALLBACK_WORDS`] words of `text`, with an ellipsis when there is more.
fn leading_words(text: &str) -> Vec<SnippetPart> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() {
        return Vec::new();
    }
    let mut out = words[..words.len().min(FALLBACK_WORDS)].join(" ");
    if words.len() > FALLBACK_WORDS {
        out.push('…');
    }
    vec![SnippetPart {
        text: out,
        hit: false,
    }]
}
