//! The Slack Web API through slack-morphism's client, pointed at `SLACK_API_URL`.
//!
//! Calls take and return JSON values: messages are rendered from templates to Block Kit
//! JSON, so a typed round trip would only re-encode them. Errors are sorted into what the
//! outbox worker does next ([`SendError`]): wait, retry, or give up.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;

use crate::chat::deliver::SendError;
use crate::config::Secret;

/// Longest wait for one Web API call. Shorter than the outbox lease.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Slack error codes that will not succeed on retry: the message is parked.
const PERMANENT: &[&str] = &[
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "invalid_blocks",
    "invalid_blocks_format",
    "msg_too_long",
    "too_many_attachments",
    "message_not_found",
    "cant_update_message",
    "edit_window_closed",
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "missing_scope",
    "invalid_arguments",
    "invalid_metadata_format",
    "restricted_action",
];

/// A Slack Web API client with the bot token.
#[derive(Clone)]
pub struct SlackApi {
    client: Arc<SlackHyperClient>,
    token: Arc<SlackApiToken>,
}

impl std::fmt::Debug for SlackApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SlackApi { token: [redacted] }")
    }
}

impl SlackApi {
    /// A client for `api_url` (e.g. `https://slack.com/api/`; `http://` is accepted for
    /// local fakes).
    pub fn new(api_url: &str, bot_token: &Secret) -> std::io::Result<SlackApi> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()?
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .build();
        // slack-morphism joins the base and the method with a `/` of its own.
        let connector = SlackClientHyperConnector::with_connector(https)
            .with_slack_api_url(api_url.trim_end_matches('/'));
        Ok(SlackApi {
            client: Arc::new(SlackClient::new(connector)),
            token: Arc::new(SlackApiToken::new(bot_token.expose().to_string().into())),
        })
    }

    /// POST a JSON body to a Web API method; the response body on `ok: true`.
    pub async fn post(&self, method: &str, body: &Value) -> Result<Value, SendError> {
        let session = self.client.open_session(&self.token);
        let call = session
            .http_session_api
            .http_post::<Value, Value>(method, body, None);
        finish(method, tokio::time::timeout(CALL_TIMEOUT, call).await)
    }

    /// GET a Web API method with query parameters.
    pub async fn get(&self, method: &str, params: &[(&str, String)]) -> Result<Value, SendError> {
        let session = self.client.open_session(&self.token);
        let params: Vec<(&str, Option<String>)> =
            params.iter().map(|(k, v)| (*k, Some(v.clone()))).collect();
        let call = session
            .http_session_api
            .http_get::<Value, _, String>(method, &params, None);
        finish(method, tokio::time::timeout(CALL_TIMEOUT, call).await)
    }
}

fn finish(
    method: &str,
    result: Result<ClientResult<Value>, tokio::time::error::Elapsed>,
) -> Result<Value, SendError> {
    match result {
        Err(_) => Err(SendError::Transient {
            message: format!("{method}: no answer within {CALL_TIMEOUT:?}"),
            maybe_sent: true,
        }),
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(classify(method, e)),
    }
}

/// What a slack-morphism error means for the outbox.
pub fn classify(method: &str, e: SlackClientError) -> SendError {
    match e {
        SlackClientError::RateLimitError(r) => SendError::RateLimited {
            retry_after: r.retry_after.unwrap_or(Duration::from_secs(1)),
        },
        SlackClientError::ApiError(a) if a.code == "ratelimited" => SendError::RateLimited {
            retry_after: Duration::from_secs(1),
        },
        SlackClientError::ApiError(a) if PERMANENT.contains(&a.code.as_str()) => {
            SendError::Permanent(format!("{method}: {}", a.code))
        }
        SlackClientError::ApiError(a) => SendError::Transient {
            message: format!("{method}: {}", a.code),
            maybe_sent: false,
        },
        SlackClientError::HttpError(h) if h.status_code.as_u16() == 429 => SendError::RateLimited {
            retry_after: Duration::from_secs(1),
        },
        SlackClientError::HttpError(h) if h.status_code.is_client_error() => {
            SendError::Permanent(format!("{method}: HTTP {}", h.status_code))
        }
        SlackClientError::HttpError(h) => SendError::Transient {
            message: format!("{method}: HTTP {}", h.status_code),
            maybe_sent: false,
        },
        // Connection and protocol errors: the request may or may not have been accepted.
        other => SendError::Transient {
            message: format!("{method}: {other}"),
            maybe_sent: true,
        },
    }
}
