//! Slack request signing. Every HTTP request Slack sends (events, interactions, slash
//! commands) carries `X-Slack-Request-Timestamp` and `X-Slack-Signature: v0=<hex>`, the
//! HMAC-SHA256 of `v0:{timestamp}:{raw body}` under the app's signing secret.
//!
//! This module owns that check and nothing else: it reads no clock (the caller passes
//! `now`), knows no routes, and builds no responses. The HTTP layer turns every
//! [`SignatureError`] into a 401 before the body is parsed.

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};

use crate::chat::replay;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::config::Secret;

/// The header with the request's Unix time in seconds.
pub const TIMESTAMP_HEADER: &str = "X-Slack-Request-Timestamp";
/// The header with `v0=` and the hex HMAC-SHA256.
pub const SIGNATURE_HEADER: &str = "X-Slack-Signature";
/// How far a request's timestamp may be from `now`, in either direction, before it is
/// refused as a possible replay (Slack's documentation uses five minutes).
pub const MAX_SKEW_SECS: i64 = replay::MAX_SKEW_SECS;

/// The signature scheme version, the only one Slack uses.
const VERSION: &str = "v0";

/// Why a request is not accepted as coming from Slack. All of them mean 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    #[error("{TIMESTAMP_HEADER} is not a Unix time in seconds")]
    BadTimestamp,
    /// `age_secs` is `now - timestamp`: negative for a timestamp in the future.
    #[error(
        "request timestamp is {age_secs} s away from now, outside the {MAX_SKEW_SECS} s window"
    )]
    Stale { age_secs: i64 },
    #[error("{SIGNATURE_HEADER} does not match the request")]
    BadSignature,
}

/// Verifies (and, for tests and benches, produces) Slack request signatures.
/// `Debug` shows `[redacted]` instead of the signing secret.
#[derive(Debug, Clone)]
pub struct SlackSigner {
    secret: Secret,
}

impl SlackSigner {
    /// A signer for the app's signing secret (`SLACK_SIGNING_SECRET`).
    pub fn new(secret: impl Into<String>) -> Self {
        SlackSigner {
            secret: Secret::new(secret),
        }
    }

    /// A signer for a secret already held in a [`Secret`].
    pub fn from_secret(secret: Secret) -> Self {
        SlackSigner { secret }
    }

    /// Verify `signature` (the `X-Slack-Signature` value, `v0=<hex>`) over
    /// `v0:{timestamp}:{body}`, where `timestamp` is the `X-Slack-Request-Timestamp` value
    /// exactly as received. The timestamp must be within five minutes of `now`, either way.
    /// The comparison takes the same time wherever the first differing byte is.
    pub fn verify(
        &self,
        timestamp: &str,
        signature: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), SignatureError> {
        let sent_at = replay::unix_seconds(timestamp).ok_or(SignatureError::BadTimestamp)?;
        replay::within_window(sent_at, now)
            .map_err(|age_secs| SignatureError::Stale { age_secs })?;
        let given = signature
            .strip_prefix(VERSION)
            .and_then(|s| s.strip_prefix('='))
            .and_then(|hex| hex::decode(hex).ok())
            .ok_or(SignatureError::BadSignature)?;
        let expected = self.mac(timestamp, body).finalize().into_bytes();
        // `ct_eq` on slices of different lengths is false: a truncated signature fails.
        if bool::from(expected[..].ct_eq(&given)) {
            Ok(())
        } else {
            Err(SignatureError::BadSignature)
        }
    }

    /// [`verify`](Self::verify) with the two headers taken from a request.
    pub fn verify_headers(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), SignatureError> {
        let timestamp = header(headers, TIMESTAMP_HEADER)?
            .to_str()
            .map_err(|_| SignatureError::BadTimestamp)?;
        let signature = header(headers, SIGNATURE_HEADER)?
            .to_str()
            .map_err(|_| SignatureError::BadSignature)?;
        self.verify(timestamp, signature, body, now)
    }

    /// The `X-Slack-Signature` value Slack would send for `body` at `timestamp`
    /// (Unix seconds): `v0=` and 64 lowercase hex digits.
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        let mac = self
            .mac(&timestamp.to_string(), body)
            .finalize()
            .into_bytes();
        format!("{VERSION}={}", hex::encode(mac))
    }

    fn mac(&self, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.expose().as_bytes())
            .expect("HMAC accepts a key of any length");
        mac.update(VERSION.as_bytes());
        mac.update(b":");
        mac.update(timestamp.as_bytes());
        mac.update(b":");
        mac.update(body);
        mac
    }
}

fn header<'a>(
    headers: &'a HeaderMap,
    name: &'static str,
) -> Result<&'a axum::http::HeaderValue, SignatureError> {
    // `HeaderMap` compares names case-insensitively.
    headers.get(name).ok_or(SignatureError::MissingHeader(name))
}

#[cfg(test)]
#[path = "signing_tests.rs"]
mod tests;
