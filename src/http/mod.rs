//! The HTTP surface: an axum router over [`App`]. Handlers parse and authenticate at the
//! edge, call application services, and turn errors into [`ApiError`] responses.

mod api;
mod auth;
mod discord;
mod error;
mod github;
mod health;
mod slack;

use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::handler::Handler;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};

pub use api::event_json;
pub use error::ApiError;

use crate::app::App;

/// Build the router with every route of the public contract that exists so far. Request
/// bodies are limited to `body_limit_bytes`, except the ingest route's (scanner reports are
/// large; chat and webhook payloads are small, and a small limit there limits abuse).
pub fn router(app: App) -> Router {
    let limit = app.settings.body_limit_bytes;
    let ingest_limit = app.settings.ingest_body_limit_bytes;
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route(
            "/api/v1/findings",
            post(api::post_findings.layer(DefaultBodyLimit::max(ingest_limit)))
                .get(api::list_findings),
        )
        .route("/api/v1/findings/{id}", get(api::get_finding))
        .route("/api/v1/findings/{id}/trail", get(api::get_trail))
        .route("/api/v1/reports/summary", get(api::summary))
        .route("/api/v1/webhooks/github", post(github::webhook))
        .route("/slack/events", post(slack::events))
        .route("/slack/interactions", post(slack::interactions))
        .route("/slack/commands", post(slack::commands))
        .route("/discord/interactions", post(discord::interactions))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(app.clone(), record))
        .with_state(app)
}

/// The raw body of a signed request (signatures cover the exact bytes), within the
/// router's body limit.
async fn raw_body(req: Request, app: &App) -> Result<axum::body::Bytes, ApiError> {
    use axum::extract::FromRequest;
    axum::body::Bytes::from_request(req, app)
        .await
        .map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge(app.settings.body_limit_bytes)
            } else {
                ApiError::BadRequest(format!("cannot read the request body: {e}"))
            }
        })
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".into())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Count every request by route template and status, and time it.
async fn record(State(app): State<App>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let response = next.run(req).await;
    app.metrics
        .record_request(&method, &route, response.status().as_u16(), start.elapsed());
    response
}
