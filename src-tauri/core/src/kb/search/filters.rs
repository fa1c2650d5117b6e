//! Search filters as an SQL condition on the incidents table.

use rusqlite::types::Value;

use super::{invalid, SearchFilters};
use crate::error::CoreResult;

/// The filters as an SQL condition on `inc` (the incidents table) and its parameters.
pub(crate) struct FilterSql {
    pub(super) condition: String,
    pub(super) params: Vec<Value>,
    pub(super) active: bool,
}

impl FilterSql {
    pub(crate) fn new(f: &SearchFilters) -> CoreResult<FilterSql> {
        let mut parts = vec!["1".to_string()];
        let mut params = Vec::new();
        if let Some(id) = f.integration_id {
            parts.push("inc.integration_id = ?".into());
            params.push(Value::Integer(id));
        }
        for (column, value) in [
            ("priority", &f.priority),
            ("category", &f.category),
            ("state", &f.state),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.trim().is_empty()) {
                parts.push(format!("inc.{column} = ?"));
                params.push(Value::Text(v.to_string()));
            }
        }
        let from = parse_day("from", f.from.as_deref())?;
        let to = parse_day("to", f.to.as_deref())?;
        if let (Some(a), Some(b)) = (from, to) {
            if a > b {
                return Err(invalid(
                    "to",
                    "The end date is before the start date; swap them or widen the range.",
                ));
            }
        }
        // opened_at is RFC 3339 UTC text, so whole days compare as string prefixes.
        if let Some(day) = from {
            parts.push("inc.opened_at >= ?".into());
            params.push(Value::Text(day.to_string()));
        }
        if let Some(day) = to {
            let next = day.next_day().unwrap_or(day);
            parts.push("inc.opened_at < ?".into());
            params.push(Value::Text(next.to_string()));
        }
        Ok(FilterSql {
            active: parts.len() > 1,
            condition: parts.join(" AND "),
            params,
        })
    }
}

fn parse_day(field: &str, value: Option<&str>) -> CoreResult<Option<time::Date>> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(value, &format).map(Some).map_err(|_| {
        invalid(
            field,
            format!("\"{value}\" is not a date: use YYYY-MM-DD, e.g. 2025-06-30."),
        )
    })
}
