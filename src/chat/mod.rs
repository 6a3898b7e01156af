//! Chat: platform-neutral view models of findings, notes and approvals ([`view`]); each
//! platform module only translates them into its own message format.

pub mod slack;
pub mod view;
