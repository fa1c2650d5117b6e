//! Jira Cloud (`search/jql`, tokens, ADF) and Data Center (`/dc`, startAt/total, PAT).

mod common;

use std::collections::HashSet;

use common::*;
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};
use supportbot_sim::RunningSim;

fn cloud(sim: &RunningSim, method: Method, path: &str) -> RequestBuilder {
    client()
        .request(method, format!("{}{path}", sim.base_url()))
        .basic_auth("demo@example.com", Some("demo-token"))
}

fn dc(sim: &RunningSim, path: &str) -> RequestBuilder {
    client()
        .get(format!("{}/dc{path}", sim.base_url()))
        .bearer_auth("demo-pat")
}

async fn body(request: RequestBuilder) -> (u16, Value) {
    let (status, _, body) = json(request.send().await.unwrap()).await;
    (status, body)
}

#[tokio::test]
async fn cloud_search_pages_with_next_page_token_until_is_last() {
    let sim = sim(230).await;
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut payload = json!({"jql": "project in (SUP, OPS) ORDER BY updated ASC, key ASC", "maxResults": 50, "fields": ["summary", "updated"]});
        if let Some(token) = &token {
            payload["nextPageToken"] = json!(token);
        }
        let (status, page) =
            body(cloud(&sim, Method::POST, "/rest/api/3/search/jql").json(&payload)).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.get("total").is_none(), "search/jql has no total");
        for issue in page["issues"].as_array().unwrap() {
            seen.push((
                issue["fields"]["updated"].as_str().unwrap().to_owned(),
                issue["key"].as_str().unwrap().to_owned(),
            ));
        }
        if page["isLast"] == json!(true) {
            assert!(page.get("nextPageToken").is_none());
            break;
        }
        token = Some(page["nextPageToken"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen.len(), 230);
    assert_eq!(
        seen.iter().map(|(_, k)| k).collect::<HashSet<_>>().len(),
        230
    );
    // A token from another query is refused.
    let (status, _) = body(cloud(&sim, Method::GET, "/rest/api/3/search/jql").query(&[
        ("jql", "project = SUP"),
        ("nextPageToken", token.as_deref().unwrap_or("x")),
    ]))
    .await;
    assert_eq!(status, 400);
    sim.shutdown().await;
}

#[tokio::test]
async fn fields_must_be_requested_and_v3_uses_adf_while_v2_uses_text() {
    let sim = sim(40).await;
    let (_, bare) =
        body(cloud(&sim, Method::GET, "/rest/api/3/search/jql").query(&[("jql", "project = SUP")]))
            .await;
    let first = &bare["issues"][0];
    assert!(first["id"].is_string() && first["key"].is_string() && first["self"].is_string());
    assert!(first.get("fields").is_none(), "{first}");

    let query = [
        ("jql", "project = SUP ORDER BY key"),
        ("fields", "summary"),
        ("fields", "description,comment,status"),
    ];
    let (_, v3) = body(cloud(&sim, Method::GET, "/rest/api/3/search/jql").query(&query)).await;
    let (_, v2) = body(cloud(&sim, Method::GET, "/rest/api/2/search/jql").query(&query)).await;
    let (a, b) = (&v3["issues"][0]["fields"], &v2["issues"][0]["fields"]);
    assert_eq!(a["description"]["type"], "doc");
    assert_eq!(
        a["description"]["content"][0]["content"][0]["text"],
        b["description"]
    );
    assert!(a.get("priority").is_none());
    assert!(a["status"]["statusCategory"]["key"].is_string());
    let comments = a["comment"]["comments"].as_array().unwrap();
    if let Some(comment) = comments.first() {
        assert_eq!(comment["body"]["type"], "doc");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn updated_watermarks_in_epoch_millis_and_account_zone_minutes() {
    let sim = sim(120).await;
    let fetch = |jql: String| {
        let sim = &sim;
        async move {
            let (status, page) = body(
                cloud(sim, Method::POST, "/rest/api/3/search/jql")
                    .json(&json!({"jql": jql, "maxResults": 100, "fields": ["updated"]})),
            )
            .await;
            assert_eq!(status, 200, "{page}");
            page["issues"].as_array().unwrap().len()
        }
    };
    // 2025-06-30 08:00 in New York (EDT, UTC-4) is 12:00 UTC, when a bulk script touched rows.
    let epoch = fetch("project in (SUP, OPS) AND updated >= 1751284800000".into()).await;
    let local = fetch("project in (SUP, OPS) AND updated >= \"2025/06/30 08:00\"".into()).await;
    let naive_utc = fetch("project in (SUP, OPS) AND updated >= \"2025/06/30 12:00\"".into()).await;
    assert_eq!(epoch, local);
    assert!(epoch > 0);
    assert!(
        naive_utc < local,
        "reading the literal as UTC would move the watermark by four hours"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn jql_errors_and_removed_endpoints() {
    let sim = sim(5).await;
    let cases: &[(&str, &str)] = &[
        ("", "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."),
        ("ORDER BY key", "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."),
        ("colour = red", "Field 'colour' does not exist or you do not have permission to view it."),
    ];
    for (jql, message) in cases {
        let (status, error) =
            body(cloud(&sim, Method::GET, "/rest/api/3/search/jql").query(&[("jql", jql)])).await;
        assert_eq!(status, 400, "{jql}");
        assert_eq!(error["errorMessages"][0], *message);
        assert_eq!(error["errors"], json!({}));
    }
    for path in ["/rest/api/2/search", "/rest/api/3/search"] {
        let (status, error) =
            body(cloud(&sim, Method::GET, path).query(&[("jql", "project = SUP")])).await;
        assert_eq!(status, 410, "{path}");
        assert!(error["errorMessages"][0]
            .as_str()
            .unwrap()
            .contains("/rest/api/3/search/jql"));
    }
    let (status, _) = body(
        client()
            .get(format!(
                "{}/rest/api/3/search/jql?jql=project%3DSUP",
                sim.base_url()
            ))
            .basic_auth("demo@example.com", Some("wrong")),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = body(
        client()
            .get(format!("{}/rest/api/3/myself", sim.base_url()))
            .bearer_auth("demo-pat"),
    )
    .await;
    assert_eq!(status, 401, "a PAT is not a Cloud credential");
    sim.shutdown().await;
}

#[tokio::test]
async fn server_info_field_and_myself_for_both_flavours() {
    let sim = sim(1).await;
    let (_, info) = body(client().get(format!("{}/rest/api/2/serverInfo", sim.base_url()))).await;
    assert_eq!(info["deploymentType"], "Cloud");
    let (_, info) =
        body(client().get(format!("{}/dc/rest/api/2/serverInfo", sim.base_url()))).await;
    assert_eq!(info["deploymentType"], "Server");
    assert_eq!(info["baseUrl"], format!("{}/dc", sim.base_url()));
    let (status, fields) = body(cloud(&sim, Method::GET, "/rest/api/2/field")).await;
    assert_eq!(status, 200);
    assert!(fields
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["id"] == "updated" && f["clauseNames"][0] == "updated"));
    let (_, me) = body(cloud(&sim, Method::GET, "/rest/api/3/myself")).await;
    assert_eq!(
        (me["emailAddress"].as_str(), me["timeZone"].as_str()),
        (Some("demo@example.com"), Some("America/New_York"))
    );
    let (_, me) = body(dc(&sim, "/rest/api/2/myself")).await;
    assert_eq!(me["name"], "demo");
    sim.shutdown().await;
}

#[tokio::test]
async fn data_center_search_uses_start_at_and_total_with_a_pat() {
    let sim = sim(90).await;
    let mut keys = HashSet::new();
    let mut start = 0;
    loop {
        let start_text = start.to_string();
        let (status, page) = body(dc(&sim, "/rest/api/2/search").query(&[
            ("jql", "ORDER BY key"),
            ("startAt", start_text.as_str()),
            ("maxResults", "25"),
        ]))
        .await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(
            page["total"], 90,
            "Data Center allows unbounded JQL and reports a total"
        );
        let issues = page["issues"].as_array().unwrap();
        if issues.is_empty() {
            break;
        }
        assert!(
            issues[0]["fields"]["description"].is_string(),
            "DC speaks wiki markup"
        );
        keys.extend(issues.iter().map(|i| i["key"].as_str().unwrap().to_owned()));
        start += issues.len();
    }
    assert_eq!(keys.len(), 90);
    let (status, _) = body(
        client()
            .get(format!(
                "{}/dc/rest/api/2/search?jql=project%3DSUP",
                sim.base_url()
            ))
            .basic_auth("demo@example.com", Some("demo-token")),
    )
    .await;
    assert_eq!(status, 401);
    sim.shutdown().await;
}

#[tokio::test]
async fn control_api_touches_issues_so_incremental_syncs_see_them() {
    let sim = sim(10).await;
    let (status, written) = control(&sim, Method::POST, "/sim/jira/issues", Some(json!([{"key": "SUP-1", "summary": "Touched"}, {"project": "OPS", "summary": "Brand new", "updated": "2030-01-01 00:00:00"}]))).await;
    assert_eq!(status, 200);
    let new_key = written["result"][1].as_str().unwrap().to_owned();
    let (_, page) = body(
        cloud(&sim, Method::POST, "/rest/api/3/search/jql")
            .json(&json!({"jql": "updated >= -1d ORDER BY updated", "fields": ["summary"]})),
    )
    .await;
    let summaries: Vec<&str> = page["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["fields"]["summary"].as_str().unwrap())
        .collect();
    assert_eq!(summaries, ["Touched", "Brand new"]);
    let (status, issue) = body(cloud(
        &sim,
        Method::GET,
        &format!("/rest/api/3/issue/{new_key}"),
    ))
    .await;
    assert_eq!(
        (status, issue["fields"]["summary"].as_str()),
        (200, Some("Brand new"))
    );
    sim.shutdown().await;
}
