//! The room core's validation scheduling: at most one run per window, the first edit after a quiet
//! spell judged at once, the result pushed when it changed and its tier transitions recorded. The
//! capacity simulation at the problem's peak runs with every validation and is pushed when it changed.
//! Under an interview's curveball both are judged under its scenario (issue 22), and setting or
//! clearing it re-runs them at once (`host.rs`).

use super::*;
use crate::interned::Interner;
use crate::sections::SectionChecks;
use crate::simulation;

/// The results rooms keep and send to joiners, shared between the rooms of a server that computed
/// the same (one per server, in every room's [`CoreConfig`]; see `crate::interned`).
#[derive(Debug, Default)]
pub struct SharedResults {
    validation: Interner<Arc<ValidationResult>>,
    simulation: Interner<SimulationResult>,
    section_checks: Interner<SectionChecks>,
}

impl SharedResults {
    /// Distinct results of each kind held (validation, simulation, section checks), live or not yet
    /// swept.
    pub fn counts(&self) -> [usize; 3] {
        [
            self.validation.len(),
            self.simulation.len(),
            self.section_checks.len(),
        ]
    }
}

impl RoomCore {
    /// The current validation result, after running a pending validation (so it reflects every
    /// accepted edit).
    pub fn validation_now(&mut self, now: Instant) -> Option<Arc<ValidationResult>> {
        if self.validate_at.is_some() {
            self.validate(now);
        }
        self.validation.as_ref().map(|v| v.value().clone())
    }

    /// Re-reads the design, validates it and, when the result changed, pushes it to everyone and
    /// records the tier transitions. The first run after loading is the baseline: the tiers the
    /// stored design already met are not new transitions.
    pub(super) fn validate(&mut self, now: Instant) {
        let record = self.validation.is_some();
        self.validate_at = None;
        self.last_validation = now;
        let Some(problem) = self.problem.clone() else {
            return;
        };
        // The design is read out of the document once, for both.
        let design = crate::design::Design::from_txn(&self.doc.transact());
        let catalog = self.config.bank.catalog();
        // Both judged under the host's curveball when one is in play: a tier held at peak can be lost
        // under it (and reached again when it is cleared), recorded as any transition.
        let scenario = self.interview.scenario();
        let run = validation::revalidate_under(
            &problem,
            catalog,
            &design,
            &scenario,
            self.validation.as_ref().map(|v| v.value().as_ref()),
        );
        let simulated = simulation::live::resimulate_under(
            &problem,
            catalog,
            &design,
            &scenario,
            self.simulation.as_ref().map(|s| s.value()),
        );
        inc(&self.config.metrics.validations, 1);
        if run.changed {
            let message = serde_json::json!({"type": "validation", "result": &run.result});
            let message = protocol::encode_tierboard(&message.to_string());
            let shared = self
                .config
                .results
                .validation
                .intern(message, Arc::new(run.result));
            self.broadcast(shared.message(), None);
            self.validation = Some(shared);
            if record && !run.transitions.is_empty() {
                let at_ms = crate::clock::now_ms();
                let events = run
                    .transitions
                    .into_iter()
                    .map(|t| Transition {
                        at_ms,
                        tier: t.tier,
                        event: match t.event {
                            validation::TierEvent::Reached => "reached".into(),
                            validation::TierEvent::Lost => "lost".into(),
                        },
                    })
                    .collect();
                self.out.push(Effect::RecordTransitions(events));
            }
        }
        // After the validation message, as in the greeting.
        if simulated.changed {
            let message = protocol::encode_tierboard(&simulated.message().to_string());
            let shared = self
                .config
                .results
                .simulation
                .intern(message, simulated.result);
            self.broadcast(shared.message(), None);
            self.simulation = Some(shared);
        }
        // The sections' advisory checks, after the simulation (the greeting's order too).
        self.check_sections(&problem);
    }

    /// Runs the sections' advisory checks, with the host's API verdicts over the name matching, and
    /// pushes them to everyone when they changed (after an edit, or a host's `api_override`).
    pub(super) fn check_sections(&mut self, problem: &crate::problems::Problem) {
        let mut checks = crate::sections::check(
            problem,
            &crate::sections::Sections::from_txn(&self.doc.transact()),
        );
        crate::sections::apply_overrides(&mut checks, &self.interview.api_overrides);
        if self.section_checks.as_ref().map(|c| c.value()) != Some(&checks) {
            let message = serde_json::json!({"type": "section_checks", "result": &checks});
            let message = protocol::encode_tierboard(&message.to_string());
            let shared = self.config.results.section_checks.intern(message, checks);
            self.broadcast(shared.message(), None);
            self.section_checks = Some(shared);
        }
    }

    /// Raises `changed` whenever a transaction changes something validation reads: anything under
    /// `nodes` or `edges` except a node's position set to a number. Dragging nodes is most of what a
    /// session does, and a position changes no tier (a position that is not a number is an issue, so it
    /// counts). Observers run inside the commit; this one only looks at the changed keys.
    pub(super) fn watch_design(doc: &Doc, changed: &Arc<AtomicBool>) {
        use yrs::Out;
        use yrs::types::{EntryChange, Event, PathSegment};
        use yrs::{DeepObservable, Origin};
        let flag = changed.clone();
        doc.get_or_insert_map(crate::design::NODES_KEY)
            .observe_deep(Origin::from("tierboard-design"), move |txn, events| {
                let moves_only = events.iter().all(|event| match event {
                    Event::Map(map) => {
                        let path = map.path();
                        matches!(path.front(), Some(PathSegment::Key(_)))
                            && path.len() == 1
                            && map.keys(txn).iter().all(|(key, change)| {
                                // A key the design is not read from changes nothing it judges.
                                !crate::design::NODE_KEYS.contains(&key.as_ref())
                                    || (matches!(key.as_ref(), "x" | "y")
                                        && matches!(
                                            change,
                                            EntryChange::Inserted(Out::Any(yrs::Any::Number(_)))
                                                | EntryChange::Updated(
                                                    _,
                                                    Out::Any(yrs::Any::Number(_))
                                                )
                                        ))
                            })
                    }
                    _ => false,
                });
                if !moves_only {
                    flag.store(true, Ordering::Relaxed);
                }
            });
        let flag = changed.clone();
        doc.get_or_insert_map(crate::design::EDGES_KEY)
            .observe_deep(Origin::from("tierboard-design"), move |_, _| {
                flag.store(true, Ordering::Relaxed)
            });
        // The structured sections (issue 23): any change re-runs their checks with the validation.
        use crate::sections::{
            API_KEY, DATA_MODEL_KEY, ESTIMATES_KEY, FUNCTIONAL_KEY, NONFUNCTIONAL_KEY,
        };
        for key in [FUNCTIONAL_KEY, NONFUNCTIONAL_KEY] {
            let flag = changed.clone();
            doc.get_or_insert_text(key)
                .observe_deep(Origin::from("tierboard-design"), move |_, _| {
                    flag.store(true, Ordering::Relaxed)
                });
        }
        for key in [ESTIMATES_KEY, API_KEY, DATA_MODEL_KEY] {
            let flag = changed.clone();
            doc.get_or_insert_array(key)
                .observe_deep(Origin::from("tierboard-design"), move |_, _| {
                    flag.store(true, Ordering::Relaxed)
                });
        }
    }
}
