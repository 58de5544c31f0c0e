//! Capacity simulation: a pure function from (problem, catalog, design, scenario) to per-node load,
//! utilisation, latency, errors and cost, end-to-end figures, capacity checks and the arithmetic behind
//! them (docs/SIMULATION.md has the formulas and a worked example). No I/O, no async, never panics.
//!
//! - [`workload`]: the problem's peak and normal rate, read share, latency and availability targets.
//! - [`graph`]: the design prepared for simulation (roles, capacities, an acyclic order, design issues).
//! - [`queueing`]: per-node latency from an M/M/c queue (Erlang C).
//! - [`model`]: one scenario run: flow forwards, success and latency backwards.
//! - [`result`]: the scenario and result types (`POST /api/simulate`).
//! - [`api`], [`cli`], [`live`]: the route, `tierboard simulate`, and what a room calls.

pub mod api;
pub mod cli;
pub mod graph;
pub mod live;
pub mod model;
pub mod queueing;
pub mod result;
pub mod workload;

use std::collections::BTreeMap;

pub use graph::{Graph, Role, SimIssue};
pub use live::{Resimulation, resimulate, resimulate_under};
pub use result::{
    Check, CheckStatus, EdgeResult, EndToEnd, Load, NodeResult, Scenario, ScenarioResult,
    SimulationResult,
};
pub use workload::Workload;

use crate::design::Design;
use crate::problems::{Catalog, Problem};
use model::{READ, Run, RunInput, WRITE};

/// Utilisation above which a node does not "sustain the peak": the headroom interviewers ask for,
/// which is also a `capacity` rule's default bound.
pub const HEADROOM: f64 = crate::problems::model::DEFAULT_MAX_UTILISATION;
/// Availability target (percent) from which the single-point-of-failure check is shown.
pub const SPOF_AVAILABILITY: f64 = 99.9;
/// Single points of failure whose error rate the explanation states (one full run each); the rest are
/// named in the check's `nodes`.
pub const SPOF_EXPLAINED: usize = 8;

/// How the single-point-of-failure check finds the error rate with a node failed when the design
/// already has errors at peak (without errors, both use the demand-shift shortcut).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpofMethod {
    /// Recompute only what failing the node changes ([`model::FailureCheck::error_rate_without`]).
    Incremental,
    /// A full run per node: the former method, kept as the reference for tests and the benchmark.
    FullRuns,
}

/// Simulates `design` for `problem` under `scenario`. The capacity checks are always computed at the
/// problem's peak with nothing failed and warm caches, whatever the scenario (`POST /api/simulate`).
pub fn simulate(
    problem: &Problem,
    catalog: &Catalog,
    design: &Design,
    scenario: &Scenario,
) -> SimulationResult {
    simulate_with(
        problem,
        catalog,
        design,
        scenario,
        SpofMethod::Incremental,
        false,
    )
}

/// [`simulate`], with the `sustains_peak` and `latency_target` checks judged under `scenario` (its
/// load, failed nodes and cold caches) rather than at the plain peak: what a room under an interview's
/// curveball shows (issue 22). The single-point-of-failure check stays at the peak with nothing failed
/// (it fails each node in turn itself), and the cost does not depend on the scenario.
pub fn simulate_judged_under(
    problem: &Problem,
    catalog: &Catalog,
    design: &Design,
    scenario: &Scenario,
) -> SimulationResult {
    simulate_with(
        problem,
        catalog,
        design,
        scenario,
        SpofMethod::Incremental,
        true,
    )
}

/// [`simulate`] with the single-point-of-failure check's method chosen; the result is the same.
pub fn simulate_using(
    problem: &Problem,
    catalog: &Catalog,
    design: &Design,
    scenario: &Scenario,
    method: SpofMethod,
) -> SimulationResult {
    simulate_with(problem, catalog, design, scenario, method, false)
}

/// A scenario applied to a design's graph: the rate multiplier and the failed nodes (a failed id the
/// graph does not have becomes a design issue).
struct Applied {
    multiplier: f64,
    failed: Vec<bool>,
    /// The failed ids that exist, once each, in the scenario's order.
    fail: Vec<String>,
}

impl Applied {
    fn new(graph: &mut Graph, workload: &Workload, scenario: &Scenario) -> Applied {
        let mut failed = vec![false; graph.nodes.len()];
        let mut fail = Vec::new();
        for id in &scenario.fail {
            match graph.index.get(id) {
                Some(&v) if !failed[v] => {
                    failed[v] = true;
                    fail.push(id.clone());
                }
                Some(_) => {}
                None => graph.issues.push(SimIssue::new(
                    "unknown_failed_node",
                    format!(
                        "the scenario fails '{id}', which is not a simulated node of the design"
                    ),
                    vec![id.clone()],
                    vec![],
                )),
            }
        }
        let multiplier = match scenario.load {
            Load::Normal => workload.normal_rps / workload.peak_rps,
            Load::Peak => 1.0,
            Load::Times(m) => m,
        };
        Applied {
            multiplier,
            failed,
            fail,
        }
    }

    fn plain_peak(&self, scenario: &Scenario) -> bool {
        self.multiplier == 1.0 && self.fail.is_empty() && !scenario.cold_cache
    }

    /// Where a figure was judged, for explanations: `at the peak of 10,000 rps`, or under a changed
    /// scenario `at 5× peak (50,000 rps) with 'Cache' failed and caches cold`.
    fn situation(&self, graph: &Graph, workload: &Workload, scenario: &Scenario) -> String {
        let rate = workload.peak_rps * self.multiplier;
        let mut s = match scenario.load {
            Load::Normal => format!("at the normal load of {} rps", num(rate)),
            _ if self.multiplier == 1.0 => format!("at the peak of {} rps", num(rate)),
            _ => format!("at {}× peak ({} rps)", num(self.multiplier), num(rate)),
        };
        let mut extras = Vec::new();
        if !self.fail.is_empty() {
            let names: Vec<String> = self
                .fail
                .iter()
                .map(|id| {
                    let label = graph
                        .index
                        .get(id)
                        .map_or(id.as_str(), |&v| graph.nodes[v].label.as_str());
                    format!("'{label}'")
                })
                .collect();
            extras.push(format!("{} failed", names.join(", ")));
        }
        if scenario.cold_cache {
            extras.push("caches cold".to_string());
        }
        if !extras.is_empty() {
            s.push_str(" with ");
            s.push_str(&extras.join(" and "));
        }
        s
    }
}

fn simulate_with(
    problem: &Problem,
    catalog: &Catalog,
    design: &Design,
    scenario: &Scenario,
    method: SpofMethod,
    judged_under_scenario: bool,
) -> SimulationResult {
    let workload = Workload::of(problem);
    let mut graph = Graph::build(design, catalog);
    let applied = Applied::new(&mut graph, &workload, scenario);
    let (multiplier, failed) = (applied.multiplier, applied.failed.as_slice());
    let rate = workload.peak_rps * multiplier;
    let run = graph.run(
        &run_input(&workload, rate, failed, scenario.cold_cache),
        None,
    );
    let plain_peak = applied.plain_peak(scenario);
    let no_failures = vec![false; graph.nodes.len()];
    let peak_run = if plain_peak {
        None
    } else {
        Some(graph.run(
            &run_input(&workload, workload.peak_rps, &no_failures, false),
            None,
        ))
    };
    let peak = peak_run.as_ref().unwrap_or(&run);
    // What `sustains_peak` and `latency_target` judge, and where.
    let judged = if judged_under_scenario && !plain_peak {
        Judged {
            run: &run,
            failed,
            situation: applied.situation(&graph, &workload, scenario),
        }
    } else {
        Judged {
            run: peak,
            failed: &no_failures,
            situation: format!("at the peak of {} rps", num(workload.peak_rps)),
        }
    };
    let failure_check = model::FailureCheck::new(
        &graph,
        peak,
        RunInput {
            with_latency: false,
            ..run_input(&workload, workload.peak_rps, &no_failures, false)
        },
    );
    let spof_failed = std::cell::RefCell::new(no_failures.clone());
    let checks = checks(
        problem,
        &graph,
        &workload,
        peak,
        &judged,
        |v| match method {
            SpofMethod::Incremental => {
                failure_check.fails_requests(v, &mut spof_failed.borrow_mut())
            }
            SpofMethod::FullRuns => {
                failure_check.fails_requests_by_full_runs(v, &mut spof_failed.borrow_mut())
            }
        },
        |v| match method {
            SpofMethod::Incremental => {
                failure_check.error_rate_without(v, &mut spof_failed.borrow_mut())
            }
            SpofMethod::FullRuns => {
                let mut failed = no_failures.clone();
                failed[v] = true;
                let only_errors = RunInput {
                    with_latency: false,
                    ..run_input(&workload, workload.peak_rps, &failed, false)
                };
                graph.run(&only_errors, Some(peak)).error_rate
            }
        },
    );

    let nodes = node_results(&graph, &run, failed);
    let edges = edge_results(&graph, &run, failed);
    let bottleneck = bottleneck(&graph, &run);
    let monthly_usd = graph
        .nodes
        .iter()
        .map(|n| n.instances * n.monthly_usd)
        .sum();
    let end_to_end = EndToEnd {
        throughput_rps: run.offered_rps * (1.0 - run.error_rate),
        error_rate: run.error_rate,
        mean_ms: run.mean_ms,
        p50_ms: run.p50_ms,
        p99_ms: run.p99_ms,
    };
    let scenario_result = ScenarioResult {
        load: scenario.load,
        multiplier,
        offered_rps: run.offered_rps,
        read_share: workload.read_share,
        read_rps: run.generated.iter().map(|g| g[READ]).sum(),
        write_rps: run.generated.iter().map(|g| g[WRITE]).sum(),
        peak_rps: workload.peak_rps,
        normal_rps: workload.normal_rps,
        read_share_from: workload.read_share_from.clone(),
        default_hit_rate: workload.default_hit_rate,
        latency_target_ms: workload.latency_target_ms,
        latency_percentile: workload.latency_percentile.clone(),
        availability_percent: workload.availability_percent,
        fail: applied.fail.clone(),
        cold_cache: scenario.cold_cache,
        defaults: workload.defaults.clone(),
    };
    let explanations = explanations(&graph, &run, &scenario_result, &end_to_end, &bottleneck);
    SimulationResult {
        problem: problem.id.clone(),
        scenario: scenario_result,
        nodes,
        edges,
        end_to_end,
        bottleneck,
        monthly_usd,
        checks,
        explanations,
        design_issues: graph.issues,
    }
}

/// One run of a design at its problem's peak, nothing failed, warm caches, or under a scenario (an
/// interview's curveball): what validation's `capacity` and `latency` rules judge (docs/PROTOCOL.md
/// §5), without the checks, the failure analysis and the result's strings.
pub struct Peak {
    pub workload: Workload,
    pub graph: Graph,
    pub run: model::Run,
    /// The nodes the scenario fails (all false at the plain peak).
    pub failed: Vec<bool>,
    /// Where the run was judged, for explanations: `at the peak of 10,000 rps`, or under a scenario
    /// `at 5× peak (50,000 rps) with 'Cache' failed and caches cold`.
    pub situation: String,
}

/// Runs `design` once at `problem`'s peak; `with_latency` off skips the queueing arithmetic (a
/// `capacity` rule needs only load and utilisation).
pub fn peak(problem: &Problem, catalog: &Catalog, design: &Design, with_latency: bool) -> Peak {
    peak_under(problem, catalog, design, &Scenario::peak(), with_latency)
}

/// [`peak`] under `scenario`: its load (a multiple of peak, or normal), failed nodes and cold caches.
pub fn peak_under(
    problem: &Problem,
    catalog: &Catalog,
    design: &Design,
    scenario: &Scenario,
    with_latency: bool,
) -> Peak {
    let workload = Workload::of(problem);
    let mut graph = Graph::build(design, catalog);
    let applied = Applied::new(&mut graph, &workload, scenario);
    let input = RunInput {
        with_latency,
        ..run_input(
            &workload,
            workload.peak_rps * applied.multiplier,
            &applied.failed,
            scenario.cold_cache,
        )
    };
    let run = graph.run(&input, None);
    let situation = applied.situation(&graph, &workload, scenario);
    Peak {
        workload,
        graph,
        run,
        failed: applied.failed,
        situation,
    }
}

/// The run the `sustains_peak` and `latency_target` checks judge, its failed nodes, and where.
struct Judged<'a> {
    run: &'a Run,
    failed: &'a [bool],
    situation: String,
}

fn run_input<'a>(workload: &Workload, rate: f64, failed: &'a [bool], cold: bool) -> RunInput<'a> {
    RunInput {
        rate,
        read_share: workload.read_share,
        default_hit_rate: workload.default_hit_rate,
        cold_cache: cold,
        failed,
        with_latency: true,
    }
}

fn node_results(graph: &Graph, run: &Run, failed: &[bool]) -> BTreeMap<String, NodeResult> {
    // Ids are unique in the graph: the map is built in one go from the list.
    let mut out = Vec::with_capacity(graph.nodes.len());
    for (v, n) in graph.nodes.iter().enumerate() {
        let r = &run.nodes[v];
        let offered = r.offered[READ] + r.offered[WRITE];
        let error_rate = if failed[v] {
            if offered > 0.0 { 1.0 } else { 0.0 }
        } else if n.is_async {
            0.0
        } else {
            1.0 - r.served_fraction
        };
        out.push((
            n.id.clone(),
            NodeResult {
                ty: n.ty.clone(),
                label: n.label.clone(),
                role: n.role,
                is_async: n.is_async,
                instances: n.instances,
                offered_rps: offered,
                read_rps: r.offered[READ],
                write_rps: r.offered[WRITE],
                served_rps: if n.is_async && !failed[v] {
                    offered.min(r.capacity)
                } else {
                    offered * r.served_fraction
                },
                capacity_rps: if matches!(n.role, Role::Client | Role::Unknown) || failed[v] {
                    0.0
                } else {
                    r.capacity
                },
                utilisation: if failed[v] { 0.0 } else { r.utilisation },
                latency_ms: r.latency.mean_ms,
                p99_ms: r.latency.p99_ms,
                error_rate,
                backlog_rps: r.backlog,
                failed: failed[v],
                monthly_usd: n.instances * n.monthly_usd,
            },
        ));
    }
    out.into_iter().collect()
}

/// Per edge id, the requests/s it carries in `run`. Edges no call uses carry nothing in the scenario
/// (into a failed node, a balancer's dead target).
fn edge_results(graph: &Graph, run: &Run, failed: &[bool]) -> BTreeMap<String, EdgeResult> {
    let result = |v: usize, to: usize, call: Option<&model::Call>| {
        let sent = if failed[v] {
            [0.0; 2]
        } else {
            run.nodes[v].offered
        };
        EdgeResult {
            from: graph.nodes[v].id.clone(),
            to: graph.nodes[to].id.clone(),
            rps: call.map_or(0.0, |c| {
                sent[READ] * c.share[READ] + sent[WRITE] * c.share[WRITE]
            }),
            off_path: call.is_some_and(|c| c.off_path) || graph.nodes[to].is_async,
        }
    };
    // Built in one go from a list (a bulk build, not an insertion per edge) when the ids are unique,
    // as they are in a room.
    let mut list = Vec::with_capacity(graph.out.iter().map(Vec::len).sum());
    let mut carried: Vec<Option<&model::Call>> = Vec::new();
    for v in 0..graph.nodes.len() {
        carried.clear();
        carried.resize(graph.out[v].len(), None);
        for call in graph.calls(run, v) {
            carried[call.edge] = Some(call);
        }
        for ((to, id), call) in graph.out[v].iter().zip(&carried) {
            list.push((id.clone(), result(v, *to, *call)));
        }
    }
    let count = list.len();
    let edges: BTreeMap<String, EdgeResult> = list.into_iter().collect();
    if edges.len() == count {
        return edges;
    }
    // A posted design may repeat an edge id: the figure of the last edge with a call wins, else the
    // first edge's.
    let mut edges = BTreeMap::new();
    for v in 0..graph.nodes.len() {
        for call in graph.calls(run, v) {
            let (to, id) = &graph.out[v][call.edge];
            edges.insert(id.clone(), result(v, *to, Some(call)));
        }
        for (to, id) in &graph.out[v] {
            if !edges.contains_key(id) {
                edges.insert(id.clone(), result(v, *to, None));
            }
        }
    }
    edges
}

fn bottleneck(graph: &Graph, run: &Run) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for (v, n) in graph.nodes.iter().enumerate() {
        let u = run.nodes[v].utilisation;
        // A failed node serves nothing (served fraction 0): it is not a bottleneck.
        if u <= 0.0 || run.nodes[v].served_fraction <= 0.0 {
            continue;
        }
        if best.is_none_or(|(b, id)| u > b || (u == b && n.id.as_str() < id)) {
            best = Some((u, &n.id));
        }
    }
    best.map(|(_, id)| id.to_string())
}

/// A figure for a sentence: thousands separated, at most two decimals below 100.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x.abs() < 100.0 {
        let s = format!("{x:.2}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        return s.to_string();
    }
    let rounded = x.round() as i128;
    let digits = rounded.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if rounded < 0 { format!("-{out}") } else { out }
}

fn percent(x: f64) -> String {
    format!("{} %", num(x * 100.0))
}

/// "App Servers: 87,000 rps offered, 8 × 5,000 = 40,000 capacity, 218 %: add 12 instances to stay
/// under 80 %".
fn load_sentence(graph: &Graph, run: &Run, v: usize) -> String {
    let n = &graph.nodes[v];
    let r = &run.nodes[v];
    let offered = r.offered[READ] + r.offered[WRITE];
    let mut s = format!(
        "{}: {} rps offered, {} × {} = {} capacity, {}",
        n.label,
        num(offered),
        num(n.instances),
        num(n.rps),
        num(r.capacity),
        percent(r.utilisation)
    );
    if r.capacity < n.instances * n.rps {
        s.push_str(&format!(
            " (capped by {} partitions × {} msg/s)",
            num(n.partitions.unwrap_or(0.0)),
            num(graph::PARTITION_RPS)
        ));
    } else if r.utilisation > HEADROOM && n.rps > 0.0 {
        let needed = (offered / (HEADROOM * n.rps)).ceil();
        let more = (needed - n.instances).max(1.0);
        s.push_str(&format!(
            ": add {} instance{} to stay under {}",
            num(more),
            if more == 1.0 { "" } else { "s" },
            percent(HEADROOM)
        ));
    }
    s
}

fn checks(
    problem: &Problem,
    graph: &Graph,
    workload: &Workload,
    peak: &Run,
    judged: &Judged,
    mut fails_without: impl FnMut(usize) -> bool,
    error_rate_without: impl Fn(usize) -> f64,
) -> Vec<Check> {
    let mut checks = Vec::new();
    let sized = |v: usize| !matches!(graph.nodes[v].role, Role::Client | Role::Unknown);
    // Sustains the peak (or the scenario the room is judged under). A failed node is not hot: the
    // requests it fails are in the error rate.
    let (run, situation) = (judged.run, judged.situation.as_str());
    let hot: Vec<usize> = (0..graph.nodes.len())
        .filter(|&v| sized(v) && !judged.failed[v] && run.nodes[v].utilisation > HEADROOM)
        .collect();
    let sustains = hot.is_empty() && run.error_rate == 0.0 && run.offered_rps > 0.0;
    let explanation = if run.offered_rps <= 0.0 {
        "no traffic enters the design: connect a client".to_string()
    } else if sustains {
        let top = bottleneck(graph, run)
            .and_then(|id| graph.index.get(&id).copied())
            .map(|v| format!("; busiest: {}", load_sentence(graph, run, v)))
            .unwrap_or_default();
        format!(
            "{situation} every node stays under {}{top}",
            percent(HEADROOM)
        )
    } else {
        let mut parts: Vec<String> = hot.iter().map(|&v| load_sentence(graph, run, v)).collect();
        if run.error_rate > 0.0 {
            parts.push(format!("error rate {}", percent(run.error_rate)));
        }
        format!("{situation}: {}", parts.join("; "))
    };
    checks.push(Check {
        id: "sustains_peak".into(),
        title: "Sustains the peak".into(),
        status: if sustains {
            CheckStatus::Pass
        } else {
            CheckStatus::Fail
        },
        explanation,
        nodes: hot.iter().map(|&v| graph.nodes[v].id.clone()).collect(),
    });
    // Latency target.
    let simulated = if workload.latency_percentile == "p50" {
        run.p50_ms
    } else {
        run.p99_ms
    };
    let compared = if workload.latency_percentile == "p50" {
        "p50"
    } else {
        "p99"
    };
    let meets = run.offered_rps > 0.0 && simulated <= workload.latency_target_ms;
    // The plain peak keeps its short wording.
    let at = if std::ptr::eq(run, peak) {
        "at peak"
    } else {
        situation
    };
    checks.push(Check {
        id: "latency_target".into(),
        title: "Meets the latency target".into(),
        status: if meets {
            CheckStatus::Pass
        } else {
            CheckStatus::Fail
        },
        explanation: format!(
            "simulated {compared} {} ms {at} against the target {} < {} ms{}",
            num(simulated),
            workload.latency_percentile,
            num(workload.latency_target_ms),
            if workload.latency_percentile == "p95" || workload.latency_percentile == "p999" {
                " (compared with the simulated p99)"
            } else {
                ""
            }
        ),
        nodes: Vec::new(),
    });
    // Single points of failure.
    if workload.availability_percent >= SPOF_AVAILABILITY {
        let mut spof = Vec::new();
        let mut tried = 0;
        for v in 0..graph.nodes.len() {
            let r = &peak.nodes[v];
            if graph.nodes[v].role == Role::Client || r.offered[READ] + r.offered[WRITE] <= 0.0 {
                continue;
            }
            tried += 1;
            if fails_without(v) {
                spof.push(v);
            }
        }
        let explanation = if peak.offered_rps <= 0.0 {
            "no traffic enters the design: connect a client".to_string()
        } else if spof.is_empty() {
            format!(
                "failing any one of the {tried} nodes that carry traffic leaves the error rate at 0 (availability target {} %)",
                num(workload.availability_percent)
            )
        } else {
            // The error rate of each, for the first few (one full run each).
            let mut parts: Vec<String> = spof
                .iter()
                .take(SPOF_EXPLAINED)
                .map(|&v| {
                    format!(
                        "without {} the error rate is {}",
                        graph.nodes[v].label,
                        percent(error_rate_without(v))
                    )
                })
                .collect();
            if spof.len() > SPOF_EXPLAINED {
                parts.push(format!("and {} more", spof.len() - SPOF_EXPLAINED));
            }
            format!(
                "{} (availability target {} %)",
                parts.join("; "),
                num(workload.availability_percent)
            )
        };
        checks.push(Check {
            id: "no_single_point_of_failure".into(),
            title: "No single point of failure".into(),
            status: if spof.is_empty() && peak.offered_rps > 0.0 {
                CheckStatus::Pass
            } else {
                CheckStatus::Fail
            },
            explanation,
            nodes: spof.iter().map(|&v| graph.nodes[v].id.clone()).collect(),
        });
    }
    // Monthly cost, against the budget when the problem states one.
    let total: f64 = graph
        .nodes
        .iter()
        .map(|n| n.instances * n.monthly_usd)
        .sum();
    let mut by_cost: Vec<&graph::Node> =
        graph.nodes.iter().filter(|n| n.monthly_usd > 0.0).collect();
    by_cost.sort_by(|a, b| {
        (b.instances * b.monthly_usd)
            .total_cmp(&(a.instances * a.monthly_usd))
            .then_with(|| a.id.cmp(&b.id))
    });
    let top: Vec<String> = by_cost
        .iter()
        .take(3)
        .map(|n| {
            format!(
                "{} {} × ${} = ${}",
                n.label,
                num(n.instances),
                num(n.monthly_usd),
                num(n.instances * n.monthly_usd)
            )
        })
        .collect();
    let budget = problem
        .constant_f64("budget_monthly")
        .filter(|b| b.is_finite() && *b > 0.0);
    let (status, against) = match budget {
        Some(b) if total <= b => (
            CheckStatus::Pass,
            format!(" within the budget of ${}", num(b)),
        ),
        Some(b) => (
            CheckStatus::Fail,
            format!(" over the budget of ${}", num(b)),
        ),
        None => (
            CheckStatus::Info,
            " (the problem states no budget)".to_string(),
        ),
    };
    checks.push(Check {
        id: "monthly_cost".into(),
        title: "Monthly cost".into(),
        status,
        explanation: format!(
            "${} a month at list prices{against}{}",
            num(total),
            if top.is_empty() {
                String::new()
            } else {
                format!("; largest: {}", top.join(", "))
            }
        ),
        nodes: by_cost.iter().take(3).map(|n| n.id.clone()).collect(),
    });
    checks
}

fn explanations(
    graph: &Graph,
    run: &Run,
    scenario: &ScenarioResult,
    e2e: &EndToEnd,
    bottleneck: &Option<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    let load = match scenario.load {
        Load::Normal => format!("normal load ({} rps)", num(scenario.normal_rps)),
        Load::Peak => format!("peak load ({} rps)", num(scenario.peak_rps)),
        Load::Times(m) => format!(
            "{}× peak ({} × {} rps)",
            num(m),
            num(m),
            num(scenario.peak_rps)
        ),
    };
    out.push(format!(
        "{load}: {} rps enter at the clients, {} reads ({}) and {} writes; read share {} from {}",
        num(scenario.offered_rps),
        num(scenario.read_rps),
        percent(scenario.read_share),
        num(scenario.write_rps),
        num(scenario.read_share),
        scenario.read_share_from
    ));
    if run.unrouted[READ] || run.unrouted[WRITE] {
        let which = match run.unrouted {
            [true, true] => "reads and writes",
            [true, false] => "reads",
            _ => "writes",
        };
        out.push(format!("no client sends {which}: they are not simulated"));
    }
    for (v, n) in graph.nodes.iter().enumerate() {
        let r = &run.nodes[v];
        if matches!(n.role, Role::Client | Role::Unknown)
            || r.offered[READ] + r.offered[WRITE] <= 0.0
            || r.served_fraction <= 0.0
        {
            continue;
        }
        if matches!(n.role, Role::Cache | Role::Cdn) {
            let h = if scenario.cold_cache {
                0.0
            } else {
                n.hit_rate.unwrap_or(scenario.default_hit_rate)
            };
            out.push(format!(
                "{}: hit rate {}{}: of {} reads/s, {} miss",
                n.label,
                num(h),
                if scenario.cold_cache { " (cold)" } else { "" },
                num(r.offered[READ]),
                num(r.offered[READ] * (1.0 - h))
            ));
        }
        if r.utilisation > HEADROOM || run.nodes[v].served_fraction < 1.0 {
            let mut s = load_sentence(graph, run, v);
            if n.is_async && r.backlog > 0.0 {
                s.push_str(&format!(
                    "; the backlog grows by {} per second",
                    num(r.backlog)
                ));
            } else if r.served_fraction < 1.0 && r.served_fraction > 0.0 {
                s.push_str(&format!(
                    "; errors 1 − 1/{} = {}",
                    num(r.utilisation),
                    percent(1.0 - r.served_fraction)
                ));
            }
            out.push(s);
        }
    }
    for id in &scenario.fail {
        let name = graph
            .index
            .get(id)
            .map_or(id.as_str(), |&v| graph.nodes[v].label.as_str());
        out.push(format!(
            "{name} is failed: it serves nothing; balancers route around it, calls into it fail"
        ));
    }
    if let Some(id) = bottleneck
        && let Some(&v) = graph.index.get(id)
    {
        out.push(format!("bottleneck: {}", load_sentence(graph, run, v)));
    }
    out.push(format!(
        "end to end: {} of {} rps answered (error rate {}), mean {} ms, p50 {} ms, p99 {} ms (target {} < {} ms)",
        num(e2e.throughput_rps),
        num(scenario.offered_rps),
        percent(e2e.error_rate),
        num(e2e.mean_ms),
        num(e2e.p50_ms),
        num(e2e.p99_ms),
        scenario.latency_percentile,
        num(scenario.latency_target_ms)
    ));
    for d in &scenario.defaults {
        out.push(format!("not stated by the problem, default used: {d}"));
    }
    out
}

#[cfg(test)]
mod tests;
