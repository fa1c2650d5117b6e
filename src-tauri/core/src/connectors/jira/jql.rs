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
        match fragment(raw) {
            Ok(Some(fragment)) => clauses.push(fragment),
            Ok(None) => {}
            Err(why) => {
                bad.insert("raw_query".to_owned(), why.to_owned());
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

/// A JQL string literal: `\` and `"` escaped with a backslash, as JQL reads them.
fn quote(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The user's fragment as one clause to AND with the rest: its ORDER BY dropped, parenthesised
/// when a top-level OR would otherwise escape the AND. Refused when a string is left open or
/// the parentheses do not match, since either would let it swallow the conditions after it
/// (the `updated >=` bound among them).
fn fragment(raw: &str) -> Result<Option<String>, &'static str> {
    let masked = mask_strings(raw).ok_or(
        "The JQL fragment leaves a quoted string open: close it (write a quote inside a \
         string as \\\").",
    )?;
    if !balanced(&masked) {
        return Err("The JQL fragment's parentheses do not match.");
    }
    let cut = order_by_at(&masked);
    let fragment = raw[..cut].trim();
    if fragment.is_empty() {
        return Ok(None);
    }
    Ok(Some(if has_top_level_or(&masked[..cut]) {
        format!("({fragment})")
    } else {
        fragment.to_owned()
    }))
}

/// `jql` with every quoted string, quotes included, blanked out byte for byte, so keywords
/// and parentheses are found by position without matching text inside strings. Inside a
/// string a backslash escapes the next character (`\"`, `\\`), as in JQL. `None` when a
/// string is left open.
fn mask_strings(jql: &str) -> Option<String> {
    let mut masked = String::with_capacity(jql.len());
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in jql.chars() {
        let inside = match quote {
            Some(_) if escaped => {
                escaped = false;
                true
            }
            Some(_) if c == '\\' => {
                escaped = true;
                true
            }
            Some(q) if c == q => {
                quote = None;
                true
            }
            Some(_) => true,
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                true
            }
            None => false,
        };
        if inside {
            masked.extend(std::iter::repeat_n(' ', c.len_utf8()));
        } else {
            masked.push(c);
        }
    }
    quote.is_none().then_some(masked)
}

/// Whether every `(` of a masked fragment is closed, and none closed before it opened.
fn balanced(masked: &str) -> bool {
    let mut depth = 0i32;
    for c in masked.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return false,
            ')' => depth -= 1,
            _ => {}
        }
    }
    depth == 0
}

/// Where a trailing ORDER BY (outside strings) starts in a masked fragment; its length when
/// there is none.
fn order_by_at(masked: &str) -> usize {
    let lower = masked.to_ascii_lowercase();
    lower
        .match_indices("order by")
        .map(|(i, _)| i)
        .find(|&i| i == 0 || lower[..i].ends_with(char::is_whitespace))
        .unwrap_or(masked.len())
}

/// Whether an OR joins clauses outside parentheses in a masked fragment.
fn has_top_level_or(masked: &str) -> bool {
    let mut depth = 0i32;
    let mut word = String::new();
    for c in masked.chars().chain(std::iter::once(' ')) {
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
        let top = |jql: &str| has_top_level_or(&mask_strings(jql).unwrap());
        assert!(top("a = 1 or b = 2"));
        assert!(!top("(a = 1 OR b = 2) AND c = 3"));
        assert!(!top("summary ~ \"this or that\""));
        assert!(!top("labels = orange"));
        // An escaped quote does not end the string: the OR is still inside it.
        assert!(!top(r#"summary ~ "say \" or \" twice""#));
        assert!(top(r#"summary ~ "ends in a backslash \\" or b = 2"#));
    }

    #[test]
    fn values_are_quoted_with_backslash_and_quote_escaped() {
        assert_eq!(quote("plain"), "\"plain\"");
        assert_eq!(quote(r#"say "hi""#), r#""say \"hi\"""#);
        assert_eq!(quote(r"C:\temp"), r#""C:\\temp""#);
        // A value ending in a backslash must not escape the closing quote.
        assert_eq!(quote(r"trailing\"), r#""trailing\\""#);
        assert_eq!(quote(r#"\""#), r#""\\\"""#);
        let filters = Filters {
            state: vec![r#"Done" OR project = "X"#.into()],
            ..Filters::default()
        };
        let built = jql(&filters, 0, ORDER).unwrap();
        assert!(
            built.starts_with(r#"status in ("Done\" OR project = \"X") AND updated >= 0"#),
            "{built}"
        );
        // The quoted value is one string: no top-level OR escaped from it.
        assert!(!has_top_level_or(&mask_strings(&built).unwrap()));
    }

    #[test]
    fn an_order_by_inside_an_escaped_string_stays() {
        let filters = Filters {
            raw_query: Some(r#"summary ~ "a \" order by b" ORDER BY created"#.into()),
            ..Filters::default()
        };
        assert_eq!(
            jql(&filters, 0, ORDER).unwrap(),
            r#"summary ~ "a \" order by b" AND updated >= 0 ORDER BY updated ASC, key ASC"#
        );
    }

    #[test]
    fn fragments_that_could_swallow_the_bound_are_refused() {
        for raw in [
            r#"summary ~ "open"#,
            r#"summary ~ "escaped at the end\""#,
            "project = A) OR (project = B",
            "(project = A",
        ] {
            let filters = Filters {
                raw_query: Some(raw.into()),
                ..Filters::default()
            };
            let e = jql(&filters, 0, ORDER).unwrap_err();
            assert!(e.fields.contains_key("raw_query"), "{raw}");
        }
    }
}
