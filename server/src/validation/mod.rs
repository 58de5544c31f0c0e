//! Tier validation: a pure function from (problem, catalog, design) to a result (docs/PROTOCOL.md §4).
//!
//! - [`engine`]: [`validate`], the rules, design issues and advisories. No I/O, never panics.
//! - [`result`]: the result types (serialised exactly as PROTOCOL.md §4) and [`transitions`], which
//!   diffs two results into tier reached / lost events for a room's timeline.
//! - [`graph`]: the compressed graph behind the path advisories.
//! - [`api`]: the stateless `POST /api/validate`.
//! - [`cli`]: `tierboard validate --problem <id> design.json`.
//!
//! The live part (re-validating a room's document on change and pushing results) lives with the room;
//! it calls [`crate::design::Design::from_txn`] and [`validate`], pushes when the result differs from
//! the last one (`ValidationResult: PartialEq`) and stores [`transitions`].

pub mod api;
pub mod cli;
pub mod engine;
pub mod graph;
pub mod result;

pub use engine::{CLIENT_KIND, SPOF_AVAILABILITY, STORAGE_FAMILY, validate};
pub use result::{
    Advisory, AdvisoryCode, DesignIssue, Finding, IssueCode, RuleKind, RuleResult, TierEvent,
    TierResult, TierTransition, ValidationResult, transitions,
};
