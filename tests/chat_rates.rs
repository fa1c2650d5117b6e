//! The bot's three rates on the unseen evaluation set, measured the way a user meets the bot:
//! corpus B (`tests/data/corpus_b/`, another company's incidents) served by `supportbot sim
//! --fixture`, synced through the CLI, and every question of `corpus_b/eval.json` typed into
//! `supportbot chat --json`. Prints the rates; asserts only generous floors (the exact figures
//! are in BENCHMARKS.md, "Retrieval quality and honest answers"). Then rates the answers and
//! checks `kb gaps --json` and `chat stats --json` against what happened.

mod common;

use std::collections::HashSet;
use std::path::PathBuf;

use common::console::{cli, Console};
use serde_json::Value;

fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path)
}

#[test]
fn the_bots_rates_on_unseen_questions_through_the_chat_console() {
    let dir = tempfile::tempdir().unwrap();
    if !common::model_ready(dir.path()) {
        return;
    }
    let sim = common::Sim::fixture(&data("corpus_b/incidents.json"));
    let run = |args: &[&str]| {
        let out = cli(dir.path())
            .args(args)
            .env("SUPPORTBOT_PASSWORD", "admin")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        out
    };
    common::add_sim_integration(dir.path(), "Northwind", &sim.1);
    run(&["sync", "Northwind", "--json"]);

    let set: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(data("corpus_b/eval.json")).unwrap())
            .unwrap();
    let mut c = Console::start(dir.path(), &["--sim-url", &sim.1]);
    let (mut answered_relevant, mut declined_in, mut declined_out) = (0, 0, 0);
    let (mut in_scope, mut out_of_scope) = (0, 0);
    let mut first_answered: Option<String> = None;
    let mut declined_questions = HashSet::new();
    for q in &set {
        let question = q["query"].as_str().unwrap();
        let relevant: HashSet<&str> = q["relevant"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        c.ask(question);
        let a = c.answered("the bot's answer", |v| v["type"] == "bot_answer");
        let declined = a["declined"]
            .as_bool()
            .expect("bot_answer carries declined");
        let confidence = a["confidence"]
            .as_f64()
            .expect("bot_answer carries confidence");
        assert!((0.0..=1.0).contains(&confidence), "{a}");
        let citations: Vec<&str> = a["citations"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        if declined {
            assert!(citations.is_empty(), "a declined answer cites nothing: {a}");
            declined_questions.insert(question.to_owned());
        } else {
            // Grounded: every cited incident is named in the answer.
            for n in &citations {
                assert!(a["text"].as_str().unwrap().contains(n), "{n} unused: {a}");
            }
            first_answered.get_or_insert_with(|| question.to_owned());
        }
        if relevant.is_empty() {
            out_of_scope += 1;
            declined_out += usize::from(declined);
        } else {
            in_scope += 1;
            declined_in += usize::from(declined);
            answered_relevant +=
                usize::from(!declined && citations.iter().any(|n| relevant.contains(n)));
        }
    }
    // Another off-topic question, then an answered one again, rated with `/unhelpful`.
    c.ask("what is on the canteen menu today");
    c.answered("the declined answer", |v| v["type"] == "bot_answer");
    let again = first_answered.expect("some question was answered");
    c.ask(&again);
    let a = c.answered("the answer", |v| v["type"] == "bot_answer");
    assert_eq!(a["declined"], false);
    c.ask("/unhelpful");
    let rated = c.answered("the rating", |v| v["type"] == "feedback");
    assert_eq!(rated["helpful"], false);
    c.finish();

    let pct = |n: usize, d: usize| 100.0 * n as f64 / d as f64;
    let rates = (
        pct(answered_relevant, in_scope),
        pct(declined_in, in_scope),
        pct(declined_out, out_of_scope),
    );
    println!(
        "unseen questions through `chat --json`: {in_scope} in scope, {out_of_scope} out of scope; \
         answered with a relevant citation {:.1} %, in scope declined {:.1} %, out of scope declined {:.1} %",
        rates.0, rates.1, rates.2
    );
    // Generous floors: far below the measured figures, far above a bot that never declines
    // or always declines.
    assert!(rates.0 >= 60.0, "{rates:?}");
    assert!(rates.1 <= 35.0, "{rates:?}");
    assert!(rates.2 >= 60.0, "{rates:?}");

    // What the bot could not answer is listed, grouped, newest first.
    let gaps: Vec<Value> = serde_json::from_slice(&run(&["kb", "gaps", "--json"]).stdout).unwrap();
    assert!(!gaps.is_empty());
    for g in &gaps {
        for key in ["question", "reason", "count", "last_asked"] {
            assert!(!g[key].is_null(), "{key} in {g}");
        }
    }
    let newest: Vec<&str> = gaps
        .iter()
        .map(|g| g["last_asked"].as_str().unwrap())
        .collect();
    assert!(newest.windows(2).all(|w| w[0] >= w[1]), "{newest:?}");
    let unhelpful = gaps
        .iter()
        .find(|g| g["reason"] == "unhelpful")
        .expect("the rated answer");
    assert_eq!(
        (unhelpful["count"].as_u64(), unhelpful["question"].as_str()),
        (Some(1), Some(again.as_str()))
    );
    let canteen = gaps
        .iter()
        .find(|g| g["reason"] == "declined" && g["question"].as_str().unwrap().contains("canteen"))
        .expect("the canteen questions are one gap");
    let expected = 1 + u64::from(declined_questions.contains("What's on the canteen menu today?"));
    assert_eq!(canteen["count"].as_u64(), Some(expected), "{canteen}");
    let declined_total: u64 = gaps
        .iter()
        .filter(|g| g["reason"] == "declined")
        .map(|g| g["count"].as_u64().unwrap())
        .sum();
    let stats: Value = serde_json::from_slice(&run(&["chat", "stats", "--json"]).stdout).unwrap();
    assert_eq!(stats["declined"].as_u64(), Some(declined_total), "{stats}");
    assert_eq!(
        stats["answered"].as_u64().unwrap() + stats["declined"].as_u64().unwrap(),
        set.len() as u64 + 2
    );
    assert_eq!(
        (stats["helpful"].as_u64(), stats["unhelpful"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(stats["handed_off"], 0);
}
