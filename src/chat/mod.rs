//! Chat platforms. Platform-neutral messages and commands live here; `slack/` (and later
//! `discord/`) only translate between a platform's payloads and those, and never decide
//! workflow questions themselves.

pub mod command;
pub mod slack;
