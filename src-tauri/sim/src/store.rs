//! In-memory ServiceNow tables: rows keyed by sys_id, the schema the query parser checks
//! against, reference and choice metadata, and a small cache of ordered query results.
//!
//! Every request recomputes its result set from current data, as the real instance does, so
//! offset paging drifts when rows change mid-sync. The cache only avoids re-sorting 100k rows for
//! each page of an unchanged table: entries carry the table version and die with any write.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};

use crate::data::{self, Dataset, Record};
use crate::query::{Fields, Query, Schema};
use crate::tz::{format_sn, now_utc, Zone};

/// Tables the simulator always has, even when empty.
pub const BUILTIN_TABLES: &[&str] = &[
    "incident",
    "sys_user",
    "sys_user_group",
    "sys_journal_field",
    "sys_audit_delete",
];

/// Columns every record has.
const SYSTEM_COLUMNS: &[&str] = &[
    "sys_id",
    "sys_created_on",
    "sys_created_by",
    "sys_updated_on",
    "sys_updated_by",
    "sys_mod_count",
];

/// One table.
#[derive(Debug, Default)]
pub struct Table {
    pub rows: BTreeMap<String, Arc<Record>>,
    pub columns: BTreeSet<String>,
    /// Bumped on every write; cached query results are only valid for the version they saw.
    pub version: u64,
}

/// A cached ordered result.
struct Cached {
    table: String,
    query: String,
    zone: &'static str,
    version: u64,
    rows: Arc<Vec<Arc<Record>>>,
}

/// All tables.
pub struct Store {
    tables: HashMap<String, Table>,
    cache: Mutex<Vec<Cached>>,
    rng: ChaCha8Rng,
}

const CACHE_ENTRIES: usize = 16;

/// The table a reference field points to.
pub fn reference_target(table: &str, field: &str) -> Option<&'static str> {
    match (table, field) {
        ("incident", "caller_id" | "opened_by" | "assigned_to" | "resolved_by" | "closed_by") => {
            Some("sys_user")
        }
        ("incident", "assignment_group") => Some("sys_user_group"),
        ("sys_user_group", "manager") => Some("sys_user"),
        _ => None,
    }
}

/// The field whose value is a record's display value.
pub fn display_field(table: &str) -> &'static str {
    match table {
        "incident" => "number",
        "sys_user" | "sys_user_group" => "name",
        "sys_audit_delete" => "display_value",
        _ => "sys_id",
    }
}

/// Whether a field holds a date-time (raw UTC, displayed in the user's zone).
pub fn is_date_field(field: &str) -> bool {
    let last = field.rsplit('.').next().unwrap_or(field);
    last.ends_with("_on") || last.ends_with("_at")
}

/// The label of a choice value, as `sysparm_display_value=true` shows it.
pub fn choice_label(table: &str, field: &str, value: &str) -> Option<&'static str> {
    if table != "incident" {
        return None;
    }
    let label = match (field, value) {
        ("state" | "incident_state", "1") => "New",
        ("state" | "incident_state", "2") => "In Progress",
        ("state" | "incident_state", "3") => "On Hold",
        ("state" | "incident_state", "6") => "Resolved",
        ("state" | "incident_state", "7") => "Closed",
        ("state" | "incident_state", "8") => "Canceled",
        ("priority", "1") => "1 - Critical",
        ("priority", "2") => "2 - High",
        ("priority", "3") => "3 - Moderate",
        ("priority", "4") => "4 - Low",
        ("priority", "5") => "5 - Planning",
        ("impact" | "urgency", "1") => "1 - High",
        ("impact" | "urgency", "2") => "2 - Medium",
        ("impact" | "urgency", "3") => "3 - Low",
        ("category", "network") => "Network",
        ("category", "hardware") => "Hardware",
        ("category", "software") => "Software",
        ("category", "database") => "Database",
        ("category", "inquiry") => "Inquiry / Help",
        ("subcategory", "vpn") => "VPN",
        ("subcategory", "dns") => "DNS",
        ("subcategory", "dhcp") => "DHCP",
        ("subcategory", "wireless") => "Wireless",
        ("subcategory", "email") => "Email",
        ("subcategory", "os") => "Operating System",
        ("subcategory", "internal application") => "Internal Application",
        ("subcategory", "printer") => "Printer",
        ("subcategory", "monitor") => "Monitor",
        ("subcategory", "disk") => "Disk",
        ("subcategory", "keyboard") => "Keyboard",
        ("subcategory", "cpu") => "CPU",
        ("subcategory", "access") => "Access",
        ("subcategory", "oracle") => "Oracle",
        ("subcategory", "ms sql server") => "MS SQL Server",
        ("subcategory", "db2") => "DB2",
        ("contact_type", "email") => "Email",
        ("contact_type", "phone") => "Phone",
        ("contact_type", "self-service") => "Self-service",
        ("contact_type", "walk-in") => "Walk-in",
        ("contact_type", "virtual_agent") => "Virtual Agent",
        _ => return None,
    };
    Some(label)
}

/// A row seen through the store, so dot-walked fields (`assigned_to.name`) resolve.
pub struct RowView<'a> {
    pub store: &'a Store,
    pub table: &'a str,
    pub row: &'a Record,
}

impl Fields for RowView<'_> {
    fn value(&self, field: &str) -> Option<Cow<'_, str>> {
        match field.split_once('.') {
            None => self.row.get(field).map(|v| Cow::Borrowed(v.as_str())),
            Some((head, rest)) => {
                let target = reference_target(self.table, head)?;
                let id = self.row.get(head)?;
                let row = self.store.get(target, id)?;
                let view = RowView {
                    store: self.store,
                    table: target,
                    row: &row,
                };
                view.value(rest).map(|v| Cow::Owned(v.into_owned()))
            }
        }
    }
}

/// Why a write was refused.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("record must be a JSON object")]
    NotAnObject,
    #[error("no record {sys_id} in table {table}")]
    NotFound { table: String, sys_id: String },
}

impl Store {
    /// A store holding a generated or loaded dataset.
    pub fn new(dataset: Dataset, seed: u64) -> Store {
        let mut store = Store {
            tables: HashMap::new(),
            cache: Mutex::new(Vec::new()),
            // Distinct stream from the generator so new sys_ids never collide with generated ones.
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5157_5354_4f52_4531),
        };
        for name in BUILTIN_TABLES {
            store.table_mut(name);
        }
        let builtin = [
            ("sys_user".to_owned(), dataset.users),
            ("sys_user_group".to_owned(), dataset.groups),
            ("incident".to_owned(), dataset.incidents),
            ("sys_journal_field".to_owned(), dataset.journal),
        ];
        for (name, rows) in builtin.into_iter().chain(dataset.extra) {
            let table = store.table_mut(&name);
            for row in rows {
                for key in row.keys() {
                    if !table.columns.contains(key) {
                        table.columns.insert(key.clone());
                    }
                }
                if let Some(id) = row.get("sys_id").cloned() {
                    table.rows.insert(id, Arc::new(row));
                }
            }
        }
        for (name, columns) in [
            (
                "sys_journal_field",
                &["element_id", "element", "name", "value"][..],
            ),
            (
                "sys_audit_delete",
                &["tablename", "documentkey", "display_value", "payload"][..],
            ),
        ] {
            store
                .table_mut(name)
                .columns
                .extend(columns.iter().map(|c| (*c).to_owned()));
        }
        store
    }

    fn table_mut(&mut self, name: &str) -> &mut Table {
        self.tables.entry(name.to_owned()).or_insert_with(|| Table {
            columns: SYSTEM_COLUMNS.iter().map(|c| (*c).to_owned()).collect(),
            ..Table::default()
        })
    }

    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    /// Table names and row counts.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.tables
            .iter()
            .map(|(name, t)| (name.clone(), t.rows.len()))
            .collect()
    }

    pub fn get(&self, table: &str, sys_id: &str) -> Option<Arc<Record>> {
        self.tables.get(table)?.rows.get(sys_id).cloned()
    }

    /// Whether a field, possibly dot-walked through references, exists on a table.
    pub fn has_field(&self, table: &str, field: &str) -> bool {
        match field.split_once('.') {
            None => self
                .tables
                .get(table)
                .is_some_and(|t| t.columns.contains(field)),
            Some((head, rest)) => {
                reference_target(table, head).is_some_and(|target| self.has_field(target, rest))
            }
        }
    }

    /// Parses an encoded query for a table and user zone.
    pub fn parse_query(&self, table: &str, encoded: &str, zone: Zone) -> Query {
        let has = |field: &str| self.has_field(table, field);
        let date = |field: &str| is_date_field(field);
        Query::parse(
            encoded,
            &Schema {
                has_field: &has,
                is_date: &date,
                zone,
            },
        )
    }

    /// The rows matching an encoded query, in query order (then sys_id order).
    pub fn select(&self, table: &str, encoded: &str, zone: Zone) -> Arc<Vec<Arc<Record>>> {
        let Some(t) = self.tables.get(table) else {
            return Arc::new(Vec::new());
        };
        if let Ok(cache) = self.cache.lock() {
            if let Some(hit) = cache.iter().find(|c| {
                c.table == table
                    && c.query == encoded
                    && c.zone == zone.name()
                    && c.version == t.version
            }) {
                return Arc::clone(&hit.rows);
            }
        }
        let query = self.parse_query(table, encoded, zone);
        let mut rows: Vec<Arc<Record>> = t
            .rows
            .values()
            .filter(|row| {
                query.matches(&RowView {
                    store: self,
                    table,
                    row,
                })
            })
            .cloned()
            .collect();
        if !query.order.is_empty() {
            // Views are built per row for dot-walked keys; plain keys never leave the row.
            let mut views: Vec<(RowView<'_>, Arc<Record>)> = Vec::with_capacity(rows.len());
            let owned: Vec<Arc<Record>> = std::mem::take(&mut rows);
            for row in &owned {
                views.push((
                    RowView {
                        store: self,
                        table,
                        row,
                    },
                    Arc::clone(row),
                ));
            }
            query.sort(&mut views, |(view, _)| view as &dyn Fields);
            rows = views.into_iter().map(|(_, row)| row).collect();
        }
        let rows = Arc::new(rows);
        if let Ok(mut cache) = self.cache.lock() {
            cache.retain(|c| {
                self.tables
                    .get(&c.table)
                    .is_some_and(|t| t.version == c.version)
            });
            if cache.len() >= CACHE_ENTRIES {
                cache.remove(0);
            }
            cache.push(Cached {
                table: table.to_owned(),
                query: encoded.to_owned(),
                zone: zone.name(),
                version: t.version,
                rows: Arc::clone(&rows),
            });
        }
        rows
    }

    /// Inserts or updates one Table-API-shaped record, filling in what a real instance would
    /// (sys_id, number, timestamps, sys_mod_count). Returns the stored record.
    pub fn upsert(&mut self, table: &str, value: &Value, by: &str) -> Result<Record, WriteError> {
        let Value::Object(object) = value else {
            return Err(WriteError::NotAnObject);
        };
        let incoming = normalize(object);
        let now = format_sn(now_utc());
        let existing = incoming.get("sys_id").and_then(|id| self.get(table, id));
        let record = match existing {
            Some(old) => {
                let mut record = (*old).clone();
                let mods: u64 = record
                    .get("sys_mod_count")
                    .and_then(|m| m.parse().ok())
                    .unwrap_or(0);
                record.extend(incoming.clone());
                if !incoming.contains_key("sys_mod_count") {
                    record.insert("sys_mod_count".into(), (mods + 1).to_string());
                }
                if !incoming.contains_key("sys_updated_on") {
                    record.insert("sys_updated_on".into(), now.clone());
                }
                if !incoming.contains_key("sys_updated_by") {
                    record.insert("sys_updated_by".into(), by.to_owned());
                }
                record
            }
            None => {
                let mut record = incoming;
                if record.get("sys_id").is_none_or(|id| id.is_empty()) {
                    record.insert("sys_id".into(), data::sys_id(&mut self.rng));
                }
                if table == "incident" && record.get("number").is_none_or(|n| n.is_empty()) {
                    record.insert("number".into(), self.next_incident_number());
                }
                let created = record
                    .get("sys_created_on")
                    .cloned()
                    .unwrap_or_else(|| now.clone());
                record
                    .entry("sys_created_on".into())
                    .or_insert_with(|| created.clone());
                record
                    .entry("sys_updated_on".into())
                    .or_insert_with(|| created.clone());
                record
                    .entry("sys_created_by".into())
                    .or_insert_with(|| by.to_owned());
                record
                    .entry("sys_updated_by".into())
                    .or_insert_with(|| by.to_owned());
                record
                    .entry("sys_mod_count".into())
                    .or_insert_with(|| "0".to_owned());
                if table == "incident" {
                    record.entry("opened_at".into()).or_insert(created);
                    record
                        .entry("state".into())
                        .or_insert_with(|| "1".to_owned());
                    record
                        .entry("active".into())
                        .or_insert_with(|| "true".to_owned());
                }
                record
            }
        };
        let t = self.table_mut(table);
        t.columns.extend(record.keys().cloned());
        t.rows
            .insert(record["sys_id"].clone(), Arc::new(record.clone()));
        t.version += 1;
        Ok(record)
    }

    /// Deletes a record and logs it in `sys_audit_delete`, which is how syncs learn of deletions.
    pub fn delete(&mut self, table: &str, sys_id: &str, by: &str) -> Result<Record, WriteError> {
        let not_found = || WriteError::NotFound {
            table: table.to_owned(),
            sys_id: sys_id.to_owned(),
        };
        let t = self.tables.get_mut(table).ok_or_else(not_found)?;
        let removed = t.rows.remove(sys_id).ok_or_else(not_found)?;
        t.version += 1;
        let display = removed
            .get(display_field(table))
            .cloned()
            .unwrap_or_default();
        let payload = serde_json::to_string(&*removed).unwrap_or_default();
        let audit = serde_json::json!({
            "tablename": table,
            "documentkey": sys_id,
            "display_value": display,
            "payload": payload,
        });
        self.upsert("sys_audit_delete", &audit, by)
    }

    fn next_incident_number(&self) -> String {
        let highest = self
            .tables
            .get("incident")
            .and_then(|t| {
                t.rows
                    .values()
                    .filter_map(|r| r.get("number")?.strip_prefix("INC")?.parse::<u64>().ok())
                    .max()
            })
            .unwrap_or(10000);
        format!("INC{:07}", highest + 1)
    }
}

/// Table API JSON values to raw strings: reference objects give their `value`, scalars print.
pub fn normalize(object: &Map<String, Value>) -> Record {
    object
        .iter()
        .map(|(key, value)| {
            let raw = match value {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                Value::Object(inner) => match inner.get("value") {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) if !other.is_null() => other.to_string(),
                    _ => String::new(),
                },
                Value::Array(_) => value.to_string(),
            };
            (key.clone(), raw)
        })
        .collect()
}
