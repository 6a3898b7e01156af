//! `/remedy` application commands and their autocomplete. Placeholder until the command
//! handlers land.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::InboundError;
use crate::app::App;
use crate::chat::discord::Discord;

/// Answer an application command or autocomplete interaction.
pub async fn handle(
    _app: &App,
    _discord: &Arc<Discord>,
    _interaction: &Value,
    _now: DateTime<Utc>,
) -> Result<Value, InboundError> {
    Ok(super::ephemeral(
        "`/remedy` is not available on Discord yet.",
    ))
}
