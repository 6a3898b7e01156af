//! The generic finding schema as CSV: a header row naming the generic fields, then one
//! finding per record. Each record is checked exactly like a generic JSON finding (same
//! struct, same `validate`), so the two inputs accept and reject the same things.
//! docs/formats/csv.md describes the columns.

use super::IngestError;
use super::generic::{GenericFinding, validate};
use super::strip_bom;
use crate::domain::{NewFinding, Severity};

pub const FORMAT: &str = "CSV";

/// The columns, in the generic format's field order.
const COLUMNS: [&str; 11] = [
    "source",
    "rule_id",
    "title",
    "description",
    "severity",
    "asset",
    "location",
    "tags",
    "references",
    "fingerprint",
    "owner",
];
const REQUIRED: [&str; 5] = ["source", "rule_id", "title", "severity", "asset"];

/// The first line is a header naming at least `source` and `rule_id`, comma-separated.
pub fn looks_like(head: &[u8]) -> bool {
    let first = head.iter().copied().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'{' | b'[')) {
        return false;
    }
    let line = head.split(|b| *b == b'\n').next().unwrap_or(head);
    let line = String::from_utf8_lossy(line);
    let names: Vec<String> = line
        .split(',')
        .map(|c| c.trim().trim_matches('"').trim().to_ascii_lowercase())
        .collect();
    names.len() > 1 && names.iter().any(|n| n == "source") && names.iter().any(|n| n == "rule_id")
}

/// Parse CSV findings. Empty input, or a header without records, is zero findings.
pub fn parse(bytes: &[u8]) -> Result<Vec<NewFinding>, IngestError> {
    let bytes = strip_bom(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes);
    let columns = header(reader.headers().map_err(csv_error)?)?;
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(csv_error)?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let cell = |name: &str| -> String {
            column_index(&columns, name)
                .and_then(|c| record.get(c))
                .unwrap_or("")
                .to_string()
        };
        let fail = |message: String| {
            let column = message
                .split(|c: char| !(c.is_ascii_lowercase() || c == '_'))
                .next()
                .unwrap_or("");
            let number = column_index(&columns, column).map_or(1, |c| c + 1);
            IngestError {
                format: FORMAT,
                message: format!(
                    "line {line} (record {}), column `{column}`: {message}",
                    i + 1
                ),
                position: Some((line, number)),
            }
        };
        let severity_text = cell("severity");
        let severity = if severity_text.trim().is_empty() {
            return Err(fail("severity must not be empty".into()));
        } else {
            severity_text
                .parse::<Severity>()
                .map_err(|e| fail(format!("severity: {e}")))?
        };
        let optional = |name: &str| Some(cell(name)).filter(|s| !s.trim().is_empty());
        let finding = GenericFinding {
            source: cell("source"),
            rule_id: cell("rule_id"),
            title: cell("title"),
            description: cell("description"),
            severity,
            asset: cell("asset"),
            location: cell("location"),
            tags: split_list(&cell("tags")),
            references: split_list(&cell("references")),
            fingerprint: optional("fingerprint"),
            owner: optional("owner"),
        };
        out.push(validate(finding).map_err(fail)?);
    }
    Ok(out)
}

/// The header's columns, lower-cased; unknown, repeated or missing required columns are
/// rejected by name.
fn header(record: &::csv::StringRecord) -> Result<Vec<String>, IngestError> {
    let fail = |message: String, column: usize| IngestError {
        format: FORMAT,
        message: format!("line 1 (header): {message}"),
        position: Some((1, column)),
    };
    let mut columns: Vec<String> = Vec::with_capacity(record.len());
    for (i, raw) in record.iter().enumerate() {
        let name = raw.trim().to_ascii_lowercase();
        if !COLUMNS.contains(&name.as_str()) {
            return Err(fail(
                format!(
                    "unknown column `{}`; columns are: {}",
                    raw.trim(),
                    COLUMNS.join(", ")
                ),
                i + 1,
            ));
        }
        if columns.contains(&name) {
            return Err(fail(format!("column `{name}` appears twice"), i + 1));
        }
        columns.push(name);
    }
    if let Some(missing) = REQUIRED.iter().find(|r| !columns.iter().any(|c| c == *r)) {
        return Err(fail(format!("required column `{missing}` is missing"), 1));
    }
    Ok(columns)
}

fn column_index(columns: &[String], name: &str) -> Option<usize> {
    columns.iter().position(|c| c == name)
}

/// A `;`-separated list cell; a blank cell is an empty list. Entries are checked (trimmed,
/// non-empty) by `validate`, so `a;;b` is rejected like `["a","","b"]` in JSON.
fn split_list(cell: &str) -> Vec<String> {
    if cell.trim().is_empty() {
        Vec::new()
    } else {
        cell.split(';').map(str::to_string).collect()
    }
}

/// A reader error (ragged record, invalid UTF-8) with the line it happened on.
fn csv_error(e: ::csv::Error) -> IngestError {
    let position = e.position().map(|p| (p.line() as usize, 1));
    let message = match e.kind() {
        ::csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => format!(
            "line {} (record {}): {len} fields, but the header has {expected_len}",
            pos.as_ref().map_or(0, |p| p.line()),
            pos.as_ref().map_or(0, |p| p.record()),
        ),
        ::csv::ErrorKind::Utf8 { pos, .. } => format!(
            "line {} (record {}): not valid UTF-8",
            pos.as_ref().map_or(0, |p| p.line()),
            pos.as_ref().map_or(0, |p| p.record()),
        ),
        _ => e.to_string(),
    };
    IngestError {
        format: FORMAT,
        message,
        position,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Fingerprint;

    const HEADER: &str = "source,rule_id,title,severity,asset,location,tags,references";

    #[test]
    fn a_header_and_records_give_validated_findings() {
        let csv = format!(
            "{HEADER}\nsemgrep,sqli,SQL injection,HIGH,payments,db.py:4,cwe-89;pci,https://x.test\n"
        );
        let v = parse(csv.as_bytes()).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].severity, Severity::High);
        assert_eq!(v[0].tags, vec!["cwe-89", "pci"]);
        assert_eq!(v[0].references, vec!["https://x.test"]);
        assert_eq!(
            v[0].fingerprint,
            Fingerprint::derive("semgrep", "sqli", "payments", "db.py:4")
        );
        assert_eq!(v[0].owner, None);
    }

    #[test]
    fn errors_name_the_line_record_and_column() {
        let csv = format!("{HEADER}\na,b,c,low,d,,,\n\"multi\nline\",r,t,severe,x,,,\n");
        let err = parse(csv.as_bytes()).unwrap_err();
        assert_eq!(err.format, "CSV");
        assert!(
            err.message
                .starts_with("line 3 (record 2), column `severity`"),
            "{err}"
        );
        assert!(
            err.message.contains("critical, high, medium, low, info"),
            "{err}"
        );
        assert_eq!(err.position, Some((3, 4)));
        let err = parse(format!("{HEADER}\na,b, ,low,d,,x;;y,\n").as_bytes()).unwrap_err();
        assert_eq!(
            err.message,
            "line 2 (record 1), column `title`: title must not be empty"
        );
        let err = parse(format!("{HEADER}\na,b,t,low,d,,x;;y,\n").as_bytes()).unwrap_err();
        assert!(
            err.message
                .ends_with("column `tags`: tags[1] must not be empty"),
            "{err}"
        );
        assert_eq!(err.position, Some((2, 7)));
    }

    #[test]
    fn the_header_is_checked_by_name() {
        let err = parse(b"source,rule_id,title,severity,asset,sevrity\n").unwrap_err();
        assert!(err.message.contains("unknown column `sevrity`"), "{err}");
        assert_eq!(err.position, Some((1, 6)));
        let err = parse(b"source,rule_id,title,asset\n").unwrap_err();
        assert!(
            err.message
                .contains("required column `severity` is missing"),
            "{err}"
        );
        let err = parse(b"source,rule_id,title,severity,asset,title\n").unwrap_err();
        assert!(err.message.contains("`title` appears twice"), "{err}");
    }

    #[test]
    fn looks_like_needs_a_csv_header_not_json() {
        assert!(looks_like(HEADER.as_bytes()));
        assert!(looks_like(b"\"Source\" , \"rule_id\",title\r\nx"));
        assert!(!looks_like(b"[{\"source\":\"a\",\"rule_id\":\"b\"}]"));
        assert!(!looks_like(b"title,severity\nsource,rule_id"));
        assert!(!looks_like(b"source rule_id"));
    }
}
