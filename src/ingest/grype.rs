//! Grype JSON (`grype … -o json`): one finding per match of a vulnerability against a
//! package. Reads current Grype output (`vulnerability.cvss[]`, `urls`, `fix`) and the early
//! 0.x shape (`cvssV2`/`cvssV3`, `links`, `fixedInVersion`). docs/formats/grype.md has the
//! field mapping and the fingerprint recipe.

use serde::Deserialize;

use super::trivy::{
    Draft, Drafts, clip_owned, image_repository, nonempty, opt, pick_severity, push_reference,
    push_unique, version_free,
};
use super::{IngestError, MAX_DESCRIPTION, MAX_TITLE, clip, json_from_slice, strip_bom};
use crate::domain::{Fingerprint, NewFinding};

pub const FORMAT: &str = "Grype JSON";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    /// `None` when the key is missing (not a Grype document); `Some(None)` for `null`.
    #[serde(default, deserialize_with = "present")]
    matches: Option<Option<Vec<Box<Match>>>>,
    source: Option<Source>,
    descriptor: Option<Descriptor>,
}

/// Distinguishes a missing key (field default, `None`) from an explicit `null`.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
struct Descriptor {
    name: Option<String>,
}

#[derive(Deserialize)]
struct Source {
    #[serde(rename = "type")]
    kind: Option<String>,
    target: Option<Target>,
}

/// `source.target`: a string (directory or file) or an object describing an image.
#[derive(Deserialize)]
#[serde(untagged)]
enum Target {
    Path(String),
    Image(ImageTarget),
    Other(serde::de::IgnoredAny),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImageTarget {
    user_input: Option<String>,
    tags: Option<Vec<String>>,
    #[serde(rename = "imageID")]
    image_id: Option<String>,
    manifest_digest: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Match {
    vulnerability: Option<Vulnerability>,
    related_vulnerabilities: Option<Vec<Vulnerability>>,
    artifact: Option<Artifact>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Vulnerability {
    id: Option<String>,
    data_source: Option<String>,
    namespace: Option<String>,
    severity: Option<String>,
    urls: Option<Vec<String>>,
    /// Grype 0.x
    links: Option<Vec<String>>,
    description: Option<String>,
    cvss: Option<Vec<Cvss>>,
    /// Grype 0.x
    #[serde(rename = "cvssV2")]
    cvss_v2: Option<Metrics>,
    /// Grype 0.x
    #[serde(rename = "cvssV3")]
    cvss_v3: Option<Metrics>,
    fix: Option<Fix>,
    /// Grype 0.x
    fixed_in_version: Option<String>,
    known_exploited: Option<Vec<serde::de::IgnoredAny>>,
}

#[derive(Deserialize)]
struct Cvss {
    metrics: Option<Metrics>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metrics {
    base_score: Option<f64>,
}

#[derive(Deserialize)]
struct Fix {
    versions: Option<Vec<String>>,
    state: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Artifact {
    name: Option<String>,
    version: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    language: Option<String>,
    locations: Option<Vec<Location>>,
    purl: Option<String>,
}

#[derive(Deserialize)]
struct Location {
    path: Option<String>,
}

/// Whether `head` (the first bytes of an input) looks like Grype JSON.
pub fn looks_like(head: &[u8]) -> bool {
    let has = |needle: &str| super::trivy::contains(head, needle.as_bytes());
    if has("\"rule_id\"") && has("\"asset\"") {
        return false; // the generic format
    }
    head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
        && has("\"matches\"")
        && (has("\"matchDetails\"")
            || has("\"relatedVulnerabilities\"")
            || (has("\"distro\"") && (has("\"descriptor\"") || has("\"source\""))))
}

/// Parse Grype JSON into findings.
pub fn parse(bytes: &[u8]) -> Result<Vec<NewFinding>, IngestError> {
    let bytes = strip_bom(bytes);
    if bytes.trim_ascii().is_empty() {
        return Ok(Vec::new());
    }
    let doc: Document = json_from_slice(FORMAT, bytes)?;
    let Some(matches) = doc.matches else {
        return Err(error("not a Grype document: no `matches`".into()));
    };
    let source = doc
        .descriptor
        .and_then(|d| nonempty(d.name))
        .map_or_else(|| "grype".to_string(), |n| n.to_ascii_lowercase());
    let (asset, asset_key) = asset(doc.source);
    let mut drafts = Drafts::default();
    drafts.reserve(matches.as_ref().map_or(0, Vec::len));
    for (i, m) in matches.into_iter().flatten().enumerate() {
        let d = finding(m, &source, &asset, &asset_key)
            .map_err(|e| error(format!("matches[{i}]{e}")))?;
        drafts.push(d);
    }
    Ok(drafts.finish())
}

/// The scanned thing, and its form in the fingerprint (an image without tag or digest).
/// Image: `userInput`, else its first tag, else the image id or manifest digest. Directory or
/// file: the path. Nothing usable: `grype <source.type>` (or `grype scan`).
fn asset(source: Option<Source>) -> (String, String) {
    let (kind, target) = match source {
        Some(s) => (nonempty(s.kind), s.target),
        None => (None, None),
    };
    let found = match target {
        Some(Target::Path(p)) => nonempty(Some(p)).map(|p| (p, false)),
        Some(Target::Image(i)) => nonempty(i.user_input)
            .or_else(|| i.tags.into_iter().flatten().find_map(|t| nonempty(Some(t))))
            .map(|r| (r, true))
            .or_else(|| {
                nonempty(i.image_id)
                    .or(nonempty(i.manifest_digest))
                    .map(|r| (r, false))
            }),
        Some(Target::Other(_)) | None => None,
    };
    match found {
        Some((reference, true)) => {
            let key = image_repository(&reference).to_string();
            (reference, key)
        }
        Some((path, false)) => (path.clone(), path),
        None => {
            let a = format!("grype {}", kind.as_deref().unwrap_or("scan"));
            (a.clone(), a)
        }
    }
}

fn finding(m: Box<Match>, source: &str, asset: &str, asset_key: &str) -> Result<Draft, String> {
    let mut v = m.vulnerability.ok_or(": no vulnerability")?;
    let a = m.artifact.ok_or(": no artifact")?;
    let id = nonempty(v.id.take()).ok_or(".vulnerability: no id")?;
    let name = nonempty(a.name).ok_or(".artifact: no name")?;
    let version = opt(&a.version).trim().to_string();
    let related = m.related_vulnerabilities.unwrap_or_default();

    let score = std::iter::once(&v)
        .chain(&related)
        .flat_map(|x| {
            let list = x.cvss.iter().flatten().filter_map(|c| c.metrics.as_ref());
            list.chain(&x.cvss_v3)
                .chain(&x.cvss_v2)
                .filter_map(|m| m.base_score)
        })
        .reduce(f64::max);
    let severity = pick_severity(v.severity.as_deref(), score)
        .map_err(|e| format!(".vulnerability.severity: {e}"))?;

    let at_version = if version.is_empty() {
        name.clone()
    } else {
        format!("{name}@{version}")
    };
    let title = clip(&format!("{id} in {at_version}"), MAX_TITLE);
    let path = a
        .locations
        .iter()
        .flatten()
        .find_map(|l| nonempty(l.path.clone()))
        .unwrap_or_default();
    let location = if path.is_empty() {
        at_version.clone()
    } else {
        format!("{at_version} ({path})")
    };

    let mut description = match nonempty(v.description.take()) {
        Some(d) => d,
        None => related
            .iter()
            .find_map(|r| nonempty(r.description.clone()))
            .unwrap_or_default(),
    };
    let fix_versions: Vec<&str> = match &v.fix {
        Some(f) => f
            .versions
            .iter()
            .flatten()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect(),
        None => v
            .fixed_in_version
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .into_iter()
            .collect(),
    };
    let fix_state = v.fix.as_ref().map(|f| opt(&f.state).trim()).unwrap_or("");
    let fix_line = if !fix_versions.is_empty() {
        format!("Fixed in {name} {}.", fix_versions.join(", "))
    } else if !fix_state.is_empty() {
        format!("Fix state: {fix_state}.")
    } else {
        String::new()
    };
    if !fix_line.is_empty() {
        description = if description.is_empty() {
            fix_line
        } else {
            format!("{description}\n\n{fix_line}")
        };
    }

    let mut tags = Vec::new();
    push_unique(&mut tags, opt(&a.kind));
    push_unique(&mut tags, opt(&a.language));
    push_unique(&mut tags, opt(&v.namespace));
    if !fix_state.is_empty() {
        push_unique(&mut tags, &format!("fix:{fix_state}"));
    }
    if v.known_exploited.as_ref().is_some_and(|k| !k.is_empty()) {
        push_unique(&mut tags, "known-exploited");
    }
    for r in &related {
        if r.id.as_deref() != Some(id.as_str()) {
            push_unique(&mut tags, opt(&r.id));
        }
    }
    let mut references = Vec::new();
    for x in std::iter::once(&v).chain(&related) {
        let ds = opt(&x.data_source);
        if ds.starts_with("http://") || ds.starts_with("https://") {
            push_reference(&mut references, ds);
        }
        for u in x.urls.iter().chain(&x.links).flatten() {
            push_reference(&mut references, u);
        }
    }

    let finding = NewFinding {
        fingerprint: Fingerprint::derive("", "", "", ""),
        source: source.to_string(),
        rule_id: id,
        title,
        description: clip_owned(description, MAX_DESCRIPTION),
        severity,
        asset: asset.to_string(),
        location: clip(&location, MAX_TITLE),
        tags,
        references,
        owner: None,
    };
    // Package type and name plus the first evidence path (version masked): the same CVE in
    // one package found at two paths stays two findings; an upgrade keeps the fingerprint.
    let key = format!(
        "{}\n{name}\n{}",
        opt(&a.kind).trim(),
        version_free(&path, &version)
    );
    let variant = if version.is_empty() {
        opt(&a.purl).trim().to_string()
    } else {
        version
    };
    Ok(Draft::new(finding, asset_key.to_string(), key, variant))
}

fn error(message: String) -> IngestError {
    IngestError {
        format: FORMAT,
        message,
        position: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Severity;

    fn one(vuln: &str, artifact: &str) -> String {
        format!(
            r#"{{"matches":[{{"vulnerability":{vuln},"artifact":{artifact}}}],"source":{{"type":"image","target":{{"userInput":"shop/api:1.4.2"}}}},"descriptor":{{"name":"grype"}}}}"#
        )
    }

    #[test]
    fn a_minimal_match_is_enough() {
        let f = parse(one(r#"{"id":"CVE-2024-1"}"#, r#"{"name":"openssl"}"#).as_bytes()).unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].rule_id.as_str(), f[0].source.as_str()),
            ("CVE-2024-1", "grype")
        );
        assert_eq!(f[0].asset, "shop/api:1.4.2");
        assert_eq!(f[0].location, "openssl");
        assert_eq!(f[0].severity, Severity::Info);
        let bare = r#"{"matches":[{"vulnerability":{"id":"X"},"artifact":{"name":"y"}}]}"#;
        assert_eq!(parse(bare.as_bytes()).unwrap()[0].asset, "grype scan");
    }

    #[test]
    fn severity_is_the_label_else_the_highest_cvss_score() {
        let sev = |v: &str| parse(one(v, r#"{"name":"p"}"#).as_bytes()).map(|f| f[0].severity);
        assert_eq!(
            sev(r#"{"id":"C","severity":"Negligible","cvss":[{"metrics":{"baseScore":9.1}}]}"#),
            Ok(Severity::Info)
        );
        assert_eq!(
            sev(
                r#"{"id":"C","severity":"Unknown","cvss":[{"metrics":{"baseScore":5.0}},{"metrics":{"baseScore":7.2}}]}"#
            ),
            Ok(Severity::High)
        );
        assert_eq!(
            sev(r#"{"id":"C","cvssV3":{"baseScore":9.8},"cvssV2":{"baseScore":5}}"#),
            Ok(Severity::Critical)
        );
        let related = r#"{"matches":[{"vulnerability":{"id":"GHSA-1"},"relatedVulnerabilities":[{"id":"CVE-1","cvss":[{"metrics":{"baseScore":4.3}}],"description":"from nvd"}],"artifact":{"name":"p"}}]}"#;
        let f = parse(related.as_bytes()).unwrap();
        assert_eq!(f[0].severity, Severity::Medium);
        assert_eq!(f[0].description, "from nvd");
        assert!(f[0].tags.contains(&"CVE-1".to_string()));
        let err = parse(one(r#"{"id":"C","severity":"Severe"}"#, r#"{"name":"p"}"#).as_bytes())
            .unwrap_err();
        assert_eq!(
            err.message,
            "matches[0].vulnerability.severity: unknown severity `Severe`"
        );
    }

    #[test]
    fn paths_separate_findings_and_versions_do_not() {
        let at = |version: &str, path: &str| {
            one(
                r#"{"id":"CVE-2021-44228","severity":"Critical"}"#,
                &format!(
                    r#"{{"name":"log4j-core","version":"{version}","type":"java-archive","locations":[{{"path":"{path}"}}]}}"#
                ),
            )
        };
        let fp = |doc: String| parse(doc.as_bytes()).unwrap()[0].fingerprint.clone();
        assert_eq!(
            fp(at("2.14.1", "/app/log4j-core-2.14.1.jar")),
            fp(at("2.15.0", "/app/log4j-core-2.15.0.jar"))
        );
        assert_ne!(
            fp(at("2.14.1", "/app/a.jar")),
            fp(at("2.14.1", "/app/b.jar"))
        );
        let tag_bump = at("2.14.1", "/a.jar").replace("1.4.2", "1.5.0");
        assert_eq!(fp(tag_bump), fp(at("2.14.1", "/a.jar")));
    }

    #[test]
    fn fix_information_reaches_the_description_and_tags() {
        let f = parse(
            one(
                r#"{"id":"C","severity":"High","description":"Bad.","fix":{"versions":["1.2.3"],"state":"fixed"},"knownExploited":[{"cve":"C"}]}"#,
                r#"{"name":"p","version":"1.0","type":"npm"}"#,
            )
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(f[0].description, "Bad.\n\nFixed in p 1.2.3.");
        assert_eq!(f[0].tags, ["npm", "fix:fixed", "known-exploited"]);
        assert_eq!(f[0].title, "C in p@1.0");
    }

    #[test]
    fn structural_problems_name_the_format_and_path() {
        let err = parse(one(r#"{"severity":"High"}"#, r#"{"name":"p"}"#).as_bytes()).unwrap_err();
        assert_eq!(
            (err.format, err.message.as_str()),
            ("Grype JSON", "matches[0].vulnerability: no id")
        );
        let err = parse(one(r#"{"id":"C"}"#, r#"{"version":"1"}"#).as_bytes()).unwrap_err();
        assert_eq!(err.message, "matches[0].artifact: no name");
        let err = parse(br#"{"matches":[{"artifact":{"name":"p"}}]}"#).unwrap_err();
        assert_eq!(err.message, "matches[0]: no vulnerability");
        assert!(
            parse(br#"{"source":{}}"#)
                .unwrap_err()
                .message
                .contains("no `matches`")
        );
        assert!(parse(br#"{"matches":null}"#).unwrap().is_empty());
        assert!(parse(b"").unwrap().is_empty());
        let err = parse(
            br#"{"matches":[{"vulnerability":{"id":"C","cvss":[{"metrics":{"baseScore":"x"}}]}}]}"#,
        )
        .unwrap_err();
        assert!(
            err.message
                .starts_with("matches[0].vulnerability.cvss[0].metrics.baseScore"),
            "{err}"
        );
    }

    #[test]
    fn detection_is_specific() {
        assert!(looks_like(
            br#"{"matches": [{"vulnerability": {}, "relatedVulnerabilities": []"#
        ));
        assert!(looks_like(
            br#"{ "matches": [], "source": {}, "distro": {}, "descriptor": {"name": "grype"}}"#
        ));
        assert!(!looks_like(br#"{"matches": ["a"], "other": 1}"#));
        assert!(!looks_like(br#"[{"matches": 1, "matchDetails": 2}]"#));
    }
}
