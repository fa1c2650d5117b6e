//! `supportbot kb search` and `kb eval` through the real binary: the JSON shapes scripts rely on
//! (an array of hits; the three methods' metrics), text output, filters, and error lines with
//! codes. Tests that search synced data need the embedding model and skip without it unless
//! SUPPORTBOT_REQUIRE_MODEL=1; input errors are checked without it.

mod common;

use common::{cli, json_err, json_ok, model_ready, stdout, Sim};

const INCIDENTS: u64 = 80;

#[test]
fn search_and_eval_on_synced_data() {
    let dir = tempfile::tempdir().unwrap();
    if !model_ready(dir.path()) {
        return;
    }
    let sim = Sim::start(INCIDENTS);
    common::add_sim_integration(dir.path(), "Sim", &sim.1);
    let sync = cli(dir.path(), &["sync", "Sim", "--json"]);
    assert_eq!(json_ok(&sync)["status"], "success");

    // `kb incident`: every synced field of one incident, the same in JSON and in text.
    let listed = json_ok(&cli(
        dir.path(),
        &["kb", "search", "printer", "--k", "1", "--json"],
    ));
    let number = listed[0]["number"].as_str().unwrap().to_owned();
    let detail = json_ok(&cli(
        dir.path(),
        &["kb", "incident", &number.to_lowercase(), "--json"],
    ));
    for key in [
        "number",
        "short_description",
        "description",
        "state",
        "priority",
        "category",
        "subcategory",
        "assigned_to",
        "resolved_by",
        "resolution",
        "close_code",
        "opened_at",
        "updated_at",
        "resolved_at",
        "integration",
        "version_id",
        "link",
    ] {
        assert!(detail.get(key).is_some(), "{key} missing: {detail}");
    }
    assert_eq!(detail["number"], number.as_str());
    assert_eq!(detail["short_description"], listed[0]["short_description"]);
    assert_eq!(detail["integration"], "Sim");
    assert_eq!(detail["link"], listed[0]["link"]);
    assert_eq!(detail["version_id"], 1);
    assert!(!detail["description"].as_str().unwrap().is_empty());
    let text = stdout(&cli(dir.path(), &["kb", "incident", &number]));
    for label in [
        "Priority",
        "Assigned to",
        "Resolved by",
        "Integration",
        "Version",
        "Description:",
        "Resolution notes:",
    ] {
        assert!(text.contains(label), "{label} missing: {text}");
    }
    let missing = json_err(&cli(
        dir.path(),
        &["kb", "incident", "INC9999999", "--json"],
    ));
    assert_eq!(missing["code"], "not_found");

    // --json: an array of hits with at least the fields the issue names.
    let hits = json_ok(&cli(
        dir.path(),
        &[
            "kb",
            "search",
            "printer does not print anything",
            "--k",
            "5",
            "--json",
        ],
    ));
    let hits = hits.as_array().expect("an array of results");
    assert!(!hits.is_empty() && hits.len() <= 5);
    for hit in hits {
        for key in [
            "number",
            "short_description",
            "score",
            "integration",
            "link",
            "snippet",
        ] {
            assert!(hit.get(key).is_some(), "{key} missing in {hit}");
        }
        assert!(hit["number"].as_str().unwrap().starts_with("INC"));
        assert!(hit["score"].is_f64());
        assert_eq!(hit["integration"], "Sim");
    }

    // Every method and filter from the command line.
    for method in ["bm25", "vector", "hybrid"] {
        let hits = json_ok(&cli(
            dir.path(),
            &[
                "kb",
                "search",
                "network problems",
                "--method",
                method,
                "--category",
                "network",
                "--integration",
                "Sim",
                "--from",
                "2020-01-01",
                "--to",
                "2030-12-31",
                "--json",
            ],
        ));
        let hits = hits.as_array().unwrap();
        assert!(!hits.is_empty(), "{method}");
        assert!(hits.iter().all(|h| h["category"] == "network"), "{method}");
    }
    let closed = json_ok(&cli(
        dir.path(),
        &[
            "kb",
            "search",
            "vpn",
            "--state",
            "Closed",
            "--priority",
            "1 - Critical",
            "--json",
        ],
    ));
    assert!(closed
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["state"] == "Closed" && h["priority"] == "1 - Critical"));

    // Text: rank, number, score, title, integration, snippet with [hits] (not a terminal), link.
    let out = cli(dir.path(), &["kb", "search", "printer spooler", "--k", "3"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.starts_with(" 1. INC"), "{text}");
    assert!(text.contains("[Sim]"), "{text}");
    assert!(text.contains("http"), "{text}");
    assert!(text.contains("results · hybrid"), "{text}");

    // kb eval --json: the three methods' metrics.
    let top: Vec<String> = hits
        .iter()
        .map(|h| h["number"].as_str().unwrap().to_string())
        .collect();
    let file = dir.path().join("eval.json");
    std::fs::write(
        &file,
        serde_json::json!([
            {"query": "printer does not print anything", "relevant": top},
            {"query": "vpn keeps dropping", "relevant": ["INC9999999"]},
        ])
        .to_string(),
    )
    .unwrap();
    let report = json_ok(&cli(
        dir.path(),
        &["kb", "eval", file.to_str().unwrap(), "--json"],
    ));
    assert_eq!(report["queries"], 2);
    for method in ["bm25", "vector", "hybrid"] {
        for key in ["recall@1", "recall@5", "recall@10", "mrr"] {
            let v = report[method][key].as_f64().unwrap_or(-1.0);
            assert!((0.0..=1.0).contains(&v), "{method}.{key} in {report}");
        }
    }
    // The second query can never be found, so no method exceeds 0.5.
    assert!(report["hybrid"]["mrr"].as_f64().unwrap() <= 0.5);
    let out = cli(dir.path(), &["kb", "eval", file.to_str().unwrap()]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains("recall@10") && text.contains("hybrid"),
        "{text}"
    );
}

#[test]
fn bad_input_ends_with_an_error_line_and_code() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let e = json_err(&cli(
        dir.path(),
        &["kb", "eval", missing.to_str().unwrap(), "--json"],
    ));
    assert_eq!(e["code"], "not_found", "{e}");
    assert!(e["message"].as_str().unwrap().contains("missing.json"));

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"query\": \"not an array\"}").unwrap();
    let e = json_err(&cli(
        dir.path(),
        &["kb", "eval", bad.to_str().unwrap(), "--json"],
    ));
    assert_eq!(e["code"], "validation", "{e}");

    std::fs::write(&bad, "[]").unwrap();
    let e = json_err(&cli(
        dir.path(),
        &["kb", "eval", bad.to_str().unwrap(), "--json"],
    ));
    assert_eq!(e["code"], "validation", "{e}");

    for args in [
        vec!["kb", "search", "", "--json"],
        vec!["kb", "search", "printer", "--k", "0", "--json"],
        vec!["kb", "search", "printer", "--k", "101", "--json"],
        vec!["kb", "search", "printer", "--method", "fuzzy", "--json"],
        vec!["kb", "search", "printer", "--from", "30/06/2025", "--json"],
    ] {
        let e = json_err(&cli(dir.path(), &args));
        assert_eq!(e["code"], "validation", "{args:?}: {e}");
        assert!(!e["message"].as_str().unwrap().is_empty());
    }
    let e = json_err(&cli(
        dir.path(),
        &["kb", "search", "printer", "--integration", "Nope", "--json"],
    ));
    assert_eq!(e["code"], "not_found", "{e}");

    // Text mode: the message on stderr, non-zero exit.
    let out = cli(dir.path(), &["kb", "search", "   "]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: "));
}
