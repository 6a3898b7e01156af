//! Socket Mode: Slack delivers events, interactions and slash commands over a websocket
//! the bot opens, so no public URL is needed. The default transport when `SLACK_APP_TOKEN`
//! is set.
//!
//! The websocket URL comes from `apps.connections.open` (through slack-morphism's Web API
//! client and `SLACK_API_URL`, so tests and GovSlack work). Envelopes are read as raw JSON
//! and handed to the same handlers as the HTTP routes — the payload an envelope carries is
//! what Slack would have POSTed — so both transports behave identically. (slack-morphism's
//! own Socket Mode listener parses payloads into typed structs first, which drops fields
//! remedybot needs, e.g. `selected_user` of a users_select action.)
//!
//! Every envelope is acknowledged with its `envelope_id`; for slash commands and view
//! submissions the acknowledgement carries the answer (`accepts_response_payload`). Each
//! envelope is handled in its own task, so a slow one does not delay the next. The
//! connection is re-opened after Slack's `disconnect` message, a close or an error, with
//! backoff.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

use super::Slack;
use super::api::SlackApi;
use super::inbound::{self, InboundError, Reply};
use crate::app::App;
use crate::config::Secret;

/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Run Socket Mode until shutdown.
pub async fn run(
    app: App,
    slack: Arc<Slack>,
    app_token: Secret,
    mut shutdown: watch::Receiver<bool>,
) {
    let api = match SlackApi::new(&app.settings.slack.api_url, &app_token) {
        Ok(api) => api,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the Slack client for Socket Mode");
            return;
        }
    };
    let mut failures = 0u32;
    loop {
        match connection(&app, &slack, &api, &mut shutdown).await {
            Ok(Ended::Shutdown) => return,
            Ok(Ended::Reconnect) => {
                failures = 0;
                tracing::info!("Slack asked Socket Mode to reconnect");
            }
            Err(e) => {
                failures += 1;
                let wait = Duration::from_secs(1u64 << failures.min(5)).min(MAX_BACKOFF);
                tracing::warn!(error = %e, ?wait, "Socket Mode connection failed; retrying");
                tokio::select! {
                    _ = shutdown.changed() => return,
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
    }
}

enum Ended {
    Shutdown,
    Reconnect,
}

/// One websocket connection, from `apps.connections.open` to its end.
async fn connection(
    app: &App,
    slack: &Arc<Slack>,
    api: &SlackApi,
    shutdown: &mut watch::Receiver<bool>,
) -> anyhow::Result<Ended> {
    let setup = async {
        let opened = api
            .post("apps.connections.open", &json!({}))
            .await
            .map_err(|e| anyhow::anyhow!("apps.connections.open: {e}"))?;
        let url = opened["url"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("apps.connections.open answered without a url"))?;
        let (ws, _) = tokio_tungstenite::connect_async(url).await?;
        anyhow::Ok(ws)
    };
    let ws = tokio::select! {
        _ = shutdown.changed() => return Ok(Ended::Shutdown),
        ws = setup => ws?,
    };
    tracing::info!("Socket Mode connected");
    let (mut sink, mut stream) = ws.split();
    // Acknowledgements come back from the envelope tasks through this channel.
    let (ack_tx, mut ack_rx) = mpsc::channel::<Message>(64);
    loop {
        tokio::select! {
            _ = shutdown.changed() => {
                let _ = sink.send(Message::Close(None)).await;
                return Ok(Ended::Shutdown);
            }
            Some(ack) = ack_rx.recv() => sink.send(ack).await?,
            frame = stream.next() => {
                let Some(frame) = frame else { return Ok(Ended::Reconnect) };
                match frame? {
                    Message::Text(text) => {
                        if let Some(end) = on_frame(app, slack, text.as_str(), &ack_tx) {
                            return Ok(end);
                        }
                    }
                    Message::Ping(p) => sink.send(Message::Pong(p)).await?,
                    Message::Close(_) => return Ok(Ended::Reconnect),
                    _ => {}
                }
            }
        }
    }
}

/// Handle one frame; `Some` when the connection should end.
fn on_frame(
    app: &App,
    slack: &Arc<Slack>,
    text: &str,
    acks: &mpsc::Sender<Message>,
) -> Option<Ended> {
    let envelope: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(error = %e, "Socket Mode sent a frame that is not JSON; ignored");
            return None;
        }
    };
    match envelope["type"].as_str() {
        Some("hello") => None,
        Some("disconnect") => Some(Ended::Reconnect),
        Some(kind @ ("events_api" | "interactive" | "slash_commands")) => {
            let Some(envelope_id) = envelope["envelope_id"].as_str().map(str::to_string) else {
                tracing::warn!(kind, "Socket Mode envelope without an envelope_id; ignored");
                return None;
            };
            let kind = kind.to_string();
            let (app, slack, acks) = (app.clone(), slack.clone(), acks.clone());
            tokio::spawn(async move {
                let payload = &envelope["payload"];
                let reply = dispatch(&app, &slack, &kind, payload).await;
                let ack = acknowledgement(&envelope_id, reply);
                let _ = acks.send(Message::Text(ack.to_string().into())).await;
            });
            None
        }
        other => {
            tracing::debug!(kind = ?other, "Socket Mode frame ignored");
            None
        }
    }
}

/// Run an envelope's payload through the HTTP handlers, as the body Slack would POST.
async fn dispatch(
    app: &App,
    slack: &Arc<Slack>,
    kind: &str,
    payload: &Value,
) -> Result<Reply, InboundError> {
    let now = Utc::now();
    match kind {
        "events_api" => {
            let body = serde_json::to_vec(payload).unwrap_or_default();
            inbound::events::handle(app, slack, &body, now).await
        }
        "interactive" => {
            let body = form_body(&[("payload", payload.to_string())]);
            inbound::interactions::handle(app, slack, body.as_bytes(), now).await
        }
        _ => {
            // Slash commands arrive as the JSON object of the form Slack would POST.
            let fields: Vec<(&str, String)> = payload
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| {
                    let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                    (k.as_str(), v)
                })
                .collect();
            inbound::commands::handle(app, slack, form_body(&fields).as_bytes(), now).await
        }
    }
}

fn form_body(fields: &[(&str, String)]) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        form.append_pair(k, v);
    }
    form.finish()
}

/// The acknowledgement frame: the envelope id, and the answer when there is one.
fn acknowledgement(envelope_id: &str, reply: Result<Reply, InboundError>) -> Value {
    match reply {
        Ok(Reply::Json(payload)) => json!({ "envelope_id": envelope_id, "payload": payload }),
        Ok(Reply::Empty) => json!({ "envelope_id": envelope_id }),
        Err(e) => {
            // Acknowledge anyway: Slack would redeliver a payload we cannot handle.
            tracing::warn!(error = %e, "Socket Mode payload refused");
            json!({ "envelope_id": envelope_id })
        }
    }
}
