//! The connector of a saved integration, with its stored credentials: what a sync and a
//! connection check talk to the source with.

use crate::connectors::{client_trusting, Connector, ConnectorOptions, Credentials};
use crate::error::CoreResult;
use crate::integrations::{Integration, SecretField};
use crate::Core;

impl Core {
    /// A connector for `integration` with its stored credentials, its CA certificates, its
    /// request budget and `options`.
    pub(crate) fn connector_for(
        &self,
        integration: &Integration,
        mut options: ConnectorOptions,
    ) -> CoreResult<Connector> {
        if options.client.is_none() && integration.ca_certificates.is_some() {
            options.client = Some(client_trusting(integration.ca_certificates.as_deref())?);
        }
        if options.pacing.budget.is_none() {
            options.pacing.budget = self.request_budget(integration)?;
        }
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
