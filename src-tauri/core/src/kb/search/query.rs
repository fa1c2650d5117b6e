//! The user's text as search input: its words, the stop list, and the FTS5 OR query built
//! from them (only letters and digits ever inside the quotes).

use std::collections::HashSet;

use rusqlite::Connection;

use crate::error::CoreResult;
use crate::kb::prune::{prune_common_terms, Bm25Query};
use crate::kb::KnowledgeBase;

/// Distinct words of the text that go into the BM25 query; a pasted log excerpt does not turn
/// into a query of thousands of terms.
const MAX_TERMS: usize = 64;

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

/// The distinct words of `text` that carry a topic (no stop words), in order.
pub(crate) fn content_words(text: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    words(text)
        .into_iter()
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .filter(|w| seen.insert(w.clone()))
        .collect()
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
