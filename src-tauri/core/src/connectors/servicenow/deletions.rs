//! What the source deleted: the sys_audit_delete log since a checkpoint, and every id matching
//! the filters for a full reconcile, both read by keyset scans.

use std::collections::HashSet;

use serde_json::Value;

use super::query::{filter_groups, keyset_query};
use super::records::text;
use super::{Keyset, ServiceNow, LIST_PAGE, MAX_PAGE};
use crate::connectors::progress::Progress;
use crate::connectors::text::{parse_time, sn_to_rfc3339, to_sn};
use crate::connectors::{missing, Deletions, Filters, IdList};
use crate::error::CoreResult;

impl ServiceNow {
    pub(crate) async fn deleted_since(&mut self, since: &str) -> CoreResult<Deletions> {
        let at = parse_time(since).ok_or_else(|| {
            missing(
                "since",
                "The deletion checkpoint is not a valid time; run a full reconcile.",
            )
        })?;
        let (rows, _) = self
            .scan(
                "sys_audit_delete",
                &["tablename=incident".to_owned()],
                Some("sys_created_on"),
                "sys_id,documentkey,sys_created_on",
                Some(Keyset::From(to_sn(at))),
            )
            .await?;
        let mut deletions = Deletions::default();
        let mut seen = HashSet::new();
        for row in rows {
            let id = text(&row["documentkey"]);
            if !id.is_empty() && seen.insert(id.clone()) {
                deletions.ids.push(id);
            }
            if let Some(at) = sn_to_rfc3339(&text(&row["sys_created_on"])) {
                if deletions.checkpoint.as_ref().is_none_or(|c| *c < at) {
                    deletions.checkpoint = Some(at);
                }
            }
        }
        Ok(deletions)
    }

    pub(crate) async fn list_all_ids(&mut self, filters: &Filters) -> CoreResult<IdList> {
        let groups = filter_groups(filters)?;
        let (rows, expected) = self.scan("incident", &groups, None, "sys_id", None).await?;
        let mut seen = HashSet::new();
        let ids = rows
            .iter()
            .map(|r| text(&r["sys_id"]))
            .filter(|id| !id.is_empty() && seen.insert(id.clone()))
            .collect();
        Ok(IdList { ids, expected })
    }

    /// Reads every row of a query by keyset pages on (`time_field`, sys_id), or on sys_id alone.
    /// Returns the rows and the count the first page reported.
    async fn scan(
        &mut self,
        table: &str,
        groups: &[String],
        time_field: Option<&str>,
        fields: &str,
        start: Option<Keyset>,
    ) -> CoreResult<(Vec<Value>, Option<u64>)> {
        let mut all = Vec::new();
        let mut first_total = None;
        let mut keyset = start;
        let mut offset = 0;
        let mut limit = LIST_PAGE.min(self.limit_cap);
        let mut first = true;
        let mut progress = Progress::new("ServiceNow", format!("table {table}"));
        loop {
            let query = keyset_query(groups, time_field, keyset.as_ref());
            let got = self.list(table, &query, fields, limit, offset).await?;
            if first {
                first_total = got.total;
                first = false;
            }
            let remaining = got.total.map(|t| t.saturating_sub(offset as u64));
            if got.rows.is_empty() {
                match remaining {
                    Some(rest) if (got.limit as u64) < rest => {
                        if got.limit < MAX_PAGE {
                            limit = (got.limit * 2).min(MAX_PAGE);
                        } else {
                            offset += got.limit;
                        }
                        progress.next_page()?;
                        continue;
                    }
                    _ => break,
                }
            }
            let returned = got.rows.len() as u64;
            let next = got.rows.last().and_then(|row| {
                let id = text(&row["sys_id"]);
                let time = time_field.map(|f| text(&row[f]));
                match time {
                    _ if id.is_empty() => None,
                    Some(t) if t.is_empty() => None,
                    Some(t) => Some(Keyset::After(t, id)),
                    None => Some(Keyset::After(String::new(), id)),
                }
            });
            for row in &got.rows {
                let id = text(&row["sys_id"]);
                progress.key(if id.is_empty() { row.to_string() } else { id });
            }
            all.extend(got.rows);
            if remaining.is_some_and(|rest| returned >= rest) {
                break;
            }
            progress.next_page()?;
            match next {
                Some(next) => {
                    keyset = Some(next);
                    offset = 0;
                    limit = LIST_PAGE.min(self.limit_cap);
                }
                None => offset += got.limit,
            }
        }
        Ok((all, first_total))
    }
}
