//! The TLS half of the probe: a rustls handshake that records what the server offered
//! (version, cipher suite, key-exchange group, the whole certificate chain as DER) and what
//! PKIX validation says about it, *without* failing the handshake on a bad certificate.
//! Opportunistic SMTP TLS does not depend on certificate validation (RFC 7435, M3AAWG TLS for
//! Mail), so the audit must see a self-signed or expired certificate's session, not a refusal.

use std::sync::{Arc, Mutex};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Which certificate authorities decide "trusted".
#[derive(Debug, Clone, Default)]
pub enum TrustAnchors {
    /// The Mozilla root program as shipped by `webpki-roots` (what MTA-STS senders use).
    #[default]
    WebPkiRoots,
    /// Only these CA certificates (a private CA, or a test CA).
    Custom(Vec<CertificateDer<'static>>),
}

/// A CA file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The PEM had no certificate or a broken one.
    #[error("CA file {name}: {reason}")]
    Pem {
        /// File name given by the user.
        name: String,
        /// What was wrong.
        reason: String,
    },
}

impl TrustAnchors {
    /// Reads CA certificates from PEM text (a `--ca-file`). `name` is only for the message.
    pub fn from_pem(name: &str, pem: &[u8]) -> Result<Self, TrustError> {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<_, _>>()
            .map_err(|e| TrustError::Pem {
                name: name.to_owned(),
                reason: e.to_string(),
            })?;
        if certs.is_empty() {
            return Err(TrustError::Pem {
                name: name.to_owned(),
                reason: "no PEM CERTIFICATE block found".into(),
            });
        }
        Ok(Self::Custom(certs))
    }

    fn root_store(&self) -> Result<RootCertStore, String> {
        let mut store = RootCertStore::empty();
        match self {
            Self::WebPkiRoots => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            Self::Custom(certs) => {
                let (_, ignored) = store.add_parsable_certificates(certs.iter().cloned());
                if store.is_empty() {
                    return Err(format!("none of the {ignored} CA certificates is usable"));
                }
            }
        }
        Ok(store)
    }
}

/// PKIX verdict on the chain for the name we dialled, as webpki sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Validation {
    /// Chains to a trust anchor, in date, names the host.
    Valid,
    /// The chain is trusted and in date, but does not name the host (webpki checks the name
    /// last, so everything before it passed).
    WrongName {
        /// webpki's message.
        reason: String,
    },
    /// webpki refused the chain itself; the reason is its error text (unknown issuer, expired...).
    Invalid {
        /// The refusal reason.
        reason: String,
    },
}

/// What the handshake negotiated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsSession {
    /// `TLSv1_3`, `TLSv1_2`.
    pub version: String,
    /// IANA name of the suite, e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher_suite: String,
    /// Key-exchange group, e.g. `X25519`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_exchange_group: Option<String>,
}

/// Shared record the verifier fills during the handshake.
#[derive(Debug, Default)]
pub struct Observed {
    /// Chain as sent, end-entity first (DER kept for DANE matching, RFC 7671).
    pub chain: Vec<CertificateDer<'static>>,
    /// What PKIX validation said.
    pub validation: Option<Validation>,
}

/// Verifier that records the chain and the webpki verdict, then lets the handshake go on. It
/// still checks the handshake signature with the server's key, so the session is real TLS.
#[derive(Debug)]
struct RecordingVerifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    webpki_error: Option<String>,
    provider: Arc<CryptoProvider>,
    observed: Arc<Mutex<Observed>>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let validation = match &self.webpki {
            Some(v) => match v.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ) {
                Ok(_) => Validation::Valid,
                Err(
                    e @ rustls::Error::InvalidCertificate(
                        rustls::CertificateError::NotValidForName
                        | rustls::CertificateError::NotValidForNameContext { .. },
                    ),
                ) => Validation::WrongName {
                    reason: e.to_string(),
                },
                Err(e) => Validation::Invalid {
                    reason: e.to_string(),
                },
            },
            None => Validation::Invalid {
                reason: self
                    .webpki_error
                    .clone()
                    .unwrap_or_else(|| "no trust anchors".into()),
            },
        };
        if let Ok(mut o) = self.observed.lock() {
            o.chain = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.clone().into_owned())
                .collect();
            o.validation = Some(validation);
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Runs the handshake on `stream`. Returns the session (or the handshake error) and what the
/// verifier saw, which is filled even when the handshake fails after the Certificate message.
pub async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    server_name: &str,
    trust: &TrustAnchors,
    timeout: std::time::Duration,
) -> (Result<(TlsSession, TlsStream<S>), String>, Observed) {
    let observed = Arc::new(Mutex::new(Observed::default()));
    let result = handshake_inner(stream, server_name, trust, timeout, observed.clone()).await;
    let seen = observed
        .lock()
        .map(|mut o| std::mem::take(&mut *o))
        .unwrap_or_default();
    (result, seen)
}

async fn handshake_inner<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    server_name: &str,
    trust: &TrustAnchors,
    timeout: std::time::Duration,
    observed: Arc<Mutex<Observed>>,
) -> Result<(TlsSession, TlsStream<S>), String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let (webpki, webpki_error) = match trust.root_store() {
        Ok(store) => {
            match WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
                .build()
            {
                Ok(v) => (Some(v), None),
                Err(e) => (None, Some(e.to_string())),
            }
        }
        Err(e) => (None, Some(e)),
    };
    let verifier = Arc::new(RecordingVerifier {
        webpki,
        webpki_error,
        provider: provider.clone(),
        observed,
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let name = ServerName::try_from(server_name.trim_end_matches('.').to_owned())
        .map_err(|e| format!("{server_name:?} is not a valid TLS server name: {e}"))?;
    let connector = TlsConnector::from(Arc::new(config));
    let tls = tokio::time::timeout(timeout, connector.connect(name, stream))
        .await
        .map_err(|_| format!("TLS handshake timed out after {timeout:?}"))?
        .map_err(|e| format!("TLS handshake failed: {e}"))?;
    let (_, conn) = tls.get_ref();
    let session = TlsSession {
        version: conn
            .protocol_version()
            .map(|v| format!("{v:?}"))
            .unwrap_or_else(|| "unknown".into()),
        cipher_suite: conn
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_else(|| "unknown".into()),
        key_exchange_group: conn
            .negotiated_key_exchange_group()
            .map(|g| format!("{:?}", g.name())),
    };
    Ok((session, tls))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_errors_name_the_file() {
        let e = TrustAnchors::from_pem("ca.pem", b"not pem at all").unwrap_err();
        assert!(e.to_string().contains("ca.pem"), "{e}");
        assert!(
            TrustAnchors::from_pem(
                "bad.pem",
                b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"
            )
            .is_err()
        );
    }
}
