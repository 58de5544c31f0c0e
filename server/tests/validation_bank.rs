//! Acceptance of the validation engine over the whole committed problem bank (issue 4):
//! every problem's reference design reaches every tier, and for every tier rule, taking away what the
//! rule needs makes exactly that rule fail with an explanation, while every other rule's verdict stays
//! what the rule semantics say (checked against a deliberately naive oracle written from the spec).

use std::path::PathBuf;
use std::sync::OnceLock;

use tierboard::design::{Design, DesignNode, INSTANCES, ParamValue};
use tierboard::problems::{Bank, Catalog, Problem, Rule};
use tierboard::simulation::{Role, Scenario, simulate};
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

/// Whether a node of type `node_ty` meets a rule naming `rule_ty`: same catalog kind, except that a
/// specific client type (`create_client`) is met only by itself.
fn meets(catalog: &Catalog, rule_ty: &str, node_ty: &str) -> bool {
    if catalog.exact_match(rule_ty) {
        return node_ty == rule_ty;
    }
    let kind = catalog.kind_of(rule_ty);
    kind.is_some() && catalog.kind_of(node_ty) == kind
}

/// What the spec says a rule's verdict is, computed the slow, obvious way.
fn oracle(catalog: &Catalog, problem: &Problem, design: &Design, rule: &Rule) -> bool {
    let rule_ty = rule.ty().unwrap_or_default();
    let is_kind = |ty: &str| meets(catalog, rule_ty, ty);
    let nodes: Vec<_> = design.nodes.iter().filter(|n| is_kind(&n.ty)).collect();
    let exists = |id: &str| design.nodes.iter().any(|n| n.id == id && !n.is_note());
    let instances = |n: &tierboard::design::DesignNode| match n.params.get(INSTANCES) {
        Some(ParamValue::Number(v)) if *v >= 1.0 && v.fract() == 0.0 => *v as u64,
        _ => 1,
    };
    // Edges between two distinct existing nodes.
    let edges: Vec<(&str, &str)> = design
        .edges
        .iter()
        .filter(|e| e.from != e.to && exists(&e.from) && exists(&e.to))
        .map(|e| (e.from.as_str(), e.to.as_str()))
        .collect();
    // Every node reachable by one or more edges from `from`.
    let reachable = |from: &[&str]| {
        let mut seen: Vec<&str> = Vec::new();
        let mut todo: Vec<&str> = from.to_vec();
        while let Some(v) = todo.pop() {
            for &(a, b) in &edges {
                if a == v && !seen.contains(&b) {
                    seen.push(b);
                    todo.push(b);
                }
            }
        }
        seen
    };
    match rule {
        Rule::Include { .. } => !nodes.is_empty(),
        Rule::MinCount { count, .. } => nodes.iter().map(|n| instances(n)).sum::<u64>() >= *count,
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
        Rule::Path { types, .. } => {
            // Stage by stage: the nodes of the next type reachable from the last stage's nodes.
            let of = |ty: &str| -> Vec<&str> {
                design
                    .nodes
                    .iter()
                    .filter(|n| !n.is_note() && meets(catalog, ty, &n.ty))
                    .map(|n| n.id.as_str())
                    .collect()
            };
            let mut stage = of(&types[0]);
            for ty in &types[1..] {
                let next = reachable(&stage);
                stage = of(ty).into_iter().filter(|v| next.contains(v)).collect();
            }
            !stage.is_empty()
        }
        Rule::Redundant { .. } => {
            let clients: Vec<&str> = design
                .nodes
                .iter()
                .filter(|n| catalog.kind_of(&n.ty) == Some("client"))
                .map(|n| n.id.as_str())
                .collect();
            let mut on_path = reachable(&clients);
            on_path.extend(clients.iter().copied());
            let role = |id: &str| {
                let ty = &design.nodes.iter().find(|n| n.id == id).unwrap().ty;
                catalog
                    .get(ty)
                    .map(|t| tierboard::simulation::graph::role_of(&t.kind, &t.family))
            };
            let ours: Vec<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
            let on: Vec<_> = nodes
                .iter()
                .filter(|n| on_path.contains(&n.id.as_str()))
                .collect();
            !on.is_empty()
                && on.iter().all(|n| {
                    let v = n.id.as_str();
                    instances(n) >= 2
                        || edges.iter().any(|&(b, x)| {
                            x == v
                                && role(b) == Some(Role::Balancer)
                                && edges
                                    .iter()
                                    .any(|&(b2, y)| b2 == b && y != v && ours.contains(&y))
                        })
                        || edges.iter().any(|&(a, b)| {
                            let other = if a == v {
                                b
                            } else if b == v {
                                a
                            } else {
                                return false;
                            };
                            ours.contains(&other) || role(other) == Some(Role::Replica)
                        })
                })
        }
        Rule::Capacity {
            ty,
            max_utilisation,
            ..
        } => {
            let sim = simulate(problem, catalog, design, &Scenario::peak());
            let picked: Vec<_> = sim
                .nodes
                .values()
                .filter(|n| match ty {
                    Some(t) => meets(catalog, t, &n.ty),
                    None => !matches!(n.role, Role::Client | Role::Unknown),
                })
                .collect();
            let carried = sim
                .nodes
                .values()
                .any(|n| n.role != Role::Client && n.offered_rps > 0.0);
            carried
                && (ty.is_none() || picked.iter().any(|n| n.offered_rps > 0.0))
                && picked
                    .iter()
                    .all(|n| n.utilisation <= *max_utilisation + 1e-12 && n.error_rate == 0.0)
                && (ty.is_some() || sim.end_to_end.error_rate == 0.0)
        }
        Rule::Latency { max_ms, .. } => {
            let sim = simulate(problem, catalog, design, &Scenario::peak());
            let (bound, p50) = match max_ms {
                Some(ms) => (*ms, false),
                None => (
                    sim.scenario.latency_target_ms,
                    sim.scenario.latency_percentile == "p50",
                ),
            };
            let got = if p50 {
                sim.end_to_end.p50_ms
            } else {
                sim.end_to_end.p99_ms
            };
            let carried = sim
                .nodes
                .values()
                .any(|n| n.role != Role::Client && n.offered_rps > 0.0);
            carried && got <= bound
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
    let rule_ty = rule.ty().unwrap_or_default();
    let is_kind = |ty: &str| meets(catalog, rule_ty, ty);
    let kind_name = if catalog.exact_match(rule_ty) {
        rule_ty.to_string()
    } else {
        catalog.kind_of(rule_ty).unwrap_or_default().to_string()
    };
    // Cut every edge out of a client: nothing reaches the system.
    let cut_clients = |design: &mut Design| {
        let clients: Vec<String> = design
            .nodes
            .iter()
            .filter(|n| catalog.kind_of(&n.ty) == Some("client"))
            .map(|n| n.id.clone())
            .collect();
        design.edges.retain(|e| !clients.contains(&e.from));
    };
    match rule {
        Rule::Path { types, .. } => {
            let first: Vec<String> = design
                .nodes
                .iter()
                .filter(|n| meets(catalog, &types[0], &n.ty))
                .map(|n| n.id.clone())
                .collect();
            design.edges.retain(|e| !first.contains(&e.from));
            (design, "no path".to_string())
        }
        Rule::Redundant { .. } => {
            cut_clients(&mut design);
            (design, format!("no {kind_name} node is on a request path"))
        }
        Rule::Capacity { .. } | Rule::Latency { .. } => {
            cut_clients(&mut design);
            (design, "at the peak of".to_string())
        }
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
            let expected = oracle(catalog, problem, design, rule);
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

/// Component bingo: one node of every type any rule of the problem names, with every count and range
/// the rules ask for met (generous parameters), and no edges.
fn bingo(problem: &Problem) -> Design {
    let mut design = Design::default();
    let mut seen: Vec<&str> = Vec::new();
    for ty in problem
        .tiers
        .iter()
        .flat_map(|t| &t.rules)
        .flat_map(|r| r.types())
    {
        if seen.contains(&ty.as_str()) {
            continue;
        }
        seen.push(ty);
        let mut node = DesignNode::new(format!("bingo-{}", seen.len()), ty.as_str(), ty.as_str());
        let mut count = 3;
        for rule in problem.tiers.iter().flat_map(|t| &t.rules) {
            match rule {
                Rule::MinCount {
                    ty: t, count: c, ..
                } if t == ty => count = count.max(*c),
                Rule::ParamRange {
                    ty: t, param, min, ..
                } if t == ty => {
                    node = node.with_param(param.clone(), ParamValue::Number(*min));
                }
                _ => {}
            }
        }
        design.nodes.push(node.with_instances(count));
    }
    design
}

#[test]
fn component_bingo_reaches_no_problems_last_tier() {
    let catalog = bank().catalog();
    let mut reached = Vec::new();
    let mut checked = 0;
    for problem in problems() {
        let result = validate(problem, catalog, &bingo(problem));
        checked += 1;
        if result.all_reached() {
            reached.push(problem.id.clone());
        }
    }
    assert_eq!(checked, bank().len());
    assert!(
        reached.is_empty(),
        "{} of {checked} problems reach their last tier with every component and no edges: {}",
        reached.len(),
        reached.join(", ")
    );
}
