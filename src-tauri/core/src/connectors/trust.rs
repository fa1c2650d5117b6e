//! Which server certificates an integration trusts: the operating system's trust store plus the
//! certificates of the integration's CA file (`--ca-file`).
//!
//! A certificate in that file that is itself the server's certificate is trusted as that exact
//! certificate even when it is marked as a CA, as `openssl req -x509` marks self-signed
//! certificates by default (webpki refuses a CA certificate as a server's own, and curl or a
//! browser with the certificate installed accept it). Its host name and validity period are
//! still checked, and the handshake signature still proves the server holds its key.
//!
//! Invariant: nothing here accepts a certificate the admin did not give or the OS store does
//! not vouch for; certificate checks are never switched off.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error as TlsError, SignatureScheme};

/// A CA bundle larger than this is not a CA bundle.
pub const MAX_CA_BYTES: usize = 1024 * 1024;

/// Why a CA file is not usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PemProblem {
    TooLarge,
    /// No `-----BEGIN CERTIFICATE-----` block.
    NotPem,
    /// A block that does not decode.
    Damaged,
}

impl PemProblem {
    /// What the admin should do, for the dialog's and the CLI's field error.
    pub fn message(self) -> &'static str {
        match self {
            PemProblem::TooLarge => {
                "This file is larger than 1 MB: choose the PEM file of the CA certificate(s)."
            }
            PemProblem::NotPem => {
                "This is not a PEM certificate file: it needs at least one \"-----BEGIN \
                 CERTIFICATE-----\" block. Export the CA certificate as PEM (Base-64 encoded X.509)."
            }
            PemProblem::Damaged => {
                "A certificate in this file is damaged: export the CA certificate again as PEM."
            }
        }
    }
}

impl std::fmt::Display for PemProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for PemProblem {}

/// The certificates of a PEM bundle, or why it is not one.
pub fn pem_certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, PemProblem> {
    if pem.len() > MAX_CA_BYTES {
        return Err(PemProblem::TooLarge);
    }
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| PemProblem::Damaged)?;
    if certs.is_empty() {
        return Err(PemProblem::NotPem);
    }
    Ok(certs)
}

/// A rustls client configuration trusting the OS store and `extra` (see the module docs).
pub(crate) fn client_config(
    extra: Vec<CertificateDer<'static>>,
) -> Result<rustls::ClientConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let os_and_extra =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra.clone(), provider.clone())?;
    let verifier = IntegrationTrust {
        standard: Arc::new(os_and_extra),
        pinned: extra,
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

#[derive(Debug)]
struct IntegrationTrust {
    standard: Arc<rustls_platform_verifier::Verifier>,
    /// The CA file's certificates, also trusted as exact server certificates.
    pinned: Vec<CertificateDer<'static>>,
}

impl IntegrationTrust {
    /// The server presented exactly a certificate of the CA file: trusted when it is valid now
    /// and for this host.
    fn check_pinned(
        &self,
        end_entity: &CertificateDer<'_>,
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        let (_, parsed) = x509_parser::parse_x509_certificate(end_entity.as_ref())
            .map_err(|_| TlsError::InvalidCertificate(CertificateError::BadEncoding))?;
        let validity = parsed.validity();
        let now_s = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        if now_s < validity.not_before.timestamp() {
            return Err(TlsError::InvalidCertificate(CertificateError::NotValidYet));
        }
        if now_s > validity.not_after.timestamp() {
            return Err(TlsError::InvalidCertificate(CertificateError::Expired));
        }
        let cert = webpki::EndEntityCert::try_from(end_entity)
            .map_err(|_| TlsError::InvalidCertificate(CertificateError::BadEncoding))?;
        cert.verify_is_valid_for_subject_name(server_name)
            .map_err(|_| TlsError::InvalidCertificate(CertificateError::NotValidForName))?;
        Ok(ServerCertVerified::assertion())
    }
}

impl ServerCertVerifier for IntegrationTrust {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        match self.standard.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(verified) => Ok(verified),
            Err(refused)
                if self
                    .pinned
                    .iter()
                    .any(|p| p.as_ref() == end_entity.as_ref()) =>
            {
                tracing::debug!(%refused, "server certificate is one of the integration's own");
                self.check_pinned(end_entity, server_name, now)
            }
            Err(refused) => Err(refused),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.standard.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.standard.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.standard.supported_verify_schemes()
    }
}
