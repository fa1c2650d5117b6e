//! Integrations: the connection settings of one ITSM system, their validation and storage,
//! and the connection check.

mod budget;
mod check;
mod connector;
mod model;
mod repo;
mod validate;

pub use check::{CheckStep, IntegrationCheck};
pub use model::{
    AuthType, Filters, Integration, IntegrationPatch, Kind, NewIntegration, SecretField,
    SecretFlags, SyncError, SyncStatus,
};
pub(crate) use repo::{delete, find_by_name, get, insert, list, set_enabled, update};
pub use validate::{check_pem, same_origin};
pub(crate) use validate::{secrets_for_new_origin, validate, Candidate};
