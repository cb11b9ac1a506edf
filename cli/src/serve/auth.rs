//! Who may call: optional bearer tokens (both protocols) and optional
//! HMAC-SHA256 signed URLs (HTTP). With neither configured, anyone may.
//!
//! A signed URL carries `expires` (Unix seconds) and `sig` as its last two
//! query parameters. `sig` is the lowercase hex HMAC-SHA256, under any one of
//! the configured keys, of `METHOD path?query`, where query is everything
//! before `&sig=` exactly as sent: `POST /v1/compress?format=webp&expires=1767225600`.
//! Several keys are accepted at once, so a key can be rotated without downtime.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::{SystemTime, UNIX_EPOCH};

/// The credentials the server accepts.
pub(crate) struct Auth {
    tokens: Vec<String>,
    keys: Vec<Vec<u8>>,
}

impl Auth {
    /// Accepts `tokens` as bearer tokens and `keys` for signed URLs.
    pub(crate) fn new(tokens: Vec<String>, keys: Vec<Vec<u8>>) -> Auth {
        Auth { tokens, keys }
    }

    /// Whether any credential is asked for.
    pub(crate) fn required(&self) -> bool {
        !self.tokens.is_empty() || !self.keys.is_empty()
    }

    /// Whether an `Authorization` header value carries an accepted token.
    pub(crate) fn bearer(&self, authorization: Option<&str>) -> bool {
        // The scheme is case-insensitive (RFC 9110 11.1).
        let Some(token) = authorization
            .and_then(|a| a.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token)
        else {
            return false;
        };
        // Every token is compared in full, so the time taken does not tell
        // how much of a guess was right.
        self.tokens.iter().fold(false, |found, t| {
            same_bytes(t.as_bytes(), token.trim().as_bytes()) | found
        })
    }

    /// Checks a signed URL; `Err` says why it is refused.
    pub(crate) fn signed(&self, method: &str, path: &str, query: &str) -> Result<(), &'static str> {
        let Some((signed_part, sig)) = query.rsplit_once("&sig=") else {
            return Err("no signature (sig) in the URL");
        };
        let expires = signed_part
            .rsplit('&')
            .next()
            .and_then(|p| p.strip_prefix("expires="))
            .and_then(|e| e.parse::<u64>().ok())
            .ok_or("a signed URL must end with expires=UNIX_SECONDS&sig=HEX")?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if now > expires {
            return Err("the signed URL has expired");
        }
        let Some(sig) = hex_bytes(sig) else {
            return Err("the signature is not hex");
        };
        let message = format!("{method} {path}?{signed_part}");
        let good = self.keys.iter().any(|key| {
            let mut mac =
                Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
            mac.update(message.as_bytes());
            mac.verify_slice(&sig).is_ok()
        });
        if good {
            Ok(())
        } else {
            Err("the signature matches no key")
        }
    }

    /// The HTTP check: a token or, when keys are set, a signed URL.
    pub(crate) fn http(
        &self,
        authorization: Option<&str>,
        method: &str,
        path: &str,
        query: &str,
    ) -> Result<(), &'static str> {
        if !self.required() || self.bearer(authorization) {
            return Ok(());
        }
        if self.keys.is_empty() {
            return Err("a bearer token is required");
        }
        self.signed(method, path, query)
    }
}

/// Equal bytes, compared in time that depends only on the lengths.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// Lowercase or uppercase hex to bytes.
fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    // Only hex digits: `from_str_radix` would take a sign too.
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(key: &[u8], message: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
        mac.update(message.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn tokens_and_rotated_keys() {
        let auth = Auth::new(vec!["t1".into()], vec![b"old".to_vec(), b"new".to_vec()]);
        assert!(auth.bearer(Some("Bearer t1")));
        assert!(!auth.bearer(Some("Bearer t2")));
        assert!(!auth.bearer(Some("t1")));
        let query = "format=webp&expires=99999999999";
        for key in [&b"old"[..], b"new"] {
            let sig = sign(key, &format!("POST /v1/compress?{query}"));
            assert_eq!(
                auth.signed("POST", "/v1/compress", &format!("{query}&sig={sig}")),
                Ok(())
            );
        }
        let sig = sign(b"other", &format!("POST /v1/compress?{query}"));
        assert!(auth
            .signed("POST", "/v1/compress", &format!("{query}&sig={sig}"))
            .is_err());
        // The signature covers the query: another format is refused.
        let sig = sign(b"new", &format!("POST /v1/compress?{query}"));
        let tampered = format!("format=avif&expires=99999999999&sig={sig}");
        assert!(auth.signed("POST", "/v1/compress", &tampered).is_err());
        let expired = "format=webp&expires=1";
        let sig = sign(b"new", &format!("POST /v1/compress?{expired}"));
        assert_eq!(
            auth.signed("POST", "/v1/compress", &format!("{expired}&sig={sig}")),
            Err("the signed URL has expired")
        );
    }
}
