//! Reporting: human-readable descriptions of trail events, and (later) metrics digests.
//! Reads only; never changes state.

pub mod describe;
