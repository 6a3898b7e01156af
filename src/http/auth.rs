//! Bearer-token check for `/api/v1`, in constant time.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use subtle::ConstantTimeEq;

use super::error::ApiError;
use crate::config::Secret;

/// Accept only `Authorization: Bearer <token>` with the configured token. With no token
/// configured the API refuses everyone: there is no open mode.
pub fn require_bearer(headers: &HeaderMap, token: Option<&Secret>) -> Result<(), ApiError> {
    let Some(expected) = token else {
        return Err(ApiError::Unauthorized);
    };
    let given = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or(ApiError::Unauthorized)?;
    if bool::from(given.as_bytes().ct_eq(expected.expose().as_bytes())) {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}
