//! SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format) → findings. Reads every run
//! of a log; each result that reports a problem becomes one [`NewFinding`], with its rule's
//! metadata looked up in `tool.driver` (or the extension `rule.toolComponent` names).
//! docs/formats/sarif.md has the field mapping, the severity order and the fingerprint
//! recipe. This module only parses; it never touches the store.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};

use super::severity::{from_label, from_score_text};
use super::{IngestError, MAX_DESCRIPTION, MAX_TITLE, clip, json_from_slice, strip_bom};
use crate::domain::{Fingerprint, NewFinding, Severity};

/// The name used in errors.
pub const FORMAT: &str = "SARIF";

/// The only SARIF version read. 2.0.0 and the pre-release drafts differ in shape (`tool.name`
/// instead of `tool.driver`, rules in `resources`), so they are refused, not guessed at.
const VERSION: &str = "2.1.0";
/// Most tags and references a finding keeps.
const MAX_LIST: usize = 100;
/// Longest single tag or reference kept.
const MAX_ITEM: usize = 1_000;

/// Whether `head` (the first bytes of an input, BOM stripped) looks like a SARIF log: a JSON
/// object with a `"runs"` key and either a string `"version"` or a `"$schema"` URI that
/// mentions SARIF. Keys are matched as `"key"` followed by `:`, which never occurs inside a
/// JSON string (inner quotes are escaped). The SARIF JSON schema itself is not a log: its
/// `version` is an object and its `$schema` is JSON Schema's.
pub fn looks_like(head: &[u8]) -> bool {
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    let string = |key: &[u8]| value_after(head, key).and_then(|v| v.strip_prefix(b"\""));
    let sarif_schema = string(b"$schema").is_some_and(|v| {
        let end = v.iter().position(|b| *b == b'"').unwrap_or(v.len());
        v[..end]
            .windows(5)
            .any(|w| w.eq_ignore_ascii_case(b"sarif"))
    });
    first == Some(&b'{')
        && value_after(head, b"runs").is_some()
        && (string(b"version").is_some() || sarif_schema)
}

/// What follows `"key":` (whitespace skipped) at the first place `key` is used as a key.
fn value_after<'a>(head: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let quoted = [b"\"".as_slice(), key, b"\""].concat();
    head.windows(quoted.len())
        .enumerate()
        .filter(|(_, w)| *w == quoted.as_slice())
        .find_map(|(i, _)| {
            let rest = head.get(i + quoted.len()..)?;
            let rest = &rest[rest.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
            let rest = rest.strip_prefix(b":")?;
            Some(&rest[rest.iter().take_while(|b| b.is_ascii_whitespace()).count()..])
        })
}

// ---- The subset of the SARIF 2.1.0 object model we read. Unknown fields are ignored. ----

#[derive(Deserialize)]
struct Log {
    version: Option<String>,
    /// `None`: absent; `Some(None)`: `null` (the tool did not run).
    #[serde(default, deserialize_with = "present")]
    runs: Option<Option<Vec<Run>>>,
}

/// Read only when the full parse failed, to report an unsupported version instead of the
/// shape error it caused.
#[derive(Deserialize)]
struct VersionProbe {
    version: Option<String>,
}

fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    results: Option<Vec<SarifResult>>,
    artifacts: Option<Vec<Artifact>>,
    logical_locations: Option<Vec<LogicalLocation>>,
    version_control_provenance: Option<Vec<VersionControl>>,
    original_uri_base_ids: Option<HashMap<String, ArtifactLocation>>,
}

#[derive(Deserialize)]
struct Tool {
    driver: Component,
    extensions: Option<Vec<Component>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Component {
    name: String,
    guid: Option<String>,
    rules: Option<Vec<Rule>>,
    global_message_strings: Option<HashMap<String, Text>>,
}

/// A `reportingDescriptor`: one rule's metadata.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    name: Option<String>,
    short_description: Option<Text>,
    full_description: Option<Text>,
    help: Option<Text>,
    help_uri: Option<String>,
    message_strings: Option<HashMap<String, Text>>,
    default_configuration: Option<Configuration>,
    relationships: Option<Vec<Relationship>>,
    #[serde(default)]
    properties: Properties,
}

/// A `message` or `multiformatMessageString`: only the plain text is read.
#[derive(Deserialize)]
struct Text {
    text: Option<String>,
}

#[derive(Deserialize)]
struct Configuration {
    level: Option<String>,
}

#[derive(Deserialize)]
struct Relationship {
    target: Option<Reference>,
}

/// A `reportingDescriptorReference` (`result.rule`, `result.taxa[]`, relationship targets).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Reference {
    id: Option<String>,
    index: Option<i64>,
    tool_component: Option<ComponentReference>,
}

#[derive(Deserialize)]
struct ComponentReference {
    name: Option<String>,
    index: Option<i64>,
    guid: Option<String>,
}

/// The property bag keys remedybot reads. Property bags are free-form, so values of an
/// unexpected type are ignored rather than rejected.
#[derive(Deserialize, Default)]
struct Properties {
    #[serde(default)]
    tags: Tags,
    #[serde(default)]
    precision: Scalar,
    #[serde(default, rename = "security-severity")]
    security_severity: Scalar,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: Option<String>,
    rule_index: Option<i64>,
    rule: Option<Reference>,
    kind: Option<String>,
    level: Option<String>,
    message: Option<Message>,
    locations: Option<Vec<Location>>,
    analysis_target: Option<ArtifactLocation>,
    fingerprints: Option<BTreeMap<String, String>>,
    partial_fingerprints: Option<BTreeMap<String, String>>,
    baseline_state: Option<String>,
    suppressions: Option<Vec<Suppression>>,
    taxa: Option<Vec<Reference>>,
    #[serde(default)]
    properties: Properties,
}

#[derive(Deserialize)]
struct Message {
    text: Option<String>,
    id: Option<String>,
    arguments: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Suppression {
    status: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: Option<PhysicalLocation>,
    logical_locations: Option<Vec<LogicalLocation>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: Option<ArtifactLocation>,
    region: Option<Region>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: Option<String>,
    uri_base_id: Option<String>,
    index: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: Option<i64>,
    start_column: Option<i64>,
    snippet: Option<Text>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    name: Option<String>,
    fully_qualified_name: Option<String>,
    index: Option<i64>,
}

#[derive(Deserialize)]
struct Artifact {
    location: Option<ArtifactLocation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VersionControl {
    repository_uri: Option<String>,
}

/// A property-bag value read as text: strings and numbers (`"8.8"` or `8.8`) are kept;
/// null, booleans, arrays and objects are skipped.
#[derive(Default)]
struct Scalar(Option<String>);

/// A property-bag `tags` array; non-string elements and a non-array value are skipped.
#[derive(Default)]
struct Tags(Vec<String>);

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor).map(Scalar)
    }
}

impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TagsVisitor;
        impl<'de> Visitor<'de> for TagsVisitor {
            type Value = Tags;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Tags, A::Error> {
                let mut tags = Vec::new();
                while let Some(Scalar(t)) = seq.next_element::<Scalar>()? {
                    tags.extend(t);
                }
                Ok(Tags(tags))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Tags, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Tags::default())
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Tags, E> {
                Ok(Tags::default())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Tags, E> {
                Ok(Tags::default())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Tags, E> {
                Ok(Tags::default())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Tags, E> {
                Ok(Tags::default())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Tags, E> {
                Ok(Tags::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Tags, E> {
                Ok(Tags::default())
            }
        }
        d.deserialize_any(TagsVisitor)
    }
}

// ---- Parsing ----

/// Parse a SARIF 2.1.0 log. A UTF-8 BOM is tolerated; an empty input, `"runs": null`, and runs
/// without results are zero findings. Results that are not problems (kind `pass`,
/// `notApplicable`, `informational`), baseline-`absent` results and accepted suppressions are
/// skipped.
pub fn parse(bytes: &[u8]) -> Result<Vec<NewFinding>, IngestError> {
    let bytes = strip_bom(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    // The plain parse is the fast path; only a failed one is repeated with path tracking so
    // the error names the JSON path (serde_path_to_error costs on every value).
    let parsed =
        serde_json::from_slice::<Log>(bytes).or_else(|_| json_from_slice::<Log>(FORMAT, bytes));
    let log = match parsed {
        Ok(log) => log,
        Err(e) => {
            // Another SARIF version fails on its shape; naming the version helps more.
            if let Ok(VersionProbe { version: Some(v) }) = serde_json::from_slice(bytes)
                && v != VERSION
            {
                return Err(unsupported_version(&v));
            }
            return Err(e);
        }
    };
    match log.version.as_deref() {
        Some(VERSION) => {}
        Some(other) => return Err(unsupported_version(other)),
        None => {
            return Err(error(format!(
                "not a SARIF log: no `version` property (expected \"{VERSION}\")"
            )));
        }
    }
    let runs = match log.runs {
        None => return Err(error("not a SARIF log: no `runs` property".to_string())),
        Some(None) => return Ok(Vec::new()),
        Some(Some(runs)) => runs,
    };
    let mut pending = Vec::new();
    for (r, run) in runs.iter().enumerate() {
        read_run(r, run, &mut pending)?;
    }
    Ok(disambiguate(pending))
}

fn error(message: String) -> IngestError {
    IngestError {
        format: FORMAT,
        message,
        position: None,
    }
}

fn unsupported_version(v: &str) -> IngestError {
    error(format!(
        "version `{v}` is not supported; only SARIF {VERSION} is read (convert older logs to \
         {VERSION} first, e.g. with the SARIF Multitool)"
    ))
}

/// A finding before fingerprints are made unique within the log.
struct Pending {
    finding: NewFinding,
    /// The fourth fingerprint field (see [`identity`]).
    identity: String,
    /// Orders results that share a fingerprint: line, column, message.
    order: (i64, i64, String),
}

fn read_run(r: usize, run: &Run, out: &mut Vec<Pending>) -> Result<(), IngestError> {
    let tool = run.tool.driver.name.trim();
    if tool.is_empty() {
        return Err(error(format!(
            "runs[{r}].tool.driver.name must not be empty"
        )));
    }
    let Some(results) = &run.results else {
        return Ok(());
    };
    let ctx = RunContext {
        run,
        source: tool.to_lowercase(),
        driver_ids: index_rules(&run.tool.driver),
    };
    for (i, res) in results.iter().enumerate() {
        let at = |m: String| error(format!("runs[{r}].results[{i}]{m}"));
        if skipped(res).map_err(at)? {
            continue;
        }
        out.push(read_result(&ctx, res).map_err(at)?);
    }
    Ok(())
}

struct RunContext<'a> {
    run: &'a Run,
    source: String,
    driver_ids: HashMap<&'a str, usize>,
}

fn index_rules(c: &Component) -> HashMap<&str, usize> {
    let mut ids = HashMap::new();
    for (i, rule) in c.rules.iter().flatten().enumerate() {
        ids.entry(rule.id.as_str()).or_insert(i);
    }
    ids
}

/// Whether a result is not a finding. Errors name the bad field (prefixed with `.`).
fn skipped(res: &SarifResult) -> Result<bool, String> {
    match res.kind.as_deref() {
        None | Some("fail" | "review" | "open") => {}
        Some("pass" | "notApplicable" | "informational") => return Ok(true),
        Some(other) => {
            return Err(format!(
                ".kind: unknown value `{other}` (expected fail, review, open, pass, \
                 notApplicable or informational)"
            ));
        }
    }
    if res.baseline_state.as_deref() == Some("absent") {
        return Ok(true);
    }
    Ok(res.suppressions.as_ref().is_some_and(|s| {
        !s.is_empty()
            && s.iter()
                .all(|x| matches!(x.status.as_deref(), None | Some("accepted")))
    }))
}

fn read_result(ctx: &RunContext, res: &SarifResult) -> Result<Pending, String> {
    let (rule_id, rule, component) = resolve_rule(ctx, res)?;
    let severity = severity(res, rule)?;
    let message = message_text(res, rule, component);
    let place = place(ctx.run, res);
    let asset = asset(ctx, &place);
    let location = place.display();
    let identity = identity(res, &place);
    let title = title(message.as_deref(), rule, &rule_id);
    let finding = NewFinding {
        fingerprint: Fingerprint::derive(&ctx.source, &rule_id, &asset, &identity),
        source: ctx.source.clone(),
        title,
        description: description(message.as_deref(), rule),
        severity,
        tags: tags(res, rule),
        references: references(rule),
        rule_id,
        asset,
        location,
        owner: None,
    };
    Ok(Pending {
        finding,
        identity,
        order: (
            place.line.unwrap_or(0),
            place.column.unwrap_or(0),
            message.unwrap_or_default(),
        ),
    })
}

/// The rule id as the result states it (`ruleId`, else `rule.id`, else the id of the rule
/// `ruleIndex`/`rule.index` points at), the rule's descriptor if the log has one, and the
/// tool component that defines it.
fn resolve_rule<'a>(
    ctx: &'a RunContext,
    res: &SarifResult,
) -> Result<(String, Option<&'a Rule>, &'a Component), String> {
    let reference = res.rule.as_ref();
    let component = component(&ctx.run.tool, reference)?;
    let rules = component.rules.as_deref().unwrap_or_default();
    let stated = non_empty(res.rule_id.as_deref())
        .or_else(|| non_empty(reference.and_then(|r| r.id.as_deref())));
    let index = reference
        .and_then(|r| r.index)
        .or(res.rule_index)
        .filter(|i| *i >= 0);
    let rule = match (index, stated) {
        (Some(i), _) => {
            let rule = usize::try_from(i)
                .ok()
                .and_then(|u| rules.get(u))
                .ok_or_else(|| {
                    format!(
                        ": rule index {i} is out of range (`{}` has {} rules)",
                        component.name,
                        rules.len()
                    )
                })?;
            if let Some(id) = stated
                && !same_rule(id, &rule.id)
            {
                return Err(format!(
                    ": ruleId `{id}` does not match rule {i} of `{}` (`{}`)",
                    component.name, rule.id
                ));
            }
            Some(rule)
        }
        (None, Some(id)) => find_rule(ctx, component, id),
        // Gitleaks 7 names no rule on its results; its messages start with the rule id
        // ("AWS Access Key secret detected"). Take the longest rule id the message starts
        // with, so such logs are read rather than refused.
        (None, None) => {
            let text = res
                .message
                .as_ref()
                .and_then(|m| m.text.as_deref())
                .unwrap_or_default();
            rules
                .iter()
                .filter(|r| !r.id.is_empty() && text.starts_with(r.id.as_str()))
                .max_by_key(|r| r.id.len())
        }
    };
    let rule_id = stated
        .or_else(|| rule.and_then(|r| non_empty(Some(&r.id))))
        .ok_or_else(|| {
            ": no ruleId or rule.id, no rule index, and no rule whose id starts the message"
                .to_string()
        })?;
    Ok((rule_id.to_string(), rule, component))
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// `ruleId` may add hierarchical components to the rule's id (`CA5350/md5` for `CA5350`).
fn same_rule(stated: &str, id: &str) -> bool {
    stated == id
        || stated
            .strip_prefix(id)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The tool component `rule.toolComponent` names (by index, guid or name); the driver if none.
fn component<'a>(tool: &'a Tool, reference: Option<&Reference>) -> Result<&'a Component, String> {
    let Some(c) = reference.and_then(|r| r.tool_component.as_ref()) else {
        return Ok(&tool.driver);
    };
    let extensions = tool.extensions.as_deref().unwrap_or_default();
    if let Some(i) = c.index.filter(|i| *i >= 0) {
        return usize::try_from(i)
            .ok()
            .and_then(|u| extensions.get(u))
            .ok_or_else(|| {
                format!(
                    ".rule.toolComponent.index: {i} is out of range ({} extensions)",
                    extensions.len()
                )
            });
    }
    let by = |f: &dyn Fn(&Component) -> bool| {
        std::iter::once(&tool.driver)
            .chain(extensions)
            .find(|x| f(x))
    };
    let by_guid = |g: &str| {
        by(&|x: &Component| {
            x.guid
                .as_deref()
                .is_some_and(|xg| xg.eq_ignore_ascii_case(g))
        })
    };
    if let Some(found) = c.guid.as_deref().and_then(by_guid) {
        return Ok(found);
    }
    if let Some(n) = c.name.as_deref() {
        return by(&|x| x.name == n)
            .ok_or_else(|| format!(".rule.toolComponent.name: no tool component named `{n}`"));
    }
    Ok(&tool.driver)
}

/// The descriptor for `id`: exact match first, then with trailing `/…` components removed.
fn find_rule<'a>(ctx: &'a RunContext, component: &'a Component, id: &str) -> Option<&'a Rule> {
    let rules = component.rules.as_deref().unwrap_or_default();
    let lookup = |key: &str| {
        if std::ptr::eq(component, &ctx.run.tool.driver) {
            ctx.driver_ids.get(key).and_then(|i| rules.get(*i))
        } else {
            rules.iter().find(|r| r.id == key)
        }
    };
    let mut key = id;
    loop {
        if let Some(rule) = lookup(key) {
            return Some(rule);
        }
        key = &key[..key.rfind('/')?];
    }
}

/// SARIF levels onto remedybot's severities (error → high, warning → medium, note → low,
/// none → info). Other words are not SARIF levels.
fn level_severity(level: &str) -> Option<Severity> {
    match level {
        "error" | "warning" | "note" | "none" => from_label(level),
        _ => None,
    }
}

/// `security-severity` of the result, then of the rule; the result's `level`; `none` for
/// kinds other than `fail`; the rule's `defaultConfiguration.level`; SARIF's default
/// `warning`.
fn severity(res: &SarifResult, rule: Option<&Rule>) -> Result<Severity, String> {
    let level = match res.level.as_deref() {
        Some(l) => Some(level_severity(l).ok_or_else(|| {
            format!(".level: unknown value `{l}` (expected error, warning, note or none)")
        })?),
        None => None,
    };
    let scores = [
        res.properties.security_severity.0.as_deref(),
        rule.and_then(|r| r.properties.security_severity.0.as_deref()),
    ];
    if let Some(s) = scores.into_iter().flatten().find_map(from_score_text) {
        return Ok(s);
    }
    if let Some(s) = level {
        return Ok(s);
    }
    if !matches!(res.kind.as_deref(), None | Some("fail")) {
        return Ok(Severity::Info);
    }
    let default = rule
        .and_then(|r| r.default_configuration.as_ref())
        .and_then(|c| c.level.as_deref());
    match default {
        Some(l) => level_severity(l).ok_or_else(|| {
            let id = rule.map_or("", |r| r.id.as_str());
            format!(": rule `{id}` has an unknown defaultConfiguration.level `{l}`")
        }),
        None => Ok(Severity::Medium),
    }
}

/// `message.text`, or the string `message.id` names in the rule's `messageStrings` or the
/// component's `globalMessageStrings`, with `{N}` placeholders replaced by `arguments`.
fn message_text(res: &SarifResult, rule: Option<&Rule>, component: &Component) -> Option<String> {
    let m = res.message.as_ref()?;
    let template = non_empty(m.text.as_deref()).or_else(|| {
        let id = m.id.as_deref()?;
        lookup(rule.and_then(|r| r.message_strings.as_ref()), id)
            .or_else(|| lookup(component.global_message_strings.as_ref(), id))
    })?;
    match m.arguments.as_deref() {
        Some(args) if !args.is_empty() => Some(substitute(template, args)),
        _ => Some(template.to_string()),
    }
}

fn lookup<'a>(strings: Option<&'a HashMap<String, Text>>, id: &str) -> Option<&'a str> {
    strings?.get(id)?.text.as_deref()
}

/// SARIF message-string formatting: `{N}` is argument N, `{{` and `}}` are literal braces.
/// A placeholder without an argument is kept as written.
fn substitute(template: &str, args: &[String]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(pos) = rest.find(['{', '}']) {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        let digits = tail[1..].bytes().take_while(u8::is_ascii_digit).count();
        let closed = digits > 0 && tail.as_bytes().get(1 + digits) == Some(&b'}');
        let arg = closed
            .then(|| tail[1..1 + digits].parse::<usize>().ok())
            .flatten()
            .and_then(|n| args.get(n));
        match arg {
            Some(a) => {
                out.push_str(a);
                rest = &tail[digits + 2..];
            }
            None => {
                out.push_str(&tail[..1]);
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Where a result is: its first location (or `analysisTarget`).
#[derive(Default)]
struct Place {
    path: String,
    base: Option<String>,
    line: Option<i64>,
    column: Option<i64>,
    logical: String,
    snippet: Option<String>,
}

impl Place {
    /// `path:line`, `path`, or the logical location (e.g. a function) when there is no file.
    fn display(&self) -> String {
        match (self.path.is_empty(), self.line) {
            (false, Some(line)) if line > 0 => clip(&format!("{}:{line}", self.path), MAX_ITEM),
            (false, _) => clip(&self.path, MAX_ITEM),
            (true, _) => clip(&self.logical, MAX_ITEM),
        }
    }
}

fn place(run: &Run, res: &SarifResult) -> Place {
    let loc = res.locations.as_deref().and_then(<[Location]>::first);
    let physical = loc.and_then(|l| l.physical_location.as_ref());
    let artifact = physical
        .and_then(|p| p.artifact_location.as_ref())
        .or(res.analysis_target.as_ref());
    let region = physical.and_then(|p| p.region.as_ref());
    let mut place = Place {
        line: region.and_then(|r| r.start_line),
        column: region.and_then(|r| r.start_column),
        snippet: region
            .and_then(|r| r.snippet.as_ref())
            .and_then(|s| s.text.as_deref())
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|t| !t.is_empty()),
        ..Place::default()
    };
    if let Some(a) = artifact {
        // An artifact location may give only an index into `run.artifacts`.
        let listed = a
            .index
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| run.artifacts.as_deref()?.get(i))
            .and_then(|x| x.location.as_ref());
        let uri = non_empty(a.uri.as_deref())
            .or_else(|| non_empty(listed.and_then(|l| l.uri.as_deref())));
        place.path = uri.unwrap_or_default().to_string();
        place.base = a
            .uri_base_id
            .clone()
            .or_else(|| listed.and_then(|l| l.uri_base_id.clone()));
    }
    if let Some(l) = loc.and_then(|l| l.logical_locations.as_deref()?.first()) {
        let listed = l
            .index
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| run.logical_locations.as_deref()?.get(i));
        place.logical = [l, listed.unwrap_or(l)]
            .iter()
            .find_map(|x| {
                non_empty(x.fully_qualified_name.as_deref()).or(non_empty(x.name.as_deref()))
            })
            .unwrap_or_default()
            .to_string();
    }
    place
}

/// The run's repository (`versionControlProvenance[0].repositoryUri`), else the absolute URI
/// the result's `uriBaseId` stands for (`run.originalUriBaseIds`), else
/// `"<tool> (unknown asset)"`.
fn asset(ctx: &RunContext, place: &Place) -> String {
    let run = ctx.run;
    let repo = run
        .version_control_provenance
        .as_deref()
        .and_then(<[VersionControl]>::first)
        .and_then(|v| non_empty(v.repository_uri.as_deref()));
    let base = || {
        let bases = run.original_uri_base_ids.as_ref()?;
        non_empty(bases.get(place.base.as_deref()?)?.uri.as_deref())
    };
    match repo.or_else(base) {
        Some(a) => clip(a, MAX_ITEM),
        None => format!("{} (unknown asset)", ctx.source),
    }
}

/// The fourth fingerprint field: the tool's own `fingerprints` (all of them, sorted by name),
/// else its `partialFingerprints`, else the code snippet or line, each scoped to the file,
/// since tools compute these per line of code (Flawfinder's `contextHash`, CodeQL's
/// `primaryLocationLineHash`) and the same line can occur in two files.
fn identity(res: &SarifResult, place: &Place) -> String {
    let file = match &place.base {
        Some(b) => format!("%{b}%/{}", place.path),
        None => place.path.clone(),
    };
    let given = [
        ("fingerprints", &res.fingerprints),
        ("partialFingerprints", &res.partial_fingerprints),
    ];
    for (kind, map) in given {
        if let Some(map) = map.as_ref().filter(|m| !m.is_empty()) {
            let mut id = format!("{kind}\n{file}\n");
            for (k, v) in map {
                id.push_str(k);
                id.push('=');
                id.push_str(v);
                id.push('\n');
            }
            return id;
        }
    }
    match &place.snippet {
        Some(s) => format!("snippet\n{file}\n{}\n{s}", place.logical),
        None => format!(
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
fn disambiguate(mut pending: Vec<Pending>) -> Vec<NewFinding> {
    let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, p) in pending.iter().enumerate() {
        groups
            .entry(p.finding.fingerprint.as_str().to_string())
            .or_default()
            .push(i);
    }
    for mut members in groups.into_values().filter(|m| m.len() > 1) {
        members.sort_by(|a, b| {
            let (a, b) = (&pending[*a].order, &pending[*b].order);
            a.cmp(b)
        });
        let mut ordinal = 0;
        for w in 0..members.len() {
            let i = members[w];
            if w > 0 && pending[members[w - 1]].order != pending[i].order {
                ordinal += 1;
            }
            if ordinal > 0 {
                let p = &mut pending[i];
                let f = &p.finding;
                let identity = format!("{}\n#{ordinal}", p.identity);
                p.finding.fingerprint =
                    Fingerprint::derive(&f.source, &f.rule_id, &f.asset, &identity);
            }
        }
    }
    pending.into_iter().map(|p| p.finding).collect()
}

fn text(t: &Option<Text>) -> Option<&str> {
    non_empty(t.as_ref()?.text.as_deref())
}

/// The message's first line, else the rule's short description, name, or id.
fn title(message: Option<&str>, rule: Option<&Rule>, rule_id: &str) -> String {
    message
        .and_then(|m| m.lines().map(str::trim).find(|l| !l.is_empty()))
        .or_else(|| rule.and_then(|r| text(&r.short_description)))
        .or_else(|| rule.and_then(|r| non_empty(r.name.as_deref())))
        .or_else(|| rule.and_then(|r| text(&r.full_description)))
        .map_or_else(
            || clip(rule_id, MAX_TITLE),
            |t| clip(t.lines().next().unwrap_or(t), MAX_TITLE),
        )
}

/// The message, then the rule's full (or short) description and help text, each once.
fn description(message: Option<&str>, rule: Option<&Rule>) -> String {
    let mut parts: Vec<&str> = message
        .and_then(|m| non_empty(Some(m)))
        .into_iter()
        .collect();
    if let Some(r) = rule {
        let about = text(&r.full_description).or_else(|| text(&r.short_description));
        for part in [about, text(&r.help)].into_iter().flatten() {
            if !parts.contains(&part) {
                parts.push(part);
            }
        }
    }
    clip(&parts.join("\n\n"), MAX_DESCRIPTION)
}

/// Rule and result `properties.tags` (CWE tags normalised to `CWE-N`), CWE taxa from the
/// rule's relationships and the result's `taxa`, `precision:…`, and `kind:review|open`.
fn tags(res: &SarifResult, rule: Option<&Rule>) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    let rule_tags = rule
        .map(|r| r.properties.tags.0.as_slice())
        .unwrap_or_default();
    for t in rule_tags.iter().chain(&res.properties.tags.0) {
        all.push(cwe_tag(t).unwrap_or_else(|| t.trim().to_string()));
    }
    let relationships = rule
        .and_then(|r| r.relationships.as_deref())
        .unwrap_or_default()
        .iter()
        .filter_map(|x| x.target.as_ref());
    for target in relationships.chain(res.taxa.iter().flatten()) {
        let is_cwe = target
            .tool_component
            .as_ref()
            .and_then(|c| c.name.as_deref())
            .is_some_and(|n| n.eq_ignore_ascii_case("cwe"));
        if let (true, Some(id)) = (is_cwe, target.id.as_deref()) {
            all.extend(cwe_tag(id).or_else(|| cwe_tag(&format!("CWE-{id}"))));
        }
    }
    let precision = res
        .properties
        .precision
        .0
        .as_deref()
        .or_else(|| rule.and_then(|r| r.properties.precision.0.as_deref()));
    all.extend(non_empty(precision).map(|p| format!("precision:{p}")));
    if let Some(k @ ("review" | "open")) = res.kind.as_deref() {
        all.push(format!("kind:{k}"));
    }
    dedup(all)
}

/// `CWE-79` for `CWE-79`, `cwe-079`, `external/cwe/cwe-079` or `CWE-79: Improper …`.
fn cwe_tag(tag: &str) -> Option<String> {
    let lower = tag.trim().to_ascii_lowercase();
    let rest = lower
        .strip_prefix("external/cwe/")
        .unwrap_or(&lower)
        .strip_prefix("cwe")?;
    let rest = rest.strip_prefix(['-', '_', ':', ' ']).unwrap_or(rest);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let n: u32 = digits.parse().ok()?;
    Some(format!("CWE-{n}"))
}

fn references(rule: Option<&Rule>) -> Vec<String> {
    dedup(rule.and_then(|r| r.help_uri.clone()).into_iter().collect())
}

/// Trimmed, non-empty, clipped, first occurrence kept, at most [`MAX_LIST`].
fn dedup(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let item = clip(&item, MAX_ITEM);
        if !item.is_empty() && !out.contains(&item) {
            out.push(item);
            if out.len() == MAX_LIST {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "sarif_tests.rs"]
mod tests;
