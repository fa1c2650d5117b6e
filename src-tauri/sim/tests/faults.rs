//! Every fault knob of `POST /sim/faults`, observed over real HTTP.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use supportbot_sim::RunningSim;

const INCIDENTS: &str = "/api/now/table/incident";

async fn inject(sim: &RunningSim, spec: Value) -> Value {
    let (status, body) = control(sim, Method::POST, "/sim/faults", Some(spec)).await;
    assert_eq!(status, 201, "{body}");
    body["result"][0].clone()
}

async fn get(sim: &RunningSim, path_and_query: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path_and_query}", sim.base_url()))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn rate_limit_by_count_with_retry_after_and_rate_limit_headers() {
    let sim = sim(5).await;
    inject(
        &sim,
        json!({"path_prefix": INCIDENTS, "status": 429, "retry_after": 3, "count": 2}),
    )
    .await;
    for _ in 0..2 {
        let (status, headers, body) = json(get(&sim, INCIDENTS).await).await;
        assert_eq!(status, 429);
        assert_eq!(body["error"]["message"], "Rate limit exceeded");
        assert_eq!(
            body["error"]["detail"],
            "Rate limit of 100 requests per hour for Table API exceeded"
        );
        assert_eq!(header(&headers, "Retry-After").as_deref(), Some("3"));
        assert_eq!(
            header(&headers, "X-RateLimit-Limit").as_deref(),
            Some("100")
        );
        assert!(
            header(&headers, "X-RateLimit-Reset")
                .unwrap()
                .parse::<i64>()
                .unwrap()
                > 1_700_000_000
        );
        assert!(header(&headers, "X-RateLimit-Rule").is_some());
    }
    assert_eq!(get(&sim, INCIDENTS).await.status().as_u16(), 200);
    // Other paths were never affected.
    let (_, rules) = control(&sim, Method::GET, "/sim/faults", None).await;
    assert_eq!(rules["result"][0]["hits"], 2);
    assert_eq!(rules["result"][0]["remaining"], 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn status_faults_use_each_services_error_shape() {
    let sim = sim(2).await;
    let cases: &[(&str, u16, &str, &str)] = &[
        (INCIDENTS, 401, "/error/message", "User Not Authenticated"),
        (INCIDENTS, 403, "/error/message", "User Not Authorized"),
        (INCIDENTS, 500, "/error/message", "Internal Server Error"),
        (
            "/rest/api/3/search/jql",
            429,
            "/errorMessages/0",
            "Rate limit exceeded.",
        ),
        (
            "/rest/api/3/search/jql",
            401,
            "/errorMessages/0",
            "You are not authenticated. Authentication required to perform this operation.",
        ),
        (
            "/oauth_token.do",
            401,
            "/error_description",
            "access_denied",
        ),
    ];
    for (path, status, pointer, message) in cases {
        control(&sim, Method::DELETE, "/sim/faults", None).await;
        inject(
            &sim,
            json!({"path_prefix": path, "status": status, "count": 1}),
        )
        .await;
        let (got, headers, body) = json(get(&sim, path).await).await;
        assert_eq!(got, *status, "{path}");
        assert_eq!(
            body.pointer(pointer).and_then(Value::as_str),
            Some(*message),
            "{path}: {body}"
        );
        if *status == 429 {
            assert_eq!(
                header(&headers, "X-RateLimit-Remaining").as_deref(),
                Some("0")
            );
            assert!(header(&headers, "Retry-After").is_some());
        }
    }
    control(&sim, Method::DELETE, "/sim/faults", None).await;
    inject(
        &sim,
        json!({"path_prefix": INCIDENTS, "status": 503, "count": 1}),
    )
    .await;
    let response = get(&sim, INCIDENTS).await;
    assert_eq!(response.status().as_u16(), 503);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Service Unavailable"));
    sim.shutdown().await;
}

#[tokio::test]
async fn slow_responses_still_succeed() {
    let sim = sim(3).await;
    let rule = inject(
        &sim,
        json!({"path_prefix": INCIDENTS, "kind": "slow", "delay_ms": 30, "count": 1}),
    )
    .await;
    assert_eq!(rule["kind"], "slow");
    let (status, _, body) = json(get(&sim, INCIDENTS).await).await;
    assert_eq!((status, body["result"].as_array().unwrap().len()), (200, 3));
    let (_, rules) = control(&sim, Method::GET, "/sim/faults", None).await;
    assert_eq!(rules["result"][0]["hits"], 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn transaction_cancelled_with_default_and_overridden_status() {
    let sim = sim(3).await;
    inject(
        &sim,
        json!({"path_prefix": INCIDENTS, "kind": "transaction_cancelled", "count": 1}),
    )
    .await;
    let (status, _, body) = json(get(&sim, INCIDENTS).await).await;
    assert_eq!(status, 500);
    assert_eq!(
        body["error"]["message"],
        "Transaction cancelled: maximum execution time exceeded"
    );
    inject(&sim, json!({"path_prefix": INCIDENTS, "kind": "transaction_cancelled", "status": 200, "count": 1})).await;
    let (status, _, body) = json(get(&sim, INCIDENTS).await).await;
    assert_eq!(status, 200);
    assert!(body.get("result").is_none());
    sim.shutdown().await;
}

#[tokio::test]
async fn malformed_json_is_a_complete_response_that_does_not_parse() {
    let sim = sim(3).await;
    inject(
        &sim,
        json!({"path_prefix": INCIDENTS, "kind": "malformed_json", "count": 1}),
    )
    .await;
    let response = get(&sim, INCIDENTS).await;
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.expect("the body arrives whole");
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    assert!(text.starts_with("{\"result\""));
    sim.shutdown().await;
}

#[tokio::test]
async fn truncated_bodies_end_early() {
    let sim = sim(20).await;
    inject(
        &sim,
        json!({"path_prefix": INCIDENTS, "kind": "truncated", "count": 1}),
    )
    .await;
    let response = get(&sim, INCIDENTS).await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.text().await.is_err(),
        "reading a truncated body must fail"
    );
    // The next request is whole again.
    let (status, _, _) = json(get(&sim, INCIDENTS).await).await;
    assert_eq!(status, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn short_pages_hide_rows_but_keep_the_total() {
    let sim = sim(30).await;
    inject(
        &sim,
        json!({"path_prefix": INCIDENTS, "kind": "short_page", "count": 1}),
    )
    .await;
    inject(
        &sim,
        json!({"path_prefix": INCIDENTS, "kind": "short_page", "hide_rows": 3, "count": 1}),
    )
    .await;
    let page = "/api/now/table/incident?sysparm_limit=10&sysparm_offset=10";
    for expected in [5, 7, 10] {
        let (status, headers, body) = json(get(&sim, page).await).await;
        assert_eq!(status, 200);
        assert_eq!(body["result"].as_array().unwrap().len(), expected);
        assert_eq!(header(&headers, "X-Total-Count").as_deref(), Some("30"));
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn rates_zero_and_one_and_method_filters() {
    let sim = sim(2).await;
    inject(
        &sim,
        json!({"path_prefix": "/api/now/table/sys_user", "status": 500, "rate": 1.0}),
    )
    .await;
    inject(
        &sim,
        json!({"path_prefix": INCIDENTS, "status": 500, "rate": 0.0}),
    )
    .await;
    inject(
        &sim,
        json!({"path_prefix": INCIDENTS, "method": "POST", "status": 403}),
    )
    .await;
    for _ in 0..5 {
        assert_eq!(
            get(&sim, "/api/now/table/sys_user").await.status().as_u16(),
            500
        );
        assert_eq!(get(&sim, INCIDENTS).await.status().as_u16(), 200);
    }
    let post = client()
        .post(format!("{}{INCIDENTS}", sim.base_url()))
        .basic_auth("admin", Some("admin"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status().as_u16(), 403);
    sim.shutdown().await;
}

#[tokio::test]
async fn control_api_is_never_faulted_and_faults_can_be_removed() {
    let sim = sim(2).await;
    let rule = inject(&sim, json!({"path_prefix": "/", "status": 500})).await;
    assert_eq!(get(&sim, INCIDENTS).await.status().as_u16(), 500);
    let (status, info) = control(&sim, Method::GET, "/sim", None).await;
    assert_eq!((status, info["faults"].as_u64()), (200, Some(1)));
    let id = rule["id"].as_u64().unwrap();
    assert_eq!(
        control(&sim, Method::DELETE, &format!("/sim/faults/{id}"), None)
            .await
            .0,
        204
    );
    assert_eq!(
        control(&sim, Method::DELETE, &format!("/sim/faults/{id}"), None)
            .await
            .0,
        404
    );
    assert_eq!(get(&sim, INCIDENTS).await.status().as_u16(), 200);
    inject(&sim, json!([{"path_prefix": "/", "status": 500}, {"path_prefix": "/x", "kind": "slow", "delay_ms": 1}])).await;
    assert_eq!(
        control(&sim, Method::DELETE, "/sim/faults", None).await.0,
        204
    );
    assert_eq!(get(&sim, INCIDENTS).await.status().as_u16(), 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn invalid_fault_specs_are_refused_whole() {
    let sim = sim(1).await;
    for bad in [
        json!({"path_prefix": INCIDENTS}),
        json!({"path_prefix": INCIDENTS, "status": 302}),
        json!({"path_prefix": INCIDENTS, "kind": "explode"}),
        json!({"path_prefix": INCIDENTS, "status": 500, "rate": 2}),
        json!({"path_prefix": INCIDENTS, "status": 500, "colour": "red"}),
        json!([{"path_prefix": INCIDENTS, "status": 500}, {"path_prefix": "nope", "status": 500}]),
    ] {
        let (status, body) = control(&sim, Method::POST, "/sim/faults", Some(bad.clone())).await;
        assert_eq!(status, 400, "{bad}");
        assert!(body["error"].is_string());
    }
    let (_, rules) = control(&sim, Method::GET, "/sim/faults", None).await;
    assert_eq!(rules["result"], json!([]));
    sim.shutdown().await;
}
