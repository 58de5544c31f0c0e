//! The hand-checked cases of issue 19's acceptance (also worked in docs/SIMULATION.md) and property
//! tests over thousands of random designs.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::*;
use crate::design::{DesignEdge, DesignNode, ParamValue};
use crate::problems::Catalog;
use crate::problems::catalog::CatalogFile;
use crate::problems::model::Origin;

/// A catalog with round figures, so that every expected value below can be checked by hand.
fn catalog() -> Catalog {
    let instances =
        json!({"name": "instances", "type": "integer", "default": 1, "min": 1, "max": 100000});
    let hit = json!({"name": "hit_rate", "type": "number", "default": 0.0, "min": 0, "max": 1});
    let parts = json!({"name": "partitions", "type": "integer", "default": 1, "min": 1});
    let t = |ty: &str, kind: &str, family: &str, rps: f64, ms: f64, usd: f64, is_async: bool| {
        let mut params = vec![instances.clone()];
        if kind == "cache" || kind == "cdn" {
            params.push(hit.clone());
        }
        if kind == "queue" {
            params.push(parts.clone());
        }
        json!({"type": ty, "name": ty, "kind": kind, "family": family, "icon": "x", "params": params,
               "capacity": {"rps": rps, "service_ms": ms, "monthly_usd": usd, "async": is_async, "source": "test"}})
    };
    let types = json!([
        t("client", "client", "client", 1e9, 0.0, 0.0, false),
        t("redirect_client", "client", "client", 1e9, 0.0, 0.0, false),
        t("create_client", "client", "client", 1e9, 0.0, 0.0, false),
        t("lb", "lb", "network", 50_000.0, 1.0, 25.0, false),
        t("app", "app", "compute", 1_000.0, 10.0, 30.0, false),
        t("db_primary", "db_primary", "storage", 2_000.0, 5.0, 200.0, false),
        t("db_replica", "db_replica", "storage", 2_000.0, 4.0, 200.0, false),
        t("cache", "cache", "cache", 100_000.0, 1.0, 100.0, false),
        t("cdn", "cdn", "edge", 250_000.0, 10.0, 200.0, false),
        t("queue", "queue", "messaging", 10_000.0, 5.0, 200.0, true),
        t("worker", "worker", "compute", 500.0, 20.0, 30.0, true),
        {"type": "note", "name": "Note", "kind": "note", "family": "annotation", "icon": "note"}
    ]);
    let file: CatalogFile = serde_json::from_value(json!({
        "capacity_source": [{"id": "test", "text": "round figures for hand-checked tests"}],
        "component": types
    }))
    .unwrap();
    Catalog::from_file(file).unwrap()
}

fn problem(peak: f64, read_share: f64, availability: f64) -> Problem {
    let mut p = Problem::new(
        "p".into(),
        "P".into(),
        "tutorial".into(),
        Origin {
            file: "f".into(),
            number: 1,
        },
    );
    p.targets.peak_rate_per_sec = Some(peak);
    p.targets.availability_percent = Some(availability);
    p.targets.latency_ms.insert("p99".into(), 200.0);
    // A stated split, so the tests do not depend on the category default.
    let reads = (read_share * 1000.0).round() as i64;
    p.constants = vec![
        crate::problems::model::Constant {
            name: "read_qps".into(),
            ty: "integer".into(),
            value: crate::problems::model::ConstValue::Integer(reads),
        },
        crate::problems::model::Constant {
            name: "write_qps".into(),
            ty: "integer".into(),
            value: crate::problems::model::ConstValue::Integer(1000 - reads),
        },
    ];
    p
}

fn node(id: &str, ty: &str, instances: u64) -> DesignNode {
    DesignNode::new(id, ty, id).with_instances(instances)
}

fn design(nodes: Vec<DesignNode>, edges: &[(&str, &str)]) -> Design {
    Design {
        nodes,
        edges: edges
            .iter()
            .enumerate()
            .map(|(i, (a, b))| DesignEdge::new(format!("e{i}"), *a, *b))
            .collect(),
        read_issues: Vec::new(),
    }
}

fn peak(p: &Problem, d: &Design) -> SimulationResult {
    simulate(p, &catalog(), d, &Scenario::peak())
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn single_chain_utilisation_is_offered_over_instances_times_rps() {
    let p = problem(3_000.0, 0.5, 99.0);
    let d = design(
        vec![
            node("c", "client", 1),
            node("a", "app", 4),
            node("db", "db_primary", 2),
        ],
        &[("c", "a"), ("a", "db")],
    );
    let r = peak(&p, &d);
    let app = &r.nodes["a"];
    assert_eq!(app.offered_rps, 3_000.0);
    assert_eq!(app.capacity_rps, 4.0 * 1_000.0);
    assert_eq!(app.utilisation, 3_000.0 / (4.0 * 1_000.0));
    let db = &r.nodes["db"];
    assert_eq!(db.utilisation, 3_000.0 / (2.0 * 2_000.0));
    assert_eq!(r.end_to_end.error_rate, 0.0);
    assert_eq!(r.end_to_end.throughput_rps, 3_000.0);
    assert_eq!(r.bottleneck.as_deref(), Some("a"));
    assert_eq!(r.monthly_usd, 4.0 * 30.0 + 2.0 * 200.0);
    assert_eq!(r.nodes["a"].monthly_usd, 120.0);
    // Latency along the path is at least the two service times and the checks are computed.
    assert!(r.end_to_end.p50_ms >= 15.0 && r.end_to_end.p99_ms >= r.end_to_end.p50_ms);
    assert!(r.check("sustains_peak").is_some() && r.check("monthly_cost").is_some());
    // Below 99.9 % the failure check is not shown.
    assert!(r.check("no_single_point_of_failure").is_none());
}

#[test]
fn a_balancer_halves_the_load_of_two_app_nodes() {
    let p = problem(1_000.0, 0.5, 99.9);
    let d = design(
        vec![
            node("c", "client", 1),
            node("lb", "lb", 1),
            node("a1", "app", 1),
            node("a2", "app", 1),
        ],
        &[("c", "lb"), ("lb", "a1"), ("lb", "a2")],
    );
    let r = peak(&p, &d);
    assert_eq!(r.nodes["lb"].offered_rps, 1_000.0);
    assert_eq!(r.nodes["a1"].offered_rps, 500.0);
    assert_eq!(r.nodes["a2"].offered_rps, 500.0);
    assert_eq!(r.edges["e1"].rps, 500.0);
}

#[test]
fn cache_aside_sends_the_misses_and_every_write_to_the_database() {
    let p = problem(1_000.0, 0.8, 99.0);
    let d = design(
        vec![
            node("c", "client", 1),
            node("a", "app", 2),
            node("k", "cache", 1).with_param("hit_rate", ParamValue::Number(0.9)),
            node("db", "db_primary", 1),
        ],
        &[("c", "a"), ("a", "k"), ("a", "db")],
    );
    let r = peak(&p, &d);
    // 800 reads, 200 writes: the database sees 10 % of the reads plus all writes.
    let db = &r.nodes["db"];
    assert!(close(db.read_rps, 80.0), "{db:?}");
    assert!(close(db.write_rps, 200.0), "{db:?}");
    assert!(close(r.nodes["k"].read_rps, 800.0));
    // A cold cache sends every read through.
    let cold = simulate(
        &p,
        &catalog(),
        &d,
        &Scenario {
            cold_cache: true,
            ..Scenario::peak()
        },
    );
    assert!(close(cold.nodes["db"].read_rps, 800.0));
    // A CDN in front forwards only its misses (and the writes).
    let d = design(
        vec![
            node("c", "client", 1),
            node("cdn", "cdn", 1).with_param("hit_rate", ParamValue::Number(0.75)),
            node("a", "app", 2),
        ],
        &[("c", "cdn"), ("cdn", "a")],
    );
    let r = peak(&p, &d);
    assert!(close(r.nodes["a"].read_rps, 200.0) && close(r.nodes["a"].write_rps, 200.0));
}

#[test]
fn replicas_take_the_reads_and_the_primary_the_writes() {
    let p = problem(1_000.0, 0.9, 99.0);
    let d = design(
        vec![
            node("c", "client", 1),
            node("a", "app", 2),
            node("db", "db_primary", 1),
            node("r1", "db_replica", 1),
            node("r2", "db_replica", 1),
        ],
        &[
            ("c", "a"),
            ("a", "db"),
            ("a", "r1"),
            ("a", "r2"),
            ("db", "r1"),
            ("db", "r2"),
        ],
    );
    let r = peak(&p, &d);
    assert!(close(r.nodes["db"].read_rps, 0.0));
    assert!(close(r.nodes["db"].write_rps, 100.0));
    assert!(close(r.nodes["r1"].read_rps, 450.0) && close(r.nodes["r2"].read_rps, 450.0));
    // Replication: each replica applies the primary's writes, off the request path.
    assert!(close(r.nodes["r1"].write_rps, 100.0));
    assert!(r.edges["e4"].off_path);
}

#[test]
fn failing_one_of_two_app_nodes_doubles_the_other_ones_load() {
    let p = problem(1_000.0, 0.5, 99.9);
    let d = design(
        vec![
            node("c", "client", 1),
            node("lb", "lb", 1),
            node("a1", "app", 1),
            node("a2", "app", 1),
        ],
        &[("c", "lb"), ("lb", "a1"), ("lb", "a2")],
    );
    let before = peak(&p, &d);
    let after = simulate(
        &p,
        &catalog(),
        &d,
        &Scenario {
            fail: vec!["a1".into()],
            ..Scenario::peak()
        },
    );
    assert_eq!(
        after.nodes["a2"].offered_rps,
        2.0 * before.nodes["a2"].offered_rps
    );
    assert!(after.nodes["a1"].failed);
    assert_eq!(after.end_to_end.error_rate, 0.0);
    assert_eq!(after.scenario.fail, ["a1"]);
}

#[test]
fn failing_the_only_database_fails_every_request_and_the_spof_check() {
    let p = problem(1_000.0, 0.5, 99.99);
    let d = design(
        vec![
            node("c", "client", 1),
            node("lb", "lb", 1),
            node("a1", "app", 1),
            node("a2", "app", 1),
            node("db", "db_primary", 1),
        ],
        &[
            ("c", "lb"),
            ("lb", "a1"),
            ("lb", "a2"),
            ("a1", "db"),
            ("a2", "db"),
        ],
    );
    let failed = simulate(
        &p,
        &catalog(),
        &d,
        &Scenario {
            fail: vec!["db".into()],
            ..Scenario::peak()
        },
    );
    assert_eq!(failed.end_to_end.error_rate, 1.0);
    assert_eq!(failed.end_to_end.throughput_rps, 0.0);
    assert_eq!(failed.nodes["db"].error_rate, 1.0);
    let r = peak(&p, &d);
    let spof = r.check("no_single_point_of_failure").unwrap();
    assert_eq!(spof.status, CheckStatus::Fail, "{spof:?}");
    assert!(spof.nodes.contains(&"db".to_string()) && spof.nodes.contains(&"lb".to_string()));
    assert!(!spof.nodes.contains(&"a1".to_string()), "{spof:?}");
    assert!(
        spof.explanation.contains("error rate is 100 %"),
        "{}",
        spof.explanation
    );
}

#[test]
fn utilisation_above_one_gives_errors() {
    let p = problem(4_000.0, 0.5, 99.0);
    let d = design(
        vec![node("c", "client", 1), node("a", "app", 2)],
        &[("c", "a")],
    );
    let r = peak(&p, &d);
    let a = &r.nodes["a"];
    assert_eq!(a.utilisation, 2.0);
    assert!(close(a.error_rate, 1.0 - 1.0 / 2.0));
    assert!(close(r.end_to_end.error_rate, 0.5));
    assert!(close(r.end_to_end.throughput_rps, 2_000.0));
    let sustains = r.check("sustains_peak").unwrap();
    assert_eq!(sustains.status, CheckStatus::Fail);
    // 4,000 offered at 1,000 per instance: 5 instances keep it at 80 %, so add 3.
    assert!(
        sustains.explanation.contains("a: 4,000 rps offered, 2 × 1,000 = 2,000 capacity, 200 %: add 3 instances to stay under 80 %"),
        "{}",
        sustains.explanation
    );
}

#[test]
fn latency_grows_with_load() {
    let p = problem(1_000.0, 0.5, 99.0);
    let d = design(
        vec![
            node("c", "client", 1),
            node("a", "app", 2),
            node("db", "db_primary", 1),
        ],
        &[("c", "a"), ("a", "db")],
    );
    let mut last = 0.0;
    for step in 1..=19 {
        let r = simulate(
            &p,
            &catalog(),
            &d,
            &Scenario {
                load: Load::Times(step as f64 * 0.1),
                ..Scenario::peak()
            },
        );
        let mean = r.end_to_end.mean_ms;
        assert!(mean > last, "step {step}: {mean} after {last}");
        last = mean;
    }
}

#[test]
fn asynchronous_nodes_take_load_but_add_no_latency_and_show_their_backlog() {
    let p = problem(1_000.0, 0.0, 99.0);
    let d = design(
        vec![
            node("c", "client", 1),
            node("a", "app", 2),
            node("q", "queue", 1),
            node("w", "worker", 1),
        ],
        &[("c", "a"), ("a", "q"), ("q", "w")],
    );
    let r = peak(&p, &d);
    assert_eq!(r.nodes["q"].offered_rps, 1_000.0);
    assert_eq!(r.nodes["w"].offered_rps, 1_000.0);
    assert_eq!(r.nodes["w"].backlog_rps, 500.0);
    assert_eq!(r.nodes["w"].error_rate, 0.0);
    assert_eq!(r.end_to_end.error_rate, 0.0);
    assert!(close(r.end_to_end.mean_ms, r.nodes["a"].latency_ms));
    assert!(r.edges["e1"].off_path);
}

#[test]
fn named_clients_carry_their_own_traffic() {
    let p = problem(1_000.0, 0.9, 99.0);
    let d = design(
        vec![
            node("r", "redirect_client", 1),
            node("w", "create_client", 1),
            node("ra", "app", 1),
            node("wa", "app", 1),
        ],
        &[("r", "ra"), ("w", "wa")],
    );
    let r = peak(&p, &d);
    assert!(close(r.nodes["ra"].read_rps, 900.0) && r.nodes["ra"].write_rps == 0.0);
    assert!(close(r.nodes["wa"].write_rps, 100.0) && r.nodes["wa"].read_rps == 0.0);
}

#[test]
fn cycles_unknown_types_notes_and_dangling_edges_are_design_issues() {
    let p = problem(1_000.0, 0.5, 99.9);
    let mut d = design(
        vec![
            node("c", "client", 1),
            node("a", "app", 1),
            node("b", "app", 1),
            node("x", "teleporter", 1),
            DesignNode::new("n", "note", "remember"),
            node("a", "app", 3),
        ],
        &[
            ("c", "a"),
            ("a", "b"),
            ("b", "a"),
            ("a", "x"),
            ("a", "n"),
            ("a", "ghost"),
            ("c", "a"),
        ],
    );
    d.nodes.push(
        DesignNode::new("bad", "app", "").with_param("instances", ParamValue::Text("many".into())),
    );
    let r = peak(&p, &d);
    let codes: Vec<&str> = r.design_issues.iter().map(|i| i.code.as_str()).collect();
    for code in [
        "cycle",
        "unknown_type",
        "note_edge",
        "dangling_edge",
        "duplicate_id",
        "duplicate_edge",
        "bad_param",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    // The cycle edge carries nothing back; the run still finishes with finite figures.
    assert_eq!(r.nodes["a"].offered_rps, 1_000.0);
    assert_eq!(r.nodes["b"].offered_rps, 1_000.0);
    assert_eq!(r.nodes["x"].capacity_rps, 0.0);
    assert!(!r.nodes.contains_key("n"));
    // No client: nothing enters, said so.
    let lonely = design(vec![node("a", "app", 1)], &[]);
    let r = peak(&p, &lonely);
    assert!(r.design_issues.iter().any(|i| i.code == "no_client"));
    assert_eq!(r.end_to_end.throughput_rps, 0.0);
    assert_eq!(r.bottleneck, None);
    // Failing a node that does not exist is reported, not fatal.
    let r = simulate(
        &p,
        &catalog(),
        &lonely,
        &Scenario {
            fail: vec!["zz".into()],
            ..Scenario::peak()
        },
    );
    assert!(
        r.design_issues
            .iter()
            .any(|i| i.code == "unknown_failed_node")
    );
}

#[test]
fn the_result_is_deterministic_and_serialises() {
    let p = problem(1_000.0, 0.5, 99.99);
    let d = design(
        vec![
            node("c", "client", 1),
            node("a", "app", 1),
            node("db", "db_primary", 1),
        ],
        &[("c", "a"), ("a", "db")],
    );
    let a = peak(&p, &d);
    assert_eq!(a, peak(&p, &d));
    let v = serde_json::to_value(&a).unwrap();
    for key in [
        "offered_rps",
        "capacity_rps",
        "utilisation",
        "latency_ms",
        "error_rate",
        "monthly_usd",
    ] {
        assert!(v["nodes"]["a"].get(key).is_some(), "{key}");
    }
    for key in ["throughput_rps", "error_rate", "p50_ms", "p99_ms"] {
        assert!(v["end_to_end"].get(key).is_some(), "{key}");
    }
    assert_eq!(v["scenario"]["load"], "peak");
    assert_eq!(v["bottleneck"], "a");
}

// ---------------------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------------------

const TYPES: &[&str] = &[
    "client",
    "redirect_client",
    "create_client",
    "lb",
    "app",
    "db_primary",
    "db_replica",
    "cache",
    "cdn",
    "queue",
    "worker",
    "note",
    "unknown_thing",
];

fn random_design(rng: &mut StdRng) -> Design {
    let n = rng.random_range(1..40);
    let mut nodes = Vec::new();
    for i in 0..n {
        let ty = TYPES[rng.random_range(0..TYPES.len())];
        let mut node = DesignNode::new(format!("n{i}"), ty, "");
        match rng.random_range(0..10) {
            0 => {}
            1 => node = node.with_param("instances", ParamValue::Text("x".into())),
            2 => node = node.with_param("instances", ParamValue::Number(-3.0)),
            _ => node = node.with_instances(rng.random_range(1..20)),
        }
        if rng.random_bool(0.5) {
            let h = rng.random_range(-0.2..1.2);
            node = node.with_param("hit_rate", ParamValue::Number(h));
        }
        if rng.random_bool(0.2) {
            node = node.with_param(
                "partitions",
                ParamValue::Number(rng.random_range(1..10) as f64),
            );
        }
        nodes.push(node);
    }
    let edges = (0..rng.random_range(0..n * 3))
        .map(|i| {
            let from = rng.random_range(0..n + 1);
            let to = rng.random_range(0..n + 1);
            DesignEdge::new(format!("e{i}"), format!("n{from}"), format!("n{to}"))
        })
        .collect();
    Design {
        nodes,
        edges,
        read_issues: Vec::new(),
    }
}

fn figures(f: &[f64]) -> bool {
    f.iter().all(|x| x.is_finite() && *x >= 0.0)
}

fn assert_sane(r: &SimulationResult, what: &str) {
    let e = &r.end_to_end;
    assert!(
        figures(&[
            e.throughput_rps,
            e.error_rate,
            e.mean_ms,
            e.p50_ms,
            e.p99_ms,
            r.monthly_usd
        ]),
        "{what}: {e:?}"
    );
    assert!(e.error_rate <= 1.0, "{what}");
    for (id, n) in &r.nodes {
        assert!(
            figures(&[
                n.offered_rps,
                n.served_rps,
                n.capacity_rps,
                n.utilisation,
                n.latency_ms,
                n.p99_ms,
                n.error_rate,
                n.backlog_rps,
                n.monthly_usd
            ]) && n.error_rate <= 1.0,
            "{what}: node {id}: {n:?}"
        );
    }
    for edge in r.edges.values() {
        assert!(edge.rps.is_finite() && edge.rps >= 0.0, "{what}: {edge:?}");
    }
}

fn at(p: &Problem, c: &Catalog, d: &Design, m: f64) -> SimulationResult {
    simulate(
        p,
        c,
        d,
        &Scenario {
            load: Load::Times(m),
            ..Scenario::peak()
        },
    )
}

/// Thousands of random designs (cycles, dangling edges, notes, unknown types, bad parameters): no
/// panic, no NaN or negative figure; utilisation monotone in load, cost monotone in instances and
/// utilisation not increasing with instances.
#[test]
fn random_designs_give_sane_monotone_results() {
    let c = catalog();
    let mut rng = StdRng::seed_from_u64(0x0051_5719);
    for case in 0..3_000 {
        let d = random_design(&mut rng);
        let p = problem(
            rng.random_range(1.0..50_000.0),
            rng.random_range(0.0..1.0),
            99.95,
        );
        let low = rng.random_range(0.0..2.0);
        let high = low + rng.random_range(0.0..3.0);
        let what = format!("case {case}");
        let a = at(&p, &c, &d, low);
        let b = at(&p, &c, &d, high);
        if std::env::var("SIM_DEBUG_CASE").ok() == Some(case.to_string()) {
            eprintln!("{}", serde_json::to_string(&d).unwrap());
            eprintln!("{:#?}\n{:#?}", a.nodes, b.nodes);
        }
        assert_sane(&a, &what);
        assert_sane(&b, &what);
        for (id, n) in &a.nodes {
            let m = &b.nodes[id];
            assert!(
                m.utilisation >= n.utilisation * (1.0 - 1e-9) - 1e-12,
                "{what}: {id} utilisation {} at ×{low} but {} at ×{high}",
                n.utilisation,
                m.utilisation
            );
        }
        // More instances of one node: the cost does not fall, its utilisation does not rise.
        let mut bigger = d.clone();
        if let Some(k) = (0..bigger.nodes.len()).find(|&i| bigger.nodes[i].ty == "app") {
            let before = at(&p, &c, &bigger, low);
            let id = bigger.nodes[k].id.clone();
            let was = before.nodes.get(&id).map_or(1.0, |n| n.instances);
            bigger.nodes[k] = bigger.nodes[k]
                .clone()
                .with_instances(was as u64 + rng.random_range(1..5));
            let after = at(&p, &c, &bigger, low);
            assert_sane(&after, &what);
            assert!(after.monthly_usd >= before.monthly_usd, "{what}");
            if let (Some(x), Some(y)) = (before.nodes.get(&id), after.nodes.get(&id))
                && x.offered_rps == y.offered_rps
            {
                assert!(y.utilisation <= x.utilisation, "{what}: {id}");
            }
        }
    }
}

/// The failure check's shortcut (`FailureCheck`) agrees with a full run per failed node.
#[test]
fn the_quick_failure_check_agrees_with_full_runs() {
    use super::model::{FailureCheck, RunInput};
    let c = catalog();
    let mut rng = StdRng::seed_from_u64(0xfa11);
    // (nodes compared, of which single points of failure, of those with errors at peak, of which SPOFs)
    let mut compared = (0, 0, 0, 0);
    for case in 0..1_500 {
        let d = random_design(&mut rng);
        let graph = Graph::build(&d, &c);
        let n = graph.nodes.len();
        let none = vec![false; n];
        let input = RunInput {
            rate: rng.random_range(1.0..40_000.0),
            read_share: rng.random_range(0.0..1.0),
            default_hit_rate: 0.8,
            cold_cache: false,
            failed: &none,
            with_latency: false,
        };
        let base = graph.run(&input, None);
        let check = FailureCheck::new(&graph, &base, input.clone());
        let mut scratch = vec![false; n];
        // Clients are not candidates: the check fails only the nodes that serve.
        for v in (0..n).filter(|&v| graph.nodes[v].role != Role::Client) {
            let mut failed = none.clone();
            failed[v] = true;
            let full = graph.run(
                &RunInput {
                    failed: &failed,
                    ..input.clone()
                },
                None,
            );
            let expected = full.error_rate > base.error_rate + 1e-12;
            let quick = check.fails_requests(v, &mut scratch);
            assert_eq!(
                quick, expected,
                "case {case}, node {} ({:?}): full error {} vs base {}",
                graph.nodes[v].id, graph.nodes[v].role, full.error_rate, base.error_rate
            );
            // The former method (a full run per node when the peak already has errors) agrees.
            assert_eq!(check.fails_requests_by_full_runs(v, &mut scratch), expected);
            // The incremental recomputation gives the full run's error rate, bit for bit.
            let incremental = check.error_rate_without(v, &mut scratch);
            assert_eq!(
                incremental.to_bits(),
                full.error_rate.to_bits(),
                "case {case}, node {} ({:?}): incremental {incremental} vs full {}",
                graph.nodes[v].id,
                graph.nodes[v].role,
                full.error_rate
            );
            assert!(!scratch[v]);
            compared.0 += 1;
            compared.1 += usize::from(expected);
            if base.error_rate > 0.0 {
                compared.2 += 1;
                compared.3 += usize::from(expected);
            }
        }
    }
    // Both outcomes, with and without errors at the peak, are well represented.
    assert!(
        compared.1 > 100
            && compared.0 - compared.1 > 100
            && compared.3 > 100
            && compared.2 - compared.3 > 100,
        "{compared:?}"
    );
}

/// `simulate` gives the same result, field for field, with the incremental failure check as with the
/// former one (a full run per failed node when the peak has errors), under every kind of scenario.
#[test]
fn the_incremental_failure_check_leaves_every_result_unchanged() {
    use super::{SpofMethod, simulate_using};
    let c = catalog();
    let mut rng = StdRng::seed_from_u64(0x5b0f);
    let mut spofs = [0usize; 2];
    for case in 0..1_000 {
        let d = random_design(&mut rng);
        let p = problem(
            rng.random_range(1.0..80_000.0),
            rng.random_range(0.0..1.0),
            99.99,
        );
        let scenario = Scenario {
            load: Load::Times(rng.random_range(0.0..4.0)),
            fail: if rng.random_bool(0.3) {
                vec![format!("n{}", rng.random_range(0..d.nodes.len().max(1)))]
            } else {
                Vec::new()
            },
            cold_cache: rng.random_bool(0.2),
        };
        let new = simulate_using(&p, &c, &d, &scenario, SpofMethod::Incremental);
        let old = simulate_using(&p, &c, &d, &scenario, SpofMethod::FullRuns);
        assert_eq!(new, old, "case {case}");
        if let Some(check) = new.check("no_single_point_of_failure") {
            spofs[usize::from(check.status == CheckStatus::Fail)] += 1;
        }
    }
    assert!(spofs[0] > 50 && spofs[1] > 50, "{spofs:?}");
}

/// A posted design may repeat an edge id: the edge figures keep the one-by-one semantics (the last
/// edge with a call wins), and every node is still there.
#[test]
fn a_repeated_edge_id_keeps_one_figure() {
    let p = problem(1_000.0, 0.5, 99.0);
    let mut d = design(
        vec![
            node("users", "client", 1),
            node("app", "app", 1),
            node("db", "db_primary", 1),
        ],
        &[("users", "app"), ("app", "db")],
    );
    for e in &mut d.edges {
        e.id = "same".into();
    }
    let r = peak(&p, &d);
    assert_eq!(r.edges.len(), 1);
    assert_eq!(r.edges["same"].from, "app");
    assert_eq!(r.nodes.len(), 3);
}
