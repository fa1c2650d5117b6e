//! Hits as the user sees them: rows, ranks, similarity and a highlighted snippet.

use std::collections::HashMap;

use rusqlite::params_from_iter;
use rusqlite::types::Value;

use rusqlite::Connection;

use super::lists::dot;
use super::{Lists, SearchHit, SnippetPart, SnippetSource};
use crate::error::CoreResult;
use crate::kb::store::blob_to_vector;

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

/// The hits for `ranked` (already cut to k), in that order, with ranks, similarity and snippet.
pub(super) fn hydrate(
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
        let (snippet, snippet_source) = choose_snippet(
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
                relevance: similarity.map(crate::kb::relevance::relevance),
                snippet,
                snippet_source,
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
/// resolution (open incidents), the description's snippet or start, said to be that.
fn choose_snippet(
    resolution: &str,
    description: &str,
    resolution_snippet: Option<String>,
    description_snippet: Option<String>,
) -> (Vec<SnippetPart>, SnippetSource) {
    let with_hit = |s: Option<String>| {
        s.map(|s| parse_snippet(&s))
            .filter(|parts| parts.iter().any(|p| p.hit))
    };
    if let Some(parts) = with_hit(resolution_snippet) {
        return (parts, SnippetSource::Resolution);
    }
    if !resolution.trim().is_empty() {
        return (leading_words(resolution), SnippetSource::Resolution);
    }
    if let Some(parts) = with_hit(description_snippet) {
        return (parts, SnippetSource::Description);
    }
    (leading_words(description), SnippetSource::Description)
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
