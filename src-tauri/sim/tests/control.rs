//! The `/sim/` control API: record upserts and deletes, fixtures, the loopback-only guard and
//! the admin credentials it requires.

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
async fn control_api_needs_the_admin_accounts_basic_credentials() {
    let sim = sim(3).await;
    let url = |path: &str| format!("{}{path}", sim.base_url());
    let incidents = |info: &Value| info["tables"]["incident"].as_u64().unwrap();

    // No credentials: 401, the challenge, and a message naming the credentials.
    let response = client().get(url("/sim")).send().await.unwrap();
    let (status, headers, body) = json(response).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        header(&headers, "www-authenticate").as_deref(),
        Some("Basic realm=\"supportbot-sim control\"")
    );
    let message = body["error"].as_str().expect("an error message");
    assert!(
        message.contains("admin credentials") && message.contains("admin / admin"),
        "{message}"
    );

    // A valid account without the admin role: 403, no challenge.
    let (status, headers, body) = json(
        client()
            .get(url("/sim"))
            .basic_auth(READONLY.0, Some(READONLY.1))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(header(&headers, "www-authenticate").is_none());
    assert!(
        body["error"].as_str().unwrap().contains("admin role"),
        "{body}"
    );

    // The admin account with a wrong password, a no-role account, an MFA-enforced admin, and a
    // Bearer token of the admin are refused as well.
    for (user, password, expected) in [
        ("admin", "wrong", 401),
        ("admin", "", 401),
        ("nobody", "admin", 401),
        ("mfa.user", "mfa.user", 401),
        (NO_ACCESS.0, NO_ACCESS.1, 403),
    ] {
        let response = client()
            .get(url("/sim"))
            .basic_auth(user, Some(password))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), expected, "{user} / {password}");
    }
    let token: Value = client()
        .post(url("/oauth_token.do"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "demo-client"),
            ("client_secret", "demo-secret"),
            ("username", "admin"),
            ("password", "admin"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = token["access_token"].as_str().expect("an access token");
    let (status, _) = control_as(client().get(url("/sim")).bearer_auth(bearer), None).await;
    assert_eq!(status, 401);

    // The loopback check comes first: a foreign Host is 403 even with the admin credentials.
    let response = client()
        .get(url("/sim"))
        .header("Host", "evil.example:80")
        .basic_auth(ADMIN.0, Some(ADMIN.1))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);

    // The admin account gets in.
    let (status, before) = control(&sim, Method::GET, "/sim", None).await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(incidents(&before), 3);

    // Refused writes change nothing: no record, no fault, no deletion.
    let new_record = json!({"short_description": "Should never be stored"});
    let existing = results(table(&sim, ADMIN, "incident", &[])).await[0]["sys_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = [
        client().post(url("/sim/records/incident")),
        client()
            .post(url("/sim/records/incident"))
            .basic_auth("admin", Some("wrong")),
        client()
            .post(url("/sim/records/incident"))
            .basic_auth(READONLY.0, Some(READONLY.1)),
    ];
    for (request, expected) in refused.into_iter().zip([401, 401, 403]) {
        let (status, body) = control_as(request, Some(new_record.clone())).await;
        assert_eq!(status, expected, "{body}");
    }
    let fault = json!({"path_prefix": "/api/now/table/incident", "status": 500});
    let (status, _) = control_as(client().post(url("/sim/faults")), Some(fault)).await;
    assert_eq!(status, 401);
    let (status, _) = control_as(
        client()
            .delete(url(&format!("/sim/records/incident/{existing}")))
            .basic_auth(READONLY.0, Some(READONLY.1)),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, after) = control(&sim, Method::GET, "/sim", None).await;
    assert_eq!(status, 200);
    assert_eq!(incidents(&after), 3, "{after}");
    assert_eq!(after["faults"], 0, "{after}");
    assert_eq!(results(table(&sim, ADMIN, "incident", &[])).await.len(), 3);

    // The same write with the admin credentials goes through.
    let (status, body) = control(
        &sim,
        Method::POST,
        "/sim/records/incident",
        Some(new_record),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, after) = control(&sim, Method::GET, "/sim", None).await;
    assert_eq!(incidents(&after), 4);
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
