//! The domain: findings, the remediation workflow, policies. Pure: no I/O, no async, no
//! clock. Everything else (store, HTTP, chat, jobs) calls into this and never decides
//! workflow rules itself.

pub mod actor;
pub mod finding;
pub mod policy;
pub mod severity;
pub mod workflow;

#[cfg(test)]
mod workflow_tests;

pub use actor::{Actor, Source};
pub use finding::{FindingId, FindingState, Fingerprint, NewFinding, ScannerContent};
pub use policy::{ApprovalPolicy, Exclusion, Policy, Sla};
pub use severity::Severity;
pub use workflow::{
    Change, Command, DecisionKind, Event, Evidence, FixPlan, Proposal, RcaAnswers, Refusal,
    Resolution, Stage, TriageAnswers, decide, open, open_routed,
};
