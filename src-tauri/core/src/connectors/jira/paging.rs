//! Search pages: each page re-queries from the newest time delivered, skipping the tie set;
//! Cloud follows `nextPageToken`, Data Center `startAt`/`total`. Following tokens or offsets
//! must bring issues not seen before, or paging stops with `paging_stalled`.

use std::collections::HashSet;

use serde_json::json;

use super::jql::jql;
use super::{Cursor, Jira, JiraFlavour, FIELDS, ORDER};
use crate::connectors::http::{error, Attempt};
use crate::connectors::pages::{issue_id, jira_page, Found, Position};
use crate::connectors::progress::Progress;
use crate::connectors::text::{epoch_millis, parse_jira_time, parse_time};
use crate::connectors::{missing, Filters, IdList, Page, SkippedRecord, Watermark};
use crate::error::{CoreResult, ErrorCode};

impl Jira {
    pub(crate) async fn next_page(
        &mut self,
        after: Option<&Watermark>,
        filters: &Filters,
        page_size: usize,
    ) -> CoreResult<Page> {
        let flavour = self.flavour().await?;
        let wanted = page_size.clamp(1, flavour.page_cap());
        let continuing = self.cursor.as_ref().filter(|c| Some(&c.mark) == after);
        let (mut at, mut seen) = match (continuing, after) {
            (Some(cursor), _) => (cursor.at, cursor.seen.clone()),
            (None, None) => (0, HashSet::new()),
            (None, Some(mark)) => {
                let stored = parse_time(&mark.updated_at).ok_or_else(|| {
                    missing(
                        "watermark",
                        "The stored sync position is not a valid time; run a full sync.",
                    )
                })?;
                if self.started {
                    // A watermark this connector did not hand out, mid-run: resume at it.
                    (
                        epoch_millis(stored),
                        HashSet::from([mark.external_id.clone()]),
                    )
                } else {
                    // The first page from a stored watermark: rewind by the overlap margin.
                    let overlap = i64::try_from(self.overlap.as_millis()).unwrap_or(i64::MAX);
                    (epoch_millis(stored).saturating_sub(overlap), HashSet::new())
                }
            }
        };
        let from = match filters.updated_from.as_deref() {
            Some(from) => Some(epoch_millis(parse_time(from).ok_or_else(|| {
                missing(
                    "updated_from",
                    "Enter a date such as 2024-01-31 or 2024-01-31T13:05:00Z.",
                )
            })?)),
            None => None,
        };
        if let Some(from) = from.filter(|f| *f > at) {
            at = from;
            seen.clear();
        }
        let jql = jql(filters, at, ORDER)?;
        let mut page = Page {
            next: after.cloned(),
            ..Page::default()
        };
        let mut position = flavour.first_page();
        let mut newest: Option<(i64, Watermark)> = None;
        let mut progress = Progress::new("Jira", "search");
        loop {
            let found = self
                .search(flavour, &jql, FIELDS, wanted, &position)
                .await?;
            if page.total_hint.is_none() {
                page.total_hint = found.total;
            }
            for issue in &found.issues {
                let id = issue_id(issue);
                progress.key(id.clone().unwrap_or_else(|| issue.to_string()));
                let Some(id) = id else {
                    page.skipped.push(SkippedRecord {
                        external_id: None,
                        reason: format!("issue without id (key {:?})", issue["key"].as_str()),
                    });
                    continue;
                };
                let updated = issue["fields"]["updated"]
                    .as_str()
                    .and_then(parse_jira_time);
                let Some(updated) = updated else {
                    if self.reported.insert(id.clone()) {
                        page.skipped.push(SkippedRecord {
                            external_id: Some(id),
                            reason: format!(
                                "updated {:?} is not a date",
                                issue["fields"]["updated"]
                            ),
                        });
                    }
                    continue;
                };
                let millis = epoch_millis(updated);
                // Already delivered: older than the resume time (a server rounding the bound
                // down), or at exactly that time and in the tie set.
                if millis < at || (millis == at && seen.contains(&id)) {
                    continue;
                }
                let incident = self.incident(issue, &id, updated, &mut page.notes);
                let mark = Watermark {
                    updated_at: incident.updated_at.clone(),
                    external_id: id.clone(),
                };
                newest = Some((millis, mark));
                page.incidents.push(incident);
            }
            page.done = found.last;
            if !page.incidents.is_empty() || found.last {
                break;
            }
            // Everything on this page was delivered before (a tie group longer than a page):
            // the next page must bring issues this loop has not seen, or paging is stuck.
            progress.next_page()?;
            position = found.next;
        }
        if let Some((millis, mark)) = newest {
            if millis != at {
                seen.clear();
            }
            seen.extend(
                page.incidents
                    .iter()
                    .filter(|i| parse_time(&i.updated_at).map(epoch_millis) == Some(millis))
                    .map(|i| i.external_id.clone()),
            );
            page.next = Some(mark.clone());
            self.cursor = Some(Cursor {
                mark,
                at: millis,
                seen,
            });
        }
        self.started = true;
        Ok(page)
    }

    pub(crate) async fn list_all_ids(&mut self, filters: &Filters) -> CoreResult<IdList> {
        let flavour = self.flavour().await?;
        let from = match filters.updated_from.as_deref() {
            Some(from) => epoch_millis(parse_time(from).ok_or_else(|| {
                missing(
                    "updated_from",
                    "Enter a date such as 2024-01-31 or 2024-01-31T13:05:00Z.",
                )
            })?),
            None => 0,
        };
        // Key order does not change when issues are updated during the listing.
        let jql = jql(filters, from, "ORDER BY key ASC")?;
        // Ids only: Cloud allows 5000 per page then.
        let per_page = match flavour {
            JiraFlavour::Cloud => 5000,
            JiraFlavour::DataCenter => 1000,
        };
        let mut position = flavour.first_page();
        let mut list = IdList::default();
        let mut progress = Progress::new("Jira", "search (ids)");
        let mut first = true;
        loop {
            let found = self
                .search(flavour, &jql, &["id"], per_page, &position)
                .await?;
            if first {
                list.expected = found.total;
                first = false;
            }
            for issue in &found.issues {
                if let Some(id) = issue_id(issue) {
                    if progress.key(id.clone()) {
                        list.ids.push(id);
                    }
                }
            }
            if found.last {
                return Ok(list);
            }
            progress.next_page()?;
            position = found.next;
        }
    }

    /// One search page.
    pub(super) async fn search(
        &mut self,
        flavour: JiraFlavour,
        jql: &str,
        fields: &[&str],
        max: usize,
        position: &Position,
    ) -> CoreResult<Found> {
        let (url, what) = match flavour {
            JiraFlavour::Cloud => (self.api(flavour, "/search/jql"), "search/jql"),
            JiraFlavour::DataCenter => (self.api(flavour, "/search"), "search"),
        };
        let body = |attempt: &Attempt| {
            // Fewer issues per page after slow answers.
            let max = (max >> attempt.slow_failures.min(8)).max(1);
            let mut body = json!({"jql": jql, "maxResults": max, "fields": fields});
            match position {
                Position::Token(Some(token)) => body["nextPageToken"] = json!(token),
                Position::Token(None) => {}
                Position::StartAt(start) => body["startAt"] = json!(start),
            }
            body
        };
        let reply = self
            .call(what, |http, attempt| {
                http.client.post(url.clone()).json(&body(attempt))
            })
            .await?;
        jira_page(reply.json(), position).ok_or_else(|| {
            error(
                ErrorCode::MalformedResponse,
                "Jira answered a search without an issue list. Check that the URL is the Jira \
                 site itself (Data Center: including its context path).",
                format!("{what}: {}", reply.describe()),
            )
        })
    }
}
