//! What a room calls whenever validation runs: simulate the room's current design at the problem's
//! peak and say whether the result differs from the one last pushed.
//!
//! The room decides when to run it and pushes `{"type":"simulation","result":{...}}` (type-100 message,
//! docs/PROTOCOL.md) when `changed` is true, and on connect.

use crate::design::Design;
use crate::problems::{Catalog, Problem};

use super::{Scenario, SimulationResult, simulate_judged_under};

/// The outcome of re-simulating a room's document.
#[derive(Debug, Clone, PartialEq)]
pub struct Resimulation {
    pub result: SimulationResult,
    /// The result differs from the last one: push it to every connection.
    pub changed: bool,
}

impl Resimulation {
    /// The message to push: `{"type":"simulation","result":{...}}`.
    pub fn message(&self) -> serde_json::Value {
        message(&self.result)
    }
}

/// `{"type":"simulation","result":{...}}` for `result`.
pub fn message(result: &SimulationResult) -> serde_json::Value {
    serde_json::json!({"type": "simulation", "result": result})
}

/// Simulates `design` at the problem's peak and compares with `last` (the result last pushed, or
/// `None` for a room's first run, which always counts as changed).
pub fn resimulate(
    problem: &Problem,
    catalog: &Catalog,
    design: &Design,
    last: Option<&SimulationResult>,
) -> Resimulation {
    resimulate_under(problem, catalog, design, &Scenario::peak(), last)
}

/// As [`resimulate`], under `scenario` (an interview's curveball, issue 22); the `sustains_peak` and
/// `latency_target` checks are judged under it too ([`simulate_judged_under`]).
pub fn resimulate_under(
    problem: &Problem,
    catalog: &Catalog,
    design: &Design,
    scenario: &Scenario,
    last: Option<&SimulationResult>,
) -> Resimulation {
    let result = simulate_judged_under(problem, catalog, design, scenario);
    let changed = last != Some(&result);
    Resimulation { result, changed }
}
