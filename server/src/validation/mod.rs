//! Tier validation: a pure function from (problem, catalog, design) to a result (docs/PROTOCOL.md §4).
//!
//! - [`engine`]: [`validate`], the rules, design issues and advisories. No I/O, never panics.
//!   [`validate_under`] judges the capacity and latency rules under a scenario (a room's curveball).
//! - [`result`]: the result types (serialised exactly as PROTOCOL.md §4) and [`transitions`], which
//!   diffs two results into tier reached / lost events for a room's timeline.
//! - [`graph`]: the compressed graph behind the path advisories and the `path` / `redundant` rules.
//! - `rules`: the structure and capacity rule kinds (`path`, `redundant`, `capacity`, `latency`); the
//!   last two run the design once at the problem's peak (or under the scenario) through
//!   [`crate::simulation::peak_under`].
//! - [`live`]: [`revalidate`] / [`revalidate_under`], what a room runs per change: validate, diff.
//! - [`api`]: the stateless `POST /api/validate`.
//! - [`cli`]: `tierboard validate --problem <id> design.json`.
//!
//! The live part (when to re-validate a room's document, pushing results) lives with the room; it calls
//! [`revalidate`], pushes the result when it changed and stores the transitions.

pub mod api;
pub mod cli;
pub mod engine;
pub mod graph;
pub mod live;
pub mod result;
mod rules;

pub use engine::{CLIENT_KIND, SPOF_AVAILABILITY, STORAGE_FAMILY, validate, validate_under};
pub use live::{Revalidation, revalidate, revalidate_under};
pub use result::{
    Advisory, AdvisoryCode, DesignIssue, Finding, IssueCode, RuleKind, RuleResult, TierEvent,
    TierResult, TierTransition, ValidationResult, transitions,
};
