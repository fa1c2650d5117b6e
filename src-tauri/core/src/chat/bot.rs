//! The knowledge-base bot: answers a question from past incidents. It searches the knowledge
//! base (hybrid BM25 + vector, k = [`K`]), cites the best matches, quotes the resolution that
//! worked for the top match, and says how sure it is.
//!
//! **Confidence** (0..1) is a heuristic, not a probability. Two signals, both visible in a hit:
//! - *closeness*: the top hit's cosine similarity to the question, mapped linearly from
//!   [`SIM_FLOOR`] (0: the similarity MiniLM gives unrelated IT texts) to [`SIM_CEIL`] (1: the
//!   same problem in other words). Without a similarity (keyword-only hit) it counts as
//!   [`NO_SIMILARITY`].
//! - *agreement*: whether the keyword and the vector rankings agree on the top hit: 1 when it
//!   is in the top 3 of both lists, 0.5 when it is in both lists at all, 0 otherwise. Two
//!   independent methods landing on the same incident is the best cheap evidence that it
//!   matches the question and not just its vocabulary or its topic.
//!
//! `confidence = 0.75 · closeness + 0.25 · agreement`; below [`LOW_CONFIDENCE`] (the UI's
//! "Low" band) the answer says it is unsure and offers a human. An empty knowledge base gets an
//! answer that says to sync first, with confidence 0.
//!
//! The search goes through [`search`] only, so swapping the retrieval changes one function.

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use crate::access::Actor;
use crate::error::CoreResult;
use crate::kb::SearchRequest;
use crate::Core;

/// Matches fetched per question; the answer cites the best [`CITED`].
pub const K: usize = 5;
/// Citations shown with an answer.
pub const CITED: usize = 3;
/// Similarity mapped to closeness 0.
pub const SIM_FLOOR: f32 = 0.25;
/// Similarity mapped to closeness 1.
pub const SIM_CEIL: f32 = 0.75;
/// Closeness of a hit that has no similarity (found by keywords only).
pub const NO_SIMILARITY: f32 = 0.3;
/// Under this the answer is marked `low_confidence` and offers a human.
pub const LOW_CONFIDENCE: f32 = 0.45;

/// A past incident an answer relies on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Citation {
    /// The knowledge-base id (the incident detail view's key); absent in answers stored
    /// before it was recorded.
    #[serde(default)]
    pub incident_id: Option<i64>,
    pub number: String,
    pub short_description: String,
    pub link: String,
    pub score: f64,
}

/// The bot's answer (the UI contract's `BotAnswer`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BotAnswer {
    pub text: String,
    pub resolution: Option<String>,
    pub citations: Vec<Citation>,
    pub confidence: f32,
    pub low_confidence: bool,
}

/// What the bot needs of a search hit (a subset of the knowledge base's `SearchHit`).
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub incident_id: i64,
    pub number: String,
    pub short_description: String,
    pub link: String,
    pub score: f64,
    pub similarity: Option<f32>,
    pub bm25_rank: Option<u32>,
    pub vector_rank: Option<u32>,
}

/// The retrieval, in one place: the knowledge base's hybrid search (BM25 + vector, fused by
/// reciprocal rank) for `question`, best first. The question is cut to the search's limits
/// (a chat message can be longer than a search box allows).
fn search(core: &Core, actor: &Actor, question: &str, k: usize) -> CoreResult<Vec<Match>> {
    let query: String = question.chars().take(500).collect();
    let mut request = SearchRequest::new(query);
    request.k = k;
    let results = core.kb_search(actor, &request)?;
    Ok(results
        .hits
        .into_iter()
        .map(|h| Match {
            incident_id: h.incident_id,
            number: h.number,
            short_description: h.short_description,
            link: h.link,
            score: h.score,
            similarity: h.similarity,
            bm25_rank: h.bm25_rank,
            vector_rank: h.vector_rank,
        })
        .collect())
}

/// The heuristic of the module docs, from the ranked matches.
pub fn confidence(matches: &[Match]) -> f32 {
    let Some(top) = matches.first() else {
        return 0.0;
    };
    let closeness = match top.similarity {
        Some(s) => ((s - SIM_FLOOR) / (SIM_CEIL - SIM_FLOOR)).clamp(0.0, 1.0),
        None => NO_SIMILARITY,
    };
    let agreement = match (top.bm25_rank, top.vector_rank) {
        (Some(b), Some(v)) if b <= 3 && v <= 3 => 1.0,
        (Some(_), Some(_)) => 0.5,
        _ => 0.0,
    };
    (0.75 * closeness + 0.25 * agreement).clamp(0.0, 1.0)
}

/// How many incidents the knowledge base holds.
fn incident_count(core: &Core) -> CoreResult<i64> {
    Ok(core
        .db()
        .conn()
        .query_row("SELECT COUNT(*) FROM incidents", [], |r| r.get(0))?)
}

/// The resolution recorded on an incident, when it has one.
fn resolution(core: &Core, incident_id: i64) -> CoreResult<Option<String>> {
    let text: Option<String> = core
        .db()
        .conn()
        .query_row(
            "SELECT resolution FROM incidents WHERE id = ?1",
            [incident_id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()))
}

/// The answer when nothing was synced yet.
pub fn empty_knowledge_base() -> BotAnswer {
    BotAnswer {
        text:
            "The knowledge base is empty, so I have no past incidents to learn from yet. Sync an \
               integration first (Settings > Integrations > Sync now, or `supportbot sync`), \
               then ask again, or type \"agent\" to talk to a human."
                .into(),
        resolution: None,
        citations: Vec::new(),
        confidence: 0.0,
        low_confidence: true,
    }
}

/// Answers `question` from the knowledge base. CPU-bound (embeds the question) and does SQLite
/// I/O: call it on a blocking thread.
pub fn answer(core: &Core, actor: &Actor, question: &str) -> CoreResult<BotAnswer> {
    actor.require(crate::Permission::IntegrationView)?;
    if incident_count(core)? == 0 {
        return Ok(empty_knowledge_base());
    }
    if !question.chars().any(char::is_alphanumeric) {
        // Nothing to search for (the search refuses wordless queries).
        return compose(&[], |_| Ok(None));
    }
    let matches = search(core, actor, question, K)?;
    compose(&matches, |id| resolution(core, id))
}

/// Builds the answer from ranked matches; `resolution_of` reads an incident's resolution.
pub fn compose(
    matches: &[Match],
    mut resolution_of: impl FnMut(i64) -> CoreResult<Option<String>>,
) -> CoreResult<BotAnswer> {
    let confidence = confidence(matches);
    let low_confidence = confidence < LOW_CONFIDENCE;
    let citations: Vec<Citation> = matches
        .iter()
        .take(CITED)
        .map(|m| Citation {
            incident_id: Some(m.incident_id),
            number: m.number.clone(),
            short_description: m.short_description.clone(),
            link: m.link.clone(),
            score: m.score,
        })
        .collect();
    let Some(top) = matches.first() else {
        return Ok(BotAnswer {
            text: "I found no past incident like this one. Try other words, or type \"agent\" to \
                   talk to a human."
                .into(),
            resolution: None,
            citations,
            confidence: 0.0,
            low_confidence: true,
        });
    };
    // The top match's resolution; when it has none, the next cited match that has one.
    let mut resolution = None;
    let mut source = top;
    for m in matches.iter().take(CITED) {
        if let Some(r) = resolution_of(m.incident_id)? {
            resolution = Some(r);
            source = m;
            break;
        }
    }
    let others: Vec<&str> = citations
        .iter()
        .filter(|c| c.number != source.number)
        .map(|c| c.number.as_str())
        .collect();
    let mut text = if low_confidence {
        format!(
            "I'm not sure this matches, but the closest past incident is {} (\"{}\").",
            source.number, source.short_description
        )
    } else {
        format!(
            "This looks like {} (\"{}\").",
            source.number, source.short_description
        )
    };
    match &resolution {
        Some(r) => text.push_str(&format!(" What fixed it: {r}")),
        None => text.push_str(" It has no recorded resolution."),
    }
    if !others.is_empty() {
        text.push_str(&format!(" Similar: {}.", others.join(", ")));
    }
    if low_confidence {
        text.push_str(
            " If this doesn't help, type \"agent\" or choose \"Talk to a human\" and a live agent \
             will take over.",
        );
    }
    Ok(BotAnswer {
        text,
        resolution,
        citations,
        confidence,
        low_confidence,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(n: u32, similarity: Option<f32>, bm25: Option<u32>, vector: Option<u32>) -> Match {
        Match {
            incident_id: i64::from(n),
            number: format!("INC{n:07}"),
            short_description: format!("problem {n}"),
            link: format!("https://x/{n}"),
            score: 0.5,
            similarity,
            bm25_rank: bm25,
            vector_rank: vector,
        }
    }

    #[test]
    fn confidence_follows_closeness_and_agreement() {
        assert_eq!(confidence(&[]), 0.0);
        let close_agreed = confidence(&[hit(1, Some(0.8), Some(1), Some(1))]);
        assert!((close_agreed - 1.0).abs() < 1e-6);
        let close_alone = confidence(&[hit(1, Some(0.8), None, Some(1))]);
        assert!((close_alone - 0.75).abs() < 1e-6);
        let far = confidence(&[hit(1, Some(0.2), Some(9), Some(8))]);
        assert!((far - 0.125).abs() < 1e-6);
        let mid = confidence(&[hit(1, Some(0.5), Some(2), Some(3))]);
        assert!((mid - 0.625).abs() < 1e-6);
        let keywords_only = confidence(&[hit(1, None, Some(1), None)]);
        assert!((keywords_only - 0.225).abs() < 1e-6);
    }

    #[test]
    fn answers_cite_and_quote_the_resolution() {
        let matches = [
            hit(1, Some(0.8), Some(1), Some(1)),
            hit(2, Some(0.7), Some(2), Some(2)),
            hit(3, Some(0.6), None, Some(3)),
            hit(4, Some(0.5), None, Some(4)),
        ];
        let a = compose(&matches, |id| {
            Ok((id == 1).then(|| "Reinstalled the VPN client.".to_owned()))
        })
        .unwrap();
        assert!(!a.low_confidence);
        assert_eq!(a.resolution.as_deref(), Some("Reinstalled the VPN client."));
        assert_eq!(a.citations.len(), CITED);
        assert_eq!(a.citations[0].number, "INC0000001");
        assert!(a.text.starts_with("This looks like INC0000001"));
        assert!(a.text.contains("Similar: INC0000002, INC0000003."));
        assert!(!a.text.contains("agent"));
    }

    #[test]
    fn weak_answers_offer_a_human_and_fall_back_to_a_cited_resolution() {
        let matches = [
            hit(1, Some(0.3), None, Some(1)),
            hit(2, Some(0.29), None, Some(2)),
        ];
        let a = compose(&matches, |id| Ok((id == 2).then(|| "Rebooted.".to_owned()))).unwrap();
        assert!(a.low_confidence);
        assert!(a.text.contains("INC0000002") && a.text.contains("Rebooted."));
        assert!(a.text.contains("\"agent\""));
        let none = compose(&[], |_| Ok(None)).unwrap();
        assert!(none.low_confidence && none.citations.is_empty());
        let empty = empty_knowledge_base();
        assert!(empty.text.contains("Sync") && empty.low_confidence);
    }
}
