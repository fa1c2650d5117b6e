//! `Core::check_integration` (`supportbot integrations check`) against the simulator and small
//! misbehaving servers: each failure lands on its step (reach, auth, read) with the guide's
//! advice, later steps say they were not checked, and a passing check counts the source's
//! incidents for the integration's filters.

use std::sync::Arc;

use supportbot_core::integrations::{Filters, IntegrationCheck, NewIntegration};
use supportbot_core::secrets::StorePreference;
use supportbot_core::{Actor, Core};
use supportbot_sim::SimConfig;

mod common;
use common::{secret, sim_basic};

async fn check(core: &Core, admin: &Actor, new: NewIntegration) -> IntegrationCheck {
    let id = core.add_integration(admin, new).unwrap().id;
    core.check_integration(admin, id).await.unwrap()
}

fn step<'a>(c: &'a IntegrationCheck, name: &str) -> &'a supportbot_core::integrations::CheckStep {
    c.steps.iter().find(|s| s.name == name).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_failure_lands_on_its_step_with_advice_and_a_pass_counts_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let core = Arc::new(Core::open_with(dir.path(), StorePreference::File).unwrap());
    let admin = core.actor(None, None).unwrap();
    let sim = supportbot_sim::start(SimConfig {
        incidents: 40,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let url = sim.base_url();

    let good = check(&core, &admin, sim_basic("Good", &url)).await;
    assert!(good.ok, "{good:?}");
    let names: Vec<&str> = good.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["reach", "auth", "read", "count"]);
    assert_eq!(good.source_total, Some(40));
    assert!(good.steps.iter().all(|s| s.advice.is_none()));

    // The count follows the integration's filters.
    let filtered = check(
        &core,
        &admin,
        NewIntegration {
            filters: Some(Filters {
                priority: vec!["1".into()],
                ..Filters::default()
            }),
            ..sim_basic("Filtered", &url)
        },
    )
    .await;
    let p1 = filtered.source_total.unwrap();
    assert!(filtered.ok && p1 < 40, "{filtered:?}");

    let wrong = check(
        &core,
        &admin,
        NewIntegration {
            password: secret("not-the-password"),
            ..sim_basic("Wrong password", &url)
        },
    )
    .await;
    assert!(!wrong.ok && step(&wrong, "reach").ok);
    let auth = step(&wrong, "auth");
    assert!(!auth.ok && auth.detail.contains("401"), "{auth:?}");
    assert!(auth
        .advice
        .as_deref()
        .unwrap()
        .contains("Verify the username and password"));
    assert!(step(&wrong, "read").detail.starts_with("Not checked"));
    assert_eq!(wrong.source_total, None);

    let no_role = check(
        &core,
        &admin,
        NewIntegration {
            username: Some("no.access".into()),
            password: secret("no.access"),
            ..sim_basic("No role", &url)
        },
    )
    .await;
    assert!(step(&no_role, "auth").ok);
    let read = step(&no_role, "read");
    assert!(!read.ok && read.detail.contains("403"), "{read:?}");
    assert!(read.advice.as_deref().unwrap().contains("read access"));

    // Nothing listens: the reach step fails with the guide's unreachable advice.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        check(
            &core,
            &admin,
            sim_basic("Closed", &format!("http://127.0.0.1:{port}")),
        )
        .await
    };
    let reach = step(&closed, "reach");
    assert!(
        !reach.ok && reach.detail.contains("connection refused"),
        "{reach:?}"
    );
    assert!(reach.advice.as_deref().unwrap().contains("firewall"));
    assert!(closed.steps[1..]
        .iter()
        .all(|s| !s.ok && s.detail.starts_with("Not checked")));

    // https:// to a port that speaks plain HTTP: a TLS problem, said as such, not "unreachable".
    let port = url.rsplit(':').next().unwrap();
    let tls = check(
        &core,
        &admin,
        NewIntegration {
            allow_insecure_http: false,
            ..sim_basic("TLS", &format!("https://127.0.0.1:{port}"))
        },
    )
    .await;
    let reach = step(&tls, "reach");
    assert!(!reach.ok, "{reach:?}");
    let advice = reach.advice.as_deref().unwrap();
    assert!(
        advice.contains("secure connection") && advice.contains("does not speak TLS"),
        "{advice}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dialog_checks_unsaved_values_and_never_sends_a_stored_secret_to_another_host() {
    let dir = tempfile::tempdir().unwrap();
    let core = Arc::new(Core::open_with(dir.path(), StorePreference::File).unwrap());
    let admin = core.actor(None, None).unwrap();
    let sim = supportbot_sim::start(SimConfig {
        incidents: 12,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let url = sim.base_url();

    // Adding: the typed values are checked, nothing is stored.
    let draft = core
        .check_integration_draft(&admin, None, sim_basic("Draft", &url))
        .await
        .unwrap();
    assert!(draft.ok, "{draft:?}");
    assert_eq!(draft.source_total, Some(12));
    assert!(core.list_integrations(&admin).unwrap().is_empty());
    let wrong = core
        .check_integration_draft(
            &admin,
            None,
            NewIntegration {
                password: secret("wrong"),
                ..sim_basic("Draft", &url)
            },
        )
        .await
        .unwrap();
    assert!(!wrong.ok);
    assert!(step(&wrong, "reach").ok);
    assert!(!step(&wrong, "auth").ok && step(&wrong, "auth").advice.is_some());
    // Invalid input fails like saving would.
    let invalid = core
        .check_integration_draft(
            &admin,
            None,
            NewIntegration {
                url: "not a url".into(),
                ..sim_basic("Draft", &url)
            },
        )
        .await
        .unwrap_err();
    assert!(invalid.fields.contains_key("url"), "{invalid:?}");

    // Editing: an empty password is the stored one on the same origin…
    let saved = core
        .add_integration(&admin, sim_basic("Saved", &url))
        .unwrap();
    let same = core
        .check_integration_draft(
            &admin,
            Some(saved.id),
            NewIntegration {
                password: None,
                ..sim_basic("Saved", &url)
            },
        )
        .await
        .unwrap();
    assert!(same.ok, "{same:?}");
    // …but never on another host: that needs the password typed again.
    let rogue = common::rogue::Server::recorder();
    let moved = core
        .check_integration_draft(
            &admin,
            Some(saved.id),
            NewIntegration {
                password: None,
                ..sim_basic("Saved", &rogue.url(""))
            },
        )
        .await
        .unwrap_err();
    assert!(moved.fields.contains_key("password"), "{moved:?}");
    assert!(rogue.requests().is_empty());
}
