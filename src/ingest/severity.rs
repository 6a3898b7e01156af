//! Severity normalisation shared by every input format: CVSS scores, SARIF levels and
//! `security-severity`, and vendor labels all map onto remedybot's five levels. The table
//! is documented in docs/ingest.md; change both together.

use crate::domain::Severity;

/// A CVSS (v2, v3 or v4) base score, or SARIF's `security-severity`, which uses the same
/// bands: 9.0–10 critical, 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low, 0 info.
/// `None` for a score outside 0–10 or not a number.
pub fn from_score(score: f64) -> Option<Severity> {
    if !(0.0..=10.0).contains(&score) {
        return None;
    }
    Some(if score >= 9.0 {
        Severity::Critical
    } else if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score > 0.0 {
        Severity::Low
    } else {
        Severity::Info
    })
}

/// A score written as text (`"8.8"`), as SARIF properties and some vendors carry it.
pub fn from_score_text(text: &str) -> Option<Severity> {
    text.trim().parse::<f64>().ok().and_then(from_score)
}

/// A vendor's severity word. Case-insensitive; `None` for a word we do not know, so the
/// caller can fall back to another field or report the value.
///
/// | label | severity |
/// |---|---|
/// | critical | critical |
/// | high, important, error (SARIF level) | high |
/// | medium, moderate, warning (SARIF level) | medium |
/// | low, minor, note (SARIF level) | low |
/// | info, informational, negligible, none, unknown, unspecified | info |
pub fn from_label(label: &str) -> Option<Severity> {
    Some(match label.trim().to_ascii_lowercase().as_str() {
        "critical" => Severity::Critical,
        "high" | "important" | "error" => Severity::High,
        "medium" | "moderate" | "warning" => Severity::Medium,
        "low" | "minor" | "note" => Severity::Low,
        "info" | "informational" | "negligible" | "none" | "unknown" | "unspecified" => {
            Severity::Info
        }
        _ => return None,
    })
}

/// AWS Security Hub's `Severity.Normalized` (0–100), in the bands the ASFF documentation
/// gives for deriving `Label`: 0 info, 1–39 low, 40–69 medium, 70–89 high, 90–100 critical.
/// `None` outside 0–100 or not a number.
pub fn from_normalized(n: f64) -> Option<Severity> {
    if !(0.0..=100.0).contains(&n) {
        return None;
    }
    Some(if n >= 90.0 {
        Severity::Critical
    } else if n >= 70.0 {
        Severity::High
    } else if n >= 40.0 {
        Severity::Medium
    } else if n > 0.0 {
        Severity::Low
    } else {
        Severity::Info
    })
}

/// Amazon GuardDuty's native `Severity` number (0–10) in GuardDuty's bands: 7.0 and up
/// high, 4.0–6.9 medium, below 4.0 low. `None` outside 0–10 or not a number.
pub fn from_guardduty(score: f64) -> Option<Severity> {
    if !(0.0..=10.0).contains(&score) {
        return None;
    }
    Some(if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else {
        Severity::Low
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_follow_the_cvss_bands() {
        assert_eq!(from_score(9.8), Some(Severity::Critical));
        assert_eq!(from_score(9.0), Some(Severity::Critical));
        assert_eq!(from_score(8.9), Some(Severity::High));
        assert_eq!(from_score(7.0), Some(Severity::High));
        assert_eq!(from_score(4.0), Some(Severity::Medium));
        assert_eq!(from_score(0.1), Some(Severity::Low));
        assert_eq!(from_score(0.0), Some(Severity::Info));
        assert_eq!(from_score(11.0), None);
        assert_eq!(from_score(f64::NAN), None);
        assert_eq!(from_score_text(" 8.8 "), Some(Severity::High));
        assert_eq!(from_score_text("high"), None);
    }

    #[test]
    fn labels_cover_the_common_vendor_words() {
        assert_eq!(from_label("CRITICAL"), Some(Severity::Critical));
        assert_eq!(from_label("Moderate"), Some(Severity::Medium));
        assert_eq!(from_label("Negligible"), Some(Severity::Info));
        assert_eq!(from_label("UNKNOWN"), Some(Severity::Info));
        assert_eq!(from_label("note"), Some(Severity::Low));
        assert_eq!(from_label("urgent"), None);
    }

    #[test]
    fn asff_normalized_and_guardduty_scores_use_their_own_bands() {
        assert_eq!(from_normalized(0.0), Some(Severity::Info));
        assert_eq!(from_normalized(1.0), Some(Severity::Low));
        assert_eq!(from_normalized(39.0), Some(Severity::Low));
        assert_eq!(from_normalized(40.0), Some(Severity::Medium));
        assert_eq!(from_normalized(69.0), Some(Severity::Medium));
        assert_eq!(from_normalized(70.0), Some(Severity::High));
        assert_eq!(from_normalized(89.0), Some(Severity::High));
        assert_eq!(from_normalized(90.0), Some(Severity::Critical));
        assert_eq!(from_normalized(100.0), Some(Severity::Critical));
        assert_eq!(from_normalized(101.0), None);
        assert_eq!(from_normalized(f64::NAN), None);
        assert_eq!(from_guardduty(8.0), Some(Severity::High));
        assert_eq!(from_guardduty(7.0), Some(Severity::High));
        assert_eq!(from_guardduty(6.9), Some(Severity::Medium));
        assert_eq!(from_guardduty(4.0), Some(Severity::Medium));
        assert_eq!(from_guardduty(2.0), Some(Severity::Low));
        assert_eq!(from_guardduty(-1.0), None);
    }
}
