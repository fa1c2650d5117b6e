//! JQL: the filters AND-ed with the user's fragment (its ORDER BY dropped, a top-level OR
//! parenthesised), values quoted, and always bounded by `updated >=`.

use std::collections::BTreeMap;

use crate::connectors::text::{epoch_millis, parse_time};
use crate::connectors::Filters;
use crate::error::{CoreError, CoreResult};

/// The search JQL: the filters AND `updated >= since`, then the order.
pub(super) fn jql(filters: &Filters, since_millis: i64, order: &str) -> CoreResult<String> {
    let mut clauses = Vec::new();
    let mut bad = BTreeMap::new();
    if let Some(raw) = filters.raw_query.as_deref() {
        let fragment = strip_order_by(raw);
        if !fragment.is_empty() {
            // Without parentheses an OR in the fragment would escape the AND-ed conditions.
            if has_top_level_or(&fragment) {
                clauses.push(format!("({fragment})"));
            } else {
                clauses.push(fragment);
            }
        }
    }
    for (field, values) in [
        ("priority", &filters.priority),
        ("status", &filters.state),
        ("project", &filters.category),
    ] {
        let values: Vec<String> = values
            .iter()
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(quote)
            .collect();
        if !values.is_empty() {
            clauses.push(format!("{field} in ({})", values.join(", ")));
        }
    }
    if let Some(to) = filters
        .updated_to
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        match parse_time(to) {
            Some(at) => clauses.push(format!("updated <= {}", epoch_millis(at))),
            None => {
                bad.insert(
                    "updated_to".to_owned(),
                    "Enter a date such as 2024-01-31 or 2024-01-31T13:05:00Z.".to_owned(),
                );
            }
        }
    }
    if !bad.is_empty() {
        return Err(CoreError::invalid(bad));
    }
    // Always bounded: Cloud refuses unbounded JQL.
    clauses.push(format!("updated >= {}", since_millis.max(0)));
    Ok(format!("{} {order}", clauses.join(" AND ")))
}

fn quote(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The JQL with a trailing ORDER BY (outside quotes) removed.
fn strip_order_by(jql: &str) -> String {
    let lower = jql.to_ascii_lowercase();
    let mut cut = jql.len();
    let mut quote: Option<char> = None;
    for (i, c) in jql.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if lower[i..].starts_with("order by")
                && (i == 0 || jql[..i].ends_with(char::is_whitespace)) =>
            {
                cut = i;
                break;
            }
            None => {}
        }
    }
    jql[..cut].trim().to_owned()
}

/// Whether an OR joins clauses outside quotes and parentheses.
fn has_top_level_or(jql: &str) -> bool {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut word = String::new();
    for c in jql.chars().chain(std::iter::once(' ')) {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => continue,
            None if c == '"' || c == '\'' => quote = Some(c),
            None => {}
        }
        if quote.is_some() {
            word.clear();
            continue;
        }
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            if depth == 0 && word.eq_ignore_ascii_case("or") {
                return true;
            }
            word.clear();
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::super::ORDER;
    use super::*;

    #[test]
    fn jql_ands_the_filters_and_bounds_the_query() {
        let filters = Filters {
            state: vec!["Done".into()],
            category: vec!["OPS".into()],
            raw_query: Some(
                "status = Done OR summary ~ \"vpn or wifi\" ORDER BY created DESC".into(),
            ),
            ..Filters::default()
        };
        assert_eq!(
            jql(&filters, 1_700_000_000_000, ORDER).unwrap(),
            "(status = Done OR summary ~ \"vpn or wifi\") AND status in (\"Done\") AND project in \
             (\"OPS\") AND updated >= 1700000000000 ORDER BY updated ASC, key ASC"
        );
        assert_eq!(
            jql(&Filters::default(), -5, ORDER).unwrap(),
            "updated >= 0 ORDER BY updated ASC, key ASC"
        );
        let fragment = Filters {
            raw_query: Some("project = OPS AND summary ~ \"order by\"".into()),
            ..Filters::default()
        };
        assert!(jql(&fragment, 0, ORDER)
            .unwrap()
            .starts_with("project = OPS AND summary ~ \"order by\" AND updated >= 0"));
    }

    #[test]
    fn or_inside_quotes_or_parentheses_is_not_top_level() {
        assert!(has_top_level_or("a = 1 or b = 2"));
        assert!(!has_top_level_or("(a = 1 OR b = 2) AND c = 3"));
        assert!(!has_top_level_or("summary ~ \"this or that\""));
        assert!(!has_top_level_or("labels = orange"));
    }
}
