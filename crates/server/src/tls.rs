//! TLS server settings for the SMTP listener's STARTTLS (RFC 3207).
//!
//! rustls with the ring provider, chosen explicitly: the workspace links both ring and aws-lc-rs
//! through other crates, and rustls refuses to guess a process-wide default when both are there.
//! Certificates come from PEM files named in `warden.toml`; `warden serve --demo` and the tests
//! use [`self_signed`], because a try-out should show STARTTLS working without a CA.

use std::path::Path;
use std::sync::Arc;
use thiserror::Error;
/// The rustls version the server is built with, for callers that build configurations.
pub use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why TLS settings could not be built.
#[derive(Debug, Error)]
#[error("TLS {what}: {reason}")]
pub struct TlsError {
    /// The file or item concerned.
    pub what: String,
    /// What was wrong with it.
    pub reason: String,
}

fn err(what: impl Into<String>, reason: impl ToString) -> TlsError {
    TlsError {
        what: what.into(),
        reason: reason.to_string(),
    }
}

/// The crypto provider every Warden TLS endpoint uses.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server configuration from a certificate chain and private key in PEM.
pub fn server_config_from_pem(
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| err("certificate", e))?;
    if certs.is_empty() {
        return Err(err("certificate", "no CERTIFICATE block in the PEM data"));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| err("private key", e))?;
    let cfg = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| err("protocol versions", e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| err("certificate and key", e))?;
    Ok(Arc::new(cfg))
}

/// A server configuration from PEM files (`smtp_tls_cert`, `smtp_tls_key` in `warden.toml`).
pub fn server_config_from_files(
    cert: &Path,
    key: &Path,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let c = std::fs::read(cert).map_err(|e| err(cert.display().to_string(), e))?;
    let k = std::fs::read(key).map_err(|e| err(key.display().to_string(), e))?;
    server_config_from_pem(&c, &k)
        .map_err(|e| err(format!("{} / {}", cert.display(), key.display()), e))
}

/// A freshly generated self-signed certificate for `names`: (certificate PEM, key PEM).
pub fn self_signed(names: &[String]) -> Result<(String, String), TlsError> {
    let ck = rcgen::generate_simple_self_signed(names.to_vec())
        .map_err(|e| err("self-signed certificate", e))?;
    Ok((ck.cert.pem(), ck.key_pair.serialize_pem()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_loads_and_garbage_is_refused() {
        let (c, k) = self_signed(&["mx.isp.example".into()]).unwrap();
        server_config_from_pem(c.as_bytes(), k.as_bytes()).unwrap();
        let e = server_config_from_pem(b"nonsense", k.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("certificate"), "{e}");
        let e = server_config_from_pem(c.as_bytes(), b"").unwrap_err();
        assert!(e.to_string().contains("private key"), "{e}");
    }
}
