//! Which words of a question the BM25 query keeps at scale: common words are dropped, rarest
//! first kept, using document frequencies remembered between searches.
//!
//! Why: BM25 costs one score per matching document, and a word found in a third of all
//! incidents ("laptop", "connection") makes the OR query score a third of the knowledge base
//! while adding little to the ranking (its IDF is small). Counting a word's documents is itself
//! a walk of its posting list (up to ~1 ms for a common word at 100k), so the counts are kept
//! until the knowledge base changes: support questions reuse a small vocabulary.
//!
//! Invariant: the counts are only a heuristic for choosing words; the scores always come from
//! FTS5 over the current data, so a stale count can change which words are kept, never a
//! result's score. The remembered counts are dropped when the newest incident id, the newest
//! version, or whether that version has finished changes.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension};

use crate::error::CoreResult;

/// Knowledge bases at least this large drop their most common query words.
const PRUNE_MIN_DOCS: i64 = 20_000;
/// Words are kept, rarest first, while together they match at most this share of incidents…
const PRUNE_SHARE: f64 = 0.15;
/// …and at most this many: scoring costs per incident scored, so a cap in incidents keeps a
/// query's cost from growing with the knowledge base (at 100k, 15 % scored made the hybrid
/// query's median 15.6 ms, 10k about 12 ms; BENCHMARKS.md).
const PRUNE_MAX_SCORED: i64 = 10_000;
/// Remembered words at most; past this the memory starts over (a pasted log can bring many).
const MAX_REMEMBERED: usize = 20_000;

/// What the remembered counts were taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct DataMark {
    max_incident: i64,
    max_version: i64,
    version_finished: bool,
}

/// The FTS5 queries for one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bm25Query {
    /// Ranks: which incidents are scored, and by which words.
    pub rank: String,
    /// Marks the snippets' hits: the words that chose the incidents (seeking a common word's
    /// posting list for each hit would cost as much as the ranking).
    pub mark: String,
}

impl Bm25Query {
    fn whole(fts: &str) -> Bm25Query {
        Bm25Query {
            rank: fts.to_string(),
            mark: fts.to_string(),
        }
    }
}

/// Document frequencies of FTS query terms (capped at the budget + 1), for one [`DataMark`].
#[derive(Debug, Default)]
pub struct TermCounts {
    mark: DataMark,
    df: HashMap<String, i64>,
}

/// The queries for the OR query `fts` (quoted terms joined by ` OR `, as `search::fts_query`
/// makes it). From [`PRUNE_MIN_DOCS`] incidents on, words are kept rarest first while their
/// summed document frequency stays within [`PRUNE_SHARE`] of the incidents and
/// [`PRUNE_MAX_SCORED`] (the rarest matching word is always kept): only incidents containing
/// a kept word are scored, by every word.
/// Small knowledge bases, where every query is cheap, use `fts` as it is; the vector list
/// always sees the whole question.
pub(crate) fn prune_common_terms(
    conn: &Connection,
    counts: &mut TermCounts,
    fts: &str,
) -> CoreResult<Bm25Query> {
    let terms: Vec<&str> = fts.split(" OR ").collect();
    if terms.len() < 2 {
        return Ok(Bm25Query::whole(fts));
    }
    let mark = data_mark(conn)?;
    // The highest row id stands in for the count (O(log n) instead of a 1.5 ms scan at 100k);
    // ids are never reused, so deletions only make it an overestimate, which is harmless here.
    let total = mark.max_incident;
    if total < PRUNE_MIN_DOCS {
        return Ok(Bm25Query::whole(fts));
    }
    if counts.mark != mark || counts.df.len() > MAX_REMEMBERED {
        counts.df.clear();
        counts.mark = mark;
    }
    let budget = ((total as f64 * PRUNE_SHARE) as i64).min(PRUNE_MAX_SCORED);
    // Counting one word's matches walks its posting list only, and stops past the budget: a
    // word matching more than the budget alone is only kept when it is the rarest.
    let mut count = conn.prepare_cached(
        "SELECT COUNT(*) FROM (SELECT 1 FROM incidents_fts WHERE incidents_fts MATCH ?1 LIMIT ?2)",
    )?;
    let mut by_df = Vec::with_capacity(terms.len());
    for t in &terms {
        let df = match counts.df.get(*t) {
            Some(df) => *df,
            None => {
                let df: i64 = count.query_row(rusqlite::params![t, budget + 1], |r| r.get(0))?;
                counts.df.insert((*t).to_string(), df);
                df
            }
        };
        if df > 0 {
            by_df.push((df, *t));
        }
    }
    if by_df.is_empty() {
        return Ok(Bm25Query::whole(fts));
    }
    by_df.sort();
    let mut kept = Vec::new();
    let mut used = 0;
    for (df, t) in &by_df {
        if !kept.is_empty() && used + df > budget {
            continue;
        }
        used += df;
        kept.push(*t);
    }
    if kept.len() == by_df.len() {
        // Nothing common to leave out (words found nowhere cost nothing).
        return Ok(Bm25Query::whole(fts));
    }
    let kept = kept.join(" OR ");
    // Every word scores the candidates the kept words choose. Dropping the common words
    // outright ranked "my vpn connection drops every few minutes…" by "drops", "few" and "home"
    // alone: BM25 precision@10 at 100k fell from 0.95 to 0.80 (BENCHMARKS.md); scoring with
    // them costs a walk of their posting lists, not a score for every incident holding them.
    // (The kept words appear twice and so weigh double: a tilt towards the rare words.)
    Ok(Bm25Query {
        rank: format!("({kept}) AND ({fts})"),
        mark: kept,
    })
}

/// Two primary-key lookups: every sync and rollback moves at least one of these.
fn data_mark(conn: &Connection) -> CoreResult<DataMark> {
    let max_incident: i64 = conn
        .prepare_cached("SELECT COALESCE(MAX(id), 0) FROM incidents")?
        .query_row([], |r| r.get(0))?;
    let version: Option<(i64, bool)> = conn
        .prepare_cached(
            "SELECT id, finished_at IS NOT NULL FROM versions ORDER BY id DESC LIMIT 1",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (max_version, version_finished) = version.unwrap_or((0, true));
    Ok(DataMark {
        max_incident,
        max_version,
        version_finished,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Just the tables pruning reads: `n` incidents whose text is `common` for every one,
    /// `rare` for every 100th and `medium` for every 10th.
    fn kb(n: i64) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE incidents (id INTEGER PRIMARY KEY);
             CREATE TABLE versions (id INTEGER PRIMARY KEY, finished_at TEXT);
             CREATE VIRTUAL TABLE incidents_fts USING fts5(body);
             INSERT INTO versions (finished_at) VALUES ('2025-06-30');",
        )
        .unwrap();
        add(&conn, 1, n);
        conn
    }

    fn add(conn: &Connection, from: i64, to: i64) {
        let tx = conn.unchecked_transaction().unwrap();
        for id in from..=to {
            let mut body = String::from("common");
            if id % 10 == 0 {
                body.push_str(" medium");
            }
            if id % 100 == 0 {
                body.push_str(" rare");
            }
            tx.execute("INSERT INTO incidents (id) VALUES (?1)", [id])
                .unwrap();
            tx.execute(
                "INSERT INTO incidents_fts (rowid, body) VALUES (?1, ?2)",
                rusqlite::params![id, body],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }

    const QUERY: &str = r#""common" OR "medium" OR "rare" OR "absent""#;

    #[test]
    fn small_knowledge_bases_keep_every_word() {
        let conn = kb(1_000);
        let mut counts = TermCounts::default();
        let q = prune_common_terms(&conn, &mut counts, QUERY).unwrap();
        assert_eq!((q.rank.as_str(), q.mark.as_str()), (QUERY, QUERY));
        assert!(counts.df.is_empty(), "nothing is counted below the size");
    }

    #[test]
    fn at_scale_common_words_go_rarest_first_and_counts_are_remembered() {
        let conn = kb(PRUNE_MIN_DOCS);
        let mut counts = TermCounts::default();
        // rare 1% + medium 10% fit in 15%; common (100%) does not; absent matches nothing.
        // Incidents with a kept word are scored by every word; hits mark the kept ones.
        let pruned = prune_common_terms(&conn, &mut counts, QUERY).unwrap();
        assert_eq!(pruned.mark, r#""rare" OR "medium""#);
        assert_eq!(
            pruned.rank,
            format!(r#"("rare" OR "medium") AND ({QUERY})"#)
        );
        let scored: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM incidents_fts WHERE incidents_fts MATCH ?1",
                [&pruned.rank],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(scored, 2_000, "only incidents with a kept word are scored");
        assert_eq!(counts.df.get(r#""rare""#), Some(&200));
        // Remembered: a second search counts nothing new (the map is unchanged, and a word
        // that no longer exists in the data would still be ranked by its remembered count).
        conn.execute("DELETE FROM incidents_fts WHERE body LIKE '%rare%'", [])
            .unwrap();
        assert_eq!(
            prune_common_terms(&conn, &mut counts, QUERY).unwrap(),
            pruned,
            "same data mark, same counts"
        );
        // A single word is never pruned, however common; nor are words that are all rare.
        for whole in [r#""common""#, r#""rare" OR "medium" OR "absent""#] {
            let q = prune_common_terms(&conn, &mut counts, whole).unwrap();
            assert_eq!((q.rank.as_str(), q.mark.as_str()), (whole, whole));
        }
    }

    #[test]
    fn a_sync_or_a_new_version_refreshes_the_counts() {
        let conn = kb(PRUNE_MIN_DOCS);
        let mut counts = TermCounts::default();
        prune_common_terms(&conn, &mut counts, QUERY).unwrap();
        // A running version (a sync under way) changes the mark: counts are taken again.
        conn.execute("INSERT INTO versions (finished_at) VALUES (NULL)", [])
            .unwrap();
        conn.execute("DELETE FROM incidents_fts WHERE body LIKE '%rare%'", [])
            .unwrap();
        assert_eq!(
            prune_common_terms(&conn, &mut counts, QUERY).unwrap().mark,
            r#""medium""#,
            "rare is gone from the data and from the chosen words"
        );
        // Its end changes the mark again; so do new incidents.
        conn.execute(
            "UPDATE versions SET finished_at = '2025-07-01' WHERE finished_at IS NULL",
            [],
        )
        .unwrap();
        let before = counts.mark;
        add(&conn, PRUNE_MIN_DOCS + 1, PRUNE_MIN_DOCS + 10);
        prune_common_terms(&conn, &mut counts, QUERY).unwrap();
        assert_ne!(counts.mark, before);
        assert_eq!(counts.mark.max_incident, PRUNE_MIN_DOCS + 10);
        assert!(counts.mark.version_finished);
    }
}
