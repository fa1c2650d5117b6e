//! A TLS front for any local HTTP server: what a self-signed instance or a corporate
//! TLS-inspecting proxy looks like to the app. It terminates TLS with a generated certificate
//! and copies bytes to the plain server behind it.

use std::net::SocketAddr;
use std::sync::Arc;

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// What is wrong (or not) with the front's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertCase {
    /// Signed by a private CA ("Corp Root CA"), valid for localhost: trusted once that CA is.
    CorporateCa,
    /// Signed by the corporate CA but expired in 2021.
    Expired,
    /// Signed by the corporate CA for another host name.
    WrongHost,
    /// Self-signed for localhost, an end-entity certificate (`CA:FALSE`): trusted by giving
    /// the certificate itself as the CA file.
    SelfSigned,
    /// Self-signed for localhost with `CA:TRUE`, as `openssl req -x509` makes it with Debian's
    /// defaults.
    SelfSignedCa,
}

/// A running front and the PEM of the CA that signed its certificate.
pub struct TlsFront {
    pub addr: SocketAddr,
    pub ca_pem: String,
    task: tokio::task::JoinHandle<()>,
}

impl TlsFront {
    /// `https://localhost:PORT`.
    pub fn url(&self) -> String {
        format!("https://localhost:{}", self.addr.port())
    }

    /// Serves TLS on a free port, forwarding to `backend` (host:port of a plain HTTP server).
    pub async fn start(backend: SocketAddr, case: CertCase) -> TlsFront {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "Corp Root CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let ca_pem = ca_cert.pem();
        let issuer = Issuer::new(ca_params, ca_key);

        let host = match case {
            CertCase::WrongHost => "intranet.example.com",
            _ => "localhost",
        };
        let mut params = CertificateParams::new(vec![host.to_string()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, host);
        if case == CertCase::Expired {
            params.not_before = date_time_ymd(2020, 1, 1);
            params.not_after = date_time_ymd(2021, 1, 1);
        }
        let key = KeyPair::generate().unwrap();
        let (cert, ca_cert, ca_pem) = match case {
            CertCase::SelfSigned | CertCase::SelfSignedCa => {
                if case == CertCase::SelfSignedCa {
                    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
                }
                let cert = params.self_signed(&key).unwrap();
                let pem = cert.pem();
                (cert.clone(), cert, pem)
            }
            _ => (params.signed_by(&key, &issuer).unwrap(), ca_cert, ca_pem),
        };

        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![
                    CertificateDer::from(cert.der().to_vec()),
                    CertificateDer::from(ca_cert.der().to_vec()),
                ],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A client that rejects the certificate ends the handshake: nothing to do.
                    let Ok(mut tls) = acceptor.accept(socket).await else {
                        return;
                    };
                    let Ok(mut plain) = TcpStream::connect(backend).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        TlsFront { addr, ca_pem, task }
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}
