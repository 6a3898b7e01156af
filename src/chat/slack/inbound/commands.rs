//! `POST /slack/commands`: the `/remedy` slash command. The text is parsed by
//! [`RemedyCommand::parse`] and run by [`crate::chat::remedy::run`]; the answer goes back
//! in the HTTP response as an ephemeral message (only the caller sees it). Listings show
//! only findings in channels the caller is in (see [`super::visibility`]); every piece of
//! finding text is escaped for mrkdwn.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;

use super::answer::{Mrkdwn, to_json};
use super::visibility::{self, VisibilityError};
use super::{InboundError, Reply};
use crate::app::App;
use crate::chat::answer::Answer;
use crate::chat::command::RemedyCommand;
use crate::chat::remedy::{self, Audience, Caller, Failure};
use crate::chat::slack::Slack;
use crate::domain::Source;

/// Answer one slash command request (body already verified).
pub async fn handle(
    app: &App,
    slack: &Arc<Slack>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Reply, InboundError> {
    let form = super::form(body);
    if form.get("ssl_check").is_some_and(|v| v == "1") {
        return Ok(Reply::Empty);
    }
    let field = |k: &str| form.get(k).filter(|v| !v.is_empty()).cloned();
    let user = field("user_id")
        .ok_or_else(|| InboundError::BadRequest("the form has no user_id".into()))?;
    let caller = Caller {
        platform: Source::Slack,
        name: field("user_name").unwrap_or_else(|| user.clone()),
        user,
    };
    let markup = Mrkdwn {
        slash: field("command").unwrap_or_else(|| "/remedy".into()),
    };
    let command = RemedyCommand::parse(form.get("text").map_or("", |t| t), Source::Slack);
    let audience = Member {
        slack,
        user: &caller.user,
    };
    let answer = match remedy::run(app, &caller, &audience, command, now).await {
        Ok(answer) => answer,
        Err(Failure::Hidden(message)) => Answer::plain(message),
        Err(Failure::Store(e)) => return Err(e.into()),
    };
    Ok(Reply::Json(to_json(&answer, &markup)))
}

/// A Slack user sees the channels they are a member of.
struct Member<'a> {
    slack: &'a Slack,
    user: &'a str,
}

impl Audience for Member<'_> {
    fn visible_channels<'a>(
        &'a self,
        channels: &'a BTreeSet<String>,
    ) -> BoxFuture<'a, Result<HashSet<String>, Failure>> {
        Box::pin(async move {
            let member_of = visibility::user_channels(self.slack, self.user)
                .await
                .map_err(|e| match e {
                    VisibilityError::Store(s) => Failure::Store(s),
                    other => Failure::Hidden(other.to_string()),
                })?;
            Ok(channels
                .iter()
                .filter(|c| member_of.contains(*c))
                .cloned()
                .collect())
        })
    }
}
