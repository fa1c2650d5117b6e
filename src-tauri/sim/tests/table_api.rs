//! The Table API over real HTTP: queries, paging, reference shapes, auth and error bodies.

mod common;

use common::*;
use serde_json::{json, Value};
use supportbot_sim::data::generate_incidents;

type Predicate = fn(&Value) -> bool;

/// Path, credentials, expected status and error message.
type ErrorCase = (
    &'static str,
    Option<(&'static str, &'static str)>,
    u16,
    &'static str,
);

fn s<'a>(record: &'a Value, field: &str) -> &'a str {
    record[field].as_str().unwrap_or_default()
}

#[tokio::test]
async fn encoded_queries_match_an_independent_filter_of_the_generated_data() {
    let sim = sim(500).await;
    let data = generate_incidents(500, supportbot_sim::SimConfig::default().seed);
    let cases: &[(&str, Predicate)] = &[
        ("priority=1", |r| s(r, "priority") == "1"),
        ("priority!=1", |r| s(r, "priority") != "1"),
        ("priority>3", |r| {
            s(r, "priority").parse::<i32>().unwrap() > 3
        }),
        ("priority>=3", |r| {
            s(r, "priority").parse::<i32>().unwrap() >= 3
        }),
        ("priority<2", |r| {
            s(r, "priority").parse::<i32>().unwrap() < 2
        }),
        ("priority<=2", |r| {
            s(r, "priority").parse::<i32>().unwrap() <= 2
        }),
        ("short_descriptionLIKEvpn", |r| {
            s(r, "short_description").to_lowercase().contains("vpn")
        }),
        ("short_descriptionSTARTSWITHprinter", |r| {
            s(r, "short_description")
                .to_lowercase()
                .starts_with("printer")
        }),
        ("stateIN6,7", |r| matches!(s(r, "state"), "6" | "7")),
        ("assigned_toISEMPTY", |r| s(r, "assigned_to").is_empty()),
        ("close_notesISNOTEMPTY", |r| !s(r, "close_notes").is_empty()),
        ("category=network^priority<=2", |r| {
            s(r, "category") == "network" && s(r, "priority").parse::<i32>().unwrap() <= 2
        }),
        ("category=database^ORcategory=hardware", |r| {
            matches!(s(r, "category"), "database" | "hardware")
        }),
        ("category=database^NQpriority=1^state=2", |r| {
            s(r, "category") == "database" || (s(r, "priority") == "1" && s(r, "state") == "2")
        }),
        ("sys_updated_on>=2025-06-01 00:00:00", |r| {
            s(r, "sys_updated_on") >= "2025-06-01 00:00:00"
        }),
        // The real instance drops conditions on unknown fields, returning more rows.
        ("no_such_field=1^category=network", |r| {
            s(r, "category") == "network"
        }),
    ];
    for (query, predicate) in cases {
        let expected: Vec<&str> = data
            .iter()
            .filter(|r| predicate(r))
            .map(|r| s(r, "sys_id"))
            .collect();
        let got = results(table(
            &sim,
            ADMIN,
            "incident",
            &[("sysparm_query", query), ("sysparm_fields", "sys_id")],
        ))
        .await;
        let mut got: Vec<&str> = got.iter().map(|r| s(r, "sys_id")).collect();
        let mut expected = expected.clone();
        got.sort_unstable();
        expected.sort_unstable();
        assert!(!expected.is_empty(), "{query} selects nothing: weak case");
        assert_eq!(got, expected, "query {query}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn order_by_several_fields_with_descending() {
    let sim = sim(300).await;
    let rows = results(table(
        &sim,
        ADMIN,
        "incident",
        &[
            (
                "sysparm_query",
                "ORDERBYpriority^ORDERBYDESCsys_updated_on^ORDERBYnumber",
            ),
            ("sysparm_fields", "priority,sys_updated_on,number"),
        ],
    ))
    .await;
    assert_eq!(rows.len(), 300);
    for pair in rows.windows(2) {
        let key = |r: &Value| {
            (
                s(r, "priority").parse::<i32>().unwrap(),
                std::cmp::Reverse(s(r, "sys_updated_on").to_owned()),
                s(r, "number").to_owned(),
            )
        };
        assert!(
            key(&pair[0]) <= key(&pair[1]),
            "{} before {}",
            pair[0],
            pair[1]
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn limit_offset_total_count_and_link_header() {
    let sim = sim(95).await;
    let response = table(
        &sim,
        ADMIN,
        "incident",
        &[
            ("sysparm_limit", "20"),
            ("sysparm_offset", "40"),
            ("sysparm_query", "ORDERBYnumber"),
        ],
    )
    .send()
    .await
    .unwrap();
    let (status, headers, body) = json(response).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"].as_array().unwrap().len(), 20);
    assert_eq!(body["result"][0]["number"], "INC0010041");
    assert_eq!(header(&headers, "X-Total-Count").as_deref(), Some("95"));
    let link = header(&headers, "Link").unwrap();
    for (offset, rel) in [(0, "first"), (20, "prev"), (60, "next"), (80, "last")] {
        assert!(
            link.contains(&format!("sysparm_offset={offset}>;rel=\"{rel}\"")),
            "{rel} in {link}"
        );
    }
    assert!(link.contains("sysparm_query=ORDERBYnumber"), "{link}");
    // Default limit is 10000; past the end is an empty page, not an error.
    assert_eq!(results(table(&sim, ADMIN, "incident", &[])).await.len(), 95);
    assert!(
        results(table(&sim, ADMIN, "incident", &[("sysparm_offset", "500")]))
            .await
            .is_empty()
    );
    // no_count and suppress_pagination_header drop their headers.
    let response = table(
        &sim,
        ADMIN,
        "incident",
        &[
            ("sysparm_no_count", "true"),
            ("sysparm_suppress_pagination_header", "true"),
            ("sysparm_limit", "1"),
        ],
    )
    .send()
    .await
    .unwrap();
    assert!(response.headers().get("X-Total-Count").is_none());
    assert!(response.headers().get("Link").is_none());
    sim.shutdown().await;
}

#[tokio::test]
async fn fields_and_reference_shapes_follow_display_value_and_exclude_reference_link() {
    let sim = sim(50).await;
    let base = sim.base_url();
    let fetch = |display: &'static str, exclude: &'static str| {
        table(
            &sim,
            ADMIN,
            "incident",
            &[
                ("sysparm_query", "assigned_toISNOTEMPTY^ORDERBYnumber"),
                ("sysparm_limit", "1"),
                (
                    "sysparm_fields",
                    "number,assigned_to,priority,assigned_to.name,no_such",
                ),
                ("sysparm_display_value", display),
                ("sysparm_exclude_reference_link", exclude),
            ],
        )
    };
    let raw = results(fetch("false", "false")).await.remove(0);
    let keys: Vec<&String> = raw.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["assigned_to", "assigned_to.name", "number", "priority"]
    );
    let id = raw["assigned_to"]["value"].as_str().unwrap().to_owned();
    assert_eq!(
        raw["assigned_to"]["link"],
        format!("{base}/api/now/table/sys_user/{id}")
    );
    let name = raw["assigned_to.name"].as_str().unwrap().to_owned();
    assert!(name.contains(' '));

    let bare = results(fetch("false", "true")).await.remove(0);
    assert_eq!(bare["assigned_to"], json!(id));
    let label = results(fetch("true", "false")).await.remove(0);
    assert_eq!(
        label["assigned_to"],
        json!({"display_value": name, "link": format!("{base}/api/now/table/sys_user/{id}")})
    );
    assert!(label["priority"].as_str().unwrap().contains(" - "));
    let all = results(fetch("all", "true")).await.remove(0);
    assert_eq!(
        all["assigned_to"],
        json!({"display_value": name, "value": id})
    );
    assert_eq!(all["priority"]["value"], raw["priority"]);

    // The referenced user is readable by the link.
    let user = client()
        .get(format!("{base}/api/now/table/sys_user/{id}"))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .unwrap();
    let (status, _, user) = json(user).await;
    assert_eq!(status, 200);
    assert_eq!(user["result"]["name"], json!(name));
    sim.shutdown().await;
}

#[tokio::test]
async fn dates_are_utc_raw_and_local_in_display_values() {
    let sim = sim(20).await;
    let params = [
        ("sysparm_query", "ORDERBYnumber"),
        ("sysparm_limit", "1"),
        ("sysparm_fields", "opened_at"),
        ("sysparm_display_value", "all"),
    ];
    // admin lives in America/Los_Angeles; the service account in GMT.
    let admin = results(table(&sim, ADMIN, "incident", &params))
        .await
        .remove(0);
    let service = results(table(&sim, READONLY, "incident", &params))
        .await
        .remove(0);
    let raw = admin["opened_at"]["value"].as_str().unwrap();
    assert_eq!(raw.len(), 19);
    assert_eq!(service["opened_at"]["display_value"], raw);
    assert_ne!(admin["opened_at"]["display_value"], raw);
    // gs.dateGenerate reads its argument in the user's zone: same text, different instants.
    let day = &raw[..10];
    let q = format!("opened_at>=javascript:gs.dateGenerate('{day}','00:00:00')");
    let as_admin = results(table(
        &sim,
        ADMIN,
        "incident",
        &[("sysparm_query", q.as_str()), ("sysparm_fields", "sys_id")],
    ))
    .await
    .len();
    let as_service = results(table(
        &sim,
        READONLY,
        "incident",
        &[("sysparm_query", q.as_str()), ("sysparm_fields", "sys_id")],
    ))
    .await
    .len();
    assert!(
        as_admin <= as_service,
        "LA midnight is later than GMT midnight"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn auth_and_error_bodies_match_the_real_api() {
    let sim = sim(10).await;
    let base = sim.base_url();
    let cases: &[ErrorCase] = &[
        (
            "/api/now/table/incident",
            None,
            401,
            "User Not Authenticated",
        ),
        (
            "/api/now/table/incident",
            Some(("admin", "wrong")),
            401,
            "User Not Authenticated",
        ),
        (
            "/api/now/table/incident",
            Some(NO_ACCESS),
            403,
            "User Not Authorized",
        ),
        (
            "/api/now/table/sys_journal_field",
            Some(READONLY),
            403,
            "User Not Authorized",
        ),
        (
            "/api/now/table/sys_audit_delete",
            Some(READONLY),
            403,
            "User Not Authorized",
        ),
        (
            "/api/now/table/no_such_table",
            Some(ADMIN),
            400,
            "Invalid table no_such_table",
        ),
        (
            "/api/now/table/incident/0123456789abcdef0123456789abcdef",
            Some(ADMIN),
            404,
            "No Record found",
        ),
        (
            "/api/now/v1/table/incident?sysparm_query=number=NOPE",
            Some(ADMIN),
            404,
            "No Record found",
        ),
        (
            "/api/now/table/incident?sysparm_query=number=NOPE",
            Some(("mfa.user", "mfa.user")),
            401,
            "User Not Authenticated",
        ),
    ];
    for (path, user, status, message) in cases {
        let mut request = client().get(format!("{base}{path}"));
        if let Some((u, p)) = user {
            request = request.basic_auth(u, Some(p));
        }
        let (got, headers, body) = json(request.send().await.unwrap()).await;
        assert_eq!(got, *status, "{path} as {user:?}: {body}");
        assert_eq!(body["status"], "failure", "{path}");
        assert_eq!(body["error"]["message"], *message, "{path}");
        if user.is_some_and(|(u, _)| u == "mfa.user") {
            assert_eq!(header(&headers, "X-MFA_TOKEN").as_deref(), Some("invalid"));
        }
    }
    // v2 (and the unversioned path) answer an empty match with 200 and an empty array.
    for path in ["/api/now/v2/table/incident", "/api/now/table/incident"] {
        let request = client()
            .get(format!("{base}{path}?sysparm_query=number=NOPE"))
            .basic_auth("admin", Some("admin"));
        let (status, _, body) = json(request.send().await.unwrap()).await;
        assert_eq!((status, body), (200, json!({"result": []})), "{path}");
    }
    // The read-only account reads incidents and users.
    assert_eq!(
        results(table(&sim, READONLY, "incident", &[])).await.len(),
        10
    );
    assert!(!results(table(
        &sim,
        READONLY,
        "sys_user",
        &[("sysparm_query", "user_name=admin")]
    ))
    .await
    .is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn writes_need_admin_and_fill_in_system_fields() {
    let sim = sim(5).await;
    let url = format!("{}/api/now/table/incident", sim.base_url());
    let denied = client()
        .post(&url)
        .basic_auth("svc.readonly", Some("readonly"))
        .json(&json!({"short_description": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status().as_u16(), 403);
    let created = client()
        .post(&url)
        .basic_auth("admin", Some("admin"))
        .json(&json!({"short_description": "Created by test"}))
        .send()
        .await
        .unwrap();
    let (status, _, body) = json(created).await;
    assert_eq!(status, 201);
    let record = &body["result"];
    assert_eq!(record["number"], "INC0010006");
    assert_eq!(record["sys_mod_count"], "0");
    let id = record["sys_id"].as_str().unwrap();
    let patched = client()
        .patch(format!("{url}/{id}"))
        .basic_auth("admin", Some("admin"))
        .json(&json!({"state": "2"}))
        .send()
        .await
        .unwrap();
    let (status, _, body) = json(patched).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["sys_mod_count"], "1");
    let deleted = client()
        .delete(format!("{url}/{id}"))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 204);
    let audit = results(table(
        &sim,
        ADMIN,
        "sys_audit_delete",
        &[("sysparm_query", &format!("documentkey={id}"))],
    ))
    .await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["tablename"], "incident");
    sim.shutdown().await;
}

#[tokio::test]
async fn journal_entries_belong_to_incidents() {
    let sim = sim(40).await;
    let incidents = results(table(
        &sim,
        ADMIN,
        "incident",
        &[("sysparm_query", "stateIN6,7"), ("sysparm_limit", "1")],
    ))
    .await;
    let id = s(&incidents[0], "sys_id").to_owned();
    let notes = results(table(
        &sim,
        ADMIN,
        "sys_journal_field",
        &[(
            "sysparm_query",
            &format!("element_id={id}^element=work_notes"),
        )],
    ))
    .await;
    assert!(!notes.is_empty());
    assert!(notes
        .iter()
        .all(|n| n["name"] == "incident" && !s(n, "value").is_empty()));
    sim.shutdown().await;
}
