//! Deterministic generator of realistic IT incidents, the people who raise and fix them, and
//! their journal entries, in ServiceNow's raw Table API shape (every value a string).
//!
//! Same `(count, seed)`, same data: benchmarks and tests can rely on exact records. Dates are
//! anchored to a fixed instant (`ANCHOR`), not to the clock, for the same reason. A nightly
//! auto-close job and a few bulk scripts give many records the same `sys_updated_on` second, the
//! case that breaks naive `>` watermarks.

use std::collections::BTreeMap;

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use time::{Duration, PrimitiveDateTime, Time};

use crate::catalog::{self, Scenario};
use crate::tz::{format_sn, parse_sn};

/// One record: field name to raw value. References hold the target's sys_id.
pub type Record = BTreeMap<String, String>;

/// Generated data is dated up to this UTC instant.
pub const ANCHOR: &str = "2025-06-30 18:00:00";

/// sys_ids of the demo accounts, fixed so tests and docs can name them. The admin one is the
/// sys_id of `admin` on every real instance.
pub const ADMIN_SYS_ID: &str = "6816f79cc0a8016401c5a33be04be441";
pub const READONLY_SYS_ID: &str = "5137153cc611227c000bbd1bd8cd2005";
pub const NO_ACCESS_SYS_ID: &str = "5137153cc611227c000bbd1bd8cd2006";

/// Everything the simulator serves, by table.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub users: Vec<Record>,
    pub groups: Vec<Record>,
    pub incidents: Vec<Record>,
    pub journal: Vec<Record>,
    /// Further tables, by name (from fixtures).
    pub extra: BTreeMap<String, Vec<Record>>,
}

/// Generates `count` incidents and their context from `seed`.
pub fn generate(count: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let anchor = anchor();
    let (users, groups, members) = people(&mut rng, anchor);
    let callers: Vec<&Record> = users
        .iter()
        .filter(|u| u.get("title").is_some_and(|t| !t.contains("Analyst")))
        .collect();
    // Denser data for small counts, so even the demo shows same-second ties and busy days.
    let span_days = (count / 20).clamp(30, 730) as i64;
    let mut drafts = Vec::with_capacity(count);
    let mut journal = Vec::new();
    for _ in 0..count {
        let scenario = catalog::SCENARIOS
            .choose(&mut rng)
            .unwrap_or(&catalog::SCENARIOS[0]);
        let caller = callers.choose(&mut rng).copied().unwrap_or(&users[0]);
        let group_index = catalog::GROUPS
            .iter()
            .position(|g| *g == scenario.group)
            .unwrap_or(0);
        let group = &groups[group_index];
        let agent = members[group_index].choose(&mut rng).copied().unwrap_or(0);
        let agent = &users[agent];
        let (incident, entries) =
            incident(&mut rng, anchor, span_days, scenario, caller, agent, group);
        drafts.push(incident);
        journal.extend(entries);
    }
    // Numbers follow creation order, as on a real instance.
    drafts.sort_by(|a, b| a.get("opened_at").cmp(&b.get("opened_at")));
    for (index, incident) in drafts.iter_mut().enumerate() {
        incident.insert("number".into(), format!("INC{:07}", 10001 + index));
    }
    bulk_touch(&mut rng, anchor, &mut drafts);
    Dataset {
        users,
        groups,
        incidents: drafts,
        journal,
        extra: BTreeMap::new(),
    }
}

/// `count` incidents as Table API JSON objects (the `sysparm_exclude_reference_link=true` shape:
/// every value a string, references as bare sys_ids). For benchmarks and fixtures.
pub fn generate_incidents(count: usize, seed: u64) -> Vec<Value> {
    generate(count, seed)
        .incidents
        .into_iter()
        .map(record_to_json)
        .collect()
}

/// A record as a JSON object of strings.
pub fn record_to_json(record: Record) -> Value {
    Value::Object(
        record
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
    )
}

/// The instant generated data ends at.
pub fn anchor() -> PrimitiveDateTime {
    parse_sn(ANCHOR).unwrap_or(PrimitiveDateTime::MIN)
}

/// A random 32-hex-digit sys_id.
pub fn sys_id(rng: &mut impl Rng) -> String {
    format!("{:032x}", rng.random::<u128>())
}

/// Users (demo accounts first), groups, and the indexes of each group's members in `users`.
fn people(
    rng: &mut ChaCha8Rng,
    anchor: PrimitiveDateTime,
) -> (Vec<Record>, Vec<Record>, Vec<Vec<usize>>) {
    let created = format_sn(anchor - Duration::days(900));
    let mut users = vec![
        user(
            ADMIN_SYS_ID,
            "admin",
            "System",
            "Administrator",
            "IT Administrator",
            "America/Los_Angeles",
            &created,
        ),
        user(
            READONLY_SYS_ID,
            "svc.readonly",
            "Support Bot",
            "Service Account",
            "Integration account",
            "GMT",
            &created,
        ),
        user(
            NO_ACCESS_SYS_ID,
            "no.access",
            "No",
            "Access",
            "Contractor",
            "Europe/Berlin",
            &created,
        ),
    ];
    let zones = [
        "America/New_York",
        "America/Chicago",
        "America/Los_Angeles",
        "Europe/London",
        "Europe/Berlin",
        "Asia/Kolkata",
        "Asia/Singapore",
        "GMT",
    ];
    let mut seen = std::collections::HashSet::new();
    let mut members = vec![Vec::new(); catalog::GROUPS.len()];
    let mut analysts = 0;
    while users.len() < 63 {
        let first = *catalog::FIRST_NAMES.choose(rng).unwrap_or(&"Alex");
        let last = *catalog::LAST_NAMES.choose(rng).unwrap_or(&"Smith");
        if !seen.insert((first, last)) {
            continue;
        }
        // The first three people per group are its analysts; everyone else raises incidents.
        let title = if analysts < catalog::GROUPS.len() * 3 {
            members[analysts % catalog::GROUPS.len()].push(users.len());
            analysts += 1;
            "IT Support Analyst".to_owned()
        } else {
            format!(
                "{} Specialist",
                catalog::DEPARTMENTS.choose(rng).unwrap_or(&"Operations")
            )
        };
        let zone = *zones.choose(rng).unwrap_or(&"GMT");
        let id = sys_id(rng);
        let mut record = user(
            &id,
            &user_name(first, last),
            first,
            last,
            &title,
            zone,
            &created,
        );
        record.insert(
            "department".into(),
            catalog::DEPARTMENTS
                .choose(rng)
                .unwrap_or(&"Operations")
                .to_string(),
        );
        users.push(record);
    }
    let groups = catalog::GROUPS
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let mut group = Record::new();
            group.insert("sys_id".into(), sys_id(rng));
            group.insert("name".into(), (*name).to_owned());
            group.insert("description".into(), format!("{name} resolver group"));
            group.insert("active".into(), "true".into());
            let manager = members[index]
                .first()
                .map(|&i| users[i]["sys_id"].clone())
                .unwrap_or_default();
            group.insert("manager".into(), manager);
            stamp(&mut group, &created, &created, "admin", "admin", 0);
            group
        })
        .collect();
    (users, groups, members)
}

fn user(
    id: &str,
    name: &str,
    first: &str,
    last: &str,
    title: &str,
    zone: &str,
    created: &str,
) -> Record {
    let mut record = Record::new();
    record.insert("sys_id".into(), id.to_owned());
    record.insert("user_name".into(), name.to_owned());
    record.insert("first_name".into(), first.to_owned());
    record.insert("last_name".into(), last.to_owned());
    record.insert("name".into(), format!("{first} {last}"));
    record.insert("email".into(), format!("{name}@example.com"));
    record.insert("title".into(), title.to_owned());
    record.insert("time_zone".into(), zone.to_owned());
    record.insert("active".into(), "true".into());
    record.insert("locked_out".into(), "false".into());
    stamp(&mut record, created, created, "admin", "admin", 0);
    record
}

fn user_name(first: &str, last: &str) -> String {
    let ascii = |s: &str| -> String {
        s.chars()
            .map(|c| match c {
                'á' | 'à' | 'ä' => 'a',
                'é' | 'è' => 'e',
                'ó' | 'ö' => 'o',
                'ü' | 'ú' => 'u',
                other => other,
            })
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_lowercase()
    };
    format!("{}.{}", ascii(first), ascii(last))
}

fn stamp(
    record: &mut Record,
    created: &str,
    updated: &str,
    created_by: &str,
    updated_by: &str,
    mods: u32,
) {
    record.insert("sys_created_on".into(), created.to_owned());
    record.insert("sys_updated_on".into(), updated.to_owned());
    record.insert("sys_created_by".into(), created_by.to_owned());
    record.insert("sys_updated_by".into(), updated_by.to_owned());
    record.insert("sys_mod_count".into(), mods.to_string());
}

/// Fills `{slot}` placeholders with one choice per slot, shared by all texts of an incident.
struct Slots(BTreeMap<&'static str, String>);

impl Slots {
    fn draw(rng: &mut ChaCha8Rng) -> Self {
        let mut pick = |list: &[&str]| list.choose(rng).copied().unwrap_or_default().to_owned();
        let mut map = BTreeMap::new();
        map.insert("app", pick(catalog::APPS));
        map.insert("vpn", pick(catalog::VPNS));
        map.insert("site", pick(catalog::SITES));
        map.insert("printer", pick(catalog::PRINTERS));
        map.insert("db", pick(catalog::DATABASES));
        map.insert("host", pick(catalog::HOSTS));
        map.insert("share", pick(catalog::SHARES));
        map.insert("team", pick(catalog::TEAMS));
        map.insert("code", pick(catalog::ERROR_CODES));
        map.insert(
            "laptop",
            format!("LT-{:05}", rng.random_range(10000..99999)),
        );
        map.insert("n", format!("{:03}", rng.random_range(1..400)));
        Slots(map)
    }

    fn fill(&self, template: &str) -> String {
        // One pass over the template: this runs four times per incident, 100k incidents.
        let mut out = String::with_capacity(template.len() + 32);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            match after
                .find('}')
                .and_then(|close| self.0.get(&after[..close]).map(|v| (close, v)))
            {
                Some((close, value)) => {
                    out.push_str(value);
                    rest = &after[close + 1..];
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        // Sentences may start with a slot that reads "the London office".
        if template.starts_with('{') {
            if let Some(first) = out.chars().next().filter(|c| c.is_lowercase()) {
                out.replace_range(..first.len_utf8(), &first.to_uppercase().to_string());
            }
        }
        out
    }
}

const STATE_NEW: &str = "1";
const STATE_IN_PROGRESS: &str = "2";
const STATE_ON_HOLD: &str = "3";
const STATE_RESOLVED: &str = "6";
const STATE_CLOSED: &str = "7";
const STATE_CANCELED: &str = "8";

#[allow(clippy::too_many_arguments)]
fn incident(
    rng: &mut ChaCha8Rng,
    anchor: PrimitiveDateTime,
    span_days: i64,
    scenario: &Scenario,
    caller: &Record,
    agent: &Record,
    group: &Record,
) -> (Record, Vec<Record>) {
    let slots = Slots::draw(rng);
    let opened = business_time(rng, anchor, span_days);
    let id = sys_id(rng);
    let (impact, urgency) = (rng.random_range(1..=3u8), rng.random_range(1..=3u8));
    let priority = match impact + urgency {
        2 => 1,
        3 => 2,
        4 => 3,
        5 => 4,
        _ => 5,
    };
    let roll = rng.random_range(0..100);
    let mut state = match roll {
        0..=9 => STATE_NEW,
        10..=21 => STATE_IN_PROGRESS,
        22..=26 => STATE_ON_HOLD,
        27..=29 => STATE_CANCELED,
        30..=44 => STATE_RESOLVED,
        _ => STATE_CLOSED,
    };
    let mut inc = Record::new();
    inc.insert("sys_id".into(), id.clone());
    inc.insert(
        "short_description".into(),
        slots.fill(scenario.shorts.choose(rng).copied().unwrap_or_default()),
    );
    inc.insert("description".into(), slots.fill(scenario.description));
    inc.insert("category".into(), scenario.category.into());
    inc.insert("subcategory".into(), scenario.subcategory.into());
    inc.insert("impact".into(), impact.to_string());
    inc.insert("urgency".into(), urgency.to_string());
    inc.insert("priority".into(), priority.to_string());
    let contact = *["email", "phone", "self-service", "walk-in", "virtual_agent"]
        .choose(rng)
        .unwrap_or(&"email");
    inc.insert("contact_type".into(), contact.into());
    inc.insert("caller_id".into(), caller["sys_id"].clone());
    let opener = if contact == "self-service" || contact == "virtual_agent" {
        caller
    } else {
        agent
    };
    inc.insert("opened_by".into(), opener["sys_id"].clone());
    inc.insert("opened_at".into(), format_sn(opened));
    inc.insert("assignment_group".into(), group["sys_id"].clone());
    inc.insert(
        "assigned_to".into(),
        if state == STATE_NEW {
            String::new()
        } else {
            agent["sys_id"].clone()
        },
    );
    for field in [
        "resolved_by",
        "resolved_at",
        "closed_by",
        "closed_at",
        "close_code",
        "close_notes",
    ] {
        inc.insert(field.into(), String::new());
    }
    inc.insert(
        "reassignment_count".into(),
        rng.random_range(0..3u8).to_string(),
    );
    inc.insert("reopen_count".into(), "0".into());
    inc.insert("sys_class_name".into(), "incident".into());
    inc.insert("made_sla".into(), rng.random_bool(0.85).to_string());

    let mut journal = Vec::new();
    let mut updated = opened + Duration::minutes(rng.random_range(1..90));
    let mut updated_by = agent["user_name"].clone();
    let mut mods = rng.random_range(1..4u32);
    match state {
        STATE_RESOLVED | STATE_CLOSED => {
            // Resolution times spread log-uniformly from minutes to about a week.
            let minutes = (10f64 * 1000f64.powf(rng.random::<f64>())) as i64;
            let resolved = opened + Duration::minutes(minutes);
            journal.push(journal_entry(
                rng,
                &id,
                "work_notes",
                &slots.fill(scenario.work_note),
                opened + Duration::minutes(minutes / 2),
                agent,
            ));
            if rng.random_bool(0.5) {
                let text = catalog::COMMENTS.choose(rng).copied().unwrap_or_default();
                journal.push(journal_entry(
                    rng,
                    &id,
                    "comments",
                    text,
                    opened + Duration::minutes(minutes / 3),
                    caller,
                ));
            }
            inc.insert("resolved_by".into(), agent["sys_id"].clone());
            inc.insert("resolved_at".into(), format_sn(resolved));
            inc.insert("close_code".into(), scenario.close_code.into());
            inc.insert("close_notes".into(), slots.fill(scenario.close_notes));
            updated = resolved;
            mods += 3;
            // The nightly auto-close job closes resolved incidents three days later at 02:00:00,
            // all in the same second.
            let close_day = (resolved + Duration::days(4)).date();
            let closed = close_day.with_time(Time::from_hms(2, 0, 0).unwrap_or(Time::MIDNIGHT));
            if state == STATE_CLOSED && closed <= anchor {
                inc.insert("closed_by".into(), agent["sys_id"].clone());
                inc.insert("closed_at".into(), format_sn(closed));
                updated = closed;
                updated_by = "system".into();
                mods += 1;
            } else {
                state = STATE_RESOLVED;
            }
        }
        STATE_CANCELED => {
            inc.insert(
                "close_notes".into(),
                "Cancelled: raised twice by the caller, duplicate of an earlier incident.".into(),
            );
            inc.insert("closed_at".into(), format_sn(updated));
            inc.insert("closed_by".into(), agent["sys_id"].clone());
        }
        _ => {
            let text = catalog::PROGRESS_NOTES
                .choose(rng)
                .copied()
                .unwrap_or_default();
            let at = updated;
            journal.push(journal_entry(rng, &id, "work_notes", text, at, agent));
            updated = at + Duration::minutes(rng.random_range(0..3000));
        }
    }
    if updated > anchor {
        updated = anchor;
    }
    inc.insert("state".into(), state.into());
    inc.insert("incident_state".into(), state.into());
    inc.insert(
        "active".into(),
        matches!(state, STATE_NEW | STATE_IN_PROGRESS | STATE_ON_HOLD).to_string(),
    );
    let created_by = opener["user_name"].clone();
    stamp(
        &mut inc,
        &format_sn(opened),
        &format_sn(updated),
        &created_by,
        &updated_by,
        mods,
    );
    (inc, journal)
}

fn journal_entry(
    rng: &mut ChaCha8Rng,
    element_id: &str,
    element: &str,
    value: &str,
    at: PrimitiveDateTime,
    author: &Record,
) -> Record {
    let mut entry = Record::new();
    entry.insert("sys_id".into(), sys_id(rng));
    entry.insert("element_id".into(), element_id.to_owned());
    entry.insert("element".into(), element.to_owned());
    entry.insert("name".into(), "incident".into());
    entry.insert("value".into(), value.to_owned());
    let at = format_sn(at);
    entry.insert("sys_created_on".into(), at);
    entry.insert("sys_created_by".into(), author["user_name"].clone());
    entry
}

/// A time on a weekday-ish business hour within `span_days` before `anchor`.
fn business_time(
    rng: &mut ChaCha8Rng,
    anchor: PrimitiveDateTime,
    span_days: i64,
) -> PrimitiveDateTime {
    let day = (anchor - Duration::days(rng.random_range(1..=span_days))).date();
    let hour = rng.random_range(7..19u8);
    let time = Time::from_hms(hour, rng.random_range(0..60), rng.random_range(0..60))
        .unwrap_or(Time::MIDNIGHT);
    day.with_time(time)
}

/// Bulk scripts (reassignments, priority recalculation) touch a few percent of the incidents at
/// one instant each, another realistic source of same-second `sys_updated_on` ties.
fn bulk_touch(rng: &mut ChaCha8Rng, anchor: PrimitiveDateTime, incidents: &mut [Record]) {
    if incidents.is_empty() {
        return;
    }
    let runs: Vec<PrimitiveDateTime> = (0..4)
        .map(|i| anchor - Duration::hours(6 + 30 * i))
        .collect();
    for incident in incidents.iter_mut() {
        if !rng.random_bool(0.04) {
            continue;
        }
        let run = *runs.choose(rng).unwrap_or(&anchor);
        let current = incident
            .get("sys_updated_on")
            .and_then(|s| parse_sn(s))
            .unwrap_or(anchor);
        if run > current {
            incident.insert("sys_updated_on".into(), format_sn(run));
            incident.insert("sys_updated_by".into(), "admin".into());
            let mods: u32 = incident
                .get("sys_mod_count")
                .and_then(|m| m.parse().ok())
                .unwrap_or(0);
            incident.insert("sys_mod_count".into(), (mods + 1).to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_data_and_different_seed_different_data() {
        let a = generate_incidents(50, 7);
        let b = generate_incidents(50, 7);
        let c = generate_incidents(50, 8);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn incidents_are_consistent() {
        let data = generate(2000, 1);
        assert_eq!(data.incidents.len(), 2000);
        let mut updated = std::collections::HashMap::new();
        for inc in &data.incidents {
            assert!(inc["number"].starts_with("INC"));
            assert_eq!(inc["sys_id"].len(), 32);
            assert!(inc["sys_updated_on"] >= inc["sys_created_on"], "{inc:?}");
            if inc["state"] == "7" {
                assert!(!inc["close_notes"].is_empty());
                assert!(!inc["resolved_at"].is_empty());
                assert!(inc["closed_at"].ends_with("02:00:00"));
            }
            *updated.entry(inc["sys_updated_on"].clone()).or_insert(0) += 1;
        }
        let tied = updated.values().filter(|&&n| n > 1).count();
        assert!(tied > 20, "expected many same-second ties, got {tied}");
        assert!(data.journal.iter().all(|j| data
            .incidents
            .iter()
            .any(|i| i["sys_id"] == j["element_id"])));
    }

    #[test]
    fn texts_have_no_unfilled_slots() {
        for inc in generate(500, 3).incidents {
            for field in ["short_description", "description", "close_notes"] {
                assert!(!inc[field].contains('{'), "{field}: {}", inc[field]);
            }
        }
    }
}
