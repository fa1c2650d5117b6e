//! The chat side of the product: the Virtual Agent Bot Integration API (seed 002) and the
//! LiveChat handoff (seed 001), without any UI.
//!
//! - `va::model`: the wire types, outbound requests and a lenient parser of inbound payloads.
//! - `va::client`: POSTs requests to the VA API with token, Basic or OAuth auth, retrying.
//! - `webhook`: the loopback HTTP server the VA posts its replies to.
//! - `handoff`: the pure state machine active → waiting → connected → completed | fail | cancelled.
//! - `store`: chat sessions, transcripts and feedback in SQLite.

pub mod handoff;
pub mod store;
pub mod va;
pub mod webhook;
