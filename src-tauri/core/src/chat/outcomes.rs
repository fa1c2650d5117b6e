//! What the knowledge-base bot did with the questions it got (`bot_answers`, migration 0010):
//! one row per answer, the **Knowledge gaps** they reveal (declined questions and answers
//! rated unhelpful, grouped by similar question) and the chat statistics.
//!
//! Deflection is counted only from explicit "helpful" ratings: an answer nobody rated, or a
//! chat that simply ended, proves nothing; a hand-off counts as not resolved by the bot.
//!
//! Grouping is by the question's topic words (stop words dropped, a plural `s` ignored): two
//! questions are one gap when they share at least [`SAME_GAP`] of their words (Jaccard). It
//! needs no model, so the list works before one is installed, and it is deterministic.

use std::collections::BTreeSet;

use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

use crate::clock::now_rfc3339;
use crate::error::CoreResult;
use crate::kb::search::content_words;
use crate::{Actor, Core, Permission};

/// Jaccard overlap of topic words from which two questions are the same gap.
pub const SAME_GAP: f64 = 0.5;
/// Most gaps listed (the newest).
pub const MAX_GAPS: usize = 200;
/// Questions read when listing gaps (the newest), so a long history stays quick.
const GAP_WINDOW: i64 = 5_000;

/// One bot answer as recorded.
#[derive(Debug, Clone)]
pub struct Outcome<'a> {
    pub question: &'a str,
    pub declined: bool,
    pub confidence: f32,
    pub cited: Vec<String>,
}

/// Records the outcome of the bot answer `message_id` of `session_id`.
pub fn record(
    conn: &Connection,
    message_id: i64,
    session_id: i64,
    outcome: &Outcome<'_>,
) -> CoreResult<()> {
    let cited = serde_json::to_string(&outcome.cited).unwrap_or_else(|_| "[]".into());
    conn.execute(
        "INSERT OR REPLACE INTO bot_answers
             (message_id, session_id, question, declined, confidence, cited, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            message_id,
            session_id,
            outcome.question,
            outcome.declined,
            f64::from(outcome.confidence),
            cited,
            now_rfc3339()
        ],
    )?;
    Ok(())
}

/// Why the bot did not resolve a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GapReason {
    /// The bot found no good answer and said so.
    Declined,
    /// The bot answered and the user rated the answer unhelpful.
    Unhelpful,
}

impl GapReason {
    pub fn as_str(self) -> &'static str {
        match self {
            GapReason::Declined => "declined",
            GapReason::Unhelpful => "unhelpful",
        }
    }
}

/// Questions the knowledge base could not answer, one similar group and reason per entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnowledgeGap {
    /// The newest wording of the question.
    pub question: String,
    pub reason: GapReason,
    /// How many times it was asked (declined) or rated unhelpful.
    pub count: u32,
    /// RFC 3339 UTC.
    pub last_asked: String,
    /// Other wordings of the same gap, newest first (at most five).
    pub examples: Vec<String>,
    /// Incidents the unhelpful answers cited (empty for declined questions).
    pub cited: Vec<String>,
}

/// The chat statistics (`supportbot chat stats`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChatStats {
    /// Chat sessions started.
    pub sessions: u64,
    /// Questions the bot answered with a cited incident.
    pub answered: u64,
    /// Questions the bot declined (no good answer: it offered a human).
    pub declined: u64,
    /// Answers rated helpful: the only evidence a question was resolved by the bot.
    pub helpful: u64,
    /// Answers rated unhelpful.
    pub unhelpful: u64,
    /// Sessions handed to a human agent (not resolved by the bot).
    pub handed_off: u64,
    /// helpful / (answered + declined); `None` before the first question.
    pub deflection_rate: Option<f64>,
}

impl Core {
    /// The chat statistics. Permission: `integration.view`.
    pub fn chat_stats(&self, actor: &Actor) -> CoreResult<ChatStats> {
        actor.require(Permission::IntegrationView)?;
        let conn = self.db().conn();
        let count = |sql: &str| -> CoreResult<u64> {
            let n: i64 = conn.query_row(sql, [], |r| r.get(0))?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        let answered = count("SELECT COUNT(*) FROM bot_answers WHERE declined = 0")?;
        let declined = count("SELECT COUNT(*) FROM bot_answers WHERE declined = 1")?;
        let helpful = count(
            "SELECT COUNT(*) FROM chat_feedback f JOIN chat_messages m ON m.id = f.message_id
             WHERE f.helpful = 1 AND m.kind = 'bot_answer'",
        )?;
        let unhelpful = count(
            "SELECT COUNT(*) FROM chat_feedback f JOIN chat_messages m ON m.id = f.message_id
             WHERE f.helpful = 0 AND m.kind = 'bot_answer'",
        )?;
        let questions = answered + declined;
        Ok(ChatStats {
            sessions: count("SELECT COUNT(*) FROM chat_sessions")?,
            answered,
            declined,
            helpful,
            unhelpful,
            handed_off: count(
                "SELECT COUNT(DISTINCT session_id) FROM chat_requests WHERE action = 'AGENT'",
            )?,
            #[allow(clippy::cast_precision_loss)]
            deflection_rate: (questions > 0).then(|| helpful as f64 / questions as f64),
        })
    }

    /// The knowledge gaps, newest first. Permission: `integration.view`.
    pub fn kb_gaps(&self, actor: &Actor) -> CoreResult<Vec<KnowledgeGap>> {
        actor.require(Permission::IntegrationView)?;
        let conn = self.db().conn();
        let mut statement = conn.prepare(
            "SELECT question, reason, at, cited FROM (
                 SELECT question, 'declined' AS reason, created_at AS at, '[]' AS cited
                 FROM bot_answers WHERE declined = 1
                 UNION ALL
                 SELECT b.question, 'unhelpful', f.created_at, b.cited
                 FROM chat_feedback f JOIN bot_answers b ON b.message_id = f.message_id
                 WHERE f.helpful = 0
             ) ORDER BY at DESC LIMIT ?1",
        )?;
        let asked = statement
            .query_map([GAP_WINDOW], |r| {
                Ok(Asked {
                    question: r.get(0)?,
                    reason: if r.get::<_, String>(1)? == "declined" {
                        GapReason::Declined
                    } else {
                        GapReason::Unhelpful
                    },
                    at: r.get(2)?,
                    cited: serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or_default(),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(group(asked))
    }
}

/// One declined question or one unhelpful rating.
#[derive(Debug, Clone)]
pub(crate) struct Asked {
    pub question: String,
    pub reason: GapReason,
    pub at: String,
    pub cited: Vec<String>,
}

/// The topic words of a question, a plural `s` ignored.
fn topic_words(question: &str) -> BTreeSet<String> {
    content_words(question)
        .into_iter()
        .map(|w| match w.strip_suffix('s') {
            Some(stem) if stem.len() >= 3 && !stem.ends_with('s') => stem.to_owned(),
            _ => w,
        })
        .collect()
}

#[allow(clippy::cast_precision_loss)]
fn jaccard(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    let union = a.union(b).count();
    if union == 0 {
        return 1.0;
    }
    a.intersection(b).count() as f64 / union as f64
}

/// Groups `asked` (newest first) by reason and similar question; each group keeps the newest
/// wording and time. Greedy: a question joins the first group (newest first) it is similar to.
pub(crate) fn group(asked: Vec<Asked>) -> Vec<KnowledgeGap> {
    let mut groups: Vec<(BTreeSet<String>, KnowledgeGap)> = Vec::new();
    for a in asked {
        let words = topic_words(&a.question);
        let room = groups.len() < MAX_GAPS;
        let same = groups
            .iter_mut()
            .find(|(w, g)| g.reason == a.reason && jaccard(w, &words) >= SAME_GAP);
        match same {
            Some((_, gap)) => {
                gap.count += 1;
                let wording = a.question.trim();
                if !wording.eq_ignore_ascii_case(gap.question.trim())
                    && gap.examples.len() < 5
                    && !gap.examples.iter().any(|e| e.eq_ignore_ascii_case(wording))
                {
                    gap.examples.push(wording.to_owned());
                }
                for number in a.cited {
                    if !gap.cited.contains(&number) {
                        gap.cited.push(number);
                    }
                }
            }
            None if room => groups.push((
                words,
                KnowledgeGap {
                    question: a.question.trim().to_owned(),
                    reason: a.reason,
                    count: 1,
                    last_asked: a.at,
                    examples: Vec::new(),
                    cited: a.cited,
                },
            )),
            None => {}
        }
    }
    groups.into_iter().map(|(_, g)| g).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(question: &str, reason: GapReason, at: &str) -> Asked {
        Asked {
            question: question.into(),
            reason,
            at: at.into(),
            cited: Vec::new(),
        }
    }

    #[test]
    fn similar_questions_are_one_gap_per_reason_newest_first() {
        let gaps = group(vec![
            asked(
                "What is on the canteen menu today?",
                GapReason::Declined,
                "2026-12-03T10:00:00Z",
            ),
            asked(
                "how do I set up a mail merge",
                GapReason::Declined,
                "2026-12-03T09:00:00Z",
            ),
            asked("canteen menu", GapReason::Declined, "2026-12-02T10:00:00Z"),
            asked("canteen menu", GapReason::Unhelpful, "2026-12-01T10:00:00Z"),
            asked(
                "what's on the canteen menus",
                GapReason::Declined,
                "2026-11-30T10:00:00Z",
            ),
        ]);
        assert_eq!(gaps.len(), 3, "{gaps:#?}");
        assert_eq!(gaps[0].question, "What is on the canteen menu today?");
        assert_eq!((gaps[0].count, gaps[0].reason), (3, GapReason::Declined));
        assert_eq!(gaps[0].last_asked, "2026-12-03T10:00:00Z");
        assert_eq!(
            gaps[0].examples,
            vec!["canteen menu", "what's on the canteen menus"]
        );
        assert_eq!(gaps[1].question, "how do I set up a mail merge");
        assert_eq!((gaps[2].count, gaps[2].reason), (1, GapReason::Unhelpful));
    }
}
