//! `remedybot show`: a finding and its trail, rendered from `templates/cli/show.hbs`.

use chrono::{DateTime, Utc};
use handlebars::Handlebars;
use serde::Serialize;

use super::output::due_text;
use crate::domain::Stage;
use crate::report::describe::describe;
use crate::store::{StoredEvent, StoredFinding};

const TEMPLATE: &str = include_str!("../../templates/cli/show.hbs");

#[derive(Serialize)]
struct EventView {
    seq: i64,
    at: String,
    actor: String,
    source: String,
    text: String,
}

#[derive(Serialize)]
struct ShowView {
    id: String,
    title: String,
    severity: String,
    stage: String,
    resolution: Option<String>,
    owner: String,
    asset: String,
    location: String,
    source: String,
    rule_id: String,
    due: String,
    first_seen: String,
    last_seen: String,
    times_seen: String,
    regressions: Option<String>,
    accepted_until: Option<String>,
    fingerprint: String,
    pending: Option<String>,
    tags: String,
    references: String,
    description: String,
    event_count: String,
    events: Vec<EventView>,
}

/// "1 event", "2 events".
fn plural(n: i64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub fn render(
    f: &StoredFinding,
    trail: &[StoredEvent],
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let s = &f.state;
    let events: Vec<EventView> = trail
        .iter()
        .map(|e| {
            let text = match e.to_event() {
                Ok(ev) => describe(&ev.change),
                Err(err) => format!("{} (unreadable payload: {err})", e.kind),
            };
            EventView {
                seq: e.seq,
                at: time(e.at),
                actor: e.actor.to_string(),
                source: e.source.clone(),
                text,
            }
        })
        .collect();
    let view = ShowView {
        id: f.id.to_string(),
        title: s.title.clone(),
        severity: s.severity.to_string(),
        stage: s.stage.to_string(),
        resolution: s.resolution.map(|r| r.as_str().to_string()),
        owner: s.owner.clone().unwrap_or_else(|| "(unassigned)".into()),
        asset: s.asset.clone(),
        location: s.location.clone(),
        source: s.source.clone(),
        rule_id: s.rule_id.clone(),
        due: match s.stage {
            Stage::Closed | Stage::Accepted => "-".into(),
            Stage::New | Stage::Triage => format!(
                "triage by {}; remediate by {}",
                due_text(Some(s.triage_due), now),
                due_text(Some(s.remediate_due), now)
            ),
            _ => format!("remediate by {}", due_text(Some(s.remediate_due), now)),
        },
        first_seen: time(s.first_seen),
        last_seen: time(f.last_seen),
        times_seen: plural(f.times_seen, "time"),
        regressions: (s.regressions > 0).then(|| plural(i64::from(s.regressions), "regression")),
        accepted_until: s.accepted_until.map(time),
        fingerprint: s.fingerprint.to_string(),
        pending: s.pending.as_ref().map(|p| {
            format!(
                "approval of {}: {} of {} approvals",
                p.proposal.kind.describe(),
                p.approvals(),
                p.quorum
            )
        }),
        tags: s.tags.join(", "),
        references: s.references.join(" "),
        description: s.description.clone(),
        event_count: plural(events.len() as i64, "event"),
        events,
    };
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(handlebars::no_escape);
    hb.register_template_string("show", TEMPLATE)?;
    Ok(hb.render("show", &view)?)
}
