//! Validation benchmark: a 500-node design for a real problem of the bank, validated many times.
//!
//! Prints the median and p99 time per run of `validate` (with the single-point-of-failure analysis on,
//! the most expensive path) once with the problem's component and path rules only (target 200 µs) and
//! once with capacity and latency rules added (one simulation run at the peak; target 1.5 ms), and of
//! `Design::from_doc` on the same design written into a yrs document (the other half of what a room
//! does per change), and writes them to `bench/results/validation.json`.
//!
//! Run: `cargo bench -p tierboard --bench validation` (release profile). Falls back to a problem
//! constructed here when the bank in `problems/` is empty.

mod common;

use common::{measure, round, stats, write_result};

use std::hint::black_box;
use std::path::PathBuf;

use serde_json::json;
use tierboard::design::{Design, DesignEdge, DesignNode, ParamValue};
use tierboard::problems::{Bank, Catalog, Problem, Rule};

#[path = "../tests/validation_fixture/mod.rs"]
mod fixture;
use tierboard::validation::validate;

/// The server's allocator (server/src/main.rs), so that the figure is the cost of a run inside the
/// server. (glibc's malloc and free had a fifth of this benchmark's samples, `Design::from_doc`
/// included; `validate`'s median moved within the noise: 152 µs with glibc, 157 µs with mimalloc.)
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const NODES: usize = 500;
const WARMUP: usize = 200;
const RUNS: usize = 5_000;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let bank = Bank::load(&root.join("problems")).unwrap_or_else(|e| {
        eprintln!("cannot load the bank ({e}); using a constructed problem");
        Bank::default()
    });
    let (mut problem, catalog, source) = match pick_problem(&bank) {
        Some(problem) => (problem, bank.catalog().clone(), "bank"),
        None => (constructed_problem(), fixture::catalog(), "constructed"),
    };
    // Turn the path analysis fully on, whatever the problem asks.
    problem.targets.availability_percent = Some(99.99);
    let design = build_design(&problem, &catalog);
    let edges = design.edges.len();

    let result = validate(&problem, &catalog, &design);
    println!(
        "problem {} ({source}): {} tiers, {} rules; design {} nodes, {} edges; reached {}, {} design issues, {} advisories",
        problem.id,
        problem.tiers.len(),
        problem.tiers.iter().map(|t| t.rules.len()).sum::<usize>(),
        design.nodes.len(),
        edges,
        result.reached,
        result.design_issues.len(),
        result.advisories.len()
    );

    // Two variants of the problem: its component and path rules only, and the same with capacity and
    // latency rules (one simulation run at the peak per validation).
    let mut plain = problem.clone();
    for tier in &mut plain.tiers {
        tier.rules.retain(|r| !r.needs_simulation());
    }
    plain.tiers.retain(|t| !t.rules.is_empty());
    let mut loaded = plain.clone();
    loaded.tiers.push(fixture::tier(
        "TP",
        "Holds the peak",
        vec![
            fixture::capacity(None, 0.8),
            fixture::capacity(Some("app"), 0.8),
            fixture::latency(None),
        ],
    ));
    if loaded.targets.peak_rate_per_sec.is_none() {
        loaded.targets.peak_rate_per_sec = Some(1_000.0);
    }
    let sim_rules = loaded
        .tiers
        .iter()
        .flat_map(|t| &t.rules)
        .filter(|r| r.needs_simulation())
        .count();
    let validate_times = measure(WARMUP, RUNS, || {
        black_box(validate(
            black_box(&plain),
            black_box(&catalog),
            black_box(&design),
        ));
    });
    let loaded_times = measure(WARMUP, RUNS / 5, || {
        black_box(validate(
            black_box(&loaded),
            black_box(&catalog),
            black_box(&design),
        ));
    });
    let doc = yrs::Doc::new();
    design.write_to_doc(&doc);
    let read_times = measure(WARMUP, RUNS, || {
        black_box(Design::from_doc(black_box(&doc)));
    });

    let v = stats(validate_times);
    let c = stats(loaded_times);
    let r = stats(read_times);
    println!(
        "validate:        median {:.1} µs, p99 {:.1} µs ({RUNS} runs; no capacity or latency rules; target 200 µs)",
        v.0, v.1
    );
    println!(
        "validate + sim:  median {:.1} µs, p99 {:.1} µs ({} runs; {sim_rules} capacity/latency rules; target 1,500 µs)",
        c.0,
        c.1,
        RUNS / 5
    );
    println!(
        "Design::from_doc: median {:.1} µs, p99 {:.1} µs ({RUNS} runs)",
        r.0, r.1
    );

    let out = json!({
        "benchmark": "validation",
        "problem": problem.id,
        "problem_source": source,
        "nodes": design.nodes.len(),
        "edges": edges,
        "runs": RUNS,
        "validate_us": {"median": round(v.0), "p99": round(v.1)},
        "validate_with_capacity_us": {"median": round(c.0), "p99": round(c.1), "rules": sim_rules},
        "target_with_capacity_us": 1500,
        "from_doc_us": {"median": round(r.0), "p99": round(r.1)},
        "target_us": 200,
        "profile": if cfg!(debug_assertions) { "debug" } else { "release" },
    });
    write_result("validation", &out);
}

/// The problem the benchmark uses from the bank: tutorial-simple-blog, the one the live acceptance test
/// drives too.
fn pick_problem(bank: &Bank) -> Option<Problem> {
    bank.get("tutorial-simple-blog").map(|p| (*p).clone())
}

/// A layered system of `NODES` nodes over the problem's rule types and components: clients feed
/// load balancers, which feed the rest in a chain with cross links, so every rule kind has work to do.
fn build_design(problem: &Problem, catalog: &Catalog) -> Design {
    let mut types: Vec<String> = Vec::new();
    for ty in problem
        .tiers
        .iter()
        .flat_map(|t| t.rules.iter().flat_map(|r| r.types().iter().cloned()))
        .chain(problem.available_components.iter().cloned())
    {
        if !types.contains(&ty) && catalog.get(&ty).is_some() {
            types.push(ty);
        }
    }
    for fallback in ["client", "lb", "app", "db_primary"] {
        if !types.iter().any(|t| t == fallback) && catalog.get(fallback).is_some() {
            types.push(fallback.to_string());
        }
    }
    let mut design = Design::default();
    for i in 0..NODES {
        let ty = &types[i % types.len()];
        let mut node = DesignNode::new(format!("node-{i:04}"), ty.as_str(), format!("{ty} #{i}"))
            .with_instances((i % 9 + 1) as u64);
        node.x = (i % 25) as f64 * 120.0;
        node.y = (i / 25) as f64 * 80.0;
        for rule in problem.tiers.iter().flat_map(|t| &t.rules) {
            if let Rule::ParamRange {
                ty: rt,
                param,
                min,
                max,
                ..
            } = rule
                && rt == ty
            {
                node = node.with_param(
                    param.clone(),
                    ParamValue::Number((min + max.min(min * 2.0 + 1.0)) / 2.0),
                );
            }
        }
        design.nodes.push(node);
    }
    // A chain through every node plus a forward cross link every third node: ~1.3 edges per node.
    for i in 0..NODES - 1 {
        design.edges.push(DesignEdge::new(
            format!("edge-{i:04}"),
            format!("node-{i:04}"),
            format!("node-{:04}", i + 1),
        ));
        if i % 3 == 0 && i + 7 < NODES {
            design.edges.push(DesignEdge::new(
                format!("cross-{i:04}"),
                format!("node-{i:04}"),
                format!("node-{:04}", i + 7),
            ));
        }
    }
    design
}

/// tutorial-simple-blog as the validation tests write it by hand, with a tier of range checks added so
/// that every rule kind has work to do.
fn constructed_problem() -> Problem {
    let mut p = fixture::blog();
    p.id = "bench-constructed".into();
    p.tiers.push(fixture::tier(
        "T3",
        "Ranges",
        vec![
            fixture::param_range("cache", "hit_rate", 0.9, 1.0),
            fixture::param_range("stream", "partitions", 12.0, 1e6),
        ],
    ));
    p.available_components
        .extend(["cache", "stream", "s3"].map(String::from));
    p
}
