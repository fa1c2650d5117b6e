//! Proof that paging moves forward. A server that ignores the query or the page position (a
//! broken proxy, a hostile endpoint) can answer the same records, or pages without records,
//! forever; every paging loop records the keys each page brought and stops with
//! `paging_stalled` when a page brings none it has not seen, instead of looping until killed.

use std::collections::HashSet;

use super::http::error;
use crate::error::{CoreResult, ErrorCode};

/// Pages in a row that may bring no record at all before paging is given up. ServiceNow can
/// legitimately answer empty windows while row ACLs hide what matches: 1,000 windows of
/// 10,000 rows is ten million hidden rows in a row, far beyond a real table.
const MAX_IDLE_PAGES: u32 = 1_000;

/// The keys one listing has seen, and how the current page compares.
#[derive(Debug)]
pub(crate) struct Progress {
    system: &'static str,
    /// The listing, for error details ("table incident", "search/jql").
    what: String,
    seen: HashSet<String>,
    /// Keys offered on the current page, and how many of them were new.
    offered: usize,
    fresh: usize,
    /// Pages in a row that offered no key.
    idle: u32,
}

impl Progress {
    pub(crate) fn new(system: &'static str, what: impl Into<String>) -> Progress {
        Progress {
            system,
            what: what.into(),
            seen: HashSet::new(),
            offered: 0,
            fresh: 0,
            idle: 0,
        }
    }

    /// Records a key of the current page; true when this listing had not seen it.
    pub(crate) fn key(&mut self, key: impl Into<String>) -> bool {
        self.offered += 1;
        let new = self.seen.insert(key.into());
        if new {
            self.fresh += 1;
        }
        new
    }

    /// Ends a page that paging goes on after: fails when it offered keys but none new, or
    /// when too many pages in a row offered none.
    pub(crate) fn next_page(&mut self) -> CoreResult<()> {
        let (offered, fresh) = (self.offered, self.fresh);
        self.offered = 0;
        self.fresh = 0;
        if offered > 0 && fresh == 0 {
            return Err(error(
                ErrorCode::PagingStalled,
                format!(
                    "{system} answered the same records again instead of the next page, so \
                     paging made no progress and the sync stopped. The instance, or a proxy in \
                     front of it, ignores the paging parameters: check that the URL points at \
                     the {system} instance itself.",
                    system = self.system
                ),
                format!(
                    "{}: a page of {offered} records brought none not seen before",
                    self.what
                ),
            ));
        }
        if offered == 0 {
            self.idle += 1;
            if self.idle > MAX_IDLE_PAGES {
                return Err(error(
                    ErrorCode::PagingStalled,
                    format!(
                        "{system} kept answering pages without records while saying more \
                         follow, so the sync stopped after {MAX_IDLE_PAGES} of them. Check that \
                         the URL points at the {system} instance itself, and the account's \
                         read access.",
                        system = self.system
                    ),
                    format!("{}: {} empty pages in a row", self.what, self.idle),
                ));
            }
        } else {
            self.idle = 0;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_without_new_keys_stops_paging() {
        let mut progress = Progress::new("ServiceNow", "table incident");
        assert!(progress.key("a") && progress.key("b"));
        progress.next_page().unwrap();
        assert!(progress.key("c") && !progress.key("a"));
        progress.next_page().unwrap();
        assert!(!progress.key("b") && !progress.key("c"));
        let e = progress.next_page().unwrap_err();
        assert_eq!(e.code, ErrorCode::PagingStalled);
    }

    #[test]
    fn empty_pages_are_allowed_only_so_many_times_in_a_row() {
        let mut progress = Progress::new("Jira", "search/jql");
        for _ in 0..MAX_IDLE_PAGES {
            progress.next_page().unwrap();
        }
        progress.key("a");
        progress.next_page().unwrap();
        for _ in 0..MAX_IDLE_PAGES {
            progress.next_page().unwrap();
        }
        assert_eq!(
            progress.next_page().unwrap_err().code,
            ErrorCode::PagingStalled
        );
    }
}
