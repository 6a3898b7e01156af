//! `POST /discord/interactions`: Discord's Interactions Endpoint. [`DiscordRequest`] reads
//! the raw body and checks Discord's Ed25519 signature and its timestamp before anything is
//! parsed (401 and no change otherwise); the handler hands the JSON to
//! [`crate::chat::discord::inbound::handle`] and answers with its interaction response.
//!
//! Without `DISCORD_BOT_TOKEN` and `DISCORD_PUBLIC_KEY` the route answers **404** with a
//! JSON reason: this deployment takes no Discord interactions over HTTP (it may use the
//! gateway instead).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use chrono::Utc;
use serde_json::Value;

use super::error::ApiError;
use crate::app::App;
use crate::chat::discord::Discord;
use crate::chat::discord::inbound::{self, InboundError};
use crate::chat::discord::signing::{DiscordVerifier, SignatureError};

/// A request whose signature Discord made: the raw body and the Discord integration.
pub struct DiscordRequest {
    pub discord: Arc<Discord>,
    pub body: Bytes,
}

impl FromRequest<App> for DiscordRequest {
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &App) -> Result<Self, ApiError> {
        let Some(discord) = app.discord.clone() else {
            return Err(ApiError::NotFound(
                "Discord is not configured on this server: set DISCORD_BOT_TOKEN and DISCORD_PUBLIC_KEY"
                    .into(),
            ));
        };
        let Some(key) = discord.public_key else {
            return Err(ApiError::NotFound(
                "Discord interactions are not accepted on this server: DISCORD_PUBLIC_KEY is not set"
                    .into(),
            ));
        };
        let headers = req.headers().clone();
        let body = super::raw_body(req, app).await?;
        let verified =
            DiscordVerifier::new(&key).and_then(|v| v.verify_headers(&headers, &body, Utc::now()));
        if let Err(e) = verified {
            tracing::warn!(error = %e, "Discord request refused");
            return Err(ApiError::BadSignature(match e {
                SignatureError::MissingHeader(_) => {
                    "missing X-Signature-Ed25519 or X-Signature-Timestamp header"
                }
                SignatureError::BadHex => "X-Signature-Ed25519 is not 64 bytes of hex",
                SignatureError::BadTimestamp => "X-Signature-Timestamp is not a Unix time",
                SignatureError::Stale { .. } => {
                    "X-Signature-Timestamp is more than 5 minutes from the server's clock"
                }
                SignatureError::BadSignature | SignatureError::BadKey => {
                    "X-Signature-Ed25519 does not match the request"
                }
            }));
        }
        Ok(DiscordRequest { discord, body })
    }
}

pub async fn interactions(
    State(app): State<App>,
    req: DiscordRequest,
) -> Result<Json<Value>, ApiError> {
    let interaction: Value = serde_json::from_slice(&req.body)
        .map_err(|e| ApiError::BadRequest(format!("the body is not JSON: {e}")))?;
    match inbound::handle(&app, &req.discord, &interaction, Utc::now()).await {
        Ok(reply) => Ok(Json(reply)),
        Err(InboundError::BadRequest(m)) => Err(ApiError::BadRequest(m)),
        Err(InboundError::Store(e)) => Err(e.into()),
    }
}
