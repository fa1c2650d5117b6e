//! `kb eval`: retrieval quality of BM25 alone, vectors alone and hybrid fusion on a labelled set
//! of queries (`[{"query": …, "relevant": ["INC…", …]}]`).
//!
//! Each query is searched exactly as [`Core::kb_search`] would with k = 10 and no filters (the
//! same candidate lists, the same fusion), and each method's top 10 is scored against the
//! query's relevant incident numbers:
//!
//! - **recall@k** = |relevant ∩ top k| / min(|relevant|, k), averaged over the queries. The
//!   denominator is capped at k so that a query with more relevant incidents than k can still
//!   reach 1.0 (a perfect top k), as in the BEIR/"capped recall" convention.
//! - **MRR** = the mean over queries of 1 / (rank of the first relevant hit in the top 10),
//!   0 when none is in the top 10 (MRR@10).
//!
//! Incident numbers are compared ignoring case and surrounding spaces.

use std::collections::{HashMap, HashSet};

use rusqlite::params_from_iter;
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};

use super::search::{bm25_query, candidates, validate_query, FilterSql, Lists};
use super::{SearchFilters, SearchMethod};
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::{Actor, Core, Permission};

/// Depth the metrics look at: recall@10 and MRR@10.
const EVAL_K: usize = 10;

/// One labelled query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalQuery {
    pub query: String,
    /// Numbers of the incidents that answer it.
    pub relevant: Vec<String>,
}

/// Averages over the queries; see the module documentation for the definitions.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Metrics {
    #[serde(rename = "recall@1")]
    pub recall_at_1: f64,
    #[serde(rename = "recall@5")]
    pub recall_at_5: f64,
    #[serde(rename = "recall@10")]
    pub recall_at_10: f64,
    pub mrr: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub queries: usize,
    pub bm25: Metrics,
    pub vector: Metrics,
    pub hybrid: Metrics,
}

impl Core {
    /// Scores the three methods on `queries`. Permission: `integration.view`. Needs the
    /// embedding model (vector and hybrid).
    ///
    /// Errors: [`ErrorCode::Validation`] for an empty set, a query that is not searchable or
    /// one without relevant incidents (the field names the entry).
    pub fn kb_eval(&self, actor: &Actor, queries: &[EvalQuery]) -> CoreResult<EvalReport> {
        actor.require(Permission::IntegrationView)?;
        if queries.is_empty() {
            return Err(invalid(
                "queries",
                "The evaluation file has no queries: give a JSON array of {\"query\": …, \"relevant\": [\"INC…\"]}.".into(),
            ));
        }
        let mut texts = Vec::with_capacity(queries.len());
        for (i, q) in queries.iter().enumerate() {
            let text = validate_query(&q.query).map_err(|e| {
                invalid(
                    &format!("queries[{i}].query"),
                    format!("Query {} : {}", i + 1, e.message),
                )
            })?;
            if q.relevant.iter().all(|r| r.trim().is_empty()) {
                return Err(invalid(
                    &format!("queries[{i}].relevant"),
                    format!(
                        "Query {} (\"{text}\") lists no relevant incident numbers.",
                        i + 1
                    ),
                ));
            }
            texts.push(text);
        }
        let vectors = self.knowledge_base().embedder()?.embed(&texts)?;
        let filters = FilterSql::new(&SearchFilters::default())?;
        let n = candidates(EVAL_K);

        let mut sums: HashMap<SearchMethod, Metrics> = HashMap::new();
        for ((q, text), vector) in queries.iter().zip(&texts).zip(&vectors) {
            let relevant: HashSet<String> = q
                .relevant
                .iter()
                .map(|r| normalise(r))
                .filter(|r| !r.is_empty())
                .collect();
            let conn = self.db().conn();
            let lists = Lists::fetch(
                &conn,
                self.knowledge_base(),
                bm25_query(&conn, self.knowledge_base(), text)?
                    .map(|q| q.rank)
                    .as_deref(),
                Some(vector),
                SearchMethod::Hybrid,
                &filters,
                n,
            )?;
            let tops: Vec<(SearchMethod, Vec<i64>)> = SearchMethod::ALL
                .iter()
                .map(|m| {
                    let ids = lists
                        .rank(*m)
                        .into_iter()
                        .take(EVAL_K)
                        .map(|(id, _)| id)
                        .collect();
                    (*m, ids)
                })
                .collect();
            let all: Vec<i64> = tops.iter().flat_map(|(_, ids)| ids.clone()).collect();
            let numbers = numbers_of(&conn, &all)?;
            drop(conn);
            for (method, ids) in tops {
                let found: Vec<bool> = ids
                    .iter()
                    .map(|id| numbers.get(id).is_some_and(|n| relevant.contains(n)))
                    .collect();
                let m = score(&found, relevant.len());
                let sum = sums.entry(method).or_default();
                sum.recall_at_1 += m.recall_at_1;
                sum.recall_at_5 += m.recall_at_5;
                sum.recall_at_10 += m.recall_at_10;
                sum.mrr += m.mrr;
            }
        }
        let count = queries.len() as f64;
        let mean = |m: SearchMethod| {
            let s = sums.get(&m).copied().unwrap_or_default();
            Metrics {
                recall_at_1: s.recall_at_1 / count,
                recall_at_5: s.recall_at_5 / count,
                recall_at_10: s.recall_at_10 / count,
                mrr: s.mrr / count,
            }
        };
        Ok(EvalReport {
            queries: queries.len(),
            bm25: mean(SearchMethod::Bm25),
            vector: mean(SearchMethod::Vector),
            hybrid: mean(SearchMethod::Hybrid),
        })
    }
}

/// One query's metrics from which of its top hits are relevant (`found[i]` for rank i + 1).
fn score(found: &[bool], relevant: usize) -> Metrics {
    let recall = |k: usize| {
        let hits = found.iter().take(k).filter(|f| **f).count();
        hits as f64 / relevant.min(k).max(1) as f64
    };
    let mrr = found
        .iter()
        .take(EVAL_K)
        .position(|f| *f)
        .map_or(0.0, |i| 1.0 / (i + 1) as f64);
    Metrics {
        recall_at_1: recall(1),
        recall_at_5: recall(5),
        recall_at_10: recall(10),
        mrr,
    }
}

fn normalise(number: &str) -> String {
    number.trim().to_uppercase()
}

/// Incident numbers of `ids`, normalised.
fn numbers_of(conn: &rusqlite::Connection, ids: &[i64]) -> CoreResult<HashMap<i64, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let placeholders = vec!["?"; ids.len()].join(", ");
    let mut stmt = conn.prepare(&format!(
        "SELECT id, number FROM incidents WHERE id IN ({placeholders})"
    ))?;
    let rows = stmt
        .query_map(
            params_from_iter(ids.iter().map(|id| Value::Integer(*id))),
            |r| Ok((r.get::<_, i64>(0)?, normalise(&r.get::<_, String>(1)?))),
        )?
        .collect::<rusqlite::Result<HashMap<_, _>>>()?;
    Ok(rows)
}

fn invalid(field: &str, message: String) -> CoreError {
    CoreError::new(ErrorCode::Validation, message.clone()).with_field(field, message)
}
