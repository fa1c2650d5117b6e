//! The connector of a saved integration, with its stored credentials: what a sync and a
//! connection check talk to the source with.

use crate::connectors::{Connector, ConnectorOptions, Credentials};
use crate::error::CoreResult;
use crate::integrations::{Integration, SecretField};
use crate::Core;

impl Core {
    /// A connector for `integration` with its stored credentials and `options`.
    pub(crate) fn connector_for(
        &self,
        integration: &Integration,
        options: ConnectorOptions,
    ) -> CoreResult<Connector> {
        let secret = |f| self.integration_secret(integration.id, f);
        let credentials = Credentials {
            username: integration.username.clone(),
            password: secret(SecretField::Password)?,
            token: secret(SecretField::Token)?,
            client_id: integration.client_id.clone(),
            client_secret: secret(SecretField::ClientSecret)?,
        };
        Connector::new(
            integration.kind,
            integration.auth,
            &integration.url,
            credentials,
            options,
        )
    }
}
