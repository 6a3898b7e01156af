//! Read queries: listings with filters, one finding, its trail, the whole log, summaries.

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use serde::Serialize;
use sqlx::Row;

use super::rows::{FindingSummary, StoredEvent, StoredFinding, SummaryTuple};
use super::sql::Sql;
use super::{Backend, Ctx, Store, StoreError, to_ms};
use crate::domain::{FindingId, Severity, Stage};

/// Rows per listing page.
const PAGE: i64 = 5_000;

/// Filters for [`Store::list_findings`]. All are optional and combine with AND.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    pub stage: Option<Stage>,
    pub severity: Option<Severity>,
    pub owner: Option<String>,
    /// Only findings whose next deadline is before this time.
    pub overdue_at: Option<DateTime<Utc>>,
    /// Only open findings (not closed, not accepted).
    pub open_only: bool,
    pub limit: Option<i64>,
    pub offset: i64,
}

/// How many findings have one severity.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct SeverityCount {
    pub severity: Severity,
    pub count: i64,
}

/// How many findings are in one stage.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct StageCount {
    pub stage: Stage,
    pub count: i64,
}

/// Counts for `remedybot report` and `GET /api/v1/reports/summary`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SummaryReport {
    pub generated_at: DateTime<Utc>,
    pub total: i64,
    /// Open findings per severity, most severe first (every severity listed, zeros too).
    pub open_by_severity: Vec<SeverityCount>,
    /// Findings per stage (every stage listed).
    pub by_stage: Vec<StageCount>,
    pub overdue: i64,
    /// Closed as fixed: the median of (closed − opened), in hours; `None` with none closed.
    pub median_hours_to_remediate: Option<f64>,
    pub closed_fixed: i64,
    pub regressions: i64,
}

impl Store {
    /// Findings matching `filter`: overdue listings soonest-due first, others worst first.
    pub async fn list_findings(
        &self,
        filter: &FindingFilter,
    ) -> Result<Vec<FindingSummary>, StoreError> {
        let mut rows = Vec::new();
        self.each_finding(filter, |f| {
            rows.push(f);
            Ok(())
        })
        .await?;
        Ok(rows)
    }

    /// Like [`Store::list_findings`], handing each row to `sink` as it arrives.
    ///
    /// Rows come in pages of [`PAGE`], each page aggregated by the database into one JSON
    /// array: handing rows over one by one costs more than the query itself on large
    /// listings. Pages continue from the last row's sort key (keyset), not by offset.
    pub async fn each_finding(
        &self,
        filter: &FindingFilter,
        mut sink: impl FnMut(FindingSummary) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        // Overdue listings are soonest-due first; others worst first.
        let (sort, descending) = match filter.overdue_at {
            Some(_) => ("due_at", false),
            None => ("severity_rank", true),
        };
        let mut remaining = filter.limit.map(|l| l.max(0));
        let mut offset = filter.offset.max(0);
        let mut after: Option<(i64, i64)> = None;
        let mut n = 0u64;
        loop {
            let page = remaining.map_or(PAGE, |r| r.min(PAGE));
            if page == 0 {
                break;
            }
            let mut q = Sql::new(self.backend, "SELECT ");
            let cols = FindingSummary::COLUMNS;
            let dir = if descending { " DESC" } else { "" };
            // The aggregate takes rows in the page's order on both databases; an ORDER BY
            // inside it would sort the page a second time. Order is checked below anyway.
            match self.backend {
                Backend::Sqlite => {
                    q.push(&format!("json_group_array(json_array({cols}, sort_key))"))
                }
                Backend::Postgres => q.push(&format!(
                    "COALESCE(json_agg(json_build_array({cols}, sort_key)), '[]')::text"
                )),
            };
            q.push(&format!(
                " FROM (SELECT {cols}, {sort} AS sort_key FROM findings WHERE 1 = 1"
            ));
            self.push_filter(&mut q, filter);
            if let Some((value, key)) = after {
                let cmp = if descending { "<" } else { ">" };
                q.push(&format!(" AND ({sort} {cmp} ")).bind(value);
                q.push(&format!(" OR ({sort} = ")).bind(value);
                q.push(" AND key > ").bind(key).push("))");
            }
            q.push(&format!(" ORDER BY {sort}{dir}, key LIMIT "))
                .bind(page);
            q.push(" OFFSET ").bind(std::mem::take(&mut offset));
            q.push(") page");
            let json: String = q
                .build()
                .fetch_one(self.pool())
                .await
                .ctx("listing findings")?
                .try_get(0)
                .ctx("listing findings")?;
            let mut rows: Vec<SummaryTuple> = serde_json::from_str(&json)
                .map_err(|e| StoreError::Corrupt(format!("listing findings: {e}")))?;
            // Neither database promises aggregate order without ORDER BY; a stable sort of
            // already-sorted rows is one linear pass, so make sure instead of trusting.
            if descending {
                rows.sort_by_key(|r| (std::cmp::Reverse(r.12), r.0));
            } else {
                rows.sort_by_key(|r| (r.12, r.0));
            }
            let count = rows.len() as i64;
            for row in rows {
                after = Some((row.12, row.0));
                sink(FindingSummary::from_tuple(row))?;
                n += 1;
            }
            if let Some(r) = remaining.as_mut() {
                *r -= count;
            }
            if count < page {
                break;
            }
        }
        Ok(n)
    }

    fn push_filter(&self, q: &mut Sql, filter: &FindingFilter) {
        if let Some(stage) = filter.stage {
            q.push(" AND stage = ").bind(stage.as_str());
        }
        if let Some(sev) = filter.severity {
            q.push(" AND severity = ").bind(sev.as_str());
        }
        if let Some(owner) = &filter.owner {
            q.push(" AND owner = ").bind(owner.clone());
        }
        if filter.open_only {
            q.push(" AND stage NOT IN ('closed', 'accepted')");
        }
        if let Some(at) = filter.overdue_at {
            q.push(" AND due_at IS NOT NULL AND due_at < ")
                .bind(to_ms(at));
        }
    }

    /// The id of the finding with this fingerprint, if there is one.
    pub async fn finding_id(&self, fingerprint: &str) -> Result<Option<FindingId>, StoreError> {
        let row = sqlx::query("SELECT key FROM findings WHERE fingerprint = $1")
            .bind(fingerprint.to_string())
            .fetch_optional(self.pool())
            .await
            .ctx("looking up a fingerprint")?;
        row.map(|r| r.try_get::<i64, _>(0).map(FindingId::from_key))
            .transpose()
            .ctx("looking up a fingerprint")
    }

    pub async fn finding(&self, id: FindingId) -> Result<Option<StoredFinding>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM {} WHERE f.key = $1",
            StoredFinding::COLUMNS,
            StoredFinding::FROM
        )))
        .bind(id.key())
        .fetch_optional(self.pool())
        .await
        .ctx("loading a finding")?;
        row.as_ref().map(StoredFinding::from_row).transpose()
    }

    /// One finding's events, oldest first.
    pub async fn trail(&self, id: FindingId) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM events WHERE finding_key = $1 ORDER BY seq",
            StoredEvent::COLUMNS
        )))
        .bind(id.key())
        .fetch_all(self.pool())
        .await
        .ctx("loading a trail")?;
        rows.iter().map(StoredEvent::from_row).collect()
    }

    /// One event by sequence number.
    pub async fn event(&self, seq: i64) -> Result<Option<StoredEvent>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM events WHERE seq = $1",
            StoredEvent::COLUMNS
        )))
        .bind(seq)
        .fetch_optional(self.pool())
        .await
        .ctx("loading an event")?;
        row.as_ref().map(StoredEvent::from_row).transpose()
    }

    /// Stream every event (optionally of one finding) to `sink`, oldest first, without
    /// holding the whole log in memory.
    pub async fn for_each_event(
        &self,
        finding: Option<FindingId>,
        mut sink: impl FnMut(StoredEvent) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let sql = match finding {
            Some(_) => format!(
                "SELECT {} FROM events WHERE finding_key = $1 ORDER BY seq",
                StoredEvent::COLUMNS
            ),
            None => format!("SELECT {} FROM events ORDER BY seq", StoredEvent::COLUMNS),
        };
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(id) = finding {
            query = query.bind(id.key());
        }
        let mut rows = query.fetch(self.pool());
        let mut n = 0;
        while let Some(row) = rows.try_next().await.ctx("reading events")? {
            sink(StoredEvent::from_row(&row)?)?;
            n += 1;
        }
        Ok(n)
    }

    /// Backlog counts, overdue and median time to remediate.
    pub async fn summary(&self, now: DateTime<Utc>) -> Result<SummaryReport, StoreError> {
        const C: &str = "computing the summary";
        let rows =
            sqlx::query("SELECT severity, stage, COUNT(*) FROM findings GROUP BY severity, stage")
                .fetch_all(self.pool())
                .await
                .ctx(C)?;
        let mut open = [0i64; 5];
        let mut stages = [0i64; 7];
        let mut total = 0;
        for row in &rows {
            let sev: String = row.try_get(0).ctx(C)?;
            let stage: String = row.try_get(1).ctx(C)?;
            let n: i64 = row.try_get(2).ctx(C)?;
            total += n;
            let stage = Stage::parse(&stage)
                .ok_or_else(|| StoreError::Corrupt(format!("stage `{stage}`")))?;
            stages[Stage::ALL.iter().position(|s| *s == stage).unwrap_or(0)] += n;
            if !matches!(stage, Stage::Closed | Stage::Accepted) {
                let sev: Severity = sev
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("severity `{sev}`")))?;
                open[Severity::ALL.iter().position(|s| *s == sev).unwrap_or(0)] += n;
            }
        }
        let overdue: i64 =
            sqlx::query("SELECT COUNT(*) FROM findings WHERE due_at IS NOT NULL AND due_at < $1")
                .bind(to_ms(now))
                .fetch_one(self.pool())
                .await
                .ctx(C)?
                .try_get(0)
                .ctx(C)?;
        let durations: Vec<i64> = sqlx::query(
            "SELECT closed_at - opened_at FROM findings WHERE resolution = 'fixed' AND closed_at IS NOT NULL ORDER BY 1",
        )
        .fetch_all(self.pool())
        .await
        .ctx(C)?
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<Result<_, _>>()
        .ctx(C)?;
        let regressions: i64 = sqlx::query("SELECT COUNT(*) FROM events WHERE kind = 'reopened' AND payload LIKE '%\"regression\"%'")
            .fetch_one(self.pool())
            .await
            .ctx(C)?
            .try_get(0)
            .ctx(C)?;
        Ok(SummaryReport {
            generated_at: now,
            total,
            open_by_severity: Severity::ALL
                .iter()
                .zip(open)
                .map(|(&severity, count)| SeverityCount { severity, count })
                .collect(),
            by_stage: Stage::ALL
                .iter()
                .zip(stages)
                .map(|(&stage, count)| StageCount { stage, count })
                .collect(),
            overdue,
            median_hours_to_remediate: median(&durations).map(|ms| ms / 3_600_000.0),
            closed_fixed: durations.len() as i64,
            regressions,
        })
    }
}

/// Median of sorted values.
fn median(sorted: &[i64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2] as f64),
        _ => Some((sorted[n / 2 - 1] as f64 + sorted[n / 2] as f64) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn median_of_odd_and_even_lists() {
        assert_eq!(super::median(&[]), None);
        assert_eq!(super::median(&[1, 5, 9]), Some(5.0));
        assert_eq!(super::median(&[1, 3]), Some(2.0));
    }
}
