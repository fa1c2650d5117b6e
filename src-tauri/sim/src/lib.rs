//! ServiceNow- and Jira-compatible simulator (work in progress).
