//! Plain-text tables for the terminal.

use std::io::{self, Write};

use chrono::{DateTime, Utc};

use crate::domain::NewFinding;
use crate::routing::Router;
use crate::store::{FindingSummary, SummaryReport};

/// Cut `s` to at most `max` characters, marking the cut with `…`.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

/// "2026-03-01 (overdue 4d)" / "2026-03-01 (in 12d)" / "-".
pub fn due_text(due: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match due {
        None => "-".into(),
        Some(d) => {
            let span = |delta: chrono::Duration| match delta.num_days() {
                0 => format!("{}h", delta.num_hours()),
                days => format!("{days}d"),
            };
            let rel = if d < now {
                format!("overdue {}", span(now - d))
            } else {
                format!("in {}", span(d - now))
            };
            format!("{} ({rel})", d.date_naive())
        }
    }
}

/// Writes the findings table one row at a time (the header before the first row).
pub struct FindingsTable<W: Write> {
    out: W,
    now: DateTime<Utc>,
    rows: u64,
}

impl<W: Write> FindingsTable<W> {
    pub fn new(out: W, now: DateTime<Utc>) -> Self {
        FindingsTable { out, now, rows: 0 }
    }

    pub fn row(&mut self, r: &FindingSummary) -> io::Result<()> {
        if self.rows == 0 {
            writeln!(
                self.out,
                "{:<9} {:<8} {:<8} {:<25} {:<20} TITLE",
                "ID", "SEVERITY", "STAGE", "DUE", "OWNER"
            )?;
        }
        self.rows += 1;
        writeln!(
            self.out,
            "{:<9} {:<8} {:<8} {:<25} {:<20} {}",
            r.id.to_string(),
            r.severity,
            r.stage,
            due_text(r.due_at, self.now),
            truncate(r.owner.as_deref().unwrap_or("-"), 20),
            truncate(&r.title, 60)
        )
    }

    pub fn finish(mut self) -> io::Result<()> {
        match self.rows {
            0 => writeln!(self.out, "no findings match")?,
            n => writeln!(self.out, "{n} findings")?,
        }
        self.out.flush()
    }
}

pub fn summary_text(r: &SummaryReport) -> String {
    let mut s = format!(
        "Findings: {} in total, {} overdue\n\nOpen by severity:\n",
        r.total, r.overdue
    );
    for c in &r.open_by_severity {
        s.push_str(&format!("  {:<9} {}\n", c.severity.as_str(), c.count));
    }
    s.push_str("\nBy stage:\n");
    for c in &r.by_stage {
        s.push_str(&format!("  {:<9} {}\n", c.stage.as_str(), c.count));
    }
    let mttr = match r.median_hours_to_remediate {
        Some(h) if h >= 48.0 => format!("{:.1} days", h / 24.0),
        Some(h) => format!("{h:.1} hours"),
        None => "n/a (nothing closed as fixed yet)".into(),
    };
    s.push_str(&format!(
        "\nClosed as fixed: {}; median time to remediate: {mttr}\nRegressions: {}\n",
        r.closed_fixed, r.regressions
    ));
    s
}

/// `remedybot route`: the matching rule and its result, and with `explain` every rule tried.
pub fn route_explanation(
    out: &mut impl Write,
    label: &str,
    f: &NewFinding,
    router: &Router,
    explain: bool,
) -> io::Result<()> {
    writeln!(
        out,
        "{label}  {} {} {} on {}{}",
        f.source,
        f.severity,
        f.rule_id,
        f.asset,
        if f.location.is_empty() {
            String::new()
        } else {
            format!(" at {}", f.location)
        }
    )?;
    let (steps, routed) = router.explain(f);
    for step in &steps {
        if !step.matched && !explain {
            continue;
        }
        let mark = if step.matched { "✓" } else { "✗" };
        writeln!(out, "  {mark} {}: {}", step.route, step.reasons.join("; "))?;
    }
    let mut result = vec![format!(
        "owner {}",
        routed.owner.as_deref().unwrap_or("(none)")
    )];
    if !routed.slack_channels.is_empty() {
        result.push(format!("slack {}", routed.slack_channels.join(" ")));
    }
    if !routed.discord_channels.is_empty() {
        result.push(format!("discord {}", routed.discord_channels.join(" ")));
    }
    if let Some(policy) = &routed.policy {
        result.push(format!("policy {policy}"));
    }
    writeln!(out, "  → {}", result.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_marks_the_cut_and_counts_characters() {
        assert_eq!(truncate("héllo", 5), "héllo");
        assert_eq!(truncate("héllo world", 5), "héll…");
    }
}
