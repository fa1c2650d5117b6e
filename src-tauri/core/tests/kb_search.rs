//! Knowledge-base search through `Core`: a small known dataset served by the simulator (a
//! fixture) is synced into two integrations, then ranking per method, every filter, snippets,
//! hostile input, bounds, a deleted integration, the full-text index following updates and
//! deletions, and `kb_eval` on a hand-checked file.
//! Needs the model (scripts/fetch-model.sh); skips without it unless SUPPORTBOT_REQUIRE_MODEL=1.

use std::collections::BTreeSet;
use std::sync::Arc;

use reqwest::Method;
use serde_json::{json, Value};
use supportbot_core::connectors::{ConnectorOptions, RetryPolicy};
use supportbot_core::kb::{EvalQuery, SearchFilters, SearchHit, SearchRequest};
use supportbot_core::secrets::StorePreference;
use supportbot_core::store::{open_connection, DB_FILE};
use supportbot_core::sync::{SyncOptions, SyncOutcome};
use supportbot_core::{Actor, Core, ErrorCode};
use supportbot_sim::{RunningSim, SimConfig};

mod common;

/// (number, short, description, resolution, category, subcategory, priority, state, opened).
/// Every description ends with the same sentence so a query on it matches every incident by
/// BM25 too: filter tests then compare whole sets.
type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const COMMON: &str = " Reported through the service portal.";

const ROWS: &[Row] = &[
    ("INC0000001", "GlobalProtect disconnects every few minutes",
     "The VPN tunnel drops every five minutes while working from home and I must enter my MFA code again.",
     "Lowered the tunnel MTU to 1380 in the VPN client profile and enabled keepalives. Connection stable for a day.",
     "network", "vpn", "2", "7", "2025-03-03 09:15:00"),
    ("INC0000002", "Print jobs stuck in the queue",
     "Nothing prints on the third floor printer; jobs stay in the queue with status error.",
     "Restarted the print spooler service on the print server, cleared 140 stuck jobs and updated the driver.",
     "hardware", "printer", "3", "6", "2025-04-10 14:00:00"),
    ("INC0000003", "Outlook not receiving new mail",
     "Outlook says trying to connect and no new email arrives; webmail works fine.",
     "Rebuilt the Outlook profile and let the offline cache resynchronise; mail flowing again.",
     "software", "email", "4", "7", "2025-05-15 11:30:00"),
    ("INC0000004", "Account locked after password change",
     "My account keeps locking since I changed my password; my phone probably uses the old one.",
     "",
     "inquiry", "access", "1", "2", "2025-05-20 08:05:00"),
    ("INC0000005", "Laptop overheating and shutting down",
     "The laptop becomes very hot and switches itself off during video calls.",
     "Cleaned the dust from the fan and heat sink and re-applied thermal paste; temperatures now normal.",
     "hardware", "cpu", "3", "7", "2025-06-01 16:45:00"),
    ("INC0000006", "Transaction log full on SQLPRD-FIN",
     "The finance application cannot save records: the transaction log for the database is full (error 9002).",
     "Freed space on the backup share, ran a log backup and shrank the log file; added monitoring.",
     "database", "ms sql server", "1", "7", "2025-06-20 10:00:00"),
    ("INC0000007", "Wi-Fi very slow in the Berlin office",
     "The wireless network is extremely slow; video calls freeze but wired desks are fine.",
     "",
     "network", "wireless", "4", "1", "2025-02-01 09:00:00"),
    ("INC0000008", "Café kiosk screen frozen",
     "The touch screen of the café kiosk in the lobby is frozen on the welcome page.",
     "Power-cycled the kiosk and disabled the screensaver that hung the display driver.",
     "hardware", "monitor", "5", "7", "2025-06-25 12:00:00"),
];

fn fixture_json() -> Value {
    let rows: Vec<Value> = ROWS
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (
                number,
                short,
                description,
                resolution,
                category,
                subcategory,
                priority,
                state,
                opened,
            ) = *r;
            let resolved = !resolution.is_empty();
            json!({
                "sys_id": format!("{:032x}", i + 1),
                "number": number,
                "short_description": short,
                "description": format!("{description}{COMMON}"),
                "close_notes": resolution,
                "close_code": if resolved { "Solved (Permanently)" } else { "" },
                "category": category,
                "subcategory": subcategory,
                "priority": priority,
                "impact": "2",
                "urgency": "2",
                "state": state,
                "active": if resolved { "false" } else { "true" },
                "opened_at": opened,
                "resolved_at": if resolved { "2025-06-28 10:00:00" } else { "" },
                "sys_created_on": opened,
                "sys_updated_on": "2025-06-29 10:00:00",
                "sys_class_name": "incident",
            })
        })
        .collect();
    Value::Array(rows)
}

struct Fixture {
    _dir: tempfile::TempDir,
    _fixture: tempfile::NamedTempFile,
    core: Arc<Core>,
    admin: Actor,
    sim: RunningSim,
    /// Integrations "Sim A" and "Sim B", both synced from the same simulator.
    a: i64,
    b: i64,
}

fn model_or_skip(core: &Core) -> bool {
    match core.knowledge_base().embedder() {
        Ok(_) => true,
        Err(e) if std::env::var("SUPPORTBOT_REQUIRE_MODEL").as_deref() == Ok("1") => {
            panic!("the embedding model is required: {e}")
        }
        Err(e) => {
            eprintln!("skipping: {e}");
            false
        }
    }
}

fn options() -> SyncOptions {
    SyncOptions {
        connector: ConnectorOptions {
            retry: RetryPolicy::fast(),
            ..ConnectorOptions::default()
        },
        ..SyncOptions::default()
    }
}

async fn fixture() -> Option<Fixture> {
    fixture_with(&["Sim A", "Sim B"]).await
}

/// A synced integration per name (the second is `b`; with one, `b == a`).
async fn fixture_with(names: &[&str]) -> Option<Fixture> {
    let dir = tempfile::tempdir().unwrap();
    let core = Arc::new(Core::open_with(dir.path(), StorePreference::File).unwrap());
    if !model_or_skip(&core) {
        return None;
    }
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), fixture_json().to_string()).unwrap();
    let sim = supportbot_sim::start(SimConfig {
        fixture: Some(file.path().to_path_buf()),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let admin = core.actor(None, None).unwrap();
    let mut ids = Vec::new();
    for name in names {
        let id = core
            .add_integration(&admin, common::sim_basic(name, &sim.base_url()))
            .unwrap()
            .id;
        let report = core.sync(&admin, id, options(), |_| {}).await.unwrap();
        assert_eq!(report.status, SyncOutcome::Success, "{report:?}");
        assert_eq!(report.added, ROWS.len() as u64);
        ids.push(id);
    }
    Some(Fixture {
        _dir: dir,
        _fixture: file,
        core,
        admin,
        sim,
        a: ids[0],
        b: *ids.last().unwrap(),
    })
}

impl Fixture {
    fn search(&self, query: &str, method: &str, filters: SearchFilters) -> Vec<SearchHit> {
        self.try_search(query, method, 100, filters)
            .unwrap_or_else(|e| panic!("{method} {query:?}: {e}"))
    }

    fn try_search(
        &self,
        query: &str,
        method: &str,
        k: usize,
        filters: SearchFilters,
    ) -> supportbot_core::CoreResult<Vec<SearchHit>> {
        let req = SearchRequest {
            query: query.into(),
            k,
            method: method.into(),
            filters,
        };
        self.core.kb_search(&self.admin, &req).map(|r| {
            assert_eq!(r.method, method);
            assert!(r.took_ms >= 0.0);
            r.hits
        })
    }

    fn fts_integrity(&self) {
        let conn = open_connection(&self.core.data_dir().join(DB_FILE)).unwrap();
        conn.execute(
            "INSERT INTO incidents_fts (incidents_fts) VALUES ('integrity-check')",
            [],
        )
        .expect("the full-text index agrees with the incidents");
        let (fts, rows): (i64, i64) = conn
            .query_row(
                "SELECT (SELECT COUNT(*) FROM incidents_fts_docsize), (SELECT COUNT(*) FROM incidents)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(fts, rows, "one full-text entry per incident");
    }
}

const METHODS: [&str; 3] = ["bm25", "vector", "hybrid"];

fn numbers(hits: &[SearchHit]) -> BTreeSet<String> {
    hits.iter().map(|h| h.number.clone()).collect()
}

fn all_numbers() -> BTreeSet<String> {
    ROWS.iter().map(|r| r.0.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranking_filters_snippets_and_deleted_integrations() {
    let Some(f) = fixture().await else { return };
    f.fts_integrity();

    // Ranking on known data: keywords for BM25, paraphrases without shared words for vectors,
    // both for hybrid.
    let cases: &[(&str, &[&str], &str)] = &[
        ("print spooler", &["bm25", "hybrid"], "INC0000002"),
        (
            "nothing comes out of the printer",
            &["vector", "hybrid"],
            "INC0000002",
        ),
        (
            "transaction log full 9002",
            &["bm25", "vector", "hybrid"],
            "INC0000006",
        ),
        (
            "my computer gets hot and turns itself off",
            &["vector", "hybrid"],
            "INC0000005",
        ),
        (
            "remote connection from home keeps cutting out",
            &["vector", "hybrid"],
            "INC0000001",
        ),
        ("INC0000003", &["bm25", "hybrid"], "INC0000003"),
        // Diacritics and stemming: "cafe" finds "Café", "disconnecting" finds "disconnects".
        ("cafe", &["bm25"], "INC0000008"),
        ("disconnecting", &["bm25"], "INC0000001"),
    ];
    for (query, methods, expected) in cases {
        for method in *methods {
            let hits = f.search(query, method, SearchFilters::default());
            assert_eq!(
                hits.first().map(|h| h.number.as_str()),
                Some(*expected),
                "{method} {query:?}: {:?}",
                hits.iter().map(|h| &h.number).collect::<Vec<_>>()
            );
        }
    }

    // Shape: hybrid carries both ranks, scores fall, links point at the source.
    let hits = f.search("print spooler queue", "hybrid", SearchFilters::default());
    let top = &hits[0];
    assert!(top.bm25_rank.is_some() && top.vector_rank.is_some());
    assert!(top.similarity.is_some());
    assert!(top.link.starts_with(&f.sim.base_url()));
    assert_eq!(top.priority, "3 - Moderate");
    assert_eq!(top.state, "Resolved");
    assert_eq!(top.category, "hardware");
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    let bm25 = f.search("print spooler queue", "bm25", SearchFilters::default());
    assert!(bm25
        .iter()
        .all(|h| h.vector_rank.is_none() && h.bm25_rank.is_some()));
    assert!(bm25.windows(2).all(|w| w[0].score >= w[1].score));
    let vector = f.search("print spooler queue", "vector", SearchFilters::default());
    assert!(vector
        .iter()
        .all(|h| h.bm25_rank.is_none() && h.similarity == Some(h.score as f32)));

    // Snippets: the resolution's matching words are hits, no markup anywhere.
    let hit = &f.search("restarting the spooler", "bm25", SearchFilters::default())[0];
    assert_eq!(hit.number, "INC0000002");
    let marked: Vec<&str> = hit
        .snippet
        .iter()
        .filter(|p| p.hit)
        .map(|p| p.text.as_str())
        .collect();
    assert!(marked.contains(&"spooler"), "{:?}", hit.snippet);
    assert!(marked.contains(&"Restarted"), "stemmed: {:?}", hit.snippet);
    let text: String = hit.snippet.iter().map(|p| p.text.as_str()).collect();
    assert!(text.contains("print spooler service"), "{text}");
    assert!(!text.contains('<') && !text.contains('\u{FDD0}'));
    // No hit in the resolution: its start. No resolution: the description.
    let hit = &f.search("hot laptop", "vector", SearchFilters::default())[0];
    assert_eq!(hit.number, "INC0000005");
    assert!(hit.snippet[0].text.starts_with("Cleaned the dust"));
    let hit = f
        .search("account locking", "bm25", SearchFilters::default())
        .into_iter()
        .find(|h| h.number == "INC0000004")
        .unwrap();
    assert!(
        hit.snippet.iter().any(|p| p.hit && p.text == "locking"),
        "{:?}",
        hit.snippet
    );

    // Every filter narrows each method to exactly the incidents that pass it (the common
    // sentence makes every incident a BM25 match; the dataset is smaller than the lists).
    let common = "reported through the service portal";
    let by = |pred: &dyn Fn(&Row) -> bool| -> BTreeSet<String> {
        ROWS.iter()
            .filter(|r| pred(r))
            .map(|r| r.0.to_string())
            .collect()
    };
    let filter_cases: Vec<(SearchFilters, BTreeSet<String>, Option<i64>)> = vec![
        (SearchFilters::default(), all_numbers(), None),
        (
            SearchFilters {
                integration_id: Some(f.b),
                ..Default::default()
            },
            all_numbers(),
            Some(f.b),
        ),
        (
            SearchFilters {
                priority: Some("1 - Critical".into()),
                ..Default::default()
            },
            by(&|r| r.6 == "1"),
            None,
        ),
        (
            SearchFilters {
                category: Some("hardware".into()),
                ..Default::default()
            },
            by(&|r| r.4 == "hardware"),
            None,
        ),
        (
            SearchFilters {
                state: Some("Closed".into()),
                ..Default::default()
            },
            by(&|r| r.7 == "7"),
            None,
        ),
        (
            // Inclusive on both ends.
            SearchFilters {
                from: Some("2025-05-15".into()),
                to: Some("2025-06-20".into()),
                ..Default::default()
            },
            by(&|r| ("2025-05-15".."2025-06-21").contains(&r.8)),
            None,
        ),
        (
            SearchFilters {
                from: Some("2025-06-21".into()),
                ..Default::default()
            },
            by(&|r| r.8 >= "2025-06-21"),
            None,
        ),
        (
            SearchFilters {
                integration_id: Some(f.a),
                category: Some("network".into()),
                priority: Some("4 - Low".into()),
                ..Default::default()
            },
            by(&|r| r.4 == "network" && r.6 == "4"),
            Some(f.a),
        ),
        (
            SearchFilters {
                category: Some("no such category".into()),
                ..Default::default()
            },
            BTreeSet::new(),
            None,
        ),
    ];
    for (filters, expected, integration) in &filter_cases {
        for method in METHODS {
            let hits = f.search(common, method, filters.clone());
            assert_eq!(&numbers(&hits), expected, "{method} {filters:?}");
            let per_integration = if integration.is_some() { 1 } else { 2 };
            assert_eq!(
                hits.len(),
                expected.len() * per_integration,
                "{method} {filters:?}"
            );
            if let Some(id) = integration {
                assert!(hits.iter().all(|h| h.integration_id == *id));
            }
        }
    }

    // Facets list what the filters can take.
    let facets = f.core.kb_facets(&f.admin).unwrap();
    let names: Vec<&str> = facets
        .integrations
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(names, ["Sim A", "Sim B"]);
    assert!(facets.priorities.contains(&"1 - Critical".to_string()));
    assert_eq!(
        facets.categories,
        ["database", "hardware", "inquiry", "network", "software"]
    );
    assert!(facets.states.contains(&"Closed".to_string()));

    // A deleted integration's incidents stay searchable under its old name.
    f.core.remove_integration(&f.admin, f.b).unwrap();
    for method in METHODS {
        let hits = f.search(
            "print spooler",
            method,
            SearchFilters {
                integration_id: Some(f.b),
                ..Default::default()
            },
        );
        assert!(!hits.is_empty(), "{method}");
        assert!(hits
            .iter()
            .all(|h| h.integration == "Sim B" && h.integration_id == f.b));
    }
    let facets = f.core.kb_facets(&f.admin).unwrap();
    assert!(facets
        .integrations
        .iter()
        .any(|i| i.id == f.b && i.name == "Sim B"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_and_hostile_input_never_reaches_sqlite() {
    let Some(f) = fixture().await else { return };
    let long = "printer spooler queue jammed ".repeat(70); // > 2000 characters
    let hostile = [
        "\"",
        "\"\"\"",
        "*",
        "print*",
        "NEAR(",
        "NEAR(printer spooler, 2)",
        "AND OR",
        "printer AND OR NOT",
        "-",
        "-printer",
        "printer:",
        "short_description:printer",
        "{printer}",
        "(((",
        "^printer",
        "'); DROP TABLE incidents; --",
        "café ☕ 打印机 не печатает",
        "🙂 printer",
        "\u{FDD0}printer\u{FDD1}",
        long.as_str(),
    ];
    for query in hostile {
        for method in METHODS {
            match f.try_search(query, method, 10, SearchFilters::default()) {
                Ok(hits) => assert!(hits.len() <= 10),
                Err(e) => assert_eq!(e.code, ErrorCode::Validation, "{method} {query:?}: {e}"),
            }
        }
    }
    // The long text still finds the printer incident.
    let hits = f
        .try_search(&long, "hybrid", 10, SearchFilters::default())
        .unwrap();
    assert_eq!(hits[0].number, "INC0000002");
    f.fts_integrity();

    let invalid = |query: &str, method: &str, k: usize, filters: SearchFilters, field: &str| {
        let e = f.try_search(query, method, k, filters).unwrap_err();
        assert_eq!(e.code, ErrorCode::Validation, "{query:?}: {e}");
        assert!(e.fields.contains_key(field), "{field}: {e:?}");
        assert!(!e.message.is_empty());
    };
    let none = SearchFilters::default;
    invalid("", "hybrid", 10, none(), "query");
    invalid("   \n\t", "bm25", 10, none(), "query");
    invalid("***", "bm25", 10, none(), "query");
    invalid(&"x".repeat(10_001), "bm25", 10, none(), "query");
    invalid("printer", "hybrid", 0, none(), "k");
    invalid("printer", "hybrid", 101, none(), "k");
    invalid("printer", "fuzzy", 10, none(), "method");
    invalid(
        "printer",
        "bm25",
        10,
        SearchFilters {
            from: Some("30/06/2025".into()),
            ..none()
        },
        "from",
    );
    invalid(
        "printer",
        "bm25",
        10,
        SearchFilters {
            to: Some("2025-02-30".into()),
            ..none()
        },
        "to",
    );
    invalid(
        "printer",
        "bm25",
        10,
        SearchFilters {
            from: Some("2025-06-02".into()),
            to: Some("2025-06-01".into()),
            ..none()
        },
        "to",
    );
    // k bounds: 1 and 100 are fine, and k caps the results.
    assert_eq!(f.try_search("portal", "bm25", 1, none()).unwrap().len(), 1);
    assert_eq!(
        f.try_search("portal", "hybrid", 100, none()).unwrap().len(),
        2 * ROWS.len()
    );
    assert_eq!(
        f.try_search("portal", "vector", 3, none()).unwrap().len(),
        3
    );
    // Only stop words: searched rather than refused.
    assert!(f.try_search("how do I", "bm25", 10, none()).is_ok());
    // Empty strings in filters mean "no filter" (an unset select in the UI).
    let all = f
        .try_search(
            "portal",
            "bm25",
            100,
            SearchFilters {
                priority: Some(String::new()),
                state: Some(" ".into()),
                from: Some(String::new()),
                ..none()
            },
        )
        .unwrap();
    assert_eq!(all.len(), 2 * ROWS.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_full_text_index_follows_updates_and_deletions() {
    let Some(f) = fixture().await else { return };
    let changed = json!({
        "sys_id": format!("{:032x}", 2),
        "close_notes": "Replaced the fuser unit; the toner smudges are gone.",
        "sys_updated_on": "2025-06-30 11:00:00",
    });
    let resp = common::sim_request(&f.sim, Method::POST, "/sim/records/incident")
        .json(&changed)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let report = f.core.sync(&f.admin, f.a, options(), |_| {}).await.unwrap();
    assert_eq!(report.updated, 1, "{report:?}");
    // A sync that changed incidents leaves the full-text index merged into one segment (each
    // transaction adds one; queries read them all).
    let segments: i64 = open_connection(f.core.db_path())
        .unwrap()
        .query_row(
            "SELECT COUNT(DISTINCT segid) FROM incidents_fts_idx",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(segments, 1);
    let only_a = || SearchFilters {
        integration_id: Some(f.a),
        ..Default::default()
    };
    let hits = f.search("fuser toner", "bm25", only_a());
    assert_eq!(numbers(&hits), BTreeSet::from(["INC0000002".to_string()]));
    assert!(
        f.search("spooler", "bm25", only_a()).is_empty(),
        "old text is gone"
    );
    // Sim B has not synced the change yet: its copy still has the old text.
    assert_eq!(
        f.search(
            "spooler",
            "bm25",
            SearchFilters {
                integration_id: Some(f.b),
                ..Default::default()
            }
        )
        .len(),
        1
    );

    let resp = common::sim_request(
        &f.sim,
        Method::DELETE,
        &format!("/sim/records/incident/{:032x}", 6),
    )
    .send()
    .await
    .unwrap();
    assert!(resp.status().is_success());
    let report = f
        .core
        .sync(
            &f.admin,
            f.a,
            SyncOptions {
                full: true,
                ..options()
            },
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(report.deleted, 1, "{report:?}");
    for method in METHODS {
        let hits = f.search("transaction log full", method, only_a());
        assert!(hits.iter().all(|h| h.number != "INC0000006"), "{method}");
    }
    f.fts_integrity();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eval_metrics_on_a_hand_checked_file() {
    // One integration, so each number is one incident.
    let Some(f) = fixture_with(&["Sim A"]).await else {
        return;
    };
    let (fresh, admin) = (&f.core, &f.admin);
    let q = |query: &str, relevant: &[&str]| EvalQuery {
        query: query.into(),
        relevant: relevant.iter().map(|s| s.to_string()).collect(),
    };
    // 1: found first by every method. 2: nothing relevant exists. 3: two relevant, one of
    // which does not exist: found first, so recall@1 = 1/min(2,1) = 1, recall@5 = 1/2.
    let queries = [
        q(
            "transaction log for the database is full, error 9002",
            &["INC0000006"],
        ),
        q("printer spooler", &["INC9999999"]),
        q(
            "laptop overheating shuts down",
            &["inc0000005 ", "INC9999998"],
        ),
    ];
    let report = fresh.kb_eval(admin, &queries).unwrap();
    assert_eq!(report.queries, 3);
    for (name, m) in [
        ("bm25", report.bm25),
        ("vector", report.vector),
        ("hybrid", report.hybrid),
    ] {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(m.recall_at_1, 2.0 / 3.0), "{name} {m:?}");
        assert!(close(m.recall_at_5, 1.5 / 3.0), "{name} {m:?}");
        assert!(close(m.recall_at_10, 1.5 / 3.0), "{name} {m:?}");
        assert!(close(m.mrr, 2.0 / 3.0), "{name} {m:?}");
    }
    let json = serde_json::to_value(report).unwrap();
    for method in ["bm25", "vector", "hybrid"] {
        for key in ["recall@1", "recall@5", "recall@10", "mrr"] {
            assert!(json[method][key].is_f64(), "{method}.{key} in {json}");
        }
    }

    for (bad, field) in [
        (vec![], "queries"),
        (vec![q("  ", &["INC0000001"])], "queries[0].query"),
    ] {
        let e = fresh.kb_eval(admin, &bad).unwrap_err();
        assert_eq!(e.code, ErrorCode::Validation);
        assert!(e.fields.contains_key(field), "{field}: {e:?}");
    }
    // An entry without relevant incidents is an out-of-scope question: only the bot's rates
    // count it, and a question no incident is close to is declined.
    let mixed = f
        .core
        .kb_eval(
            admin,
            &[
                q("vpn disconnects", &["INC0000001"]),
                q("what is on the canteen menu today", &[]),
            ],
        )
        .unwrap();
    assert_eq!((mixed.queries, mixed.out_of_scope), (1, 1));
    assert_eq!(mixed.bot.out_of_scope_declined, Some(1.0), "{mixed:?}");
    assert!(mixed.bot.in_scope_declined.is_some());
}
