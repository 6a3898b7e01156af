//! The Discord REST API through serenity, pointed at `DISCORD_API_URL`.
//!
//! Requests are built by serenity ([`Route`] and [`Request`]: its paths, its headers) and
//! sent with the reqwest client serenity itself uses, but the answers are read here:
//! serenity's errors drop the headers and the `retry_after` of a 429, and its rate limiter
//! cannot be used with a base URL at all. So rate limiting is remedybot's own: a 429's
//! `retry_after` and an exhausted bucket (`X-RateLimit-Remaining: 0`,
//! `X-RateLimit-Reset-After`) both become [`SendError::RateLimited`] or a [`Call::pause`]
//! for the outbox. Bodies are JSON values: messages are rendered from templates.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use serenity::http::{Http, HttpBuilder, LightMethod, Request, Route};

use crate::chat::deliver::SendError;
use crate::config::Secret;

/// Longest wait for one REST call. Shorter than the outbox lease.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Discord JSON error codes that will not succeed on retry.
/// 10003 Unknown Channel, 10004 Unknown Guild, 10008 Unknown Message, 50001 Missing Access,
/// 50013 Missing Permissions, 50035 Invalid Form Body, 160004 thread already created.
const PERMANENT_CODES: &[i64] = &[10003, 10004, 10008, 50001, 50013, 50035, 160004];

/// A Discord REST client with the bot token.
#[derive(Clone)]
pub struct DiscordApi {
    http: Arc<Http>,
    client: reqwest::Client,
    proxy: Option<String>,
}

impl std::fmt::Debug for DiscordApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DiscordApi {{ proxy: {:?}, token: [redacted] }}",
            self.proxy
        )
    }
}

/// A successful answer: its JSON body (`Null` for 204) and how long to wait before the next
/// call in the same bucket (`Some` when the bucket is exhausted).
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub body: Value,
    pub pause: Option<Duration>,
}

impl DiscordApi {
    /// A client for `api_url` (the origin, `https://discord.com` in production; `http://` is
    /// accepted for local fakes).
    pub fn new(api_url: &str, bot_token: &Secret) -> DiscordApi {
        let client = reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            .build()
            .unwrap_or_default();
        let proxy = (api_url != crate::config::DEFAULT_DISCORD_API_URL)
            .then(|| api_url.trim_end_matches('/').to_string());
        let mut builder = HttpBuilder::new(bot_token.expose()).client(client.clone());
        if let Some(proxy) = &proxy {
            // serenity ignores a proxy while its own rate limiter is on.
            builder = builder.proxy(proxy.clone()).ratelimiter_disabled(true);
        }
        DiscordApi {
            http: Arc::new(builder.build()),
            client,
            proxy,
        }
    }

    /// serenity's client, for typed calls.
    pub fn http(&self) -> &Arc<Http> {
        &self.http
    }

    /// A serenity client configured like this one (same token, base URL and connection
    /// pool), for the gateway, which takes ownership of its own.
    pub fn serenity_http(&self) -> Http {
        let mut builder = HttpBuilder::new(self.http.token()).client(self.client.clone());
        if let Some(proxy) = &self.proxy {
            builder = builder.proxy(proxy.clone()).ratelimiter_disabled(true);
        }
        builder.build()
    }

    /// Send one request; `what` names it in errors and logs (e.g. `create message`).
    pub async fn call(
        &self,
        what: &str,
        route: Route<'_>,
        method: LightMethod,
        body: Option<&Value>,
    ) -> Result<Call, SendError> {
        self.call_with(what, route, method, body, None).await
    }

    /// [`DiscordApi::call`] with query parameters.
    pub async fn call_with(
        &self,
        what: &str,
        route: Route<'_>,
        method: LightMethod,
        body: Option<&Value>,
        params: Option<Vec<(&'static str, String)>>,
    ) -> Result<Call, SendError> {
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap_or_default());
        let request = Request::new(route, method).body(bytes).params(params);
        let builder = request
            .build(&self.client, self.http.token(), self.proxy.as_deref())
            .map_err(|e| SendError::Permanent(format!("{what}: cannot build the request: {e}")))?;
        let response = match builder.send().await {
            Ok(r) => r,
            Err(e) => {
                // A timeout or a dropped connection after the request was written may
                // still have been acted on.
                return Err(SendError::Transient {
                    message: format!("{what}: {e}"),
                    maybe_sent: !e.is_connect(),
                });
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let body: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        classify(what, status, &headers, body)
    }
}

/// What an answer means for the caller: a body, or what to do about the failure.
pub fn classify(
    what: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: Value,
) -> Result<Call, SendError> {
    if status.is_success() {
        let exhausted = header(headers, "x-ratelimit-remaining") == Some(0.0);
        let pause = exhausted
            .then(|| header(headers, "x-ratelimit-reset-after"))
            .flatten()
            .map(seconds);
        return Ok(Call { body, pause });
    }
    let code = body.get("code").and_then(Value::as_i64);
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let described = match code {
        Some(code) => format!("{what}: HTTP {status}, Discord error {code}: {message}"),
        None if message.is_empty() => format!("{what}: HTTP {status}"),
        None => format!("{what}: HTTP {status}: {message}"),
    };
    if status == StatusCode::TOO_MANY_REQUESTS {
        let retry_after = body
            .get("retry_after")
            .and_then(Value::as_f64)
            .or_else(|| header(headers, "retry-after"))
            .or_else(|| header(headers, "x-ratelimit-reset-after"))
            .map(seconds)
            .unwrap_or(Duration::from_secs(1));
        return Err(SendError::RateLimited { retry_after });
    }
    if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
        return Err(SendError::Transient {
            message: described,
            maybe_sent: false,
        });
    }
    if code.is_some_and(|c| PERMANENT_CODES.contains(&c)) || status.is_client_error() {
        return Err(SendError::Permanent(described));
    }
    Err(SendError::Transient {
        message: described,
        maybe_sent: false,
    })
}

fn header(headers: &HeaderMap, name: &str) -> Option<f64> {
    headers
        .get(name)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v >= 0.0)
}

/// A wait in (fractional) seconds, capped at an hour.
fn seconds(s: f64) -> Duration {
    Duration::from_secs_f64(s.clamp(0.0, 3600.0))
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;
    use serde_json::json;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn a_429_waits_for_the_body_retry_after_then_the_headers() {
        let r = classify(
            "create message",
            StatusCode::TOO_MANY_REQUESTS,
            &headers(&[("retry-after", "3")]),
            json!({"message": "You are being rate limited.", "retry_after": 0.25, "global": false}),
        );
        assert_eq!(
            r,
            Err(SendError::RateLimited {
                retry_after: Duration::from_millis(250)
            })
        );
        let r = classify(
            "x",
            StatusCode::TOO_MANY_REQUESTS,
            &headers(&[("retry-after", "2")]),
            Value::Null,
        );
        assert_eq!(
            r,
            Err(SendError::RateLimited {
                retry_after: Duration::from_secs(2)
            })
        );
    }

    #[test]
    fn an_exhausted_bucket_pauses_the_next_call() {
        let ok = classify(
            "x",
            StatusCode::OK,
            &headers(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset-after", "1.5"),
            ]),
            json!({"id": "1"}),
        )
        .unwrap();
        assert_eq!(ok.pause, Some(Duration::from_millis(1500)));
        let ok = classify(
            "x",
            StatusCode::OK,
            &headers(&[
                ("x-ratelimit-remaining", "4"),
                ("x-ratelimit-reset-after", "1.5"),
            ]),
            json!({}),
        )
        .unwrap();
        assert_eq!(ok.pause, None);
    }

    #[test]
    fn server_errors_retry_and_client_errors_park() {
        let e = classify("x", StatusCode::BAD_GATEWAY, &HeaderMap::new(), Value::Null);
        assert!(matches!(
            e,
            Err(SendError::Transient {
                maybe_sent: false,
                ..
            })
        ));
        let e = classify(
            "create message",
            StatusCode::FORBIDDEN,
            &HeaderMap::new(),
            json!({"code": 50001, "message": "Missing Access"}),
        );
        assert_eq!(
            e,
            Err(SendError::Permanent(
                "create message: HTTP 403 Forbidden, Discord error 50001: Missing Access".into()
            ))
        );
    }
}
