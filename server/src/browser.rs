//! What a browser needs to be protected from other sites (issue 25, item 9): the WebSocket upgrade's
//! `Origin` check, the security headers of every response, and the token that guards `/metrics`.
//!
//! A page on any site can open a WebSocket to any server (browsers do not apply CORS to WebSockets),
//! with a token it holds: the `Origin` header is the only sign of where the page came from. Clients
//! without an `Origin` (servers, tests, the stock client in Node) are not browsers and stay allowed.

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

use crate::{Error, Result};

/// The policy for the built client: scripts, styles and connections only from this server
/// (`ws:`/`wss:` for the sync socket), inline styles for the canvas library, images as data URLs, and
/// no framing by other sites.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; \
    connect-src 'self' ws: wss:; object-src 'none'; base-uri 'self'; form-action 'self'; \
    frame-ancestors 'none'";

/// The headers every response carries.
pub fn security_headers() -> [(HeaderName, HeaderValue); 4] {
    [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
    ]
}

/// Checks a WebSocket upgrade's `Origin`: absent, the server's own origin (same host as the
/// request's `Host`, over http or https), or one of `allowed` (exact, e.g. `https://app.example`).
pub fn check_origin(headers: &HeaderMap, allowed: &[String]) -> Result<()> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default().trim_end_matches('/');
    if allowed.iter().any(|a| a.trim_end_matches('/') == origin) {
        return Ok(());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let own = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .is_some_and(|rest| !host.is_empty() && rest.eq_ignore_ascii_case(host));
    if own {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "origin {origin} may not connect (allow it with --allowed-origins)"
        )))
    }
}

/// Checks `/metrics`' bearer token when one is configured.
pub fn check_metrics_token(headers: &HeaderMap, token: Option<&str>) -> Result<()> {
    let Some(expected) = token else {
        return Ok(());
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    // Constant time: compare the hashes, not the strings.
    use sha2::{Digest, Sha256};
    match given {
        Some(given) if Sha256::digest(given) == Sha256::digest(expected) => Ok(()),
        _ => Err(Error::Unauthorized),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    #[test]
    fn origins() {
        let allowed = vec!["https://app.example".to_string()];
        assert!(check_origin(&headers(&[("host", "board.example")]), &[]).is_ok());
        let own = headers(&[
            ("host", "board.example"),
            ("origin", "https://board.example"),
        ]);
        assert!(check_origin(&own, &[]).is_ok());
        let other = headers(&[
            ("host", "board.example"),
            ("origin", "https://evil.example"),
        ]);
        assert!(matches!(
            check_origin(&other, &[]),
            Err(Error::Forbidden(_))
        ));
        let listed = headers(&[("host", "board.example"), ("origin", "https://app.example")]);
        assert!(check_origin(&listed, &allowed).is_ok());
        let lookalike = headers(&[
            ("host", "board.example"),
            ("origin", "https://board.example.evil"),
        ]);
        assert!(check_origin(&lookalike, &[]).is_err());
    }

    #[test]
    fn metrics_token() {
        assert!(check_metrics_token(&HeaderMap::new(), None).is_ok());
        assert!(check_metrics_token(&HeaderMap::new(), Some("s3cret")).is_err());
        let right = headers(&[("authorization", "Bearer s3cret")]);
        assert!(check_metrics_token(&right, Some("s3cret")).is_ok());
        let wrong = headers(&[("authorization", "Bearer nope")]);
        assert!(check_metrics_token(&wrong, Some("s3cret")).is_err());
    }
}
