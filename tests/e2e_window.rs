//! End-to-end test of the real window: tauri-driver + WebKitWebDriver drive the built app under
//! Xvfb. Syncs the demo integration, searches the knowledge base from its page and rolls back
//! from Version History; chats with the bot and the simulated live agent, with desktop
//! notifications while the window is in the background; adds, expands, edits, toggles and
//! deletes an integration through the UI, sets the Admin's password (required before a second
//! profile), checks that a Viewer profile cannot edit nor switch back to Admin without the
//! password (in the UI and in the core), and that the typed secret is nowhere in the data directory. Skips unless a
//! display and tauri-driver exist, or fails when SUPPORTBOT_REQUIRE_E2E=1 (the test command
//! sets it).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};

mod common;
use common::window::*;
use serde_json::json;

const SECRET: &str = "e2e-typed-secret-70412";
/// The Admin profile's password, set through the Profiles page before a Viewer is added.
const ADMIN_PW: &str = "e2e-admin-pw-1";

/// Searches the synced demo data the way a user asks (a symptom, not a title) and checks that the
/// hits carry a number, a highlighted resolution, a score and a link to the source record.
async fn search_from_the_page(c: &Client) {
    click(c, r#"[data-testid="nav-kb-search"]"#).await;
    type_into(
        c,
        r#"[data-testid="kb-query"]"#,
        "my laptop cannot reach the office network from home",
    )
    .await;
    click(c, r#"[data-testid="kb-search"]"#).await;
    text_contains(
        c,
        r#"[data-testid="kb-results-summary"]"#,
        "in 500 incidents",
    )
    .await;
    let hits = c
        .find_all(Locator::Css(r#"[data-testid="kb-hit"]"#))
        .await
        .unwrap();
    assert_eq!(hits.len(), 10, "ten best matches");
    let first = &hits[0];
    let number = first.attr("data-number").await.unwrap().unwrap_or_default();
    assert!(
        number.starts_with("INC"),
        "a cited incident number: {number:?}"
    );
    let link = first
        .find(Locator::Css("a.hit__number"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        link.starts_with("http://127.0.0.1:") && link.contains("incident"),
        "{link}"
    );
    let score = first
        .find(Locator::Css(r#"[data-testid="kb-hit-score"]"#))
        .await
        .unwrap()
        .prop("textContent")
        .await
        .unwrap()
        .unwrap_or_default();
    // A relevance a person reads ("Strong match · 87%"), never a raw fusion score.
    let percent: f64 = score
        .trim()
        .rsplit(' ')
        .next()
        .and_then(|p| p.strip_suffix('%'))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("a percentage: {score}"));
    assert!(
        score.contains("match") && (0.0..=100.0).contains(&percent),
        "{score}"
    );
    // A filter narrows the list at once.
    let priority = el(c, r#"[data-testid="filter-priority"] option:nth-child(2)"#).await;
    let wanted = priority.prop("value").await.unwrap().unwrap_or_default();
    priority.click().await.unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        let metas = c.find_all(Locator::Css(".hit__meta")).await.unwrap();
        let mut all = !metas.is_empty();
        for m in &metas {
            // The list re-renders when the filtered results arrive: a node read mid-render is
            // stale, which only means "not yet".
            match m.prop("textContent").await {
                Ok(t) => all &= t.unwrap_or_default().contains(&wanted),
                Err(_) => {
                    all = false;
                    break;
                }
            }
        }
        if all {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the priority filter did not narrow the results to {wanted}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    screenshot(c, "e2e-kb-search.png").await;

    // The incident detail view: every synced field of the first hit.
    click(
        c,
        r#"[data-testid="kb-hit"] [data-testid="kb-hit-details"]"#,
    )
    .await;
    let fields = r#"[data-testid="incident-detail"] [data-testid="incident-fields"]"#;
    for label in [
        "Number",
        "Short description",
        "State",
        "Priority",
        "Category",
        "Subcategory",
        "Assigned to",
        "Resolved by",
        "Close code",
        "Created",
        "Updated",
        "Resolved",
        "Demo ServiceNow (simulated)",
        "Dataset version",
        "Open in",
    ] {
        text_contains(c, fields, label).await;
    }
    text_contains(c, r#"[data-testid="incident-version"]"#, "v1").await;
    // Some demo incidents have no description; the section is there either way.
    el(c, r#"[data-testid="incident-description"]"#).await;
    // An open incident has no resolution notes yet: the section says so with a dash.
    el(c, r#"[data-testid="incident-resolution"]"#).await;
    screenshot(c, "e2e-incident-detail.png").await;
    click(c, r#"[data-testid="incident-detail"] .modal__footer .btn"#).await;
    gone(c, r#"[data-testid="incident-detail"]"#).await;
}

/// A sync that fails after a good one: the card says when it was tried and keeps the last
/// success in view; the error is one click (expanding the card) away.
async fn failed_sync_keeps_the_last_success(c: &Client, card: &str, demo_url: &str) {
    common::sim_control(
        demo_url,
        "POST",
        "/sim/faults",
        r#"{"path_prefix": "/api/now/table", "status": 401}"#,
    );
    click(c, r#"[data-testid="nav-integrations"]"#).await;
    let details = format!("{card} [data-testid=\"card-details\"]");
    if c.find_all(Locator::Css(&details)).await.unwrap().is_empty() {
        click(c, &format!("{card} [data-testid=\"card-header\"]")).await;
    }
    click(c, &format!("{card} [data-testid=\"card-sync\"]")).await;
    wait_attr(
        c,
        &format!("{card} [data-testid=\"card-status\"]"),
        "data-status",
        "error",
    )
    .await;
    text_contains(
        c,
        &format!("{card} [data-testid=\"card-last-attempt\"]"),
        "Last attempt failed",
    )
    .await;
    text_contains(
        c,
        &format!("{card} [data-testid=\"card-last-success\"]"),
        "Last success",
    )
    .await;
    text_contains(c, &format!("{card} [data-testid=\"card-error\"]"), "Code").await;
    screenshot(c, "e2e-failed-sync.png").await;
    common::sim_control(demo_url, "DELETE", "/sim/faults", "");
}

/// The add dialog's Test connection checks typed values before anything is saved: pointed at the
/// demo simulator with its read-only account, every step passes.
async fn test_connection_before_saving(c: &Client, demo_url: &str) {
    click(c, r#"[data-testid="nav-integrations"]"#).await;
    click(c, r#"[data-testid="add-integration"]"#).await;
    el(c, r#"[data-testid="integration-dialog"]"#).await;
    type_into(c, r#"[data-testid="field-name"]"#, "Checked first").await;
    el(c, r#"[data-testid="field-kind"]"#)
        .await
        .select_by_value("servicenow")
        .await
        .unwrap();
    el(c, r#"[data-testid="field-auth"]"#)
        .await
        .select_by_value("basic")
        .await
        .unwrap();
    type_into(c, r#"[data-testid="field-url"]"#, demo_url).await;
    type_into(c, r#"[data-testid="field-username"]"#, "svc.readonly").await;
    type_into(c, r#"[data-testid="field-password"]"#, "wrong").await;
    click(c, r#"[data-testid="dialog-test"]"#).await;
    let failed = text_contains(
        c,
        r#"[data-testid="integration-dialog"] [data-testid="check-result"]"#,
        "The connection check failed",
    )
    .await;
    assert!(failed.contains("Sign in"), "{failed}");
    el(
        c,
        r#"[data-testid="integration-dialog"] [data-testid="check-step"][data-step="auth"] [data-testid="check-advice"]"#,
    )
    .await;
    type_into(c, r#"[data-testid="field-password"]"#, "readonly").await;
    // The advanced section: a request budget goes with the check as with Save.
    click(c, r#"[data-testid="advanced-toggle"]"#).await;
    type_into(c, r#"[data-testid="field-request_budget"]"#, "500").await;
    text_contains(c, r#"[data-testid="advanced-section"]"#, "CA certificates").await;
    screenshot(c, "e2e-dialog-advanced.png").await;
    click(c, r#"[data-testid="dialog-test"]"#).await;
    let ok = text_contains(
        c,
        r#"[data-testid="integration-dialog"] [data-testid="check-result"]"#,
        "Connection OK",
    )
    .await;
    assert!(ok.contains("the source counts"), "{ok}");
    screenshot(c, "e2e-dialog-connection-check.png").await;
    click(c, r#"[data-testid="dialog-cancel"]"#).await;
    gone(c, r#"[data-testid="integration-dialog"]"#).await;
    // Nothing was saved.
    assert!(c
        .find_all(Locator::Css(
            r#"[data-testid="integration-card"][data-name="Checked first"]"#
        ))
        .await
        .unwrap()
        .is_empty());
}

/// 60 of the demo's incidents vanish at the source (as when the account loses a role): the
/// sync holds the deletions (partial, a note, a "Remove 60 incidents" button) and removes them
/// only when the admin confirms.
async fn held_deletions_are_confirmed_from_the_card(c: &Client, card: &str, demo_url: &str) {
    let listed = common::sim_request(
        demo_url,
        "GET",
        "/api/now/table/incident?sysparm_fields=sys_id&sysparm_limit=60",
        "",
    );
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let ids: Vec<&str> = listed["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["sys_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 60);
    for id in &ids {
        common::sim_control(
            demo_url,
            "DELETE",
            &format!("/sim/records/incident/{id}"),
            "",
        );
    }
    click(c, r#"[data-testid="nav-integrations"]"#).await;
    let details = format!("{card} [data-testid=\"card-details\"]");
    if c.find_all(Locator::Css(&details)).await.unwrap().is_empty() {
        click(c, &format!("{card} [data-testid=\"card-header\"]")).await;
    }
    click(c, &format!("{card} [data-testid=\"card-sync\"]")).await;
    let held = text_contains(
        c,
        &format!("{card} [data-testid=\"sync-held\"]"),
        "Remove 60 incidents",
    )
    .await;
    assert!(held.contains("really were deleted"), "{held}");
    text_contains(
        c,
        &format!("{card} [data-testid=\"sync-result\"]"),
        "lost access",
    )
    .await;
    wait_attr(
        c,
        &format!("{card} [data-testid=\"card-status\"]"),
        "data-status",
        "partial",
    )
    .await;
    screenshot(c, "e2e-held-deletions.png").await;
    click(c, &format!("{card} [data-testid=\"confirm-mass-delete\"]")).await;
    wait_attr(
        c,
        &format!("{card} [data-testid=\"card-status\"]"),
        "data-status",
        "success",
    )
    .await;
    // The source holds 501 (the demo's 500 and the incident the rollback step added there).
    click(c, r#"[data-testid="nav-knowledge-base"]"#).await;
    text_contains(c, r#"[data-testid="kb-stat-incidents"]"#, "441").await;
}

/// Changes one demo incident at the source, syncs again (v2), then rolls back to v1 from Version
/// History: a new version "Rollback to v1" appears and the diff of v2 shows the change.
async fn roll_back_from_version_history(c: &Client, card: &str, demo_url: &str) {
    common::sim_control(
        demo_url,
        "POST",
        "/sim/records/incident",
        r#"{"short_description":"E2E printer smoke","description":"The third-floor printer smokes when printing duplex.","priority":"2","category":"hardware","state":"6","close_notes":"Replaced the fuser unit."}"#,
    );
    click(c, r#"[data-testid="nav-integrations"]"#).await;
    click(c, &format!("{card} [data-testid=\"card-header\"]")).await;
    click(c, &format!("{card} [data-testid=\"card-sync\"]")).await;
    text_contains(
        c,
        &format!("{card} [data-testid=\"sync-result\"]"),
        "501 in the knowledge base",
    )
    .await;

    click(c, r#"[data-testid="nav-knowledge-base"]"#).await;
    text_contains(c, r#"[data-testid="kb-stat-incidents"]"#, "501").await;
    let v2 = r#"[data-testid="version-row"][data-version="2"]"#;
    text_contains(c, v2, "Current").await;
    click(c, &format!("{v2} [data-testid=\"version-open\"]")).await;
    text_contains(c, r#"[data-testid="version-changes"]"#, "E2E printer smoke").await;
    click(c, r#"[data-testid="version-detail"] .modal__footer .btn"#).await;
    gone(c, r#"[data-testid="version-detail"]"#).await;

    let v1 = r#"[data-testid="version-row"][data-version="1"]"#;
    click(c, &format!("{v1} [data-testid=\"version-rollback\"]")).await;
    text_contains(c, r#"[data-testid="rollback-dialog"]"#, "500 incidents").await;
    click(
        c,
        r#"[data-testid="rollback-dialog"] [data-testid="confirm-ok"]"#,
    )
    .await;
    text_contains(
        c,
        r#"[data-testid="kb-notice"]"#,
        "Rolled back to v1. This is recorded as v3",
    )
    .await;
    text_contains(
        c,
        r#"[data-testid="version-row"][data-version="3"]"#,
        "Rollback to v1",
    )
    .await;
    text_contains(c, r#"[data-testid="kb-stat-incidents"]"#, "500").await;
    screenshot(c, "e2e-kb-versions.png").await;

    // The rolled-back incident is gone from search too.
    click(c, r#"[data-testid="nav-kb-search"]"#).await;
    type_into(c, r#"[data-testid="kb-query"]"#, "E2E printer smoke").await;
    click(c, r#"[data-testid="filter-method"] option[value="bm25"]"#).await;
    click(c, r#"[data-testid="kb-search"]"#).await;
    let summary = text_contains(c, r#"[data-testid="kb-results-summary"]"#, "500 incidents").await;
    assert!(!summary.contains("501"), "{summary}");
    for h in c
        .find_all(Locator::Css(r#"[data-testid="kb-hit-title"]"#))
        .await
        .unwrap()
    {
        let t = h.prop("textContent").await.unwrap().unwrap_or_default();
        assert!(
            !t.contains("E2E printer smoke"),
            "the rolled-back incident is still found"
        );
    }
}

/// The app put in the background: a small window of its own (ImageMagick `display`) takes the X
/// input focus, and `dbus-monitor` records the `org.freedesktop.Notifications.Notify` calls on
/// the session bus (the tests run under `dbus-run-session`), which is what the app asks the
/// desktop to show; no notification daemon is needed to see it.
struct Backgrounded {
    backdrop: Child,
    monitor: Child,
    log: tempfile::NamedTempFile,
}

impl Backgrounded {
    fn start() -> Backgrounded {
        let log = tempfile::NamedTempFile::new().unwrap();
        let monitor = Command::new("dbus-monitor")
            .args([
                "--session",
                "interface='org.freedesktop.Notifications',member='Notify'",
            ])
            .stdout(log.reopen().unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-monitor (Debian package dbus)");
        let title = "supportbot-e2e-backdrop";
        let backdrop = Command::new("display")
            .args(["-title", title, "-size", "320x120", "xc:gray90"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("display (Debian package imagemagick)");
        let focused = Command::new("xdotool")
            .args(["search", "--sync", "--name", title, "windowfocus", "--sync"])
            .status()
            .expect("xdotool (Debian package xdotool)");
        assert!(focused.success(), "could not focus the backdrop window");
        Backgrounded {
            backdrop,
            monitor,
            log,
        }
    }

    /// Waits for a notification whose title contains `want`.
    async fn notified(&self, want: &str) {
        let started = Instant::now();
        loop {
            let seen = std::fs::read_to_string(self.log.path()).unwrap_or_default();
            if seen.contains(want) {
                return;
            }
            assert!(
                started.elapsed() < WAIT,
                "no desktop notification {want:?}; the session bus saw:\n{seen}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Backgrounded {
    fn drop(&mut self) {
        for child in [&mut self.backdrop, &mut self.monitor] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Asks the bot a question (cited answer), escalates to the simulated live agent (spinner, the
/// agent joins and replies; with the window in the background, both are desktop notifications)
/// and ends the chat.
async fn chat_with_the_bot_and_an_agent(c: &Client) {
    click(c, r#"[data-testid="nav-chat"]"#).await;
    type_into(
        c,
        r#"[data-testid="chat-input"]"#,
        "my vpn keeps disconnecting when I work from home",
    )
    .await;
    click(c, r#"[data-testid="chat-send"]"#).await;
    let citation = text_contains(
        c,
        r#"[data-testid="bot-answer"] [data-testid="citation"]"#,
        "INC",
    )
    .await;
    assert!(citation.trim().starts_with("INC"), "{citation}");
    screenshot(c, "e2e-chat-answer.png").await;
    el(
        c,
        r#"[data-testid="bot-answer"] [data-testid="feedback-yes"]"#,
    )
    .await;
    let background = Backgrounded::start();
    click(c, r#"[data-testid="chat-escalate"]"#).await;
    el(c, r#"[data-testid="part-spinner"]"#).await;
    wait_attr(
        c,
        r#"[data-testid="chat-state"]"#,
        "data-state",
        "connected",
    )
    .await;
    text_contains(c, r#"[data-testid="chat-agent"]"#, "Beth Anglin").await;
    el(
        c,
        r#"[data-testid="chat-message"][data-from="agent"] .part--text"#,
    )
    .await;
    background.notified("Beth Anglin joined the chat").await;
    background.notified("Beth Anglin replied").await;
    // The notification carries the agent's words, not a placeholder.
    background.notified("Hi, this is Beth").await;
    drop(background);
    screenshot(c, "e2e-chat.png").await;
    click(c, r#"[data-testid="chat-end"]"#).await;
    wait_attr(
        c,
        r#"[data-testid="chat-state"]"#,
        "data-state",
        "completed",
    )
    .await;
    declined_and_the_knowledge_gaps(c).await;
}

/// A question no incident answers is declined visibly (nothing cited, the hand-off inside),
/// and shows up under Knowledge > Knowledge gaps with the chat figures.
async fn declined_and_the_knowledge_gaps(c: &Client) {
    click(c, r#"[data-testid="chat-new"]"#).await;
    type_into(
        c,
        r#"[data-testid="chat-input"]"#,
        "what is on the canteen menu today",
    )
    .await;
    click(c, r#"[data-testid="chat-send"]"#).await;
    let declined = text_contains(
        c,
        r#"[data-testid="bot-declined"]"#,
        "couldn't find this in past incidents",
    )
    .await;
    assert!(declined.contains("No matching past incident"), "{declined}");
    assert!(declined.contains("Talk to a human"), "{declined}");
    el(
        c,
        r#"[data-testid="bot-declined"] [data-testid="declined-escalate"]"#,
    )
    .await;
    screenshot(c, "e2e-chat-declined.png").await;
    click(c, r#"[data-testid="nav-kb-gaps"]"#).await;
    let gap = text_contains(
        c,
        r#"[data-testid="gap"][data-reason="declined"]"#,
        "what is on the canteen menu today",
    )
    .await;
    assert!(gap.contains("Bot declined") && gap.contains("1×"), "{gap}");
    text_contains(c, r#"[data-testid="stat-declined"]"#, "1").await;
    text_contains(c, r#"[data-testid="stat-answered"]"#, "1").await;
    screenshot(c, "e2e-knowledge-gaps.png").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_sync_search_and_rollback_in_the_real_window() {
    let _one = ONE_WINDOW.lock().await;
    let Some((driver, c, data)) = open_app(true).await else {
        return;
    };
    let card = r#"[data-testid="integration-card"][data-name="Demo ServiceNow (simulated)"]"#;
    let badge = format!("{card} [data-testid=\"card-status\"]");
    assert_eq!(
        el(&c, &badge)
            .await
            .attr("data-status")
            .await
            .unwrap()
            .as_deref(),
        Some("never")
    );
    el(&c, &format!("{card} [data-testid=\"card-header\"]"))
        .await
        .click()
        .await
        .unwrap();
    el(&c, &format!("{card} [data-testid=\"card-sync\"]"))
        .await
        .click()
        .await
        .unwrap();
    // The progress bar appears and moves through batches…
    el(&c, &format!("{card} [data-testid=\"sync-progress\"]")).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut max_batch = 0u64;
    loop {
        if let Ok(bar) = c
            .find(Locator::Css(&format!(
                "{card} [data-testid=\"sync-progress\"]"
            )))
            .await
        {
            if let Ok(Some(v)) = bar.attr("aria-valuenow").await {
                max_batch = max_batch.max(v.parse().unwrap_or(0));
            }
        }
        if !c
            .find_all(Locator::Css(&format!(
                "{card} [data-testid=\"sync-result\"]"
            )))
            .await
            .unwrap()
            .is_empty()
        {
            break;
        }
        assert!(Instant::now() < deadline, "the sync did not finish in time");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        max_batch >= 2,
        "progress went through batches (saw {max_batch})"
    );
    // …and ends in a green badge and a result line.
    let result = el(&c, &format!("{card} [data-testid=\"sync-result\"]")).await;
    assert_eq!(
        result.attr("data-status").await.unwrap().as_deref(),
        Some("success")
    );
    text_contains(
        &c,
        &format!("{card} [data-testid=\"sync-result\"]"),
        "500 in the knowledge base",
    )
    .await;
    wait_attr(&c, &badge, "data-status", "success").await;
    screenshot(&c, "e2e-demo-sync.png").await;
    // Test connection: every step passes and the source's count is shown.
    click(&c, &format!("{card} [data-testid=\"card-check\"]")).await;
    let checked = text_contains(
        &c,
        &format!("{card} [data-testid=\"check-result\"]"),
        "Connection OK",
    )
    .await;
    assert!(
        checked.contains("the source counts 500 incidents"),
        "{checked}"
    );
    for step in [
        "Reach the server",
        "Sign in",
        "Read incidents",
        "Count incidents",
    ] {
        assert!(checked.contains(step), "{step}: {checked}");
    }
    screenshot(&c, "e2e-connection-check.png").await;
    let demo_url = text_contains(
        &c,
        &format!("{card} [data-testid=\"card-details\"] dd.mono"),
        "http://",
    )
    .await
    .trim()
    .to_string();

    search_from_the_page(&c).await;
    roll_back_from_version_history(&c, card, &demo_url).await;
    chat_with_the_bot_and_an_agent(&c).await;
    failed_sync_keeps_the_last_success(&c, card, &demo_url).await;
    test_connection_before_saving(&c, &demo_url).await;
    held_deletions_are_confirmed_from_the_card(&c, card, &demo_url).await;
    c.close().await.unwrap();
    drop(driver);
    drop(data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integrations_and_profiles_in_the_real_window() {
    let _one = ONE_WINDOW.lock().await;
    let Some((_driver, c, data)) = open_app(false).await else {
        return;
    };
    let card = r#"[data-testid="integration-card"][data-name="E2E ServiceNow"]"#;

    // Add through the dialog.
    el(&c, r#"[data-testid="empty-state"]"#).await;
    el(&c, r#"[data-testid="add-integration"]"#)
        .await
        .click()
        .await
        .unwrap();
    el(&c, r#"[data-testid="integration-dialog"]"#).await;
    // Saving an empty form shows inline errors and saves nothing.
    el(&c, r#"[data-testid="dialog-save"]"#)
        .await
        .click()
        .await
        .unwrap();
    el(&c, r#"[data-testid="error-name"]"#).await;
    type_into(&c, r#"[data-testid="field-name"]"#, "E2E ServiceNow").await;
    el(&c, r#"[data-testid="field-kind"]"#)
        .await
        .select_by_value("servicenow")
        .await
        .unwrap();
    el(&c, r#"[data-testid="field-auth"]"#)
        .await
        .select_by_value("basic")
        .await
        .unwrap();
    type_into(&c, r#"[data-testid="field-url"]"#, "not a url").await;
    type_into(&c, r#"[data-testid="field-username"]"#, "svc.supportbot").await;
    type_into(&c, r#"[data-testid="field-password"]"#, SECRET).await;
    el(&c, r#"[data-testid="dialog-save"]"#)
        .await
        .click()
        .await
        .unwrap();
    el(&c, r#"[data-testid="error-url"]"#).await;
    type_into(
        &c,
        r#"[data-testid="field-url"]"#,
        "https://acme.service-now.com",
    )
    .await;
    el(&c, r#"[data-testid="dialog-save"]"#)
        .await
        .click()
        .await
        .unwrap();
    gone(&c, r#"[data-testid="integration-dialog"]"#).await;

    // The new card says it never synced.
    el(&c, card).await;
    let badge = el(&c, &format!("{card} [data-testid=\"card-status\"]")).await;
    assert_eq!(
        badge.attr("data-status").await.unwrap().as_deref(),
        Some("never")
    );
    text_contains(
        &c,
        &format!("{card} [data-testid=\"card-status\"]"),
        "Never synced",
    )
    .await;

    // Expand: details with the secret masked, never shown.
    el(&c, &format!("{card} [data-testid=\"card-header\"]"))
        .await
        .click()
        .await
        .unwrap();
    let details = text_contains(
        &c,
        &format!("{card} [data-testid=\"card-details\"]"),
        "acme.service-now.com",
    )
    .await;
    assert!(details.contains("••••"), "secret shown masked: {details}");
    assert!(
        !c.source().await.unwrap().contains(SECRET),
        "the secret is not in the page"
    );

    // Edit the URL to another host: the stored password is never sent there, so the dialog
    // asks for it again before it saves.
    el(&c, &format!("{card} [data-testid=\"card-edit\"]"))
        .await
        .click()
        .await
        .unwrap();
    el(&c, r#"[data-testid="integration-dialog"]"#).await;
    type_into(
        &c,
        r#"[data-testid="field-url"]"#,
        "https://acme-prod.service-now.com",
    )
    .await;
    el(&c, r#"[data-testid="dialog-save"]"#)
        .await
        .click()
        .await
        .unwrap();
    text_contains(
        &c,
        r#"[data-testid="error-password"]"#,
        "again for the new host",
    )
    .await;
    type_into(&c, r#"[data-testid="field-password"]"#, SECRET).await;
    el(&c, r#"[data-testid="dialog-save"]"#)
        .await
        .click()
        .await
        .unwrap();
    gone(&c, r#"[data-testid="integration-dialog"]"#).await;
    text_contains(
        &c,
        &format!("{card} [data-testid=\"card-details\"]"),
        "acme-prod.service-now.com",
    )
    .await;

    // Toggle enabled off and on.
    let switch = el(&c, &format!("{card} [data-testid=\"card-enabled\"]")).await;
    assert_eq!(
        switch.prop("checked").await.unwrap().as_deref(),
        Some("true")
    );
    // The input is visually replaced by the switch drawn by its label: click what users click.
    let label = switch.find(Locator::XPath("..")).await.unwrap();
    label.click().await.unwrap();
    wait_prop(
        &c,
        &format!("{card} [data-testid=\"card-enabled\"]"),
        "checked",
        "false",
    )
    .await;
    label.click().await.unwrap();
    wait_prop(
        &c,
        &format!("{card} [data-testid=\"card-enabled\"]"),
        "checked",
        "true",
    )
    .await;

    // Delete with confirmation; cancelling first keeps it.
    el(&c, &format!("{card} [data-testid=\"card-delete\"]"))
        .await
        .click()
        .await
        .unwrap();
    text_contains(&c, r#"[data-testid="confirm-dialog"]"#, "knowledge base").await;
    el(&c, r#"[data-testid="confirm-cancel"]"#)
        .await
        .click()
        .await
        .unwrap();
    gone(&c, r#"[data-testid="confirm-dialog"]"#).await;
    el(&c, card).await;
    el(&c, &format!("{card} [data-testid=\"card-delete\"]"))
        .await
        .click()
        .await
        .unwrap();
    el(&c, r#"[data-testid="confirm-ok"]"#)
        .await
        .click()
        .await
        .unwrap();
    gone(&c, card).await;
    el(&c, r#"[data-testid="empty-state"]"#).await;

    // A second integration for the Viewer to look at.
    el(&c, r#"[data-testid="add-integration"]"#)
        .await
        .click()
        .await
        .unwrap();
    type_into(&c, r#"[data-testid="field-name"]"#, "E2E ServiceNow").await;
    type_into(
        &c,
        r#"[data-testid="field-url"]"#,
        "https://acme.service-now.com",
    )
    .await;
    type_into(&c, r#"[data-testid="field-username"]"#, "svc.supportbot").await;
    type_into(&c, r#"[data-testid="field-password"]"#, SECRET).await;
    el(&c, r#"[data-testid="dialog-save"]"#)
        .await
        .click()
        .await
        .unwrap();
    el(&c, card).await;

    // A second profile needs the Admin to have a password: set it from the Profiles page.
    el(&c, r#"[data-testid="nav-profiles"]"#)
        .await
        .click()
        .await
        .unwrap();
    el(&c, r#"[data-testid="open-admin-notice"]"#).await;
    screenshot(&c, "e2e-profiles-admin-without-password.png").await;
    click(
        &c,
        r#"[data-testid="profile-row"][data-name="Admin"] [data-testid="profile-set-password"]"#,
    )
    .await;
    type_into(&c, r#"[data-testid="password-new"]"#, ADMIN_PW).await;
    type_into(&c, r#"[data-testid="password-repeat"]"#, ADMIN_PW).await;
    click(&c, r#"[data-testid="password-save"]"#).await;
    gone(&c, r#"[data-testid="password-dialog"]"#).await;
    gone(&c, r#"[data-testid="open-admin-notice"]"#).await;

    // Add a Viewer profile and switch to it.
    el(&c, r#"[data-testid="add-profile"]"#)
        .await
        .click()
        .await
        .unwrap();
    type_into(&c, r#"[data-testid="profile-name"]"#, "Vera Viewer").await;
    el(&c, r#"[data-testid="profile-role"]"#)
        .await
        .select_by_value("viewer")
        .await
        .unwrap();
    el(&c, r#"[data-testid="profile-save"]"#)
        .await
        .click()
        .await
        .unwrap();
    let row = r#"[data-testid="profile-row"][data-name="Vera Viewer"]"#;
    el(&c, &format!("{row} [data-testid=\"profile-switch\"]"))
        .await
        .click()
        .await
        .unwrap();
    text_contains(&c, r#"[data-testid="active-profile"]"#, "Vera Viewer").await;

    // The Viewer cannot get the Admin's rights back without its password: not in the UI (the
    // switch asks for it; no "Add profile") and not over IPC.
    assert!(c
        .find_all(Locator::Css(r#"[data-testid="add-profile"]"#))
        .await
        .unwrap()
        .is_empty());
    click(
        &c,
        r#"[data-testid="profile-row"][data-name="Admin"] [data-testid="profile-switch"]"#,
    )
    .await;
    el(&c, r#"[data-testid="switch-password"]"#).await;
    click(&c, r#"[data-testid="dialog-cancel"]"#).await;
    let escalation = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               window.__TAURI_INTERNALS__.invoke('profile_switch', { name: 'Admin', password: null })
                 .then(() => done('allowed'), e => done(e && e.code ? e.code : String(e)));"#,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(escalation, json!("profile_password_required"));
    text_contains(&c, r#"[data-testid="active-profile"]"#, "Vera Viewer").await;

    // The Viewer sees the card but no way to change it…
    el(&c, r#"[data-testid="nav-integrations"]"#)
        .await
        .click()
        .await
        .unwrap();
    el(&c, card).await;
    assert!(c
        .find_all(Locator::Css(r#"[data-testid="add-integration"]"#))
        .await
        .unwrap()
        .is_empty());
    el(&c, &format!("{card} [data-testid=\"card-header\"]"))
        .await
        .click()
        .await
        .unwrap();
    el(&c, &format!("{card} [data-testid=\"card-details\"]")).await;
    assert!(c
        .find_all(Locator::Css(r#"[data-testid="card-edit"]"#))
        .await
        .unwrap()
        .is_empty());
    assert!(c
        .find_all(Locator::Css(r#"[data-testid="card-delete"]"#))
        .await
        .unwrap()
        .is_empty());
    let switch = el(&c, &format!("{card} [data-testid=\"card-enabled\"]")).await;
    assert_eq!(
        switch.prop("disabled").await.unwrap().as_deref(),
        Some("true")
    );

    // …and the core refuses an edit sent straight over IPC.
    let refused = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               window.__TAURI_INTERNALS__.invoke('integrations_list', {})
                 .then(list => window.__TAURI_INTERNALS__.invoke('integration_edit', { id: list[0].id, patch: { name: 'Hacked' } }))
                 .then(() => done('allowed'), e => done(e && e.code ? e.code : String(e)));"#,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(refused, json!("permission_denied"));
    text_contains(&c, card, "E2E ServiceNow").await;

    if let Ok(dir) = std::env::var("SUPPORTBOT_E2E_SCREENSHOT_DIR") {
        let png = c.screenshot().await.unwrap();
        std::fs::write(Path::new(&dir).join("e2e-viewer.png"), png).unwrap();
    }
    c.close().await.unwrap();
    drop(_driver);

    // The secret typed in the dialog is nowhere in the data directory (database, WAL, logs).
    let hits = common::grep_dir(data.path(), SECRET.as_bytes());
    assert!(hits.is_empty(), "secret found in {hits:?}");
    assert!(
        data.path().join("supportbot.sqlite3").exists(),
        "the app used the test data directory"
    );
}
