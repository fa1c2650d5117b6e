//! Loads Table-API-shaped JSON records (`--fixture FILE`) in place of generated incidents.
//!
//! Accepted shapes: an array of incident records, `{"result": [...]}` as saved from a real
//! `GET /api/now/table/incident`, or an object mapping table names to such arrays. Reference
//! objects (`{"value": …, "link": …}`) and `display_value=all` pairs keep their raw `value`.

use std::path::Path;

use serde_json::Value;

use crate::data::{Dataset, Record};
use crate::store::normalize;
use crate::SimError;

/// Replaces the tables the fixture names; generated users stay unless the fixture has its own,
/// and the demo accounts are always kept so the built-in credentials work.
pub fn load(path: &Path, dataset: &mut Dataset) -> Result<(), SimError> {
    let text = std::fs::read_to_string(path).map_err(|source| SimError::FixtureRead {
        path: path.to_owned(),
        source,
    })?;
    let bad = |reason: String| SimError::FixtureFormat {
        path: path.to_owned(),
        reason,
    };
    let json: Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let tables: Vec<(String, Value)> = match json {
        Value::Array(_) => vec![("incident".to_owned(), json)],
        Value::Object(mut object) => match object.remove("result") {
            Some(result) => vec![("incident".to_owned(), result)],
            None => object.into_iter().collect(),
        },
        _ => return Err(bad("expected an array or an object".into())),
    };
    let has_journal = tables.iter().any(|(table, _)| table == "sys_journal_field");
    for (table, rows) in tables {
        let Value::Array(rows) = rows else {
            return Err(bad(format!("table {table}: expected an array of records")));
        };
        let mut records = Vec::with_capacity(rows.len());
        for (index, row) in rows.iter().enumerate() {
            let Value::Object(object) = row else {
                return Err(bad(format!(
                    "table {table}, record {index}: expected an object"
                )));
            };
            let record: Record = normalize(object);
            if record.get("sys_id").is_none_or(|id| id.is_empty()) {
                return Err(bad(format!(
                    "table {table}, record {index}: missing sys_id"
                )));
            }
            records.push(record);
        }
        match table.as_str() {
            "incident" => {
                dataset.incidents = records;
                // Generated journal entries belong to generated incidents.
                if !has_journal {
                    dataset.journal.clear();
                }
            }
            "sys_user" => {
                let demo: Vec<Record> = dataset.users.drain(..3).collect();
                dataset.users = records;
                for account in demo {
                    if !dataset
                        .users
                        .iter()
                        .any(|u| u.get("user_name") == account.get("user_name"))
                    {
                        dataset.users.push(account);
                    }
                }
            }
            "sys_user_group" => dataset.groups = records,
            "sys_journal_field" => dataset.journal = records,
            _ => {
                dataset.extra.insert(table, records);
            }
        }
    }
    Ok(())
}
