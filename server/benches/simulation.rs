//! Simulation benchmark: a 500-node design for a real problem of the bank, simulated many times.
//!
//! Prints the median and p99 time of `simulate` at peak, the call a room makes whenever validation
//! runs (one scenario run plus the capacity checks, whose single-point-of-failure check fails each
//! node that carries traffic in turn), and of one scenario run alone, and writes them to
//! `bench/results/simulation.json`. Target: median ≤ 1 ms.
//!
//! The failure check is measured both ways, side by side in the same run (interleaved, so that the
//! machine's load weighs on both alike): `SpofMethod::Incremental` (what `simulate` uses) and
//! `SpofMethod::FullRuns` (the former method: a full run per node when the peak has errors, the
//! demand shift through hash maps otherwise, and a full run per explained single point of failure).
//! Two peaks: one the design sustains without errors, and three times that, where it has errors.
//!
//! Run: `cargo bench -p tierboard --bench simulation` (release profile).

mod common;

use common::{round, stats, write_result};

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;
use tierboard::design::{Design, DesignEdge, DesignNode, ParamValue};
use tierboard::problems::{Bank, Catalog, Problem};
use tierboard::simulation::model::RunInput;
use tierboard::simulation::{Graph, Scenario, SpofMethod, Workload, simulate, simulate_using};

/// The server's allocator (server/src/main.rs), so that the figure is the cost of a run inside it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const WARMUP: usize = 50;
const RUNS: usize = 1_000;
const TARGET_US: f64 = 1_000.0;

/// Times `a` and `b` alternately, `runs` times each after `warmup` untimed calls of each.
fn side_by_side(
    warmup: usize,
    runs: usize,
    mut a: impl FnMut(),
    mut b: impl FnMut(),
) -> (Vec<Duration>, Vec<Duration>) {
    for _ in 0..warmup {
        a();
        b();
    }
    let (mut ta, mut tb) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for _ in 0..runs {
        let start = Instant::now();
        a();
        ta.push(start.elapsed());
        let start = Instant::now();
        b();
        tb.push(start.elapsed());
    }
    (ta, tb)
}

/// One peak: the new and the former method side by side, after checking they agree.
fn compare(problem: &Problem, catalog: &Catalog, design: &Design) -> serde_json::Value {
    let new = simulate(problem, catalog, design, &Scenario::peak());
    let old = simulate_using(
        problem,
        catalog,
        design,
        &Scenario::peak(),
        SpofMethod::FullRuns,
    );
    assert_eq!(new, old, "both methods give the same result");
    let spof = new.check("no_single_point_of_failure");
    println!(
        "peak {} rps: error rate at peak {:.3e}, p99 {:.1} ms, bottleneck {:?}; single points of failure: {}; checks: {}",
        problem.targets.peak_rate_per_sec.unwrap_or(0.0),
        new.end_to_end.error_rate,
        new.end_to_end.p99_ms,
        new.bottleneck,
        spof.map_or(0, |c| c.nodes.len()),
        new.checks
            .iter()
            .map(|c| format!("{} {:?}", c.id, c.status))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let (tn, to) = side_by_side(
        WARMUP,
        RUNS,
        || {
            black_box(simulate(
                black_box(problem),
                black_box(catalog),
                black_box(design),
                &Scenario::peak(),
            ));
        },
        || {
            black_box(simulate_using(
                black_box(problem),
                black_box(catalog),
                black_box(design),
                &Scenario::peak(),
                SpofMethod::FullRuns,
            ));
        },
    );
    let (new_t, old_t) = (stats(tn), stats(to));
    println!(
        "  simulate, incremental failure check: median {:>9.1} µs, p99 {:>9.1} µs ({RUNS} runs)",
        new_t.0, new_t.1
    );
    println!(
        "  simulate, former failure check:      median {:>9.1} µs, p99 {:>9.1} µs ({RUNS} runs, interleaved)",
        old_t.0, old_t.1
    );
    println!(
        "  speed-up of the median: {:.1}×; target median ≤ {TARGET_US} µs: {}",
        old_t.0 / new_t.0,
        if new_t.0 <= TARGET_US {
            "met"
        } else {
            "missed"
        }
    );
    json!({
        "peak_rps": problem.targets.peak_rate_per_sec,
        "error_rate_at_peak": new.end_to_end.error_rate,
        "single_points_of_failure": spof.map_or(0, |c| c.nodes.len()),
        "simulate_us": {"median": round(new_t.0), "p99": round(new_t.1)},
        "former_simulate_us": {"median": round(old_t.0), "p99": round(old_t.1)},
        "met": new_t.0 <= TARGET_US,
    })
}

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
        "problem {}: design {} nodes, {} edges, {} design issues",
        problem.id,
        design.nodes.len(),
        design.edges.len(),
        result.design_issues.len(),
    );
    assert!(
        result.design_issues.is_empty(),
        "{:?}",
        result.design_issues
    );
    // `SIM_PROFILE=1`: only the new method, many times, for `perf record`.
    if std::env::var_os("SIM_PROFILE").is_some() {
        for _ in 0..3_000 {
            black_box(simulate(&problem, catalog, &design, &Scenario::peak()));
        }
        return;
    }
    let sustained = compare(&problem, catalog, &design);
    let mut overloaded = problem.clone();
    overloaded.targets.peak_rate_per_sec = Some(600_000.0);
    let erroring = compare(&overloaded, catalog, &design);

    let workload = Workload::of(&problem);
    let graph = Graph::build(&design, catalog);
    let failed = vec![false; graph.nodes.len()];
    let one = stats(common::measure(WARMUP, RUNS, || {
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
        "one scenario run:                        median {:>9.1} µs, p99 {:>9.1} µs ({RUNS} runs)",
        one.0, one.1
    );
    let out = json!({
        "benchmark": "simulation",
        "problem": problem.id,
        "nodes": design.nodes.len(),
        "edges": design.edges.len(),
        "runs": RUNS,
        "simulate_us": sustained["simulate_us"],
        "former_simulate_us": sustained["former_simulate_us"],
        "with_errors_at_peak": erroring,
        "one_run_us": {"median": round(one.0), "p99": round(one.1)},
        "target_us": TARGET_US,
        // The target is for the design at its peak; the figure with errors at peak is reported beside it.
        "met": sustained["met"],
        "profile": if cfg!(debug_assertions) { "debug" } else { "release" },
        "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
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
