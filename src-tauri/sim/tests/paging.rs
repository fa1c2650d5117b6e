//! Paging the Table API while records change: the simulator must reproduce offset drift (as a
//! real instance does) and keep keyset paging on (sys_updated_on, sys_id) complete.

mod common;

use std::collections::HashSet;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

const ORDER: &str = "ORDERBYsys_updated_on^ORDERBYsys_id";

fn field(record: &Value, name: &str) -> String {
    record[name].as_str().unwrap_or_default().to_owned()
}

async fn touch(sim: &supportbot_sim::RunningSim, sys_ids: &[String]) {
    let records: Vec<Value> = sys_ids
        .iter()
        .map(|id| json!({"sys_id": id, "state": "2"}))
        .collect();
    let (status, _) = control(
        sim,
        Method::POST,
        "/sim/records/incident",
        Some(Value::Array(records)),
    )
    .await;
    assert_eq!(status, 200);
}

/// One keyset page after the watermark `(updated, sys_id)`.
async fn keyset_page(
    sim: &supportbot_sim::RunningSim,
    after: Option<(String, String)>,
) -> Vec<Value> {
    let query = match after {
        None => ORDER.to_owned(),
        Some((updated, id)) => {
            format!("sys_updated_on>{updated}^NQsys_updated_on={updated}^sys_id>{id}^{ORDER}")
        }
    };
    results(table(
        sim,
        ADMIN,
        "incident",
        &[
            ("sysparm_query", &query),
            ("sysparm_limit", "40"),
            ("sysparm_fields", "sys_id,sys_updated_on"),
        ],
    ))
    .await
}

#[tokio::test]
async fn offset_paging_skips_rows_when_earlier_rows_change_between_pages() {
    let sim = sim(200).await;
    let mut seen = HashSet::new();
    let mut offset = 0;
    loop {
        let offset_text = offset.to_string();
        let page = results(table(
            &sim,
            ADMIN,
            "incident",
            &[
                ("sysparm_query", ORDER),
                ("sysparm_limit", "40"),
                ("sysparm_offset", &offset_text),
                ("sysparm_fields", "sys_id"),
            ],
        ))
        .await;
        if page.is_empty() {
            break;
        }
        if offset == 0 {
            // Records already read move to the end of the order, shifting every later row left.
            let moved: Vec<String> = page[..5].iter().map(|r| field(r, "sys_id")).collect();
            touch(&sim, &moved).await;
        }
        seen.extend(page.iter().map(|r| field(r, "sys_id")));
        offset += 40;
    }
    assert_eq!(
        seen.len(),
        195,
        "five rows should have slipped under the offset"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn keyset_paging_sees_every_row_despite_updates_between_pages() {
    let sim = sim(200).await;
    let all: HashSet<String> = results(table(
        &sim,
        ADMIN,
        "incident",
        &[("sysparm_fields", "sys_id")],
    ))
    .await
    .iter()
    .map(|r| field(r, "sys_id"))
    .collect();
    let mut seen = HashSet::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = keyset_page(&sim, after.clone()).await;
        let Some(last) = page.last() else { break };
        after = Some((field(last, "sys_updated_on"), field(last, "sys_id")));
        if pages == 0 {
            let moved: Vec<String> = page[..5].iter().map(|r| field(r, "sys_id")).collect();
            touch(&sim, &moved).await;
        }
        seen.extend(page.iter().map(|r| field(r, "sys_id")));
        pages += 1;
        assert!(pages < 50, "paging does not terminate");
    }
    assert!(all.is_subset(&seen));
    sim.shutdown().await;
}

#[tokio::test]
async fn keyset_paging_is_complete_while_a_writer_updates_concurrently() {
    let sim = sim(300).await;
    let ids: Vec<String> = results(table(
        &sim,
        ADMIN,
        "incident",
        &[("sysparm_fields", "sys_id")],
    ))
    .await
    .iter()
    .map(|r| field(r, "sys_id"))
    .collect();
    let url = sim.base_url();
    let writer_ids = ids.clone();
    let writer = tokio::spawn(async move {
        let http = client();
        for chunk in writer_ids.chunks(7).take(30) {
            let records: Vec<Value> = chunk
                .iter()
                .map(|id| json!({"sys_id": id, "state": "2"}))
                .collect();
            let response = http
                .post(format!("{url}/sim/records/incident"))
                .basic_auth(ADMIN.0, Some(ADMIN.1))
                .json(&records)
                .send()
                .await
                .expect("writer");
            assert!(response.status().is_success());
            tokio::task::yield_now().await;
        }
    });
    let mut seen = HashSet::new();
    let mut after = None;
    for _ in 0..200 {
        let page = keyset_page(&sim, after.clone()).await;
        let Some(last) = page.last() else { break };
        after = Some((field(last, "sys_updated_on"), field(last, "sys_id")));
        seen.extend(page.iter().map(|r| field(r, "sys_id")));
    }
    writer.await.expect("writer finished");
    assert!(
        ids.iter().all(|id| seen.contains(id)),
        "keyset paging lost rows"
    );
    sim.shutdown().await;
}
