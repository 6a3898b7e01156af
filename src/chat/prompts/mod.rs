//! The workflow prompts (triage, root cause, fix plan, evidence, risk acceptance,
//! rejection), platform neutral: which fields each prompt asks, with their labels, choices,
//! hints and whether the policy requires them ([`fields`]), and the parsing of the answers
//! (field id → text) into a domain [`Command`] with a message per field in error ([`parse`]).
//!
//! Slack shows the fields as a Block Kit modal (`chat::slack::modals`), Discord as one or
//! more modals of text inputs (`chat::discord::inbound::prompts`); both hand the answers back
//! here, so the two platforms ask the same questions and accept the same answers. No I/O and
//! no platform markup. Validation is for the user's sake; the domain still decides whether
//! the command is allowed.

mod fields;
mod parse;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};

use crate::domain::{Command, Policy, Severity};

pub use crate::chat::view::severity_label;
pub use fields::{CAUSE_CATEGORIES, CONFIRM, Field, Kind, TRIAGE_DECISIONS, choices, fields};
pub use parse::Form;

/// Answers by field id; an unanswered field is absent.
pub type Answers = BTreeMap<String, String>;
/// Messages for the user by field id.
pub type Errors = BTreeMap<String, String>;

/// A workflow prompt: a form the user fills in to move a finding on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prompt {
    Triage,
    Rca,
    FixPlan,
    /// Mark the fix done, with evidence.
    Evidence,
    AcceptRisk,
    /// Reject an open approval request.
    Reject,
}

impl Prompt {
    pub const ALL: [Prompt; 6] = [
        Prompt::Triage,
        Prompt::Rca,
        Prompt::FixPlan,
        Prompt::Evidence,
        Prompt::AcceptRisk,
        Prompt::Reject,
    ];

    /// The name of the message button that opens the prompt (`rb:<key>…` in custom ids).
    pub fn key(self) -> &'static str {
        match self {
            Prompt::Triage => "triage",
            Prompt::Rca => "rca",
            Prompt::FixPlan => "plan",
            Prompt::Evidence => "fixed",
            Prompt::AcceptRisk => "accept_risk",
            Prompt::Reject => "reject",
        }
    }

    pub fn from_key(key: &str) -> Option<Prompt> {
        Prompt::ALL.into_iter().find(|p| p.key() == key)
    }

    /// The form's heading.
    pub fn title(self) -> &'static str {
        match self {
            Prompt::Triage => "Triage",
            Prompt::Rca => "Root cause",
            Prompt::FixPlan => "Fix plan",
            Prompt::Evidence => "Mark fixed",
            Prompt::AcceptRisk => "Accept risk",
            Prompt::Reject => "Reject request",
        }
    }
}

/// Field ids. On Slack they are the inputs' block and action ids, on Discord the text
/// inputs' custom ids.
pub mod field {
    pub const REAL: &str = "real";
    pub const EXPLOITABLE: &str = "exploitable";
    pub const SEVERITY: &str = "severity";
    pub const SEVERITY_REASON: &str = "severity_reason";
    pub const DECISION: &str = "decision";
    pub const DUPLICATE_OF: &str = "duplicate_of";
    pub const REASON: &str = "reason";
    pub const UNTIL: &str = "until";
    pub const CONTROLS: &str = "controls";
    pub const CAUSE: &str = "cause";
    pub const WHYS: [&str; 5] = ["why1", "why2", "why3", "why4", "why5"];
    pub const FACTORS: &str = "factors";
    pub const PLAN: &str = "plan";
    pub const LINK: &str = "link";
    pub const TARGET: &str = "target";
    pub const RESCAN: &str = "rescan";
}

/// How the user enters choices and dates, which decides how lenient parsing is and how
/// errors are worded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// Picked from menus, radio buttons and a calendar (Slack): values arrive exact.
    Menus,
    /// Typed into text inputs (Discord): choices match case-insensitively, by value or
    /// label, and an error lists what is accepted.
    Typed,
}

/// Parse the answers to `prompt` into a command, or the errors by field id (every field is
/// read before judging, so all errors of one submission come back together).
pub fn parse(
    prompt: Prompt,
    answers: &Answers,
    current: Severity,
    policy: &Policy,
    today: NaiveDate,
    entry: Entry,
) -> Result<Command, Errors> {
    let mut form = Form::new(answers, entry);
    let command = form.parse(prompt, current, policy, today);
    form.finish(command)
}

/// The latest expiry the policy allows from `today`.
pub fn last_acceptance_day(policy: &Policy, today: NaiveDate) -> NaiveDate {
    today
        .checked_add_signed(Duration::days(i64::from(policy.max_acceptance_days)))
        .unwrap_or(NaiveDate::MAX)
}
