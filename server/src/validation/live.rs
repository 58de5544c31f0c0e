//! The one call a room makes per (debounced) change: read the design out of the document, validate it,
//! and compare with the last result it pushed.
//!
//! Kept here rather than in the room so the room only decides *when* to run it (at most once per 50 ms,
//! coalescing bursts) and what to do with the answer (push the result if it changed, store the
//! transitions with their time).

use yrs::ReadTxn;

use crate::design::Design;
use crate::problems::{Catalog, Problem};

use super::{TierTransition, ValidationResult, transitions, validate};

/// The outcome of re-validating a room's document.
#[derive(Debug, Clone, PartialEq)]
pub struct Revalidation {
    pub result: ValidationResult,
    /// The result differs from the last one: push it to every connection.
    pub changed: bool,
    /// Tiers reached or lost since the last result, in tier order: store them on the timeline.
    pub transitions: Vec<TierTransition>,
}

/// Reads the design through `txn`, validates it and diffs it against `last` (the result last pushed, or
/// `None` for a room's first run, where every reached tier counts as newly reached).
pub fn revalidate<T: ReadTxn>(
    problem: &Problem,
    catalog: &Catalog,
    txn: &T,
    last: Option<&ValidationResult>,
) -> Revalidation {
    let design = Design::from_txn(txn);
    let result = validate(problem, catalog, &design);
    let changed = last != Some(&result);
    let transitions = if changed {
        transitions(last, &result)
    } else {
        Vec::new()
    };
    Revalidation {
        result,
        changed,
        transitions,
    }
}
