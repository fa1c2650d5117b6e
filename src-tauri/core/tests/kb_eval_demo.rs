//! The labelled search set over the demo data (`tests/data/kb_eval_demo.json`, used by
//! `supportbot kb eval` and BENCHMARKS.md): every query's `relevant` list must be exactly the
//! incidents of one simulator scenario in the demo data (500 incidents, seed 42), as the
//! deterministic generator produces them — labels are computed, never hand-picked.
//!
//! `SUPPORTBOT_PRINT_SCENARIOS=1 cargo test -p supportbot-core --test kb_eval_demo -- --nocapture`
//! prints each scenario's short descriptions and incident numbers as JSON: that is how the
//! file's labels were made.

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;

use serde_json::{json, Value};
use supportbot_sim::catalog::{scenario_of, SCENARIOS};

/// The simulator's defaults, which the demo integration and `supportbot sim` serve.
const DEMO_INCIDENTS: usize = 500;
const DEMO_SEED: u64 = 42;

fn eval_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/kb_eval_demo.json")
}

/// The incident numbers of each scenario (by index in `SCENARIOS`) in the demo data.
fn scenario_numbers() -> Vec<BTreeSet<String>> {
    let data = supportbot_sim::data::generate(DEMO_INCIDENTS, DEMO_SEED);
    let mut by_scenario = vec![BTreeSet::new(); SCENARIOS.len()];
    for incident in &data.incidents {
        let scenario = scenario_of(&incident["description"]).unwrap_or_else(|| {
            panic!(
                "{} matches no single scenario: {}",
                incident["number"], incident["description"]
            )
        });
        by_scenario[scenario].insert(incident["number"].clone());
    }
    by_scenario
}

#[test]
fn demo_labels_are_whole_scenarios() {
    let scenarios = scenario_numbers();
    if std::env::var("SUPPORTBOT_PRINT_SCENARIOS").as_deref() == Ok("1") {
        let printed: Vec<Value> = SCENARIOS
            .iter()
            .zip(&scenarios)
            .enumerate()
            .map(
                |(i, (s, numbers))| json!({"scenario": i, "shorts": s.shorts, "relevant": numbers}),
            )
            .collect();
        println!("{}", serde_json::to_string_pretty(&printed).unwrap());
    }
    let text = std::fs::read_to_string(eval_file()).expect("tests/data/kb_eval_demo.json");
    let queries: Vec<Value> = serde_json::from_str(&text).expect("a JSON array");
    assert!(
        queries.len() >= 50,
        "the issue asks for at least 50 queries"
    );

    let titles: HashSet<String> = supportbot_sim::data::generate(DEMO_INCIDENTS, DEMO_SEED)
        .incidents
        .iter()
        .map(|i| i["short_description"].to_lowercase())
        .collect();
    let mut seen = HashSet::new();
    let mut covered = HashSet::new();
    for q in &queries {
        let query = q["query"].as_str().expect("query text");
        assert!(
            seen.insert(query.to_lowercase()),
            "duplicate query {query:?}"
        );
        assert!(
            !titles.contains(&query.to_lowercase()),
            "{query:?} copies an incident title; write it the way a user asks"
        );
        let relevant: BTreeSet<String> = q["relevant"]
            .as_array()
            .expect("relevant list")
            .iter()
            .map(|n| n.as_str().unwrap().to_string())
            .collect();
        let scenario = scenarios.iter().position(|s| *s == relevant);
        assert!(
            scenario.is_some(),
            "{query:?}: relevant is not exactly one scenario's incidents"
        );
        covered.extend(scenario);
    }
    assert!(
        covered.len() >= SCENARIOS.len() * 3 / 4,
        "the set should cover most scenarios, covers {}",
        covered.len()
    );
}
