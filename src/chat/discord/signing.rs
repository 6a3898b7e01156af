//! Discord interaction signing. Every request Discord sends to the Interactions Endpoint URL
//! carries `X-Signature-Timestamp` (Unix seconds) and `X-Signature-Ed25519`, the hex Ed25519
//! signature of `timestamp || body` under the application's key (`DISCORD_PUBLIC_KEY`).
//!
//! serenity's `interactions_endpoint::Verifier` checks the signature but not the age of the
//! timestamp, so a captured request could be replayed forever; this verifier adds the same
//! five-minute window as Slack's. It reads no clock (the caller passes `now`), knows no
//! routes and builds no responses: the HTTP layer turns every [`SignatureError`] into a 401
//! before the body is parsed.

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};

use crate::chat::replay;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

/// The header with the request's Unix time in seconds.
pub const TIMESTAMP_HEADER: &str = "X-Signature-Timestamp";
/// The header with the signature as 128 hex digits.
pub const SIGNATURE_HEADER: &str = "X-Signature-Ed25519";
/// How far a request's timestamp may be from `now`, either way, before it is refused as a
/// possible replay.
pub const MAX_SKEW_SECS: i64 = replay::MAX_SKEW_SECS;

/// Why a request is not accepted as coming from Discord. All of them mean 401; the variants
/// are for the log line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    #[error("{SIGNATURE_HEADER} is not 64 bytes of hex")]
    BadHex,
    #[error("{TIMESTAMP_HEADER} is not a Unix time in seconds")]
    BadTimestamp,
    /// `age_secs` is `now - timestamp`: negative for a timestamp in the future.
    #[error(
        "request timestamp is {age_secs} s away from now, outside the {MAX_SKEW_SECS} s window"
    )]
    Stale { age_secs: i64 },
    #[error("{SIGNATURE_HEADER} does not match the request")]
    BadSignature,
    /// `DISCORD_PUBLIC_KEY` is not an Ed25519 point: nothing can be verified with it.
    #[error("DISCORD_PUBLIC_KEY is not a valid Ed25519 public key")]
    BadKey,
}

/// Verifies Discord's interaction signatures with the application's public key.
#[derive(Debug, Clone)]
pub struct DiscordVerifier {
    key: VerifyingKey,
}

impl DiscordVerifier {
    /// A verifier for the 32-byte public key from the Developer Portal.
    pub fn new(public_key: &[u8; 32]) -> Result<Self, SignatureError> {
        let key = VerifyingKey::from_bytes(public_key).map_err(|_| SignatureError::BadKey)?;
        Ok(DiscordVerifier { key })
    }

    /// Verify `signature` (hex) over `timestamp || body`, where `timestamp` is the header
    /// value exactly as received; the timestamp must be within five minutes of `now`.
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
        let signature = parse_signature(signature)?;
        let mut message = Vec::with_capacity(timestamp.len() + body.len());
        message.extend_from_slice(timestamp.as_bytes());
        message.extend_from_slice(body);
        self.verify_message(&message, &signature)
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
            .map_err(|_| SignatureError::BadHex)?;
        self.verify(timestamp, signature, body, now)
    }

    /// The Ed25519 check itself, strict: non-canonical encodings and small-order keys or
    /// points are refused (Discord's signatures are always canonical).
    fn verify_message(&self, message: &[u8], signature: &Signature) -> Result<(), SignatureError> {
        self.key
            .verify_strict(message, signature)
            .map_err(|_| SignatureError::BadSignature)
    }
}

/// The `X-Signature-Ed25519` value Discord would send for `body` at `timestamp` (Unix
/// seconds), for tests and benches that play Discord.
pub fn sign(key: &SigningKey, timestamp: i64, body: &[u8]) -> String {
    let mut message = timestamp.to_string().into_bytes();
    message.extend_from_slice(body);
    hex::encode(key.sign(&message).to_bytes())
}

fn parse_signature(hex_text: &str) -> Result<Signature, SignatureError> {
    let bytes: [u8; 64] = hex::decode(hex_text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(SignatureError::BadHex)?;
    Ok(Signature::from_bytes(&bytes))
}

fn header<'a>(
    headers: &'a HeaderMap,
    name: &'static str,
) -> Result<&'a axum::http::HeaderValue, SignatureError> {
    headers.get(name).ok_or(SignatureError::MissingHeader(name))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;

    const SIGNING: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/discord/signing/"
    );

    fn corpus(name: &str) -> Value {
        let path = format!("{SIGNING}{name}");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    /// The real PING captured from Discord by ssMMiles/discord-interactions.
    struct Vector(Value);

    impl Vector {
        fn load() -> Vector {
            Vector(corpus(
                "ssMMiles-discord-interactions_ed25519_real_ping_vector.json",
            ))
        }
        fn s(&self, key: &str) -> &str {
            self.0[key].as_str().unwrap()
        }
        fn verifier(&self) -> DiscordVerifier {
            let key: [u8; 32] = hex::decode(self.s("PUBLIC_KEY"))
                .unwrap()
                .try_into()
                .unwrap();
            DiscordVerifier::new(&key).unwrap()
        }
        fn at(&self, which: &str) -> DateTime<Utc> {
            let ts: i64 = self.s(&format!("TIMESTAMP_{which}")).parse().unwrap();
            Utc.timestamp_opt(ts, 0).unwrap()
        }
        fn check(&self, which: &str, now: DateTime<Utc>) -> Result<(), SignatureError> {
            self.verifier().verify(
                self.s(&format!("TIMESTAMP_{which}")),
                self.s(&format!("SIGNATURE_{which}")),
                self.s(&format!("BODY_{which}")).as_bytes(),
                now,
            )
        }
    }

    #[test]
    fn the_real_ping_passes_at_its_own_time() {
        let v = Vector::load();
        assert_eq!(v.check("VALID", v.at("VALID")), Ok(()));
        assert_eq!(
            v.check("VALID", v.at("VALID") + Duration::seconds(299)),
            Ok(())
        );
    }

    #[test]
    fn the_real_ping_is_stale_ten_minutes_later_and_early_too() {
        let v = Vector::load();
        let later = v.at("VALID") + Duration::minutes(10);
        assert_eq!(
            v.check("VALID", later),
            Err(SignatureError::Stale { age_secs: 600 })
        );
        let earlier = v.at("VALID") - Duration::minutes(10);
        assert_eq!(
            v.check("VALID", earlier),
            Err(SignatureError::Stale { age_secs: -600 })
        );
    }

    #[test]
    fn the_invalid_probe_fails() {
        let v = Vector::load();
        assert_eq!(
            v.check("INVALID", v.at("INVALID")),
            Err(SignatureError::BadSignature)
        );
        // The valid signature does not carry over to another body or timestamp.
        let verifier = v.verifier();
        let wrong_body = verifier.verify(
            v.s("TIMESTAMP_VALID"),
            v.s("SIGNATURE_VALID"),
            v.s("BODY_INVALID").as_bytes(),
            v.at("VALID"),
        );
        assert_eq!(wrong_body, Err(SignatureError::BadSignature));
        let wrong_time = verifier.verify(
            v.s("TIMESTAMP_INVALID"),
            v.s("SIGNATURE_VALID"),
            v.s("BODY_VALID").as_bytes(),
            v.at("VALID"),
        );
        assert_eq!(wrong_time, Err(SignatureError::BadSignature));
    }

    #[test]
    fn malformed_headers_are_told_apart() {
        let v = Vector::load();
        let verifier = v.verifier();
        let now = v.at("VALID");
        let body = v.s("BODY_VALID").as_bytes();
        let ts = v.s("TIMESTAMP_VALID");
        let sig = v.s("SIGNATURE_VALID");
        assert_eq!(
            verifier.verify(ts, "zz", body, now),
            Err(SignatureError::BadHex)
        );
        assert_eq!(
            verifier.verify(ts, &sig[..126], body, now),
            Err(SignatureError::BadHex)
        );
        for bad in ["", "-1", "1657322078.5", " 1657322078", "abc"] {
            assert_eq!(
                verifier.verify(bad, sig, body, now),
                Err(SignatureError::BadTimestamp),
                "{bad:?}"
            );
        }
        let mut headers = HeaderMap::new();
        assert_eq!(
            verifier.verify_headers(&headers, body, now),
            Err(SignatureError::MissingHeader(TIMESTAMP_HEADER))
        );
        headers.insert("x-signature-timestamp", HeaderValue::from_str(ts).unwrap());
        assert_eq!(
            verifier.verify_headers(&headers, body, now),
            Err(SignatureError::MissingHeader(SIGNATURE_HEADER))
        );
        headers.insert("x-signature-ed25519", HeaderValue::from_str(sig).unwrap());
        assert_eq!(verifier.verify_headers(&headers, body, now), Ok(()));
    }

    fn unhex(v: &Value) -> Vec<u8> {
        hex::decode(v.as_str().unwrap()).unwrap()
    }

    /// Wycheproof's EdDSA vectors against the primitive: every invalid one fails (a bad
    /// encoding, a modified or truncated signature, a non-canonical S), and so does every
    /// one our strict check refuses only for being non-canonical.
    #[test]
    fn wycheproof_invalid_signatures_fail() {
        let file = corpus("wycheproof_ed25519_test.json");
        let (mut invalid, mut valid) = (0, 0);
        for group in file["testGroups"].as_array().unwrap() {
            let key: [u8; 32] = unhex(&group["publicKey"]["pk"]).try_into().unwrap();
            let verifier = DiscordVerifier::new(&key).unwrap();
            for t in group["tests"].as_array().unwrap() {
                let msg = unhex(&t["msg"]);
                let sig = unhex(&t["sig"]);
                let result = <[u8; 64]>::try_from(sig.as_slice())
                    .map_err(|_| SignatureError::BadHex)
                    .and_then(|s| verifier.verify_message(&msg, &Signature::from_bytes(&s)));
                match t["result"].as_str().unwrap() {
                    "invalid" => {
                        invalid += 1;
                        assert!(result.is_err(), "tcId {} passed", t["tcId"]);
                    }
                    "valid" => {
                        valid += 1;
                        assert_eq!(result, Ok(()), "tcId {} failed", t["tcId"]);
                    }
                    _ => {}
                }
            }
        }
        assert!(
            invalid >= 60 && valid >= 10,
            "{invalid} invalid, {valid} valid"
        );
    }

    #[test]
    fn a_key_that_is_not_a_point_is_refused() {
        // y = 2 is not the y coordinate of any point on the curve.
        let mut key = [0u8; 32];
        key[0] = 2;
        assert_eq!(
            DiscordVerifier::new(&key).err(),
            Some(SignatureError::BadKey)
        );
    }

    proptest! {
        #[test]
        fn generated_keypairs_sign_and_verify(
            seed in any::<[u8; 32]>(),
            body in proptest::collection::vec(any::<u8>(), 0..512),
            ts in 1_600_000_000_i64..2_000_000_000,
            flip in any::<usize>(),
        ) {
            let key = SigningKey::from_bytes(&seed);
            let verifier = DiscordVerifier::new(&key.verifying_key().to_bytes()).unwrap();
            let now = Utc.timestamp_opt(ts, 0).unwrap();
            let signature = sign(&key, ts, &body);
            prop_assert_eq!(verifier.verify(&ts.to_string(), &signature, &body, now), Ok(()));
            // One changed bit of the body breaks it.
            if !body.is_empty() {
                let mut changed = body.clone();
                changed[flip % body.len()] ^= 1 << (flip % 8);
                prop_assert_eq!(
                    verifier.verify(&ts.to_string(), &signature, &changed, now),
                    Err(SignatureError::BadSignature)
                );
            }
            // Another key's signature does not pass.
            let other = SigningKey::from_bytes(&[seed[0].wrapping_add(1); 32]);
            if other.verifying_key() != key.verifying_key() {
                prop_assert_eq!(
                    verifier.verify(&ts.to_string(), &sign(&other, ts, &body), &body, now),
                    Err(SignatureError::BadSignature)
                );
            }
        }
    }
}
