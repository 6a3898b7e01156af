//! `/api/v1`: ingest findings, list and show them, their trail, the summary report.
//! Every route needs the bearer token.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::require_bearer;
use super::error::ApiError;
use crate::app::{App, IngestOptions};
use crate::domain::{Actor, FindingId, Severity, Source, Stage};
use crate::ingest;
use crate::store::{FindingFilter, StoredEvent};

#[derive(Deserialize)]
pub struct IngestParams {
    format: Option<String>,
    /// `full`: the body is a complete scan (see `IngestOptions::full_scan`).
    scan: Option<String>,
    /// With `scan=full`: a source and asset the scan covered even if it found nothing there.
    scope_source: Option<String>,
    scope_asset: Option<String>,
}

impl IngestParams {
    fn options(&self) -> Result<IngestOptions, ApiError> {
        let full_scan = match self.scan.as_deref() {
            None | Some("partial") => false,
            Some("full") => true,
            Some(other) => {
                return Err(ApiError::BadRequest(format!(
                    "scan=`{other}`: expected `full` or `partial`"
                )));
            }
        };
        let scope = match (&self.scope_source, &self.scope_asset) {
            (None, None) => Vec::new(),
            (Some(s), Some(a)) if full_scan && !s.trim().is_empty() && !a.trim().is_empty() => {
                vec![(s.trim().to_string(), a.trim().to_string())]
            }
            _ => {
                return Err(ApiError::BadRequest(
                    "scope_source and scope_asset go together, with scan=full".into(),
                ));
            }
        };
        Ok(IngestOptions {
            full_scan,
            scope,
            ..IngestOptions::default()
        })
    }
}

/// `POST /api/v1/findings`
pub async fn post_findings(
    State(app): State<App>,
    headers: HeaderMap,
    params: Result<Query<IngestParams>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    require_bearer(&headers, app.settings.ingest_token.as_ref())?;
    let Query(params) = params.map_err(bad_query)?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(app.settings.ingest_body_limit_bytes)
        } else {
            ApiError::BadRequest(format!("cannot read the request body: {e}"))
        }
    })?;
    let options = params.options()?;
    let parsed = ingest::parse_all(params.format.as_deref(), &body).map_err(ApiError::BadInput)?;
    drop(body);
    let actor = Actor::new("api", "ingest-token", "ingest API");
    let outcome = app
        .ingest_reported(
            parsed.findings,
            &parsed.reports,
            &options,
            &actor,
            Source::Api,
            Utc::now(),
        )
        .await?;
    let mut reply = serde_json::to_value(outcome).map_err(|_| ApiError::Internal)?;
    reply["format"] = json!(parsed.format.name());
    Ok(Json(reply))
}

#[derive(Deserialize)]
pub struct ListParams {
    stage: Option<String>,
    severity: Option<String>,
    owner: Option<String>,
    #[serde(default)]
    overdue: bool,
    #[serde(default)]
    open: bool,
    limit: Option<i64>,
    #[serde(default)]
    offset: i64,
}

/// `GET /api/v1/findings?stage=&severity=&owner=&overdue=true&open=true&limit=&offset=`
pub async fn list_findings(
    State(app): State<App>,
    headers: HeaderMap,
    p: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    require_bearer(&headers, app.settings.ingest_token.as_ref())?;
    let Query(p) = p.map_err(bad_query)?;
    let stage = match p.stage.as_deref() {
        Some(s) => Some(Stage::parse(s).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "unknown stage `{s}`; expected one of: new, triage, rca, fix, verify, closed, accepted"
            ))
        })?),
        None => None,
    };
    let severity = match p.severity.as_deref() {
        Some(s) => Some(
            s.parse::<Severity>()
                .map_err(|e| ApiError::BadRequest(e.to_string()))?,
        ),
        None => None,
    };
    let limit = p.limit.unwrap_or(100).clamp(1, 10_000);
    let filter = FindingFilter {
        stage,
        severity,
        owner: p.owner,
        overdue_at: p.overdue.then(Utc::now),
        open_only: p.open,
        limit: Some(limit),
        offset: p.offset.max(0),
    };
    let rows = app.store.list_findings(&filter).await?;
    Ok(Json(
        json!({ "findings": rows, "limit": limit, "offset": filter.offset }),
    ))
}

fn bad_query(e: QueryRejection) -> ApiError {
    ApiError::BadRequest(e.body_text())
}

fn parse_id(raw: &str) -> Result<FindingId, ApiError> {
    raw.parse()
        .map_err(|e: crate::domain::finding::BadFindingId| ApiError::BadRequest(e.to_string()))
}

/// `GET /api/v1/findings/{id}`
pub async fn get_finding(
    State(app): State<App>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    require_bearer(&headers, app.settings.ingest_token.as_ref())?;
    let id = parse_id(&raw)?;
    let f = app
        .store
        .finding(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("finding {id} not found")))?;
    let overdue = f.state.is_overdue(Utc::now());
    let mut v = serde_json::to_value(&f).map_err(|_| ApiError::Internal)?;
    v["overdue"] = json!(overdue);
    Ok(Json(v))
}

/// The JSON shape of one trail event (also used by `remedybot export --format json`).
pub fn event_json(e: &StoredEvent) -> Value {
    json!({
        "seq": e.seq,
        "finding": e.finding,
        "kind": e.kind,
        "actor": e.actor,
        "source": e.source,
        "at": e.at,
        "payload": e.payload_json(),
        "hash": e.hash,
    })
}

/// `GET /api/v1/findings/{id}/trail`
pub async fn get_trail(
    State(app): State<App>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    require_bearer(&headers, app.settings.ingest_token.as_ref())?;
    let id = parse_id(&raw)?;
    if app.store.finding(id).await?.is_none() {
        return Err(ApiError::NotFound(format!("finding {id} not found")));
    }
    let events: Vec<Value> = app.store.trail(id).await?.iter().map(event_json).collect();
    Ok(Json(json!({ "finding": id, "events": events })))
}

/// `GET /api/v1/reports/summary`
pub async fn summary(State(app): State<App>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    require_bearer(&headers, app.settings.ingest_token.as_ref())?;
    let r = app.store.summary(Utc::now()).await?;
    Ok(Json(
        serde_json::to_value(r).map_err(|_| ApiError::Internal)?,
    ))
}
