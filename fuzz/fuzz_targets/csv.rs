//! `remedybot::ingest::csv::parse` on arbitrary bytes: it must return findings or an
//! error, never panic. The result is ignored; a panic (or abort) is the failure.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = remedybot::ingest::csv::parse(data);
});
