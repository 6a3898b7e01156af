//! One result → a [`Draft`] (everything that needs only the result and its rule), and at the
//! end of its run → a [`NewFinding`] (place, asset and fingerprint, which need the run's
//! tables). [`Collected`] holds the findings of the whole log and the first error.

use std::collections::HashMap;

use super::error;
use super::fingerprints::{Given, Meta, disambiguate, identity};
use super::levels::{severity, skipped};
use super::locations::{At, RunTables};
use super::model::{SarifResult, Tool};
use super::rules::{index_rules, resolve_rule};
use super::text::{description, message_text, references, tags, title};
use crate::domain::{Fingerprint, NewFinding, Severity};
use crate::ingest::IngestError;

/// What a run's results are read against: its tool, with the driver's rules indexed by id.
pub(crate) struct RunContext<'a> {
    r: usize,
    pub tool: &'a Tool,
    /// `tool.driver.name`, lower-cased: the findings' `source`.
    pub source: String,
    pub driver_ids: HashMap<&'a str, usize>,
}

impl<'a> RunContext<'a> {
    pub fn new(r: usize, tool: &'a Tool) -> Self {
        RunContext {
            r,
            tool,
            source: tool.driver.name.trim().to_lowercase(),
            driver_ids: index_rules(&tool.driver),
        }
    }
}

/// A finding before its run's tables are known. The rule's text is copied into it here, so
/// the result itself can be dropped.
pub(crate) struct Draft {
    rule_id: String,
    title: String,
    description: String,
    severity: Severity,
    tags: Vec<String>,
    references: Vec<String>,
    /// The message, which orders results that share a fingerprint.
    message: String,
    given: Option<Given>,
    at: At,
}

/// The findings read so far, and the first error in the log's meaning (see `stream`).
#[derive(Default)]
pub(crate) struct Collected {
    findings: Vec<NewFinding>,
    /// Per finding: what [`disambiguate`] needs.
    meta: Vec<Meta>,
    error: Option<IngestError>,
}

impl Collected {
    /// A run's `tool.driver.name` must not be empty: it is the findings' `source`.
    pub fn check_tool(&mut self, r: usize, tool: &Tool) {
        if tool.driver.name.trim().is_empty() {
            self.fail(error(format!(
                "runs[{r}].tool.driver.name must not be empty"
            )));
        }
    }

    fn fail(&mut self, e: IngestError) {
        self.error.get_or_insert(e);
    }

    /// Result `i` of the run: a draft if it is a finding. Once an error is known, results
    /// are only parsed (for errors in their shape), not read.
    pub fn read(&mut self, ctx: &RunContext, i: usize, res: SarifResult, out: &mut Vec<Draft>) {
        if self.error.is_some() {
            return;
        }
        let at = |m: String| error(format!("runs[{}].results[{i}]{m}", ctx.r));
        let read = match skipped(&res) {
            Ok(true) => return,
            Ok(false) => draft(ctx, res),
            Err(m) => Err(m),
        };
        match read {
            Ok(d) => out.push(d),
            Err(m) => self.fail(at(m)),
        }
    }

    /// The run has ended: its drafts become findings.
    pub fn finish_run(&mut self, ctx: &RunContext, drafts: Vec<Draft>, tables: &RunTables) {
        if self.error.is_some() {
            return;
        }
        self.findings.reserve_exact(drafts.len());
        self.meta.reserve_exact(drafts.len());
        for d in drafts {
            let (finding, meta) = finish(&ctx.source, d, tables);
            self.findings.push(finding);
            self.meta.push(meta);
        }
    }

    /// The log's findings, fingerprints made unique, or its first error.
    pub fn into_findings(self) -> Result<Vec<NewFinding>, IngestError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut findings = self.findings;
        disambiguate(&mut findings, self.meta);
        Ok(findings)
    }
}

fn draft(ctx: &RunContext, res: SarifResult) -> Result<Draft, String> {
    let (rule_id, rule, component) = resolve_rule(ctx, &res)?;
    let severity = severity(&res, rule)?;
    let message = message_text(&res, rule, component);
    Ok(Draft {
        title: title(message.as_deref(), rule, &rule_id),
        description: description(message.as_deref(), rule),
        severity,
        tags: tags(&res, rule),
        references: references(rule),
        message: message.unwrap_or_default(),
        given: Given::of(&res),
        at: At::of(res),
        rule_id,
    })
}

fn finish(source: &str, d: Draft, tables: &RunTables) -> (NewFinding, Meta) {
    let place = tables.place(d.at);
    let asset = tables.asset(source, &place);
    let identity = identity(d.given, &place);
    let finding = NewFinding {
        fingerprint: Fingerprint::derive(source, &d.rule_id, &asset, &identity),
        source: source.to_string(),
        title: d.title,
        description: d.description,
        severity: d.severity,
        tags: d.tags,
        references: d.references,
        rule_id: d.rule_id,
        asset,
        location: place.display(),
        owner: None,
    };
    let order = (
        place.line.unwrap_or(0),
        place.column.unwrap_or(0),
        d.message,
    );
    (finding, Meta { identity, order })
}
