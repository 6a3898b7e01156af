//! Test fixtures: findings advanced through the real workflow, so view models are tested
//! against states the domain can actually produce.

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::domain::{
    Actor, Command, Event, FindingId, FindingState, Fingerprint, NewFinding, Policy, Severity,
    Source, decide, open,
};

pub(crate) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap()
}

pub(crate) fn slack(id: &str, name: &str) -> Actor {
    Actor::new("slack", id, name)
}

pub(crate) fn new_finding(title: &str, description: &str) -> NewFinding {
    NewFinding {
        fingerprint: Fingerprint::derive(
            "semgrep",
            "python.flask.xss",
            "payments-api",
            "app.py:72",
        ),
        source: "semgrep".into(),
        rule_id: "python.flask.xss".into(),
        title: title.into(),
        description: description.into(),
        severity: Severity::High,
        asset: "payments-api".into(),
        location: "app.py:72".into(),
        tags: vec![],
        references: vec![],
        owner: Some("slack:U0OWNER".into()),
    }
}

/// A finding and its events, advanced by commands that must succeed.
pub(crate) struct Story {
    pub id: FindingId,
    pub state: FindingState,
    pub policy: Policy,
    pub now: DateTime<Utc>,
}

impl Story {
    pub fn new(finding: NewFinding) -> Story {
        let mut policy = Policy::default();
        policy.groups.insert(
            "security".into(),
            vec!["slack:U0SEC1".into(), "slack:U0SEC2".into()],
        );
        let now = t0();
        let state = FindingState::created(&open(finding, &policy, now), now).unwrap();
        Story {
            id: FindingId::from_key(12),
            state,
            policy,
            now,
        }
    }

    pub fn default_finding() -> Story {
        Story::new(new_finding(
            "Cross-site scripting in /search",
            "User input reaches the response without escaping.",
        ))
    }

    /// Run a command an hour after the last one; each event with the state right after it.
    pub fn run(
        &mut self,
        actor: &Actor,
        source: Source,
        cmd: Command,
    ) -> Vec<(Event, FindingState)> {
        self.now += Duration::hours(1);
        let changes = decide(&self.state, &cmd, actor, &self.policy, self.now)
            .unwrap_or_else(|r| panic!("{cmd:?} refused: {r}"));
        changes
            .into_iter()
            .map(|change| {
                let event = Event {
                    change,
                    actor: actor.clone(),
                    source,
                    at: self.now,
                };
                self.state.apply(&event);
                (event, self.state.clone())
            })
            .collect()
    }
}
