//! HTTP clients' connections: http and https with rustls, shared by the proxy (to its
//! upstream) and `verify` (to a deployed site).

use anyhow::{Context, Result, bail};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use std::path::Path;
use std::time::Duration;

/// The connector of an HTTP client (the proxy's to its upstream, `verify`'s to a site):
/// http and https (certificates verified against the public roots and `ca`, read from
/// the file of the flag `ca_flag`), HTTP/1.1.
pub fn connector(
    ca: Option<&Path>,
    ca_flag: &str,
    connect_timeout: Duration,
) -> Result<HttpsConnector<HttpConnector>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(ca) = ca {
        use rustls_pki_types::pem::PemObject;
        let mut added = 0;
        for cert in rustls_pki_types::CertificateDer::pem_file_iter(ca)
            .with_context(|| format!("{ca_flag} {}", ca.display()))?
        {
            let cert = cert.with_context(|| format!("{ca_flag} {}", ca.display()))?;
            roots
                .add(cert)
                .with_context(|| format!("{ca_flag} {}", ca.display()))?;
            added += 1;
        }
        if added == 0 {
            bail!("{ca_flag} {}: no certificate in it", ca.display());
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(
        rustls::crypto::ring::default_provider().into(),
    )
    .with_safe_default_protocol_versions()
    .context("TLS settings")?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(connect_timeout));
    http.set_nodelay(true);
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http))
}

/// An error and its causes on one line, `a: b: c` (`connection refused`, not only
/// "client error").
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
