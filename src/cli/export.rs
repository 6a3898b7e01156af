//! `remedybot export`: the decision trail as CSV or a JSON array, streamed.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use super::ExportFormat;
use crate::app::App;
use crate::domain::FindingId;
use crate::store::{StoreError, StoredEvent};

/// RFC 4180 quoting: quote fields containing a comma, quote or line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_row(e: &StoredEvent) -> String {
    [
        e.seq.to_string(),
        e.finding.to_string(),
        e.kind.clone(),
        e.at.to_rfc3339(),
        e.actor.platform.clone(),
        e.actor.id.clone(),
        e.actor.name.clone(),
        e.source.clone(),
        e.payload.clone(),
        e.hash.clone(),
    ]
    .iter()
    .map(|f| csv_field(f))
    .collect::<Vec<_>>()
    .join(",")
}

pub async fn run(
    app: &App,
    format: ExportFormat,
    finding: Option<FindingId>,
    output: Option<&Path>,
) -> anyhow::Result<u64> {
    let sink: Box<dyn Write> = match output {
        Some(p) => {
            Box::new(std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = std::io::BufWriter::new(sink);
    let io = |e: std::io::Error| StoreError::Corrupt(format!("writing the export: {e}"));
    let n = match format {
        ExportFormat::Csv => {
            writeln!(
                out,
                "seq,finding,kind,at,actor_platform,actor_id,actor_name,source,payload,hash"
            )
            .map_err(io)?;
            app.store
                .for_each_event(finding, |e| writeln!(out, "{}", csv_row(&e)).map_err(io))
                .await?
        }
        ExportFormat::Json => {
            write!(out, "[").map_err(io)?;
            let mut first = true;
            let n = app
                .store
                .for_each_event(finding, |e| {
                    let sep = if first { "\n" } else { ",\n" };
                    first = false;
                    write!(out, "{sep}{}", crate::http::event_json(&e)).map_err(io)
                })
                .await?;
            writeln!(out, "\n]").map_err(io)?;
            n
        }
    };
    out.flush()?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(super::csv_field("plain"), "plain");
        assert_eq!(super::csv_field("a,b"), "\"a,b\"");
        assert_eq!(super::csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
