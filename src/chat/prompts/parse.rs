//! Parsing the answers to a prompt into a [`Command`], with messages keyed by field id.
//! Every parser reads all of its prompt's fields before judging them, so the errors of one
//! submission come back together.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use super::{
    Answers, CAUSE_CATEGORIES, CONFIRM, Entry, Errors, Prompt, TRIAGE_DECISIONS, choices, field,
    last_acceptance_day,
};
use crate::domain::{
    Command, DecisionKind, Evidence, FindingId, FixPlan, Policy, Proposal, RcaAnswers, Severity,
    TriageAnswers,
};

/// The answers, the errors found so far, and which fields were read (for the tests that tie
/// each form to its parser).
pub struct Form<'a> {
    answers: &'a Answers,
    entry: Entry,
    errors: Errors,
    pub read: Vec<&'static str>,
}

impl<'a> Form<'a> {
    pub fn new(answers: &'a Answers, entry: Entry) -> Self {
        Form {
            answers,
            entry,
            errors: Errors::new(),
            read: Vec::new(),
        }
    }

    pub fn parse(
        &mut self,
        prompt: Prompt,
        current: Severity,
        policy: &Policy,
        today: NaiveDate,
    ) -> Command {
        match prompt {
            Prompt::Triage => triage(self, current, policy, today),
            Prompt::Rca => rca(self, current, policy),
            Prompt::FixPlan => fix_plan(self, today),
            Prompt::Evidence => evidence(self, current, policy),
            Prompt::AcceptRisk => {
                let reason = self.required(field::REASON, "Say why the risk can be accepted.");
                let until = self.date(field::UNTIL);
                let controls = self.text(field::CONTROLS);
                let details = Details {
                    reason: reason.unwrap_or_default(),
                    duplicate_of: None,
                    until,
                    controls,
                };
                Command::Propose(proposal(
                    self,
                    DecisionKind::AcceptRisk,
                    details,
                    policy,
                    today,
                ))
            }
            Prompt::Reject => {
                let reason = self.required(field::REASON, "Say why you reject the request.");
                Command::Vote {
                    approve: false,
                    reason: Some(reason.unwrap_or_default()),
                }
            }
        }
    }

    pub(super) fn finish(self, command: Command) -> Result<Command, Errors> {
        if self.errors.is_empty() {
            Ok(command)
        } else {
            Err(self.errors)
        }
    }

    fn get(&mut self, block: &'static str) -> Option<String> {
        self.read.push(block);
        let answer = self.answers.get(block)?.trim();
        (!answer.is_empty()).then(|| answer.to_string())
    }

    /// A choice's answer: as given from a menu, normalised when typed (`Won't fix` →
    /// `wont_fix`, `HIGH` → `high`); a typed label counts as its value.
    fn option(&mut self, block: &'static str) -> Option<String> {
        let value = self.get(block)?;
        if self.entry == Entry::Menus {
            return Some(value);
        }
        let norm = normalise(&value);
        let options = choices(block).unwrap_or_default();
        let found = options
            .iter()
            .find(|(v, label)| *v == norm || normalise(label) == norm)
            .map(|(v, _)| v.to_string());
        Some(found.unwrap_or(norm))
    }

    /// The message for an answer that is not one of a choice's values.
    fn not_an_option(&mut self, block: &'static str) {
        let message = match self.entry {
            Entry::Menus => "Choose one of the options.".to_string(),
            Entry::Typed => {
                let values: Vec<&str> = choices(block)
                    .unwrap_or_default()
                    .iter()
                    .map(|(v, _)| *v)
                    .collect();
                format!("Answer one of: {}.", values.join(", "))
            }
        };
        self.error(block, message);
    }

    fn text(&mut self, block: &'static str) -> String {
        self.get(block).unwrap_or_default()
    }

    /// Record an error for `block`; the first error of a block is the one shown.
    fn error(&mut self, block: &'static str, message: impl Into<String>) {
        self.errors
            .entry(block.to_string())
            .or_insert_with(|| message.into());
    }

    fn required(&mut self, block: &'static str, message: &str) -> Option<String> {
        let value = self.get(block);
        if value.is_none() {
            self.error(block, message);
        }
        value
    }

    /// A required choice, parsed by `parse`; a value not among the options is an error too.
    fn choice<T>(
        &mut self,
        block: &'static str,
        message: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let value = self.option(block);
        if value.is_none() {
            self.error(block, message);
        }
        let parsed = parse(&value?);
        if parsed.is_none() {
            self.not_an_option(block);
        }
        parsed
    }

    fn date(&mut self, block: &'static str) -> Option<NaiveDate> {
        let value = self.get(block)?;
        let date = NaiveDate::parse_from_str(&value, "%Y-%m-%d").ok();
        if date.is_none() {
            self.error(
                block,
                match self.entry {
                    Entry::Menus => "Pick a date from the calendar.",
                    Entry::Typed => "Give a date as YYYY-MM-DD, e.g. 2026-04-30.",
                },
            );
        }
        date
    }

    /// An optional link: empty, or an http(s) URL.
    fn link(&mut self, block: &'static str) -> String {
        let link = self.text(block);
        if !link.is_empty() && !is_http_link(&link) {
            self.error(block, "Give a link that starts with https:// or http://.");
        }
        link
    }
}

fn triage(f: &mut Form, current: Severity, policy: &Policy, today: NaiveDate) -> Command {
    let real = f.choice(field::REAL, "Say whether the finding is real.", yes_no);
    let exploitable = f.choice(
        field::EXPLOITABLE,
        "Say whether it is exploitable, or that you don't know yet.",
        |v| {
            if v == "unknown" {
                Some(None)
            } else {
                yes_no(v).map(Some)
            }
        },
    );
    let severity = f.choice(field::SEVERITY, "Choose a severity.", |v| v.parse().ok());
    let severity_reason = f.text(field::SEVERITY_REASON);
    let decision = f.choice(field::DECISION, "Choose a decision.", |v| {
        if v == CONFIRM {
            Some(None)
        } else {
            TRIAGE_DECISIONS
                .iter()
                .find(|(k, _)| k.as_str() == v)
                .map(|(k, _)| Some(*k))
        }
    });
    let reason = f.text(field::REASON);
    let details = Details {
        reason: reason.clone(),
        duplicate_of: f.get(field::DUPLICATE_OF),
        until: f.date(field::UNTIL),
        controls: f.text(field::CONTROLS),
    };

    let severity = match severity {
        Some(s) if s != current => {
            if severity_reason.is_empty() {
                f.error(
                    field::SEVERITY_REASON,
                    format!("You changed the severity from {current} to {s}: say why."),
                );
            }
            Some((s, severity_reason))
        }
        _ => None,
    };
    let proposal = match decision {
        Some(Some(kind)) => Some(proposal(f, kind, details, policy, today)),
        Some(None) if real == Some(false) => {
            f.error(
                field::DECISION,
                "You said the finding is not real: choose false positive (or another decision) \
                 instead of confirm.",
            );
            None
        }
        _ => None,
    };
    // Confirming records the text as triage notes; a proposal carries it as its reason.
    let notes = if proposal.is_none() {
        reason
    } else {
        String::new()
    };
    Command::Triage {
        answers: TriageAnswers {
            real,
            exploitable: exploitable.flatten(),
            notes,
        },
        severity,
        proposal,
    }
}

/// The proposal inputs as submitted, before they are checked for a kind.
struct Details {
    reason: String,
    duplicate_of: Option<String>,
    until: Option<NaiveDate>,
    controls: String,
}

/// A proposal of `kind`, with the inputs that kind needs checked and the others dropped.
fn proposal(
    f: &mut Form,
    kind: DecisionKind,
    details: Details,
    policy: &Policy,
    today: NaiveDate,
) -> Proposal {
    let needs_reason = !matches!(kind, DecisionKind::Duplicate | DecisionKind::Fixed);
    if needs_reason && details.reason.is_empty() {
        f.error(field::REASON, "Give a reason for this decision.");
    }
    let duplicate_of = (kind == DecisionKind::Duplicate).then(|| match &details.duplicate_of {
        None => {
            f.error(
                field::DUPLICATE_OF,
                "Give the id of the finding this one duplicates, e.g. F-1042.",
            );
            String::new()
        }
        Some(text) => match text.parse::<FindingId>() {
            Ok(id) => id.to_string(),
            Err(_) => {
                f.error(
                    field::DUPLICATE_OF,
                    format!("\"{text}\" is not a finding id; ids look like F-1042."),
                );
                text.clone()
            }
        },
    });
    let until = if kind == DecisionKind::AcceptRisk {
        acceptance_until(f, details.until, policy, today)
    } else {
        None
    };
    let controls = matches!(kind, DecisionKind::AcceptRisk | DecisionKind::Mitigated);
    Proposal {
        kind,
        reason: details.reason,
        duplicate_of,
        until,
        compensating_controls: if controls {
            details.controls
        } else {
            String::new()
        },
    }
}

/// The expiry of a risk acceptance: after today, at most the policy's maximum from today.
/// It starts at midnight UTC of the chosen day, as the CLI's dates do, so the domain's
/// own checks (future, within the maximum from now) agree with these.
fn acceptance_until(
    f: &mut Form,
    until: Option<NaiveDate>,
    policy: &Policy,
    today: NaiveDate,
) -> Option<DateTime<Utc>> {
    let Some(date) = until else {
        f.error(field::UNTIL, "Pick the day the risk acceptance ends.");
        return None;
    };
    let last = last_acceptance_day(policy, today);
    if date <= today {
        f.error(
            field::UNTIL,
            "The risk acceptance must end after today: pick a later day.",
        );
    } else if date > last {
        f.error(
            field::UNTIL,
            format!(
                "A risk can be accepted for at most {} days: pick {last} or earlier.",
                policy.max_acceptance_days
            ),
        );
    }
    Some(date.and_time(NaiveTime::MIN).and_utc())
}

fn rca(f: &mut Form, current: Severity, policy: &Policy) -> Command {
    let required = policy.rca_required.contains(&current);
    let cause = f.option(field::CAUSE);
    let whys: Vec<Option<String>> = field::WHYS.iter().map(|b| f.get(b)).collect();
    let factors = f.text(field::FACTORS);

    match &cause {
        Some(c) if !CAUSE_CATEGORIES.iter().any(|(v, _)| v == c) => {
            f.not_an_option(field::CAUSE);
        }
        None if required => f.error(
            field::CAUSE,
            format!("A root-cause analysis is required for {current} findings: choose a category."),
        ),
        _ => {}
    }
    if required && whys[0].is_none() {
        f.error(
            field::WHYS[0],
            "Say why it happened: the first why is required.",
        );
    }
    Command::SubmitRca(RcaAnswers {
        cause_category: cause.unwrap_or_default(),
        whys: whys.into_iter().flatten().collect(),
        contributing_factors: factors,
    })
}

fn fix_plan(f: &mut Form, today: NaiveDate) -> Command {
    let plan = f.required(field::PLAN, "Describe the fix plan.");
    let link = f.link(field::LINK);
    let target = f.date(field::TARGET);
    if let Some(date) = target
        && date < today
    {
        f.error(
            field::TARGET,
            format!("{date} is in the past: pick today or a later day."),
        );
    }
    Command::PlanFix(FixPlan {
        plan: plan.unwrap_or_default(),
        change_link: link,
        // Due at the end of the target day (UTC), so "by the 5th" includes the 5th.
        target_date: target
            .and_then(|d| d.and_hms_opt(23, 59, 59))
            .map(|t| t.and_utc()),
    })
}

fn evidence(f: &mut Form, current: Severity, policy: &Policy) -> Command {
    let link = f.link(field::LINK);
    let rescan = f.text(field::RESCAN);
    if policy.evidence_required.contains(&current) && link.is_empty() && rescan.is_empty() {
        f.error(
            field::LINK,
            format!(
                "Evidence is required for {current} findings: give a link or a re-scan result."
            ),
        );
    }
    Command::MarkFixed(Evidence {
        link,
        rescan_result: rescan,
    })
}

fn yes_no(v: &str) -> Option<bool> {
    match v {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

/// `http://` or `https://`, a host, and no spaces.
fn is_http_link(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
        && !s.chars().any(char::is_whitespace)
}

/// A typed choice as a value: lower case, words joined by `_`, apostrophes dropped.
fn normalise(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .replace('\'', "")
        .split(|c: char| c.is_whitespace() || c == '-' || c == '_')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}
