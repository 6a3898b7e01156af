//! Slack's published signing vector, the replay window, every malformed input, and a
//! property test of sign/verify.

use axum::http::{HeaderMap, HeaderValue};
use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::*;

const VECTOR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/corpus/slack/signing/slack_docs_signing_vector"
);

/// The test vector from Slack's "Verifying requests from Slack" documentation.
struct Vector {
    secret: String,
    timestamp: String,
    signature: String,
    body: Vec<u8>,
}

fn vector() -> Vector {
    let json = std::fs::read_to_string(format!("{VECTOR}.json")).expect("read vector .json");
    let v: serde_json::Value = serde_json::from_str(&json).expect("vector .json parses");
    let body = std::fs::read(format!("{VECTOR}.body.txt")).expect("read vector .body.txt");
    assert_eq!(
        v["body"].as_str().unwrap().as_bytes(),
        body,
        "the .body.txt file is the raw body"
    );
    Vector {
        secret: v["signing_secret"].as_str().unwrap().into(),
        timestamp: v["x_slack_request_timestamp"].as_str().unwrap().into(),
        signature: v["x_slack_signature"].as_str().unwrap().into(),
        body,
    }
}

impl Vector {
    fn signer(&self) -> SlackSigner {
        SlackSigner::new(&self.secret)
    }

    fn sent_at(&self) -> DateTime<Utc> {
        Utc.timestamp_opt(self.timestamp.parse().unwrap(), 0)
            .unwrap()
    }

    fn verify_at(&self, now: DateTime<Utc>) -> Result<(), SignatureError> {
        self.signer()
            .verify(&self.timestamp, &self.signature, &self.body, now)
    }

    fn verify_with(&self, timestamp: &str, signature: &str) -> Result<(), SignatureError> {
        self.signer()
            .verify(timestamp, signature, &self.body, self.sent_at())
    }
}

#[test]
fn the_published_vector_verifies_at_its_timestamp_and_a_few_seconds_either_way() {
    let v = vector();
    assert_eq!(v.verify_at(v.sent_at()), Ok(()));
    assert_eq!(v.verify_at(v.sent_at() + Duration::seconds(3)), Ok(()));
    assert_eq!(v.verify_at(v.sent_at() - Duration::seconds(3)), Ok(()));
}

#[test]
fn signing_the_published_body_gives_the_published_signature() {
    let v = vector();
    let ts: i64 = v.timestamp.parse().unwrap();
    assert_eq!(v.signer().sign(ts, &v.body), v.signature);
}

#[test]
fn the_window_is_five_minutes_in_both_directions() {
    let v = vector();
    let five = Duration::seconds(MAX_SKEW_SECS);
    assert_eq!(v.verify_at(v.sent_at() + five), Ok(()));
    assert_eq!(v.verify_at(v.sent_at() - five), Ok(()));
    assert_eq!(
        v.verify_at(v.sent_at() + Duration::minutes(6)),
        Err(SignatureError::Stale { age_secs: 360 })
    );
    assert_eq!(
        v.verify_at(v.sent_at() - Duration::minutes(6)),
        Err(SignatureError::Stale { age_secs: -360 })
    );
    assert_eq!(
        v.verify_at(v.sent_at() + five + Duration::seconds(1)),
        Err(SignatureError::Stale { age_secs: 301 })
    );
}

#[test]
fn a_body_with_one_byte_changed_is_refused() {
    let v = vector();
    let mut body = v.body.clone();
    body[40] ^= 0x01;
    assert_eq!(
        v.signer()
            .verify(&v.timestamp, &v.signature, &body, v.sent_at()),
        Err(SignatureError::BadSignature)
    );
    assert_eq!(
        v.signer()
            .verify(&v.timestamp, &v.signature, &v.body[1..], v.sent_at()),
        Err(SignatureError::BadSignature)
    );
}

#[test]
fn the_wrong_secret_is_refused() {
    let v = vector();
    let wrong = SlackSigner::new("8f742231b10e8888abcd99yyyzzz85a6");
    assert_eq!(
        wrong.verify(&v.timestamp, &v.signature, &v.body, v.sent_at()),
        Err(SignatureError::BadSignature)
    );
}

#[test]
fn a_signature_without_the_v0_prefix_or_with_another_version_is_refused() {
    let v = vector();
    let hex = v.signature.strip_prefix("v0=").unwrap();
    for bad in [
        hex.to_string(),
        format!("v1={hex}"),
        format!("v0{hex}"),
        format!("V0={hex}"),
        format!(" v0={hex}"),
    ] {
        assert_eq!(
            v.verify_with(&v.timestamp, &bad),
            Err(SignatureError::BadSignature),
            "{bad}"
        );
    }
}

#[test]
fn a_non_hex_or_truncated_or_extended_signature_is_refused() {
    let v = vector();
    let sig = &v.signature;
    for bad in [
        format!("{}zz", &sig[..sig.len() - 2]),
        format!("{}0", &sig[..sig.len() - 1]),
        sig[..sig.len() - 1].to_string(),
        sig[..sig.len() - 2].to_string(),
        sig[..35].to_string(),
        "v0=".to_string(),
        String::new(),
        format!("{sig}00"),
        format!("{sig} "),
    ] {
        assert_eq!(
            v.verify_with(&v.timestamp, &bad),
            Err(SignatureError::BadSignature),
            "{bad:?}"
        );
    }
}

#[test]
fn an_upper_case_hex_signature_is_the_same_signature() {
    let v = vector();
    let upper = format!("v0={}", v.signature[3..].to_uppercase());
    assert_eq!(v.verify_with(&v.timestamp, &upper), Ok(()));
}

#[test]
fn a_timestamp_that_is_not_unix_seconds_is_refused() {
    let v = vector();
    for bad in [
        "",
        "abc",
        "1531420618.5",
        "+1531420618",
        "-1531420618",
        " 1531420618",
        "1531420618 ",
        "1e9",
        "99999999999999999999",
    ] {
        assert_eq!(
            v.verify_with(bad, &v.signature),
            Err(SignatureError::BadTimestamp),
            "{bad:?}"
        );
    }
}

#[test]
fn extreme_timestamps_are_stale_not_a_panic() {
    let v = vector();
    let Err(SignatureError::Stale { age_secs }) = v.verify_with(&i64::MAX.to_string(), "v0=00")
    else {
        panic!("expected Stale");
    };
    assert!(age_secs < 0);
    let Err(SignatureError::Stale { age_secs }) = v.verify_with("0", "v0=00") else {
        panic!("expected Stale");
    };
    assert_eq!(age_secs, 1_531_420_618);
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (name, value) in pairs {
        h.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    h
}

#[test]
fn headers_are_found_whatever_their_case() {
    let v = vector();
    let h = headers(&[
        ("x-slack-request-timestamp", &v.timestamp),
        ("x-slack-signature", &v.signature),
        ("content-type", "application/x-www-form-urlencoded"),
    ]);
    assert_eq!(v.signer().verify_headers(&h, &v.body, v.sent_at()), Ok(()));
}

#[test]
fn a_missing_header_is_named() {
    let v = vector();
    let only_sig = headers(&[("x-slack-signature", &v.signature)]);
    assert_eq!(
        v.signer().verify_headers(&only_sig, &v.body, v.sent_at()),
        Err(SignatureError::MissingHeader("X-Slack-Request-Timestamp"))
    );
    let only_ts = headers(&[("x-slack-request-timestamp", &v.timestamp)]);
    assert_eq!(
        v.signer().verify_headers(&only_ts, &v.body, v.sent_at()),
        Err(SignatureError::MissingHeader("X-Slack-Signature"))
    );
    let err = v
        .signer()
        .verify_headers(&HeaderMap::new(), &v.body, v.sent_at())
        .unwrap_err();
    assert_eq!(err.to_string(), "missing X-Slack-Request-Timestamp header");
}

#[test]
fn non_text_header_values_are_refused() {
    let v = vector();
    let mut h = headers(&[("x-slack-signature", &v.signature)]);
    h.insert(
        "x-slack-request-timestamp",
        HeaderValue::from_bytes(b"15314\xff0618").unwrap(),
    );
    assert_eq!(
        v.signer().verify_headers(&h, &v.body, v.sent_at()),
        Err(SignatureError::BadTimestamp)
    );
}

#[test]
fn debug_output_never_shows_the_secret() {
    let v = vector();
    let shown = format!("{:?}", v.signer());
    assert!(!shown.contains(&v.secret), "{shown}");
    assert!(shown.contains("[redacted]"), "{shown}");
}

proptest! {
    #[test]
    fn what_is_signed_verifies(
        body in prop::collection::vec(any::<u8>(), 0..2048),
        secret in "[ -~]{1,64}",
        ts in 1_000_000_000i64..4_000_000_000,
        skew in -MAX_SKEW_SECS..=MAX_SKEW_SECS,
    ) {
        let signer = SlackSigner::new(secret);
        let signature = signer.sign(ts, &body);
        let now = Utc.timestamp_opt(ts + skew, 0).unwrap();
        prop_assert_eq!(signer.verify(&ts.to_string(), &signature, &body, now), Ok(()));
    }

    #[test]
    fn any_single_byte_change_to_the_body_is_refused(
        body in prop::collection::vec(any::<u8>(), 1..2048),
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
        ts in 1_000_000_000i64..4_000_000_000,
    ) {
        let signer = SlackSigner::new("8f742231b10e8888abcd99yyyzzz85a5");
        let signature = signer.sign(ts, &body);
        let mut changed = body.clone();
        changed[at.index(body.len())] ^= flip;
        let now = Utc.timestamp_opt(ts, 0).unwrap();
        prop_assert_eq!(
            signer.verify(&ts.to_string(), &signature, &changed, now),
            Err(SignatureError::BadSignature)
        );
    }
}
