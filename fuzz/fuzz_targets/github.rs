//! `remedybot::ingest::github::parse(event, payload)` on arbitrary deliveries: the first
//! byte picks the `X-GitHub-Event` header among the four alert events and `ping`, the rest
//! is the payload. It must return a delivery or an error, never panic. The result is
//! ignored; a panic (or abort) is the failure.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// Indexed by `first byte % 5`; run.sh seeds the corpus with each real webhook payload
/// behind every one of these bytes (0..=4).
const EVENTS: [&str; 5] = [
    "code_scanning_alert",
    "dependabot_alert",
    "secret_scanning_alert",
    "repository_vulnerability_alert",
    "ping",
];

fuzz_target!(|data: &[u8]| {
    let Some((&first, payload)) = data.split_first() else {
        return;
    };
    let event = EVENTS[usize::from(first) % EVENTS.len()];
    let _ = remedybot::ingest::github::parse(event, payload);
});
