//! The ServiceNow Virtual Agent Bot Integration API: wire model and client.

pub mod client;
pub mod model;
mod parse;
mod request;

pub use client::{VaAuth, VaClient, VaClientConfig, VaReply};
pub use model::{parse_payload, Action, VaPayload, VaRequest};
