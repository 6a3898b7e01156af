//! `/healthz` (the process is up), `/readyz` (the database is reachable and migrated) and
//! `/metrics` (Prometheus text).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

use super::error::ApiError;
use crate::app::App;

pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(app): State<App>) -> Result<impl IntoResponse, ApiError> {
    app.store.ready().await?;
    Ok((
        StatusCode::OK,
        Json(json!({ "status": "ready", "database": app.store.backend().name() })),
    ))
}

pub async fn metrics(State(app): State<App>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.metrics.render(),
    )
}
