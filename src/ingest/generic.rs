//! The generic JSON format (docs/ingest.md): one finding object, or an array of them.

use serde::Deserialize;

use super::{IngestError, json_error, json_from_slice, json_kind, line_column, strip_bom};
use crate::domain::{Fingerprint, NewFinding, Severity};

const FORMAT: &str = "generic JSON";

/// Field limits; longer values are rejected, not truncated, so nothing is silently lost.
const MAX_SHORT: usize = 1_000;
const MAX_DESCRIPTION: usize = 65_536;
const MAX_LIST: usize = 100;

/// One finding as a client sends it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GenericFinding {
    pub(crate) source: String,
    pub(crate) rule_id: String,
    pub(crate) title: String,
    #[serde(default)]
    pub(crate) description: String,
    #[serde(deserialize_with = "severity")]
    pub(crate) severity: Severity,
    pub(crate) asset: String,
    #[serde(default)]
    pub(crate) location: String,
    #[serde(default)]
    pub(crate) tags: Vec<String>,
    #[serde(default)]
    pub(crate) references: Vec<String>,
    pub(crate) fingerprint: Option<String>,
    pub(crate) owner: Option<String>,
}

fn severity<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Severity, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(serde::de::Error::custom)
}

/// Parse the generic format. A UTF-8 BOM and surrounding whitespace are tolerated; an empty
/// input is zero findings.
pub fn parse(bytes: &[u8]) -> Result<Vec<NewFinding>, IngestError> {
    let bytes = strip_bom(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    // Arrays are the common case: parse them directly so errors carry the item's path.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let (items, single) = match first {
        Some(b'[') => (
            json_from_slice::<Vec<GenericFinding>>(FORMAT, bytes)?,
            false,
        ),
        Some(b'{') => (
            vec![json_from_slice::<GenericFinding>(FORMAT, bytes)?],
            true,
        ),
        _ => {
            // Not an object or array: report what is there, and where.
            let found = match serde_json::from_slice::<serde_json::Value>(bytes) {
                Ok(v) => json_kind(&v),
                Err(e) => return Err(json_error(FORMAT, e, String::new())),
            };
            return Err(IngestError {
                format: FORMAT,
                message: format!(
                    "expected a finding object or an array of findings, found {found}"
                ),
                position: Some(line_column(
                    bytes,
                    bytes.iter().take_while(|b| b.is_ascii_whitespace()).count(),
                )),
            });
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            validate(f).map_err(|m| IngestError {
                format: FORMAT,
                message: if single { m } else { format!("[{i}].{m}") },
                position: None,
            })
        })
        .collect()
}

fn text(value: String, field: &str, required: bool, max: usize) -> Result<String, String> {
    let v = value.trim().to_string();
    if required && v.is_empty() {
        return Err(format!("{field} must not be empty"));
    }
    if v.chars().count() > max {
        return Err(format!("{field} is longer than {max} characters"));
    }
    Ok(v)
}

fn list(values: Vec<String>, field: &str) -> Result<Vec<String>, String> {
    if values.len() > MAX_LIST {
        return Err(format!("{field} has more than {MAX_LIST} entries"));
    }
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| text(v, &format!("{field}[{i}]"), true, MAX_SHORT))
        .collect()
}

pub(crate) fn validate(f: GenericFinding) -> Result<NewFinding, String> {
    let source = text(f.source, "source", true, MAX_SHORT)?;
    let rule_id = text(f.rule_id, "rule_id", true, MAX_SHORT)?;
    let asset = text(f.asset, "asset", true, MAX_SHORT)?;
    let location = text(f.location, "location", false, MAX_SHORT)?;
    let fingerprint = match f.fingerprint {
        Some(given) => Fingerprint::given(&given)?,
        None => Fingerprint::derive(&source, &rule_id, &asset, &location),
    };
    let owner = match f.owner {
        Some(o) => Some(text(o, "owner", true, MAX_SHORT)?),
        None => None,
    };
    Ok(NewFinding {
        fingerprint,
        title: text(f.title, "title", true, MAX_SHORT)?,
        description: text(f.description, "description", false, MAX_DESCRIPTION)?,
        severity: f.severity,
        tags: list(f.tags, "tags")?,
        references: list(f.references, "references")?,
        source,
        rule_id,
        asset,
        location,
        owner,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = r#"{"source":"semgrep","rule_id":"sqli","title":"SQL injection","severity":"HIGH","asset":"payments","location":"db.py:4"}"#;

    #[test]
    fn one_object_or_an_array() {
        assert_eq!(parse(ONE.as_bytes()).unwrap().len(), 1);
        let arr = format!("[{ONE},{ONE}]");
        let v = parse(arr.as_bytes()).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].severity, Severity::High);
        assert_eq!(
            v[0].fingerprint,
            Fingerprint::derive("semgrep", "sqli", "payments", "db.py:4")
        );
    }

    #[test]
    fn empty_input_and_bom_are_fine() {
        assert!(parse(b"").unwrap().is_empty());
        assert!(parse(b"  \n").unwrap().is_empty());
        assert!(parse(b"[]").unwrap().is_empty());
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), ONE.as_bytes()].concat();
        assert_eq!(parse(&with_bom).unwrap().len(), 1);
    }

    #[test]
    fn malformed_json_reports_line_and_column() {
        let err = parse(b"[\n{\"source\": }").unwrap_err();
        assert_eq!(err.position, Some((2, 12)));
        assert!(err.to_string().contains("line 2, column 12"), "{err}");
    }

    #[test]
    fn unknown_severity_names_the_item_and_allowed_values() {
        let bad = ONE.replace("HIGH", "severe");
        let err = parse(format!("[{ONE},{bad}]").as_bytes()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("[1].severity"), "{msg}");
        assert!(msg.contains("critical, high, medium, low, info"), "{msg}");
    }

    #[test]
    fn empty_required_fields_and_unknown_fields_are_rejected() {
        let blank = ONE.replace("\"SQL injection\"", "\"  \"");
        assert!(
            parse(blank.as_bytes())
                .unwrap_err()
                .message
                .contains("title must not be empty")
        );
        let extra = ONE.replace("{\"source\"", "{\"sevrity\":\"x\",\"source\"");
        assert!(
            parse(extra.as_bytes())
                .unwrap_err()
                .message
                .contains("sevrity")
        );
        let missing = ONE.replace(",\"asset\":\"payments\"", "");
        assert!(
            parse(missing.as_bytes())
                .unwrap_err()
                .message
                .contains("asset")
        );
        let err = parse(b"  42").unwrap_err();
        assert_eq!(
            err.message,
            "expected a finding object or an array of findings, found a number"
        );
        assert_eq!(err.position, Some((1, 3)));
        assert_eq!(parse(b"\n\n  42").unwrap_err().position, Some((3, 3)));
        assert!(parse(b"null").unwrap_err().message.ends_with("found null"));
        let empty_tag = ONE.replace("\"asset\"", "\"tags\":[\"a\",\" \"],\"asset\"");
        let err = parse(format!("[{ONE},{empty_tag}]").as_bytes()).unwrap_err();
        assert_eq!(err.message, "[1].tags[1] must not be empty");
    }
}
