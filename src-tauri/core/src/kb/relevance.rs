//! How well an incident matches a question, as a number a person can read: a logistic curve
//! over the cosine similarity of the two embeddings, fitted on labelled questions so that a
//! relevance of 0.8 means that about 8 in 10 matches that close were right answers on them.
//!
//! Fitted by `scripts/retrieval/tune.py` on the **tuning** sets only
//! (`tests/data/kb_tuning_demo.json`, `tests/data/kb_decline_tuning.json` and
//! `kb_decline_tuning_hard.json`: user-style
//! questions over the demo incidents and questions no incident answers); the unseen
//! evaluation set (`tests/data/corpus_b/`) only reports the result (BENCHMARKS.md, "Retrieval
//! quality"). A positive is a question whose best match is one of its relevant incidents;
//! negatives are out-of-scope questions and wrong best matches.
//!
//! The curve belongs to the embedding model (all-MiniLM-L6-v2): similarities of another model
//! sit elsewhere, so a model change refits it.

/// Similarity at which a match is as likely right as wrong.
pub const MIDPOINT: f32 = 0.485;
/// How fast relevance rises around the midpoint (per unit of similarity).
pub const STEEPNESS: f32 = 16.8;

/// The relevance of a match whose similarity to the question is `similarity`, in [0, 1].
pub fn relevance(similarity: f32) -> f32 {
    if !similarity.is_finite() {
        return 0.0;
    }
    1.0 / (1.0 + (-STEEPNESS * (similarity - MIDPOINT)).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relevance_rises_with_similarity_and_stays_in_bounds() {
        assert!((relevance(MIDPOINT) - 0.5).abs() < 1e-6);
        assert!(relevance(0.9) > relevance(0.6) && relevance(0.6) > relevance(0.2));
        for s in [-1.0, 0.0, 1.0, f32::NAN, f32::INFINITY] {
            let r = relevance(s);
            assert!((0.0..=1.0).contains(&r), "{s}: {r}");
        }
    }
}
