//! `POST /api/v1/webhooks/github`: GitHub security-alert deliveries, verified with
//! `X-Hub-Signature-256` (HMAC-SHA256 of the raw body under `GITHUB_WEBHOOK_SECRET`,
//! compared in constant time) before anything is read. Alert deliveries are handled once per
//! `X-GitHub-Delivery` id (see `App::github_alert`); the id is looked at only after the
//! signature check, so an unsigned request cannot use up an id.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::error::ApiError;
use crate::app::App;
use crate::ingest::github::{self, Delivery};

/// Whether `header` (`sha256=<hex>`) is the HMAC-SHA256 of `body` under `secret`.
pub fn signature_valid(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(given) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(given) = hex::decode(given) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

pub async fn webhook(
    State(app): State<App>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(app.settings.body_limit_bytes)
        } else {
            ApiError::BadRequest(format!("cannot read the request body: {e}"))
        }
    })?;
    let Some(secret) = app.settings.github_webhook_secret.as_ref() else {
        tracing::warn!("GitHub webhook delivery refused: GITHUB_WEBHOOK_SECRET is not set");
        return Err(ApiError::BadSignature(
            "GitHub webhooks are not configured on this server",
        ));
    };
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !signature_valid(secret.expose().as_bytes(), &body, signature) {
        return Err(ApiError::BadSignature(
            "missing or invalid X-Hub-Signature-256 signature",
        ));
    }
    let event = headers
        .get("x-github-event")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::BadRequest("missing X-GitHub-Event header".into()))?;
    match github::parse(event, &body).map_err(ApiError::BadInput)? {
        Delivery::Ping { zen } => Ok((StatusCode::OK, Json(json!({ "pong": true, "zen": zen })))),
        Delivery::Unsupported { event } => Ok((
            StatusCode::ACCEPTED,
            Json(
                json!({ "ignored": format!("event `{event}` is not handled; remedybot reads code_scanning_alert, dependabot_alert, secret_scanning_alert and repository_vulnerability_alert") }),
            ),
        )),
        Delivery::Alert(alert) => {
            let delivery = headers
                .get("x-github-delivery")
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|d| !d.is_empty());
            if delivery.is_none() {
                tracing::warn!(
                    event,
                    "GitHub delivery without X-GitHub-Delivery: processed, but a redelivery cannot be recognised"
                );
            }
            let outcome = app.github_alert(*alert, delivery, Utc::now()).await?;
            Ok((
                StatusCode::OK,
                Json(serde_json::to_value(outcome).map_err(|_| ApiError::Internal)?),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::signature_valid;

    #[test]
    fn the_published_github_vector_verifies() {
        let secret = b"It's a Secret to Everybody";
        let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(signature_valid(secret, b"Hello, World!", header));
        assert!(!signature_valid(secret, b"Hello, World?", header));
        assert!(!signature_valid(b"other", b"Hello, World!", header));
        assert!(!signature_valid(secret, b"Hello, World!", &header[7..]));
        assert!(!signature_valid(secret, b"Hello, World!", "sha256=zz"));
        assert!(!signature_valid(secret, b"Hello, World!", ""));
    }
}
