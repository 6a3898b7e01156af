//! What each prompt asks: its fields in order, with labels, choices, hints, initial values
//! and whether the policy requires them for the finding's severity.

use chrono::NaiveDate;

use super::{Prompt, field, last_acceptance_day, severity_label};
use crate::domain::{DecisionKind, Policy, Severity};

/// Root-cause categories: (value stored, label shown).
pub const CAUSE_CATEGORIES: &[(&str, &str)] = &[
    ("code_defect", "Code defect"),
    ("missing_validation", "Missing input validation"),
    ("misconfiguration", "Misconfiguration"),
    ("outdated_dependency", "Outdated dependency"),
    ("missing_control", "Missing security control"),
    ("process_gap", "Process gap"),
    ("third_party", "Third party"),
    ("other", "Other"),
];

/// The triage decision that confirms the finding (it moves on to root cause or fix).
pub const CONFIRM: &str = "confirm";
/// The other triage decisions: every proposal kind triage allows (all but `fixed`).
pub const TRIAGE_DECISIONS: [(DecisionKind, &str); 5] = [
    (DecisionKind::FalsePositive, "False positive"),
    (DecisionKind::Duplicate, "Duplicate of another finding"),
    (DecisionKind::AcceptRisk, "Accept the risk"),
    (DecisionKind::WontFix, "Won't fix"),
    (DecisionKind::Mitigated, "Mitigated"),
];

/// What kind of answer a field takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// One of fixed values: (value, label).
    Choice(Vec<(&'static str, &'static str)>),
    Text {
        multiline: bool,
    },
    /// An http(s) link.
    Link,
    /// A day, `YYYY-MM-DD`.
    Date,
}

/// One question of a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub id: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    /// Whether the form may not be submitted without it (some fields are required only for
    /// some answers to others; their hint says so and the parser checks).
    pub required: bool,
    /// Shown in an empty input (for a choice: a menu's prompt).
    pub placeholder: &'static str,
    pub hint: Option<String>,
    /// The value the input starts with.
    pub initial: Option<&'static str>,
}

impl Field {
    fn new(id: &'static str, label: &'static str, kind: Kind, placeholder: &'static str) -> Self {
        Field {
            id,
            label,
            kind,
            required: true,
            placeholder,
            hint: None,
            initial: None,
        }
    }

    fn text(
        id: &'static str,
        label: &'static str,
        placeholder: &'static str,
        multiline: bool,
    ) -> Self {
        Field::new(id, label, Kind::Text { multiline }, placeholder)
    }

    fn choice(id: &'static str, label: &'static str, placeholder: &'static str) -> Self {
        let choices = choices(id).unwrap_or_default();
        Field::new(id, label, Kind::Choice(choices), placeholder)
    }

    fn optional(self) -> Self {
        self.required_if(false)
    }

    fn required_if(mut self, required: bool) -> Self {
        self.required = required;
        self
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    fn initial(mut self, value: &'static str) -> Self {
        self.initial = Some(value);
        self
    }
}

/// The values a choice field accepts, `None` for other fields.
pub fn choices(id: &str) -> Option<Vec<(&'static str, &'static str)>> {
    Some(match id {
        field::REAL => vec![("yes", "Yes"), ("no", "No")],
        field::EXPLOITABLE => vec![("yes", "Yes"), ("no", "No"), ("unknown", "Don't know yet")],
        field::SEVERITY => Severity::ALL
            .into_iter()
            .map(|s| (s.as_str(), severity_label(s)))
            .collect(),
        field::DECISION => std::iter::once((CONFIRM, "Confirm: it needs fixing"))
            .chain(TRIAGE_DECISIONS.iter().map(|(k, text)| (k.as_str(), *text)))
            .collect(),
        field::CAUSE => CAUSE_CATEGORIES.to_vec(),
        _ => return None,
    })
}

/// The fields of `prompt` for a finding of severity `current` under `policy`, in order.
pub fn fields(prompt: Prompt, current: Severity, policy: &Policy, today: NaiveDate) -> Vec<Field> {
    match prompt {
        Prompt::Triage => triage(current, policy, today),
        Prompt::Rca => rca(current, policy),
        Prompt::FixPlan => fix_plan(),
        Prompt::Evidence => evidence(current, policy),
        Prompt::AcceptRisk => accept_risk(policy, today),
        Prompt::Reject => vec![Field::text(
            field::REASON,
            "Why do you reject the request?",
            "Reason",
            true,
        )],
    }
}

fn triage(current: Severity, policy: &Policy, today: NaiveDate) -> Vec<Field> {
    vec![
        Field::choice(field::REAL, "Is the finding real?", "Choose yes or no"),
        Field::choice(
            field::EXPLOITABLE,
            "Is it exploitable where it is?",
            "Choose an answer",
        ),
        Field::choice(field::SEVERITY, "Severity", "Choose a severity").initial(current.as_str()),
        Field::text(
            field::SEVERITY_REASON,
            "Reason for changing the severity",
            "Why the severity is different",
            false,
        )
        .optional()
        .hint("Required only if you change the severity."),
        Field::choice(field::DECISION, "Decision", "Choose a decision").initial(CONFIRM),
        Field::text(field::DUPLICATE_OF, "Duplicate of", "F-1042", false)
            .optional()
            .hint("For a duplicate: the id of the finding this one duplicates."),
        Field::text(field::REASON, "Notes or reason", "What you found", true)
            .optional()
            .hint("Required for false positive, accept the risk, won't fix and mitigated."),
        Field::new(
            field::UNTIL,
            "Risk accepted until",
            Kind::Date,
            "Pick a date",
        )
        .optional()
        .hint(acceptance_limit(policy, today)),
        controls().hint("For accept the risk and mitigated."),
    ]
}

fn rca(current: Severity, policy: &Policy) -> Vec<Field> {
    let required = policy.rca_required.contains(&current);
    let mut fields = vec![
        Field::choice(field::CAUSE, "Cause category", "Choose a category").required_if(required),
    ];
    for (i, why) in field::WHYS.iter().enumerate() {
        let label = if i == 0 {
            "Why did it happen?"
        } else {
            "And why was that?"
        };
        fields.push(Field::text(why, label, "Because…", false).required_if(i == 0 && required));
    }
    fields.push(
        Field::text(
            field::FACTORS,
            "Contributing factors",
            "What made it more likely or worse",
            true,
        )
        .optional(),
    );
    fields
}

fn fix_plan() -> Vec<Field> {
    vec![
        Field::text(field::PLAN, "Plan", "What will be changed, and how", true),
        Field::new(
            field::LINK,
            "Change or ticket link",
            Kind::Link,
            "https://…",
        )
        .optional(),
        Field::new(field::TARGET, "Target date", Kind::Date, "Pick a date")
            .optional()
            .hint("The day you expect the fix to be done."),
    ]
}

fn evidence(current: Severity, policy: &Policy) -> Vec<Field> {
    let hint = if policy.evidence_required.contains(&current) {
        "A link or a re-scan result is required."
    } else {
        "A link, a re-scan result, or both."
    };
    vec![
        Field::new(field::LINK, "Evidence link", Kind::Link, "https://…")
            .optional()
            .hint(format!("A pull request, change or scan report. {hint}")),
        Field::text(
            field::RESCAN,
            "Re-scan result",
            "e.g. clean: the latest scan no longer reports it",
            true,
        )
        .optional(),
    ]
}

fn accept_risk(policy: &Policy, today: NaiveDate) -> Vec<Field> {
    vec![
        Field::text(
            field::REASON,
            "Why accept the risk?",
            "Business reason",
            true,
        ),
        Field::new(field::UNTIL, "Accepted until", Kind::Date, "Pick a date")
            .hint(acceptance_limit(policy, today)),
        controls(),
    ]
}

fn controls() -> Field {
    Field::text(
        field::CONTROLS,
        "Compensating controls",
        "What limits the risk meanwhile",
        true,
    )
    .optional()
}

fn acceptance_limit(policy: &Policy, today: NaiveDate) -> String {
    format!(
        "At most {} days: {} at the latest.",
        policy.max_acceptance_days,
        last_acceptance_day(policy, today)
    )
}
