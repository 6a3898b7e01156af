//! The replay window shared by the platforms' request signatures: a signed request carries
//! its Unix time, and one more than five minutes from the server's clock (either way) is
//! refused, so a captured request cannot be played again later.

use chrono::{DateTime, Utc};

/// How far a request's timestamp may be from `now`, in either direction.
pub const MAX_SKEW_SECS: i64 = 5 * 60;

/// Unix seconds as the platforms send them: ASCII digits only (no sign, no fraction, no
/// spaces).
pub fn unix_seconds(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `Err(age_secs)` (`now - sent_at`, negative for the future) when `sent_at` is outside the
/// window around `now`.
pub fn within_window(sent_at: i64, now: DateTime<Utc>) -> Result<(), i64> {
    let age_secs = now.timestamp().saturating_sub(sent_at);
    if age_secs.unsigned_abs() > MAX_SKEW_SECS.unsigned_abs() {
        Err(age_secs)
    } else {
        Ok(())
    }
}
