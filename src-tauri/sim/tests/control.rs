//! The `/sim/` control API: record upserts and deletes, fixtures, the loopback-only guard.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use supportbot_sim::SimConfig;

#[tokio::test]
async fn upsert_generates_missing_fields_and_updates_merge() {
    let sim = sim(10).await;
    let (status, body) = control(&sim, Method::POST, "/sim/records/incident", Some(json!({"short_description": "New VPN outage", "assigned_to": {"value": "6816f79cc0a8016401c5a33be04be441", "link": "x"}}))).await;
    assert_eq!(status, 200, "{body}");
    let created = &body["result"][0];
    let id = created["sys_id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 32);
    assert_eq!(created["number"], "INC0010011");
    assert_eq!(created["assigned_to"], "6816f79cc0a8016401c5a33be04be441");
    assert_eq!(created["sys_mod_count"], "0");
    assert!(created["sys_updated_on"].as_str().unwrap() > "2025-06-30 18:00:00");

    let (_, body) = control(
        &sim,
        Method::POST,
        "/sim/records/incident",
        Some(json!({"result": [{"sys_id": id, "state": "6", "close_notes": "Fixed"}]})),
    )
    .await;
    let updated = &body["result"][0];
    assert_eq!(updated["sys_mod_count"], "1");
    assert_eq!(updated["short_description"], "New VPN outage");
    assert_eq!(updated["state"], "6");

    let found = results(table(
        &sim,
        ADMIN,
        "incident",
        &[
            ("sysparm_query", "short_descriptionLIKEnew vpn outage"),
            ("sysparm_display_value", "true"),
        ],
    ))
    .await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["state"], "Resolved");
    assert_eq!(
        found[0]["assigned_to"]["display_value"],
        "System Administrator"
    );

    // Arrays and explicit timestamps (ties on purpose).
    let (_, body) = control(
        &sim,
        Method::POST,
        "/sim/records/incident",
        Some(json!([
            {"short_description": "a", "sys_updated_on": "2030-01-01 00:00:00"},
            {"short_description": "b", "sys_updated_on": "2030-01-01 00:00:00"}
        ])),
    )
    .await;
    assert_eq!(body["result"].as_array().unwrap().len(), 2);
    let tied = results(table(
        &sim,
        ADMIN,
        "incident",
        &[("sysparm_query", "sys_updated_on=2030-01-01 00:00:00")],
    ))
    .await;
    assert_eq!(tied.len(), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn delete_logs_to_sys_audit_delete() {
    let sim = sim(10).await;
    let first = results(table(
        &sim,
        ADMIN,
        "incident",
        &[("sysparm_limit", "1"), ("sysparm_query", "ORDERBYnumber")],
    ))
    .await
    .remove(0);
    let id = first["sys_id"].as_str().unwrap();
    let (status, body) = control(
        &sim,
        Method::DELETE,
        &format!("/sim/records/incident/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["documentkey"], id);
    assert_eq!(body["result"]["display_value"], first["number"]);
    assert_eq!(results(table(&sim, ADMIN, "incident", &[])).await.len(), 9);
    let audit = results(table(
        &sim,
        ADMIN,
        "sys_audit_delete",
        &[("sysparm_query", "tablename=incident")],
    ))
    .await;
    assert_eq!(audit.len(), 1);
    let payload: Value = serde_json::from_str(audit[0]["payload"].as_str().unwrap()).unwrap();
    assert_eq!(payload["number"], first["number"]);
    assert_eq!(
        control(
            &sim,
            Method::DELETE,
            &format!("/sim/records/incident/{id}"),
            None
        )
        .await
        .0,
        404
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn control_api_answers_loopback_host_names_only() {
    let sim = sim(1).await;
    let response = client()
        .get(format!("{}/sim", sim.base_url()))
        .header("Host", "evil.example:80")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    let (status, info) = control(&sim, Method::GET, "/sim", None).await;
    assert_eq!(status, 200);
    assert_eq!(info["tables"]["incident"], 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn fixtures_replace_generated_incidents() {
    let dir = tempfile::tempdir().unwrap();
    let saved = json!({"result": [
        {"sys_id": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "number": "INC0099999", "short_description": "From a fixture",
         "assigned_to": {"link": "https://x.service-now.com/api/now/table/sys_user/6816f79cc0a8016401c5a33be04be441", "value": "6816f79cc0a8016401c5a33be04be441"},
         "priority": 2, "sys_updated_on": "2024-05-01 10:00:00"}
    ]});
    let path = dir.path().join("incidents.json");
    std::fs::write(&path, saved.to_string()).unwrap();
    let sim = sim_with(SimConfig {
        fixture: Some(path),
        ..SimConfig::default()
    })
    .await;
    let rows = results(table(
        &sim,
        ADMIN,
        "incident",
        &[("sysparm_display_value", "all")],
    ))
    .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["priority"]["value"], "2");
    assert_eq!(
        rows[0]["assigned_to"]["display_value"],
        "System Administrator"
    );
    sim.shutdown().await;

    let tables = dir.path().join("tables.json");
    std::fs::write(
        &tables,
        json!({"incident": [], "u_custom": [{"sys_id": "b", "u_name": "x"}]}).to_string(),
    )
    .unwrap();
    let sim = sim_with(SimConfig {
        fixture: Some(tables),
        ..SimConfig::default()
    })
    .await;
    assert!(results(table(&sim, ADMIN, "incident", &[]))
        .await
        .is_empty());
    assert_eq!(
        results(table(
            &sim,
            ADMIN,
            "u_custom",
            &[("sysparm_query", "u_name=x")]
        ))
        .await
        .len(),
        1
    );
    sim.shutdown().await;

    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "[{\"number\": \"no sys_id\"}]").unwrap();
    let error = supportbot_sim::start(SimConfig {
        fixture: Some(broken),
        ..SimConfig::default()
    })
    .await
    .err()
    .expect("refused");
    assert!(error.to_string().contains("missing sys_id"), "{error}");
}
