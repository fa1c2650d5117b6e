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
//!
//! Entries without relevant incidents are **out of scope**: questions no incident answers.
//! With or without them, each question is also put to the knowledge-base bot
//! ([`crate::chat::bot::answer`]) and the report gives its rates: in-scope questions answered
//! with a relevant incident among the citations, in-scope questions declined, out-of-scope
//! questions declined.

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
    /// Numbers of the incidents that answer it; none for an out-of-scope question.
    #[serde(default)]
    pub relevant: Vec<String>,
}

impl EvalQuery {
    /// The relevant incident numbers, normalised; empty for an out-of-scope question.
    fn relevant_numbers(&self) -> HashSet<String> {
        self.relevant
            .iter()
            .map(|r| normalise(r))
            .filter(|r| !r.is_empty())
            .collect()
    }
}

/// What the bot did with the questions (rates in [0, 1]; `None` without such questions).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct BotRates {
    /// In-scope questions answered (not declined) citing at least one relevant incident.
    pub answered_relevant: Option<f64>,
    /// In-scope questions declined.
    pub in_scope_declined: Option<f64>,
    /// Out-of-scope questions declined.
    pub out_of_scope_declined: Option<f64>,
    /// Median confidence of in-scope and of out-of-scope questions.
    pub median_confidence_in_scope: Option<f64>,
    pub median_confidence_out_of_scope: Option<f64>,
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
    /// In-scope queries (the retrieval metrics average over these).
    pub queries: usize,
    /// Out-of-scope queries (only the bot's rates use them).
    #[serde(default)]
    pub out_of_scope: usize,
    pub bm25: Metrics,
    pub vector: Metrics,
    pub hybrid: Metrics,
    #[serde(default)]
    pub bot: BotRates,
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
            texts.push(text);
        }
        let vectors = self.knowledge_base().embedder()?.embed(&texts)?;
        let filters = FilterSql::new(&SearchFilters::default())?;
        let n = candidates(EVAL_K);

        let mut sums: HashMap<SearchMethod, Metrics> = HashMap::new();
        let mut in_scope = 0usize;
        for ((q, text), vector) in queries.iter().zip(&texts).zip(&vectors) {
            let relevant = q.relevant_numbers();
            if relevant.is_empty() {
                continue;
            }
            in_scope += 1;
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
        let count = in_scope.max(1) as f64;
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
            queries: in_scope,
            out_of_scope: queries.len() - in_scope,
            bot: self.bot_rates(actor, queries)?,
            bm25: mean(SearchMethod::Bm25),
            vector: mean(SearchMethod::Vector),
            hybrid: mean(SearchMethod::Hybrid),
        })
    }
}

impl Core {
    /// Puts every question to the bot and measures its rates (see the module docs).
    fn bot_rates(&self, actor: &Actor, queries: &[EvalQuery]) -> CoreResult<BotRates> {
        let mut answered_relevant = Vec::new();
        let mut declined_in = Vec::new();
        let mut declined_out = Vec::new();
        let mut conf_in = Vec::new();
        let mut conf_out = Vec::new();
        for q in queries {
            let relevant = q.relevant_numbers();
            let answer = crate::chat::bot::answer(self, actor, &q.query)?;
            let confidence = f64::from(answer.confidence);
            if relevant.is_empty() {
                declined_out.push(answer.declined);
                conf_out.push(confidence);
            } else {
                declined_in.push(answer.declined);
                conf_in.push(confidence);
                answered_relevant.push(
                    !answer.declined
                        && answer
                            .citations
                            .iter()
                            .any(|c| relevant.contains(&normalise(&c.number))),
                );
            }
        }
        Ok(BotRates {
            answered_relevant: rate(&answered_relevant),
            in_scope_declined: rate(&declined_in),
            out_of_scope_declined: rate(&declined_out),
            median_confidence_in_scope: median(conf_in),
            median_confidence_out_of_scope: median(conf_out),
        })
    }
}

/// The share of `true`s; `None` for none at all.
fn rate(flags: &[bool]) -> Option<f64> {
    (!flags.is_empty()).then(|| flags.iter().filter(|f| **f).count() as f64 / flags.len() as f64)
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 0 {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
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
