//! `POST /slack/events`, `POST /slack/interactions`, `POST /slack/commands`: Slack's HTTP
//! requests. [`SlackRequest`] reads the raw body and checks Slack's signature before
//! anything is parsed (401 and no change otherwise); the handlers hand the body to
//! [`crate::chat::slack::inbound`] and turn its answer into a response.
//!
//! Without `SLACK_BOT_TOKEN` and `SLACK_SIGNING_SECRET` the routes answer **404** with a
//! JSON reason: this deployment has no Slack app, which is not a temporary condition a
//! retry (or a 503's `Retry-After`) would fix.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::error::ApiError;
use crate::app::App;
use crate::chat::slack::Slack;
use crate::chat::slack::inbound::{self, InboundError, Reply};
use crate::chat::slack::signing::SignatureError;

/// A request whose signature Slack made: the raw body and the Slack integration.
pub struct SlackRequest {
    pub slack: Arc<Slack>,
    pub body: Bytes,
}

impl FromRequest<App> for SlackRequest {
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &App) -> Result<Self, ApiError> {
        let Some(slack) = app.slack.clone() else {
            return Err(ApiError::NotFound(
                "Slack is not configured on this server: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET"
                    .into(),
            ));
        };
        let Some(signer) = slack.signer.clone() else {
            return Err(ApiError::NotFound(
                "Slack requests are not accepted on this server: SLACK_SIGNING_SECRET is not set"
                    .into(),
            ));
        };
        let headers = req.headers().clone();
        let body = super::raw_body(req, app).await?;
        if let Err(e) = signer.verify_headers(&headers, &body, Utc::now()) {
            tracing::warn!(error = %e, "Slack request refused");
            return Err(ApiError::BadSignature(match e {
                SignatureError::MissingHeader(_) => {
                    "missing X-Slack-Signature or X-Slack-Request-Timestamp header"
                }
                SignatureError::BadTimestamp => "X-Slack-Request-Timestamp is not a Unix time",
                SignatureError::Stale { .. } => {
                    "X-Slack-Request-Timestamp is more than 5 minutes from the server's clock"
                }
                SignatureError::BadSignature => "X-Slack-Signature does not match the request",
            }));
        }
        if let Some(retry) = headers.get("x-slack-retry-num") {
            tracing::debug!(retry = ?retry, reason = ?headers.get("x-slack-retry-reason"), "Slack retry");
        }
        Ok(SlackRequest { slack, body })
    }
}

fn respond(result: Result<Reply, InboundError>) -> Result<Response, ApiError> {
    match result {
        Ok(Reply::Empty) => Ok(StatusCode::OK.into_response()),
        Ok(Reply::Json(v)) => Ok(Json(v).into_response()),
        Err(InboundError::BadRequest(m)) => Err(ApiError::BadRequest(m)),
        Err(InboundError::Store(e)) => Err(e.into()),
    }
}

pub async fn events(State(app): State<App>, req: SlackRequest) -> Result<Response, ApiError> {
    respond(inbound::events::handle(&app, &req.slack, &req.body, Utc::now()).await)
}

pub async fn interactions(State(app): State<App>, req: SlackRequest) -> Result<Response, ApiError> {
    respond(inbound::interactions::handle(&app, &req.slack, &req.body, Utc::now()).await)
}

pub async fn commands(State(app): State<App>, req: SlackRequest) -> Result<Response, ApiError> {
    respond(inbound::commands::handle(&app, &req.slack, &req.body, Utc::now()).await)
}
