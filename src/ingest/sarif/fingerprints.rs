//! The fourth fingerprint field (`identity`) and the occurrence numbering that keeps
//! fingerprints unique within a log. docs/formats/sarif.md, *Fingerprint*, is the recipe;
//! changing anything here changes every SARIF finding's fingerprint, so re-scans would no
//! longer match the findings already stored.

use super::locations::Place;
use super::model::SarifResult;
use crate::domain::{Fingerprint, NewFinding};

/// The tool's own fingerprints for a result: which kind, and its `name=value` lines sorted
/// by name.
pub(crate) struct Given {
    kind: &'static str,
    lines: String,
}

impl Given {
    /// The result's `fingerprints` (all of them), else its `partialFingerprints`.
    pub fn of(res: &SarifResult) -> Option<Given> {
        let given = [
            ("fingerprints", &res.fingerprints),
            ("partialFingerprints", &res.partial_fingerprints),
        ];
        let (kind, map) = given
            .into_iter()
            .find_map(|(kind, map)| Some((kind, map.as_ref().filter(|m| !m.is_empty())?)))?;
        let mut lines = String::new();
        for (k, v) in map {
            lines.push_str(k);
            lines.push('=');
            lines.push_str(v);
            lines.push('\n');
        }
        Some(Given { kind, lines })
    }
}

/// What [`disambiguate`] needs of a finding besides the finding itself.
pub(crate) struct Meta {
    /// The fourth fingerprint field (see [`identity`]).
    pub identity: String,
    /// Orders results that share a fingerprint: line, column, message.
    pub order: (i64, i64, String),
}

/// The fourth fingerprint field: the tool's own `fingerprints` (all of them, sorted by name),
/// else its `partialFingerprints`, else the code snippet or line, each scoped to the file,
/// since tools compute these per line of code (Flawfinder's `contextHash`, CodeQL's
/// `primaryLocationLineHash`) and the same line can occur in two files.
pub(crate) fn identity(given: Option<Given>, place: &Place) -> String {
    let file = match &place.base {
        Some(b) => format!("%{b}%/{}", place.path),
        None => place.path.clone(),
    };
    match (given, &place.snippet) {
        (Some(g), _) => format!("{}\n{file}\n{}", g.kind, g.lines),
        (None, Some(s)) => format!("snippet\n{file}\n{}\n{s}", place.logical),
        (None, None) => format!(
            "line\n{file}\n{}\n{}",
            place.logical,
            place.line.unwrap_or(0)
        ),
    }
}

/// Results whose fingerprints coincide but whose positions differ (the same line of code
/// twice in a file, a tool's hash that ignores the occurrence) get an occurrence number, in
/// line order: the first keeps its fingerprint, the n-th adds `#n` to the identity. Results
/// at the same position with the same message are the same finding and keep one fingerprint.
pub(crate) fn disambiguate(findings: &mut [NewFinding], meta: Vec<Meta>) {
    // Group by fingerprint, each group in (line, column, message) order, ties in log order.
    let mut by: Vec<usize> = (0..findings.len()).collect();
    by.sort_by(|a, b| {
        let fp = |i: &usize| findings[*i].fingerprint.as_str();
        fp(a)
            .cmp(fp(b))
            .then_with(|| meta[*a].order.cmp(&meta[*b].order))
    });
    let mut renumbered = Vec::new();
    let mut ordinal = 0;
    for w in 1..by.len() {
        let (prev, i) = (by[w - 1], by[w]);
        if findings[prev].fingerprint != findings[i].fingerprint {
            ordinal = 0;
            continue;
        }
        if meta[prev].order != meta[i].order {
            ordinal += 1;
        }
        if ordinal > 0 {
            renumbered.push((i, ordinal));
        }
    }
    for (i, ordinal) in renumbered {
        let f = &findings[i];
        let identity = format!("{}\n#{ordinal}", meta[i].identity);
        findings[i].fingerprint = Fingerprint::derive(&f.source, &f.rule_id, &f.asset, &identity);
    }
}
