//! Simulation benchmark: a 500-node design for a real problem of the bank, simulated many times.
//!
//! Prints the median and p99 time of `simulate` at peak, the call a room makes whenever validation
//! runs (one scenario run plus the capacity checks, whose single-point-of-failure check fails each
//! node that carries traffic in turn), and of one scenario run alone, and writes them to
//! `bench/results/simulation.json`. Target: median ≤ 1 ms.
//!
//! Run: `cargo bench -p tierboard --bench simulation` (release profile).

mod common;

use common::{measure, round, stats, write_result};

use std::hint::black_box;
use std::path::PathBuf;

use serde_json::json;
use tierboard::design::{Design, DesignEdge, DesignNode, ParamValue};
use tierboard::problems::Bank;
use tierboard::simulation::model::RunInput;
use tierboard::simulation::{Graph, Scenario, Workload, simulate};

/// The server's allocator (server/src/main.rs), so that the figure is the cost of a run inside it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const WARMUP: usize = 50;
const RUNS: usize = 1_000;
const TARGET_US: f64 = 1_000.0;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let bank = Bank::load(&root.join("problems")).expect("the committed problem bank loads");
    let mut problem = (*bank
        .get("tutorial-simple-blog")
        .expect("tutorial-simple-blog"))
    .clone();
    // The failure check on, whatever the problem asks, and a peak that loads the design.
    problem.targets.availability_percent = Some(99.99);
    problem.targets.peak_rate_per_sec = Some(200_000.0);
    let catalog = bank.catalog();
    let design = build_design();
    let result = simulate(&problem, catalog, &design, &Scenario::peak());
    println!(
        "problem {}: design {} nodes, {} edges; offered {} rps, error rate {:e}, p99 {:.1} ms, bottleneck {:?}, {} design issues; checks: {}",
        problem.id,
        design.nodes.len(),
        design.edges.len(),
        result.scenario.offered_rps,
        result.end_to_end.error_rate,
        result.end_to_end.p99_ms,
        result.bottleneck,
        result.design_issues.len(),
        result
            .checks
            .iter()
            .map(|c| format!("{} {:?}", c.id, c.status))
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert!(
        result.design_issues.is_empty(),
        "{:?}",
        result.design_issues
    );

    let full = stats(measure(WARMUP, RUNS, || {
        black_box(simulate(
            black_box(&problem),
            black_box(catalog),
            black_box(&design),
            &Scenario::peak(),
        ));
    }));
    let workload = Workload::of(&problem);
    let graph = Graph::build(&design, catalog);
    let failed = vec![false; graph.nodes.len()];
    let one = stats(measure(WARMUP, RUNS, || {
        black_box(graph.run(
            &RunInput {
                rate: workload.peak_rps,
                read_share: workload.read_share,
                default_hit_rate: workload.default_hit_rate,
                cold_cache: false,
                failed: &failed,
                with_latency: true,
            },
            None,
        ));
    }));
    println!(
        "simulate (run + checks): median {:.1} µs, p99 {:.1} µs ({RUNS} runs)",
        full.0, full.1
    );
    println!(
        "one scenario run:        median {:.1} µs, p99 {:.1} µs ({RUNS} runs)",
        one.0, one.1
    );
    println!(
        "target: median ≤ {TARGET_US} µs: {}",
        if full.0 <= TARGET_US { "met" } else { "missed" }
    );

    let out = json!({
        "benchmark": "simulation",
        "problem": problem.id,
        "nodes": design.nodes.len(),
        "edges": design.edges.len(),
        "runs": RUNS,
        "simulate_us": {"median": round(full.0), "p99": round(full.1)},
        "one_run_us": {"median": round(one.0), "p99": round(one.1)},
        "target_us": TARGET_US,
        "met": full.0 <= TARGET_US,
        "profile": if cfg!(debug_assertions) { "debug" } else { "release" },
    });
    write_result("simulation", &out);
}

/// A layered system of 500 nodes with every role: 10 clients → 10 load balancers → 200 app nodes
/// (20 behind each balancer); each app reads through one of 40 caches (cache-aside) from one of 40
/// database shards, each shard with 2 replicas (80), and hands work to one of 40 queues, each drained
/// by a worker (40) that writes to the shards. 10 + 10 + 200 + 40 + 40 + 80 + 40 + 40 = 460, plus 40
/// search nodes the apps also call = 500.
fn build_design() -> Design {
    let mut d = Design::default();
    let mut edge = 0usize;
    let mut link = |d: &mut Design, a: String, b: String| {
        d.edges.push(DesignEdge::new(format!("e{edge}"), a, b));
        edge += 1;
    };
    let add = |d: &mut Design, id: String, ty: &str, instances: u64| {
        d.nodes
            .push(DesignNode::new(id.clone(), ty, id).with_instances(instances));
    };
    for i in 0..10 {
        add(&mut d, format!("client-{i}"), "client", 1);
        add(&mut d, format!("lb-{i}"), "lb", 2);
        link(&mut d, format!("client-{i}"), format!("lb-{i}"));
    }
    for s in 0..40 {
        add(&mut d, format!("cache-{s}"), "cache", 2);
        if let Some(n) = d.nodes.last_mut() {
            n.params.insert("hit_rate".into(), ParamValue::Number(0.9));
        }
        add(&mut d, format!("db-{s}"), "db_primary", 2);
        add(&mut d, format!("queue-{s}"), "queue", 1);
        add(&mut d, format!("worker-{s}"), "worker", 3);
        add(&mut d, format!("search-{s}"), "search", 4);
        for r in 0..2 {
            add(&mut d, format!("replica-{s}-{r}"), "db_replica", 2);
            link(&mut d, format!("db-{s}"), format!("replica-{s}-{r}"));
        }
        link(&mut d, format!("queue-{s}"), format!("worker-{s}"));
        link(&mut d, format!("worker-{s}"), format!("db-{s}"));
    }
    for a in 0..200 {
        add(&mut d, format!("app-{a}"), "app", 4);
        link(&mut d, format!("lb-{}", a / 20), format!("app-{a}"));
        let s = a % 40;
        for target in [
            format!("cache-{s}"),
            format!("db-{s}"),
            format!("replica-{s}-0"),
            format!("replica-{s}-1"),
            format!("queue-{s}"),
            format!("search-{s}"),
        ] {
            link(&mut d, format!("app-{a}"), target);
        }
    }
    d
}
