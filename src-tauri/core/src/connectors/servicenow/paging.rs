//! Incident pages by keyset on (sys_updated_on, sys_id): a short or empty page ends nothing
//! while `X-Total-Count` says rows remain, and only a connector's first page rewinds. A page
//! that ends where an earlier one ended (a server ignoring the keyset) stops the run.

use serde_json::Value;

use super::query::encoded_query;
use super::records::text;
use super::{Keyset, ServiceNow, INCIDENT_FIELDS, MAX_PAGE};
use crate::connectors::progress::Progress;
use crate::connectors::text::{parse_time, sn_to_rfc3339, to_sn};
use crate::connectors::{missing, Filters, Page, SkippedRecord, Watermark};
use crate::error::CoreResult;

impl ServiceNow {
    pub(crate) async fn next_page(
        &mut self,
        after: Option<&Watermark>,
        filters: &Filters,
        page_size: usize,
    ) -> CoreResult<Page> {
        let wanted = page_size.clamp(1, MAX_PAGE);
        let keyset = match after {
            None => None,
            Some(mark) => {
                let at = parse_time(&mark.updated_at).ok_or_else(|| {
                    missing(
                        "watermark",
                        "The stored sync position is not a valid time; run a full sync.",
                    )
                })?;
                let continuing = self.last_emitted.as_ref() == Some(mark);
                Some(if continuing || self.started || self.overlap.is_zero() {
                    Keyset::After(to_sn(at), mark.external_id.clone())
                } else {
                    // The first page from a stored watermark: rewind to catch rows committed
                    // late with an earlier time, or updated within the same second after the
                    // last run read. Only once per connector, so paging always moves forward.
                    Keyset::From(to_sn(at - self.overlap))
                })
            }
        };
        let query = encoded_query(filters, keyset.as_ref())?;
        let mut page = Page {
            next: after.cloned(),
            ..Page::default()
        };
        let mut limit = wanted.min(self.limit_cap);
        let mut offset = 0usize;
        let mut last_usable: Option<Watermark> = None;
        let mut kept: Vec<Value> = Vec::new();
        // Windows stepped over within this page (hidden by ACLs, or only malformed rows).
        let mut windows = Progress::new("ServiceNow", "table incident");
        loop {
            let got = self
                .list("incident", &query, INCIDENT_FIELDS, limit, offset)
                .await?;
            if got.limit < self.limit_cap && got.limit < limit {
                self.limit_cap = got.limit;
                self.notes.once(
                    &mut page.notes,
                    format!(
                        "ServiceNow answered slowly; pages were reduced to {} records.",
                        got.limit
                    ),
                );
            }
            if offset == 0 && page.total_hint.is_none() {
                page.total_hint = got.total;
            }
            let remaining = got.total.map(|t| t.saturating_sub(offset as u64));
            if got.rows.is_empty() {
                match remaining {
                    // Rows match but none came back: the whole window is hidden by row ACLs
                    // (or was hidden this once). Widen the window rather than skip it, so rows
                    // hidden only transiently are not jumped over.
                    Some(rest) if (got.limit as u64) < rest => {
                        self.notes.once(
                            &mut page.notes,
                            "Some incidents matched but were not returned (row-level ACLs \
                             hide them from this account)."
                                .to_owned(),
                        );
                        if got.limit < MAX_PAGE {
                            limit = (got.limit * 2).min(MAX_PAGE);
                        } else {
                            offset += got.limit;
                        }
                        windows.next_page()?;
                        continue;
                    }
                    _ => {
                        page.done = true;
                        break;
                    }
                }
            }
            let returned = got.rows.len();
            let mut truncated = false;
            for (processed, row) in got.rows.into_iter().enumerate() {
                // A widened window can return more than asked: stop at the page size, but only
                // once there is a row to resume after (the rest is read by the next page).
                if processed >= wanted && last_usable.is_some() {
                    truncated = true;
                    break;
                }
                let id = text(&row["sys_id"]);
                windows.key(if id.is_empty() { row.to_string() } else { id });
                match keyset_of(&row) {
                    Ok(mark) => {
                        last_usable = Some(mark);
                        kept.push(row);
                    }
                    Err(skip) => page.skipped.push(skip),
                }
            }
            let end = remaining.is_some_and(|rest| returned as u64 >= rest);
            if last_usable.is_none() && !end {
                // Nothing to resume after (every row malformed): step over this window.
                offset += got.limit;
                windows.next_page()?;
                continue;
            }
            page.done = end && !truncated;
            break;
        }
        if let Some(mark) = last_usable {
            page.next = Some(mark);
        }
        if !page.done {
            // Each page must end past every earlier one: the keyset asks for rows strictly
            // after the last, so ending on an earlier end means the query was ignored.
            if let Some(next) = &page.next {
                self.pages
                    .key(format!("{}\u{1f}{}", next.updated_at, next.external_id));
                self.pages.next_page()?;
            }
        }
        self.enrich(kept, &mut page).await?;
        self.last_emitted = page.next.clone();
        self.started = true;
        Ok(page)
    }
}

/// The keyset position of a row, or why it cannot be used.
fn keyset_of(row: &Value) -> Result<Watermark, SkippedRecord> {
    let sys_id = text(&row["sys_id"]);
    if sys_id.is_empty() {
        let number = text(&row["number"]);
        return Err(SkippedRecord {
            external_id: None,
            reason: format!("record without sys_id (number {number:?})"),
        });
    }
    let raw = text(&row["sys_updated_on"]);
    match sn_to_rfc3339(&raw) {
        Some(updated_at) => Ok(Watermark {
            updated_at,
            external_id: sys_id,
        }),
        None => Err(SkippedRecord {
            external_id: Some(sys_id),
            reason: format!("sys_updated_on {raw:?} is not a date"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_rows_are_reported_not_dropped() {
        let ok = serde_json::json!({"sys_id": "a1", "sys_updated_on": "2025-01-01 00:00:00"});
        assert_eq!(keyset_of(&ok).unwrap().updated_at, "2025-01-01T00:00:00Z");
        let no_id = serde_json::json!({"number": "INC1", "sys_updated_on": "2025-01-01 00:00:00"});
        assert!(keyset_of(&no_id).unwrap_err().external_id.is_none());
        let bad_date = serde_json::json!({"sys_id": "a2", "sys_updated_on": "01/01/2025"});
        assert_eq!(
            keyset_of(&bad_date).unwrap_err().external_id.as_deref(),
            Some("a2")
        );
    }
}
