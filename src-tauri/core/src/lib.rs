//! Tauri-free core of Support Bot Desktop: the store, secrets, integrations and permissions.
//! The desktop UI, the CLI and the tests all go through [`Core`].

pub mod access;
mod app;
pub mod chat;
pub mod clock;
pub mod connectors;
pub mod error;
pub mod integrations;
pub mod kb;
pub mod logging;
pub mod paths;
pub mod secrets;
pub mod store;
pub mod sync;

pub use access::{Actor, Permission, Profile, Role, Unlocked};
pub use app::{AppStatus, Core, DEMO_INTEGRATION_NAME};
pub use error::{CoreError, CoreResult, ErrorCode};
