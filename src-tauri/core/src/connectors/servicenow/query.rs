//! Encoded queries: the filters as `^NQ`-separated groups of conditions, choice labels as raw
//! values, and the keyset branches and order every page uses.

use std::collections::BTreeMap;

use super::{Keyset, PRIORITIES, STATES};
use crate::connectors::text::{parse_time, to_sn};
use crate::connectors::Filters;
use crate::error::{CoreError, CoreResult};

/// A filter value as the raw choice value: accepts the value, the label, or for priorities the
/// word after the dash (`high`).
fn choice_value(choices: &[(&str, &str)], given: &str) -> String {
    let given = given.trim();
    choices
        .iter()
        .find(|(v, l)| {
            *v == given
                || l.eq_ignore_ascii_case(given)
                || l.split_once(" - ")
                    .is_some_and(|(_, word)| word.eq_ignore_ascii_case(given))
        })
        .map(|(v, _)| (*v).to_owned())
        .unwrap_or_else(|| given.to_owned())
}

/// sys_ids for an `IN` condition.
pub(super) fn in_list(ids: &[String]) -> String {
    ids.iter()
        .map(|id| id.replace('^', "^^"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The filters as OR-ed groups of AND-ed conditions (the user's `^NQ` splits groups), without
/// ordering.
pub(super) fn filter_groups(filters: &Filters) -> CoreResult<Vec<String>> {
    let mut common = Vec::new();
    let mut bad = BTreeMap::new();
    let list = |name: &str, values: Vec<String>, bad: &mut BTreeMap<String, String>| {
        let values: Vec<String> = values
            .into_iter()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect();
        if values.iter().any(|v| v.contains(',')) {
            bad.insert(
                name.to_owned(),
                "A value cannot contain a comma (ServiceNow IN lists split on commas).".to_owned(),
            );
        }
        (!values.is_empty()).then(|| {
            let escaped: Vec<String> = values.iter().map(|v| v.replace('^', "^^")).collect();
            format!("{name}IN{}", escaped.join(","))
        })
    };
    let priorities = filters
        .priority
        .iter()
        .map(|p| choice_value(PRIORITIES, p))
        .collect();
    let states = filters
        .state
        .iter()
        .map(|s| choice_value(STATES, s))
        .collect();
    common.extend(list("priority", priorities, &mut bad));
    common.extend(list("category", filters.category.clone(), &mut bad));
    common.extend(list("state", states, &mut bad));
    for (name, value, op) in [
        ("updated_from", &filters.updated_from, ">="),
        ("updated_to", &filters.updated_to, "<="),
    ] {
        if let Some(value) = value.as_deref().filter(|v| !v.trim().is_empty()) {
            match parse_time(value) {
                Some(at) => common.push(format!("sys_updated_on{op}{}", to_sn(at))),
                None => {
                    bad.insert(
                        name.to_owned(),
                        "Enter a date such as 2024-01-31 or 2024-01-31T13:05:00Z.".to_owned(),
                    );
                }
            }
        }
    }
    if !bad.is_empty() {
        return Err(CoreError::invalid(bad));
    }
    let raw = filters.raw_query.as_deref().unwrap_or_default();
    let mut groups: Vec<String> = split_groups(raw)
        .into_iter()
        .map(|g| {
            common
                .iter()
                .cloned()
                .chain((!g.is_empty()).then_some(g))
                .collect::<Vec<_>>()
                .join("^")
        })
        .collect();
    if groups.is_empty() {
        groups.push(common.join("^"));
    }
    Ok(groups)
}

/// Splits an encoded query into its `^NQ` groups, dropping ORDER BY / GROUP BY terms and keeping
/// `^^` (a literal caret) intact.
fn split_groups(raw: &str) -> Vec<String> {
    let mut terms: Vec<String> = vec![String::new()];
    let mut chars = raw.trim().chars().peekable();
    while let Some(c) = chars.next() {
        if c == '^' {
            if chars.peek() == Some(&'^') {
                chars.next();
                if let Some(last) = terms.last_mut() {
                    last.push_str("^^");
                }
            } else {
                terms.push(String::new());
            }
        } else if let Some(last) = terms.last_mut() {
            last.push(c);
        }
    }
    let mut groups: Vec<Vec<String>> = vec![Vec::new()];
    for term in terms {
        let term = term.trim().to_owned();
        let (term, new_group) = match term.strip_prefix("NQ") {
            Some(rest) => (rest.to_owned(), true),
            None => (term, false),
        };
        if new_group && groups.last().is_some_and(|g| !g.is_empty()) {
            groups.push(Vec::new());
        }
        if term.is_empty()
            || term == "EQ"
            || term.starts_with("ORDERBY")
            || term.starts_with("GROUPBY")
        {
            continue;
        }
        if let Some(group) = groups.last_mut() {
            group.push(term);
        }
    }
    groups
        .into_iter()
        .filter(|g| !g.is_empty())
        .map(|g| g.join("^"))
        .collect()
}

/// The incident query of one page: each filter group AND-ed with each keyset branch, ordered.
pub(super) fn encoded_query(filters: &Filters, keyset: Option<&Keyset>) -> CoreResult<String> {
    let groups = filter_groups(filters)?;
    Ok(keyset_query(&groups, Some("sys_updated_on"), keyset))
}

/// Groups × keyset branches, `^NQ`-joined, then the keyset order. `time_field: None` pages on
/// sys_id alone.
pub(super) fn keyset_query(
    groups: &[String],
    time_field: Option<&str>,
    keyset: Option<&Keyset>,
) -> String {
    let branches: Vec<String> = match (keyset, time_field) {
        (None, _) => vec![String::new()],
        (Some(Keyset::From(t)), Some(f)) => vec![format!("{f}>={t}")],
        (Some(Keyset::After(t, id)), Some(f)) => {
            vec![format!("{f}>{t}"), format!("{f}={t}^sys_id>{id}")]
        }
        (Some(Keyset::After(_, id)), None) => vec![format!("sys_id>{id}")],
        (Some(Keyset::From(_)), None) => vec![String::new()],
    };
    let groups: Vec<&str> = if groups.is_empty() {
        vec![""]
    } else {
        groups.iter().map(String::as_str).collect()
    };
    let mut parts = Vec::new();
    for group in &groups {
        for branch in &branches {
            let both: Vec<&str> = [*group, branch.as_str()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect();
            parts.push(both.join("^"));
        }
    }
    parts.retain(|p| !p.is_empty());
    let order = match time_field {
        Some(f) => format!("ORDERBY{f}^ORDERBYsys_id"),
        None => "ORDERBYsys_id".to_owned(),
    };
    if parts.is_empty() {
        order
    } else {
        format!("{}^{order}", parts.join("^NQ"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn keyset_pages_repeat_the_filter_on_both_branches() {
        let filters = Filters {
            priority: vec!["critical".into(), "2".into()],
            raw_query: Some("category=network^NQcategory=database^ORDERBYDESCnumber".into()),
            ..Filters::default()
        };
        let keyset = Keyset::After("2025-06-30 02:00:00".into(), "abc".into());
        assert_eq!(
            encoded_query(&filters, Some(&keyset)).unwrap(),
            "priorityIN1,2^category=network^sys_updated_on>2025-06-30 02:00:00\
             ^NQpriorityIN1,2^category=network^sys_updated_on=2025-06-30 02:00:00^sys_id>abc\
             ^NQpriorityIN1,2^category=database^sys_updated_on>2025-06-30 02:00:00\
             ^NQpriorityIN1,2^category=database^sys_updated_on=2025-06-30 02:00:00^sys_id>abc\
             ^ORDERBYsys_updated_on^ORDERBYsys_id"
        );
        assert_eq!(
            encoded_query(&Filters::default(), None).unwrap(),
            "ORDERBYsys_updated_on^ORDERBYsys_id"
        );
        assert_eq!(
            encoded_query(
                &Filters::default(),
                Some(&Keyset::From("2025-01-01 00:00:00".into()))
            )
            .unwrap(),
            "sys_updated_on>=2025-01-01 00:00:00^ORDERBYsys_updated_on^ORDERBYsys_id"
        );
    }

    #[test]
    fn filters_accept_labels_and_reject_what_cannot_be_expressed() {
        let filters = Filters {
            state: vec!["Closed".into(), "resolved".into(), "42".into()],
            updated_from: Some("2024-01-31T13:05:00+01:00".into()),
            ..Filters::default()
        };
        assert_eq!(
            filter_groups(&filters).unwrap(),
            vec!["stateIN7,6,42^sys_updated_on>=2024-01-31 12:05:00".to_owned()]
        );
        let bad = Filters {
            category: vec!["a,b".into()],
            updated_to: Some("yesterday".into()),
            ..Filters::default()
        };
        let e = filter_groups(&bad).unwrap_err();
        assert_eq!(e.code, ErrorCode::Validation);
        assert!(e.fields.contains_key("category") && e.fields.contains_key("updated_to"));
    }

    #[test]
    fn literal_carets_survive_group_splitting() {
        assert_eq!(
            split_groups("short_descriptionLIKEa^^b^NQpriority=1^ORDERBYnumber"),
            vec![
                "short_descriptionLIKEa^^b".to_owned(),
                "priority=1".to_owned()
            ]
        );
        assert!(split_groups("  ").is_empty());
    }
}
