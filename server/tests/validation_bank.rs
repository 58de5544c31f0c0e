//! Acceptance of the validation engine over the whole committed problem bank (issue 4):
//! every problem's reference design reaches every tier, and for every tier rule, taking away what the
//! rule needs makes exactly that rule fail with an explanation, while every other rule's verdict stays
//! what the rule semantics say (checked against a deliberately naive oracle written from the spec).

use std::path::PathBuf;
use std::sync::OnceLock;

use tierboard::design::{Design, INSTANCES, ParamValue};
use tierboard::problems::{Bank, Catalog, Problem, Rule};
use tierboard::validation::{ValidationResult, validate};

fn bank() -> &'static Bank {
    static BANK: OnceLock<Bank> = OnceLock::new();
    BANK.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../problems");
        let bank = Bank::load(&dir).expect("the committed bank loads");
        assert!(bank.len() > 600, "the bank has {} problems", bank.len());
        bank
    })
}

fn problems() -> Vec<&'static Problem> {
    let mut all: Vec<&Problem> = bank().iter().map(|p| p.as_ref()).collect();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    all
}

fn reference(problem: &Problem) -> Design {
    problem
        .reference_design()
        .unwrap_or_else(|| panic!("{} has no reference design", problem.id))
}

#[test]
fn every_reference_design_reaches_every_tier() {
    let catalog = bank().catalog();
    let mut failures = Vec::new();
    for problem in problems() {
        let result = validate(problem, catalog, &reference(problem));
        assert!(!result.tiers.is_empty(), "{} has no tiers", problem.id);
        if !result.all_reached() {
            let failing: Vec<String> = result
                .tiers
                .iter()
                .flat_map(|t| t.rules.iter().filter(|r| !r.passed).map(move |r| (t, r)))
                .map(|(t, r)| format!("{} {}: {}", t.id, r.text, r.explanation))
                .collect();
            failures.push(format!("{}: {}", problem.id, failing.join(" | ")));
        }
        // A reference design is well-formed: no design issues at all.
        if !result.design_issues.is_empty() {
            failures.push(format!(
                "{}: design issues {:?}",
                problem.id,
                result
                    .design_issues
                    .iter()
                    .map(|i| &i.message)
                    .collect::<Vec<_>>()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// What the spec says a rule's verdict is, computed the slow, obvious way.
fn oracle(catalog: &Catalog, design: &Design, rule: &Rule) -> bool {
    let kind = catalog.kind_of(rule.ty());
    let is_kind = |ty: &str| kind.is_some() && catalog.kind_of(ty) == kind;
    let nodes: Vec<_> = design.nodes.iter().filter(|n| is_kind(&n.ty)).collect();
    let exists = |id: &str| design.nodes.iter().any(|n| n.id == id && !n.is_note());
    match rule {
        Rule::Include { .. } => !nodes.is_empty(),
        Rule::MinCount { count, .. } => {
            let total: u64 = nodes
                .iter()
                .map(|n| match n.params.get(INSTANCES) {
                    Some(ParamValue::Number(v)) if *v >= 1.0 && v.fract() == 0.0 => *v as u64,
                    _ => 1,
                })
                .sum();
            total >= *count
        }
        Rule::ConnectionFrom { .. } => design
            .edges
            .iter()
            .any(|e| e.from != e.to && nodes.iter().any(|n| n.id == e.from) && exists(&e.to)),
        Rule::ParamRange {
            param, min, max, ..
        } => {
            !nodes.is_empty()
                && nodes.iter().all(|n| {
                    let value = match n.params.get(param.as_str()) {
                        Some(ParamValue::Number(v)) => Some(*v),
                        Some(_) => None,
                        None => catalog
                            .param(&n.ty, param)
                            .and_then(|p| p.default.as_ref())
                            .and_then(|d| d.as_f64()),
                    };
                    value.is_some_and(|v| v >= *min && v <= *max)
                })
        }
    }
}

/// Removes the nodes matching `gone` and every edge that touches one.
fn remove_nodes(design: &mut Design, gone: impl Fn(&tierboard::design::DesignNode) -> bool) {
    let removed: Vec<String> = design
        .nodes
        .iter()
        .filter(|n| gone(n))
        .map(|n| n.id.clone())
        .collect();
    design.nodes.retain(|n| !removed.contains(&n.id));
    design
        .edges
        .retain(|e| !removed.contains(&e.from) && !removed.contains(&e.to));
}

/// The reference design without what `rule` needs, and what the failing explanation must start with.
fn break_rule(catalog: &Catalog, mut design: Design, rule: &Rule) -> (Design, String) {
    let kind = catalog.kind_of(rule.ty()).map(str::to_string);
    let is_kind = |ty: &str| kind.is_some() && catalog.kind_of(ty) == kind.as_deref();
    let kind_name = kind.clone().unwrap_or_default();
    match rule {
        Rule::Include { .. } => {
            remove_nodes(&mut design, |n| is_kind(&n.ty));
            (design, format!("no node of kind {kind_name}"))
        }
        Rule::MinCount { count, .. } => {
            // Keep one node of the kind with one instance short of the count (none if the count is 1).
            let keep = design
                .nodes
                .iter()
                .find(|n| is_kind(&n.ty))
                .map(|n| n.id.clone());
            remove_nodes(&mut design, |n| {
                is_kind(&n.ty) && (Some(&n.id) != keep.as_ref() || *count <= 1)
            });
            if let Some(node) = design
                .nodes
                .iter_mut()
                .find(|n| Some(&n.id) == keep.as_ref())
            {
                node.params.insert(
                    INSTANCES.to_string(),
                    ParamValue::Number((count - 1) as f64),
                );
            }
            (
                design,
                format!("needs ≥ {count} {kind_name} instances; found"),
            )
        }
        Rule::ConnectionFrom { .. } => {
            let from: Vec<String> = design
                .nodes
                .iter()
                .filter(|n| is_kind(&n.ty))
                .map(|n| n.id.clone())
                .collect();
            design.edges.retain(|e| !from.contains(&e.from));
            (design, format!("no edge leaves a node of kind {kind_name}"))
        }
        Rule::ParamRange { ty, param, min, .. } => {
            let below = min - (min.abs() * 0.5 + 1.0);
            let node = design
                .nodes
                .iter_mut()
                .find(|n| is_kind(&n.ty))
                .expect("the reference design has a node for its range rule");
            node.params.insert(param.clone(), ParamValue::Number(below));
            (design, format!("{ty}.{param} {below} is below {min}"))
        }
    }
}

fn check_against_oracle(
    catalog: &Catalog,
    problem: &Problem,
    design: &Design,
    result: &ValidationResult,
) -> Vec<String> {
    let mut wrong = Vec::new();
    let mut all_before = true;
    for (tier, verdict) in problem.tiers.iter().zip(&result.tiers) {
        let mut passed = true;
        for (rule, got) in tier.rules.iter().zip(&verdict.rules) {
            let expected = oracle(catalog, design, rule);
            passed &= expected;
            if got.passed != expected {
                wrong.push(format!(
                    "{} {}: engine says {}, the spec says {} ({})",
                    tier.id,
                    rule.text(),
                    got.passed,
                    expected,
                    got.explanation
                ));
            }
            if got.explanation.is_empty() {
                wrong.push(format!("{} {}: no explanation", tier.id, rule.text()));
            }
        }
        all_before &= passed;
        if verdict.passed != passed || verdict.reached != all_before {
            wrong.push(format!(
                "{}: passed/reached {}/{}, expected {}/{}",
                tier.id, verdict.passed, verdict.reached, passed, all_before
            ));
        }
    }
    wrong
}

#[test]
fn taking_away_what_a_rule_needs_fails_that_rule_and_only_what_depends_on_it() {
    let catalog = bank().catalog();
    let mut failures = Vec::new();
    let mut mutations = 0;
    for problem in problems() {
        let reference = reference(problem);
        for (t, tier) in problem.tiers.iter().enumerate() {
            for (r, rule) in tier.rules.iter().enumerate() {
                let (design, expected_start) = break_rule(catalog, reference.clone(), rule);
                mutations += 1;
                let result = validate(problem, catalog, &design);
                let got = &result.tiers[t].rules[r];
                let at = format!("{} {} rule {} ({})", problem.id, tier.id, r, rule.text());
                if got.passed {
                    failures.push(format!("{at}: still passes: {}", got.explanation));
                    continue;
                }
                if !got.explanation.starts_with(&expected_start) {
                    failures.push(format!(
                        "{at}: explanation {:?} does not start with {expected_start:?}",
                        got.explanation
                    ));
                }
                for wrong in check_against_oracle(catalog, problem, &design, &result) {
                    failures.push(format!("{at}: {wrong}"));
                }
            }
        }
    }
    assert!(mutations > 1_000, "only {mutations} rules in the bank");
    assert!(
        failures.is_empty(),
        "{} of {mutations} mutations went wrong:\n{}",
        failures.len(),
        failures
            .iter()
            .take(50)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn cli_validates_a_reference_design_and_a_broken_one() {
    let problems = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../problems");
    let problem = bank()
        .get("tutorial-simple-blog")
        .expect("the tutorial is in the bank");
    let dir = tempfile::tempdir().unwrap();
    let run = |design: &Design| {
        let path = dir.path().join("design.json");
        std::fs::write(&path, serde_json::to_string(design).unwrap()).unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_tierboard"))
            .args(["validate", "--problem", "tutorial-simple-blog"])
            .arg(&path)
            .arg("--problems")
            .arg(&problems)
            .output()
            .unwrap()
    };
    let output = run(&reference(&problem));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let tiers = problem.tiers.len();
    assert!(
        stdout.contains(&format!("{tiers} of {tiers} tiers reached")),
        "{stdout}"
    );

    let mut broken = reference(&problem);
    remove_nodes(&mut broken, |n| n.ty == "db_primary");
    let output = run(&broken);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("0 of"), "{stdout}");
    assert!(stdout.contains("✗ T0"), "{stdout}");
    assert!(stdout.contains("no node of kind db_primary"), "{stdout}");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tierboard"))
        .args(["validate", "--problem", "no-such-problem"])
        .arg(dir.path().join("design.json"))
        .arg("--problems")
        .arg(&problems)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("no problem with id 'no-such-problem'")
    );
}
