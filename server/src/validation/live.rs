//! The one call a room makes per (debounced) change: validate the design it read out of its document
//! and compare with the last result it pushed.
//!
//! Kept here rather than in the room so the room only decides *when* to run it (at most once per 50 ms,
//! coalescing bursts) and what to do with the answer (push the result if it changed, store the
//! transitions with their time).

use crate::design::Design;
use crate::problems::{Catalog, Problem};

use crate::simulation::Scenario;

use super::{TierTransition, ValidationResult, transitions, validate_under};

/// The outcome of re-validating a room's document.
#[derive(Debug, Clone, PartialEq)]
pub struct Revalidation {
    pub result: ValidationResult,
    /// The result differs from the last one: push it to every connection.
    pub changed: bool,
    /// Tiers reached or lost since the last result, in tier order: store them on the timeline.
    pub transitions: Vec<TierTransition>,
}

/// Validates `design` and diffs it against `last` (the result last pushed, or `None` for a room's
/// first run, where every reached tier counts as newly reached).
pub fn revalidate(
    problem: &Problem,
    catalog: &Catalog,
    design: &Design,
    last: Option<&ValidationResult>,
) -> Revalidation {
    revalidate_under(problem, catalog, design, &Scenario::peak(), last)
}

/// [`revalidate`] with the capacity and latency rules judged under `scenario` (a room's curveball):
/// a tier the design holds at peak but not under the curveball is lost, and reached again when it is
/// cleared.
pub fn revalidate_under(
    problem: &Problem,
    catalog: &Catalog,
    design: &Design,
    scenario: &Scenario,
    last: Option<&ValidationResult>,
) -> Revalidation {
    let result = validate_under(problem, catalog, design, scenario);
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

#[cfg(test)]
mod tests {
    use yrs::{Any, Doc, Map, MapPrelim, MapRef, Transact, TransactionMut, WriteTxn};

    use super::*;
    use crate::design::{EDGES_KEY, NODES_KEY};
    use crate::validation::validate;

    /// Random documents of every value type in every position read without panicking, and
    /// validate (against an empty problem) without panicking either. Here rather than with the schema
    /// in `design.rs`, which validation imports.
    #[test]
    fn random_documents_read_and_validate() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let problem = Problem::new(
            "p".into(),
            "P".into(),
            "c".into(),
            crate::problems::model::Origin {
                file: "f".into(),
                number: 1,
            },
        );
        let catalog = Catalog::default();
        for _ in 0..50 {
            let doc = Doc::new();
            {
                let mut txn = doc.transact_mut();
                let roots = [
                    txn.get_or_insert_map(NODES_KEY),
                    txn.get_or_insert_map(EDGES_KEY),
                ];
                for i in 0..200u32 {
                    let r = next();
                    let root = &roots[(r % 2) as usize];
                    let key = format!("k{}", r % 150);
                    let value =
                        |txn: &mut TransactionMut, map: &MapRef, field: &str, r: u64| match r % 8 {
                            0 => drop(map.insert(txn, field, "n1")),
                            1 => drop(map.insert(txn, field, (r % 100) as f64 / 3.0)),
                            2 => drop(map.insert(txn, field, r.is_multiple_of(2))),
                            3 => drop(map.insert(txn, field, Any::Null)),
                            4 => drop(map.insert(txn, field, MapPrelim::default())),
                            5 => drop(map.insert(txn, field, yrs::ArrayPrelim::default())),
                            6 => drop(map.insert(txn, field, yrs::TextPrelim::new("text"))),
                            _ => drop(map.insert(txn, field, f64::NAN)),
                        };
                    if r.is_multiple_of(5) {
                        value(&mut txn, root, &key, r >> 3);
                        continue;
                    }
                    let entry = root.insert(&mut txn, key.as_str(), MapPrelim::default());
                    for field in ["type", "label", "x", "y", "params", "from", "to"] {
                        let r = next();
                        if r.is_multiple_of(3) {
                            value(&mut txn, &entry, field, r >> 2);
                        }
                    }
                    if i.is_multiple_of(3) {
                        let params = entry.insert(&mut txn, "params", MapPrelim::default());
                        value(&mut txn, &params, "instances", next());
                    }
                }
            }
            let design = Design::from_doc(&doc);
            let result = validate(&problem, &catalog, &design);
            // Debug text, not ==: a NaN parameter is kept as read (validation reports it) and NaN != NaN.
            let again = Design::from_doc(&doc);
            assert!(
                format!("{design:?}") == format!("{again:?}"),
                "reading is deterministic"
            );
            let result_again = validate(&problem, &catalog, &again);
            assert!(result == result_again, "validation is deterministic");
        }
    }

    /// A curveball judges the capacity rule under its scenario: a spike or a failed node loses the
    /// capacity tier the reference holds at peak, with the situation in the explanation; the peak
    /// scenario is plain validation; the other tiers do not move.
    #[test]
    fn the_capacity_rule_is_judged_under_a_scenario() {
        use crate::simulation::{Load, Scenario};
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../problems");
        let bank = crate::problems::Bank::load(&dir).expect("the committed problem bank loads");
        let problem = bank.get("tutorial-simple-blog").unwrap();
        let design = problem.reference_design().unwrap();
        let catalog = bank.catalog();
        let at_peak = validate(&problem, catalog, &design);
        let tiers = problem.tiers.len();
        assert_eq!(at_peak.reached, tiers);
        assert_eq!(
            validate_under(&problem, catalog, &design, &Scenario::peak()),
            at_peak
        );
        let capacity_of = |r: &ValidationResult| {
            r.tiers[tiers - 1]
                .rules
                .iter()
                .find(|r| r.kind == super::super::RuleKind::Capacity)
                .map(|r| (r.passed, r.explanation.clone()))
                .unwrap()
        };
        let spike = Scenario {
            load: Load::Times(100.0),
            ..Scenario::default()
        };
        let run = revalidate_under(&problem, catalog, &design, &spike, Some(&at_peak));
        assert!(run.changed);
        assert_eq!(run.result.reached, tiers - 1);
        assert_eq!(run.transitions.len(), 1, "{:?}", run.transitions);
        assert_eq!(run.transitions[0].tier, problem.tiers[tiers - 1].id);
        let (passed, why) = capacity_of(&run.result);
        assert!(
            !passed && why.starts_with("at 100× peak (100,000 rps)"),
            "{why}"
        );
        // The single app node failed: every request fails; its failure is named.
        let failed = Scenario {
            fail: vec!["app-servers".into()],
            ..Scenario::default()
        };
        let result = validate_under(&problem, catalog, &design, &failed);
        let (passed, why) = capacity_of(&result);
        assert!(
            !passed && why.starts_with("at the peak of 1,000 rps with 'App Servers' failed"),
            "{why}"
        );
        assert!(why.contains("of requests fail"), "{why}");
        // Half the peak with cold caches: still held, and said where.
        let calm = Scenario {
            load: Load::Times(0.5),
            cold_cache: true,
            ..Scenario::default()
        };
        let result = validate_under(&problem, catalog, &design, &calm);
        assert_eq!(result.reached, tiers);
        let (_, why) = capacity_of(&result);
        assert!(
            why.starts_with("at 0.5× peak (500 rps) with caches cold"),
            "{why}"
        );
    }
}
