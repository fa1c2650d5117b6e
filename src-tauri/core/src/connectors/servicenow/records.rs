//! Rows into incidents: standard choice labels, user names from sys_user (cached for the run)
//! and comments and work notes from sys_journal_field.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

pub(super) use crate::connectors::pages::field_text as text;

use super::query::in_list;
use super::{ServiceNow, IN_CHUNK, LIST_PAGE, PRIORITIES, STATES};
use crate::connectors::progress::Progress;
use crate::connectors::text::sn_to_rfc3339;
use crate::connectors::{Page, SourceIncident};
use crate::error::{CoreResult, ErrorCode};

impl ServiceNow {
    /// Turns rows into incidents with user names and journal entries.
    pub(super) async fn enrich(&mut self, rows: Vec<Value>, page: &mut Page) -> CoreResult<()> {
        let user_ids: Vec<String> = rows
            .iter()
            .flat_map(|r| ["assigned_to", "resolved_by", "caller_id"].map(|f| text(&r[f])))
            .filter(|id| !id.is_empty())
            .collect();
        self.load_users(user_ids, &mut page.notes).await?;
        let ids: Vec<String> = rows.iter().map(|r| text(&r["sys_id"])).collect();
        let mut journal = self.journal(&ids, &mut page.notes).await?;
        for row in rows {
            let mut incident = self.incident(&row, &mut page.notes);
            incident.comments = journal.remove(&incident.external_id).unwrap_or_default();
            page.incidents.push(incident);
        }
        Ok(())
    }

    fn incident(&mut self, row: &Value, notes: &mut Vec<String>) -> SourceIncident {
        let field = |name: &str| text(&row[name]);
        let sys_id = field("sys_id");
        let mut date = |name: &str| {
            let raw = field(name);
            if raw.is_empty() {
                return None;
            }
            let parsed = sn_to_rfc3339(&raw);
            if parsed.is_none() {
                self.notes.once(
                    notes,
                    format!("Incident {sys_id}: {name} {raw:?} is not a date; left empty."),
                );
            }
            parsed
        };
        let opened_at = date("opened_at");
        let resolved_at = date("resolved_at");
        let person = |name: &str| {
            let id = field(name);
            (!id.is_empty()).then(|| self.users.get(&id).cloned().unwrap_or(id))
        };
        SourceIncident {
            number: field("number"),
            short_description: field("short_description"),
            description: field("description"),
            resolution: field("close_notes"),
            close_code: Some(field("close_code")).filter(|c| !c.is_empty()),
            state: label(STATES, &field("state")),
            priority: label(PRIORITIES, &field("priority")),
            category: field("category"),
            subcategory: field("subcategory"),
            assigned_to: person("assigned_to"),
            resolved_by: person("resolved_by"),
            caller: person("caller_id"),
            opened_at,
            updated_at: sn_to_rfc3339(&field("sys_updated_on")).unwrap_or_default(),
            resolved_at,
            comments: Vec::new(),
            link: format!(
                "{}/nav_to.do?uri=incident.do%3Fsys_id%3D{sys_id}",
                self.base.as_str().trim_end_matches('/')
            ),
            external_id: sys_id,
        }
    }

    /// Caches the names of the users not known yet; a forbidden sys_user keeps sys_ids.
    async fn load_users(&mut self, ids: Vec<String>, notes: &mut Vec<String>) -> CoreResult<()> {
        if !self.users_readable {
            return Ok(());
        }
        let mut unknown: Vec<String> = ids
            .into_iter()
            .filter(|id| !self.users.contains_key(id))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        unknown.sort();
        for chunk in unknown.chunks(IN_CHUNK) {
            let query = format!("sys_idIN{}", in_list(chunk));
            let got = match self
                .list("sys_user", &query, "sys_id,name,user_name", chunk.len(), 0)
                .await
            {
                Ok(got) => got,
                Err(e) if e.code == ErrorCode::Forbidden => {
                    self.users_readable = false;
                    self.notes.once(
                        notes,
                        "The account cannot read sys_user: assigned to, resolved by and caller \
                         are kept as sys_ids. Grant it read access to sys_user to see names."
                            .to_owned(),
                    );
                    return Ok(());
                }
                Err(e) => return Err(e),
            };
            for user in got.rows {
                let name = Some(text(&user["name"]))
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| text(&user["user_name"]));
                if !name.is_empty() {
                    self.users.insert(text(&user["sys_id"]), name);
                }
            }
        }
        Ok(())
    }

    /// Comments and work notes by incident sys_id, oldest first.
    async fn journal(
        &mut self,
        ids: &[String],
        notes: &mut Vec<String>,
    ) -> CoreResult<HashMap<String, Vec<String>>> {
        let mut entries: HashMap<String, Vec<String>> = HashMap::new();
        if !self.journal_readable || ids.is_empty() {
            return Ok(entries);
        }
        for chunk in ids.chunks(IN_CHUNK) {
            let query = format!(
                "element_idIN{}^elementINcomments,work_notes^ORDERBYsys_created_on^ORDERBYsys_id",
                in_list(chunk)
            );
            let fields = "sys_id,element_id,element,value,sys_created_on,sys_created_by";
            let mut offset = 0;
            let mut progress = Progress::new("ServiceNow", "table sys_journal_field");
            loop {
                let got = match self
                    .list("sys_journal_field", &query, fields, LIST_PAGE, offset)
                    .await
                {
                    Ok(got) => got,
                    Err(e) if e.code == ErrorCode::Forbidden => {
                        self.journal_readable = false;
                        self.notes.once(
                            notes,
                            "The account cannot read sys_journal_field: comments and work notes \
                             are not synced. Grant it read access to sys_journal_field to include \
                             them."
                                .to_owned(),
                        );
                        return Ok(HashMap::new());
                    }
                    Err(e) => return Err(e),
                };
                let returned = got.rows.len();
                for entry in got.rows {
                    let id = text(&entry["sys_id"]);
                    progress.key(if id.is_empty() { entry.to_string() } else { id });
                    let value = text(&entry["value"]);
                    if value.trim().is_empty() {
                        continue;
                    }
                    let kind = match text(&entry["element"]).as_str() {
                        "work_notes" => "Work note",
                        _ => "Comment",
                    };
                    let at = text(&entry["sys_created_on"]);
                    let at = sn_to_rfc3339(&at).unwrap_or(at);
                    let author = text(&entry["sys_created_by"]);
                    entries
                        .entry(text(&entry["element_id"]))
                        .or_default()
                        .push(format!("{kind} by {author} at {at}: {value}"));
                }
                offset += got.limit;
                // Offset paging is safe here: new entries sort last, and a short page (ACL)
                // is not the end while the count says more rows match.
                let more = match got.total {
                    Some(total) => (offset as u64) < total,
                    None => returned > 0,
                };
                if !more {
                    break;
                }
                progress.next_page()?;
            }
        }
        Ok(entries)
    }
}

/// The label of a standard choice value; other values pass through.
fn label(choices: &[(&str, &str)], value: &str) -> String {
    choices
        .iter()
        .find(|(v, _)| *v == value)
        .map(|(_, l)| (*l).to_owned())
        .unwrap_or_else(|| value.to_owned())
}
