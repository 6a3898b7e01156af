//! CVSS base scores computed from vector strings, for formats (OSV) that give only the
//! vector. v3.0 and v3.1 use the v3.1 specification's formula and Roundup; v2 uses the v2
//! formula. v4 vectors are not computed (the v4 score needs the full MacroVector lookup
//! table); callers fall back to a vendor label.

/// The base score of a `CVSS:3.0/…` or `CVSS:3.1/…` vector; `None` if it is not one or a
/// base metric is missing or unknown.
pub(crate) fn v3_base_score(vector: &str) -> Option<f64> {
    let rest = vector
        .trim()
        .strip_prefix("CVSS:3.1/")
        .or_else(|| vector.trim().strip_prefix("CVSS:3.0/"))?;
    let metric = |name: &str| {
        rest.split('/')
            .filter_map(|m| m.split_once(':'))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    };
    let changed = match metric("S")? {
        "U" => false,
        "C" => true,
        _ => return None,
    };
    let av = match metric("AV")? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return None,
    };
    let ac = match metric("AC")? {
        "L" => 0.77,
        "H" => 0.44,
        _ => return None,
    };
    let pr = match (metric("PR")?, changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return None,
    };
    let ui = match metric("UI")? {
        "N" => 0.85,
        "R" => 0.62,
        _ => return None,
    };
    let cia = |name: &str| match metric(name)? {
        "H" => Some(0.56),
        "L" => Some(0.22),
        "N" => Some(0.0),
        _ => None,
    };
    let iss = 1.0 - (1.0 - cia("C")?) * (1.0 - cia("I")?) * (1.0 - cia("A")?);
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02_f64).powi(15)
    } else {
        6.42 * iss
    };
    if impact <= 0.0 {
        return Some(0.0);
    }
    let exploitability = 8.22 * av * ac * pr * ui;
    let total = if changed {
        1.08 * (impact + exploitability)
    } else {
        impact + exploitability
    };
    Some(roundup(total.min(10.0)))
}

/// CVSS v3.1 Roundup: the smallest number with one decimal that is ≥ the input, computed
/// on integers so floating-point noise does not push 4.0 to 4.1.
fn roundup(x: f64) -> f64 {
    let int_input = (x * 100_000.0).round() as i64;
    if int_input % 10_000 == 0 {
        int_input as f64 / 100_000.0
    } else {
        ((int_input / 10_000) + 1) as f64 / 10.0
    }
}

/// The base score of a CVSS v2 vector (`AV:N/AC:L/Au:N/C:P/I:P/A:P`, optionally wrapped in
/// parentheses or prefixed `CVSS:2.0/`).
pub(crate) fn v2_base_score(vector: &str) -> Option<f64> {
    let v = vector.trim().trim_start_matches('(').trim_end_matches(')');
    let v = v.strip_prefix("CVSS:2.0/").unwrap_or(v);
    let metric = |name: &str| {
        v.split('/')
            .filter_map(|m| m.split_once(':'))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    };
    let av = match metric("AV")? {
        "L" => 0.395,
        "A" => 0.646,
        "N" => 1.0,
        _ => return None,
    };
    let ac = match metric("AC")? {
        "H" => 0.35,
        "M" => 0.61,
        "L" => 0.71,
        _ => return None,
    };
    let au = match metric("Au")? {
        "M" => 0.45,
        "S" => 0.56,
        "N" => 0.704,
        _ => return None,
    };
    let cia = |name: &str| match metric(name)? {
        "N" => Some(0.0),
        "P" => Some(0.275),
        "C" => Some(0.660),
        _ => None,
    };
    let impact = 10.41 * (1.0 - (1.0 - cia("C")?) * (1.0 - cia("I")?) * (1.0 - cia("A")?));
    let exploitability = 20.0 * av * ac * au;
    let f: f64 = if impact == 0.0 { 0.0 } else { 1.176 };
    let score: f64 = ((0.6 * impact) + (0.4 * exploitability) - 1.5) * f;
    Some((score * 10.0).round().max(0.0) / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v3_scores_match_the_nvd_calculator() {
        let cases = [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:N/A:N", 4.7),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:L/A:N", 5.3),
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
            ("CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
            ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", 0.0),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", 6.5),
            // Temporal metrics after the base ones are ignored.
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O", 9.8),
        ];
        for (vector, score) in cases {
            assert_eq!(v3_base_score(vector), Some(score), "{vector}");
        }
    }

    #[test]
    fn malformed_or_other_versions_give_none() {
        assert_eq!(
            v3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H"),
            None
        );
        assert_eq!(
            v3_base_score("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            None
        );
        assert_eq!(
            v3_base_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
            None
        );
        assert_eq!(v3_base_score(""), None);
        assert_eq!(v2_base_score("AV:N/AC:L"), None);
    }

    #[test]
    fn v2_scores_match_the_nvd_calculator() {
        assert_eq!(v2_base_score("AV:N/AC:L/Au:N/C:P/I:P/A:P"), Some(7.5));
        assert_eq!(v2_base_score("AV:N/AC:L/Au:N/C:P/I:N/A:N"), Some(5.0));
        assert_eq!(v2_base_score("(AV:N/AC:L/Au:N/C:C/I:C/A:C)"), Some(10.0));
        assert_eq!(v2_base_score("AV:L/AC:H/Au:N/C:N/I:N/A:N"), Some(0.0));
    }
}
