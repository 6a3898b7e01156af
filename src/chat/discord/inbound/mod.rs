//! Requests Discord sends to remedybot (interactions), already verified by the HTTP layer,
//! translated into application calls and interaction responses.

pub mod commands;
pub mod visibility;

use crate::store::StoreError;

/// Why a verified request could not be handled.
#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    /// The request is not a payload Discord sends: 400, nothing changed.
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}
