//! The flow model (docs/SIMULATION.md §2–4): one run routes a workload through a prepared [`Graph`]
//! with some nodes failed and returns, per node, what it was offered and served and, per client and
//! traffic class, the end-to-end success, mean and percentiles.
//!
//! Routing fractions depend only on the graph, the failed nodes and the hit rates, never on the rates,
//! so a run is one pass forwards (flow) and one backwards (success and latency), O(nodes + edges).
//! The flow is demand: offered load is linear in the rate and independent of capacities.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use super::graph::{Graph, Role};
use super::queueing::{Latency, node_latency};

/// Traffic classes.
pub const READ: usize = 0;
pub const WRITE: usize = 1;

/// One call a node makes per request it serves: the share of its served reads and writes that go to
/// `target`. Calls with the same `group` are alternatives (a request makes one of them: balancer
/// targets, shards, replicas); calls in different groups are made one after the other.
#[derive(Debug, Clone, Copy)]
pub struct Call {
    pub target: usize,
    /// Position of the edge in `graph.out[node]`.
    pub edge: usize,
    pub share: [f64; 2],
    pub group: u32,
    /// Off the request path (replication from a primary to its replicas): carries load, adds neither
    /// latency nor failures to the request.
    pub off_path: bool,
}

/// What one scenario run asks.
#[derive(Debug, Clone)]
pub struct RunInput<'a> {
    /// Total requests/s offered at the clients.
    pub rate: f64,
    pub read_share: f64,
    /// Hit rate of caches that set none.
    pub default_hit_rate: f64,
    /// Every cache misses (`cold_cache`).
    pub cold_cache: bool,
    /// Failed nodes, by graph index.
    pub failed: &'a [bool],
    /// Compute latencies; off for the failure check's runs, which need only the error rate.
    pub with_latency: bool,
}

/// Per-node figures of a run.
#[derive(Debug, Clone, Default)]
pub struct NodeRun {
    /// Offered reads and writes per second.
    pub offered: [f64; 2],
    /// Fraction of the offered load it serves (1 below capacity; 0 when failed).
    pub served_fraction: f64,
    pub capacity: f64,
    pub utilisation: f64,
    pub latency: Latency,
    /// For asynchronous nodes: work arriving beyond capacity per second (the backlog's growth).
    pub backlog: f64,
    /// This node's calls: `run.calls[calls.0..calls.1]`.
    pub calls: (usize, usize),
    /// Share of served requests (per class) lost because every target is failed (balancers).
    pub lost: [f64; 2],
    /// From this node on, per class: success probability, mean, p50, p99 (ms).
    pub success: [f64; 2],
    pub mean: [f64; 2],
    pub p50: [f64; 2],
    pub p99: [f64; 2],
}

/// The outcome of a run.
#[derive(Debug, Clone, Default)]
pub struct Run {
    pub nodes: Vec<NodeRun>,
    /// Every node's calls, one node after the other (see [`NodeRun::calls`]).
    pub calls: Vec<Call>,
    /// Requests/s generated per client node and class.
    pub generated: Vec<[f64; 2]>,
    pub offered_rps: f64,
    pub error_rate: f64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Classes that had no client to enter by (`[reads, writes]`).
    pub unrouted: [bool; 2],
}

/// A call on the p50 path is made by at least half the requests, on the p99 path by at least 1 %.
const P50_SHARE: f64 = 0.5;
const P99_SHARE: f64 = 0.01;

impl Graph {
    /// Capacity of node `v` in requests/s: `instances × rps`, and for streams and queues with a
    /// `partitions` parameter at most `partitions × PARTITION_RPS`.
    pub fn capacity(&self, v: usize) -> f64 {
        let n = &self.nodes[v];
        let mut capacity = n.instances * n.rps;
        if matches!(n.kind.as_str(), "stream" | "queue")
            && let Some(p) = n.partitions
        {
            capacity = capacity.min(p * super::graph::PARTITION_RPS);
        }
        capacity
    }

    fn hit_rate(&self, v: usize, input: &RunInput) -> f64 {
        if input.cold_cache {
            0.0
        } else {
            self.nodes[v].hit_rate.unwrap_or(input.default_hit_rate)
        }
    }

    /// The calls node `v` makes per served request, and the share it loses (balancers whose targets
    /// are all failed).
    fn route(&self, v: usize, input: &RunInput) -> (Vec<Call>, [f64; 2]) {
        let targets = &self.out[v];
        let mut calls = Vec::with_capacity(targets.len());
        if targets.is_empty() {
            return (calls, [0.0; 2]);
        }
        let failed = input.failed;
        let role = self.nodes[v].role;
        if matches!(role, Role::Client | Role::Balancer) {
            let live = targets.iter().filter(|(t, _)| !failed[*t]).count();
            if live == 0 {
                return (calls, [1.0; 2]);
            }
            let share = 1.0 / live as f64;
            for (edge, (t, _)) in targets.iter().enumerate() {
                if !failed[*t] {
                    calls.push(Call {
                        target: *t,
                        edge,
                        share: [share; 2],
                        group: 0,
                        off_path: false,
                    });
                }
            }
            return (calls, [0.0; 2]);
        }
        // A cache or CDN forwards only its misses (and the writes it cannot answer).
        let read_factor = if matches!(role, Role::Cache | Role::Cdn) {
            1.0 - self.hit_rate(v, input)
        } else {
            1.0
        };
        let role_of = |t: usize| self.nodes[t].role;
        let is_store = |t: usize| role_of(t) == Role::Store;
        let is_db = |t: usize| is_store(t) && self.nodes[t].kind == "db_primary";
        let has_data = targets
            .iter()
            .any(|(t, _)| matches!(role_of(*t), Role::Store | Role::Replica));
        // Cache-aside: with a cache and a database among the targets, reads go to the cache first
        // and only the misses reach the database; a failed cache is routed around.
        let caches: Vec<usize> = (0..targets.len())
            .filter(|&e| role_of(targets[e].0) == Role::Cache)
            .filter(|&e| !(has_data && failed[targets[e].0]))
            .collect();
        let mut data_reads = read_factor;
        let mut group = 0u32;
        if !caches.is_empty() {
            let n = caches.len() as f64;
            let mut hit = 0.0;
            for &e in &caches {
                let t = targets[e].0;
                hit += self.hit_rate(t, input) / n;
                calls.push(Call {
                    target: t,
                    edge: e,
                    share: [read_factor / n, 1.0 / n],
                    group,
                    off_path: false,
                });
            }
            group += 1;
            if has_data {
                data_reads = read_factor * (1.0 - hit);
            }
        }
        // Reads go to the live read replicas when there are any, writes to the primary; with every
        // replica failed the reads fall back to the primary.
        let replicas: Vec<usize> = (0..targets.len())
            .filter(|&e| role_of(targets[e].0) == Role::Replica)
            .collect();
        let live_replicas: Vec<usize> = replicas
            .iter()
            .copied()
            .filter(|&e| !failed[targets[e].0])
            .collect();
        let has_db = targets.iter().any(|(t, _)| is_db(*t));
        let replica_set = if live_replicas.is_empty() && has_db {
            Vec::new()
        } else if live_replicas.is_empty() {
            replicas
        } else {
            live_replicas
        };
        let replicas_take_reads = !replica_set.is_empty();
        let from_store = role == Role::Store;
        for &e in &replica_set {
            let t = targets[e].0;
            let n = replica_set.len() as f64;
            // A primary's edge to a replica is replication: it carries the writes (off the path).
            let share = if from_store {
                [0.0, 1.0]
            } else {
                [data_reads / n, 0.0]
            };
            calls.push(Call {
                target: t,
                edge: e,
                share,
                group,
                off_path: from_store,
            });
        }
        if !replica_set.is_empty() {
            group += 1;
        }
        // Stores of the same type are shards: a request goes to one of them.
        let mut store_types: Vec<&str> = Vec::new();
        for (t, _) in targets {
            if is_store(*t) && !store_types.contains(&self.nodes[*t].ty.as_str()) {
                store_types.push(&self.nodes[*t].ty);
            }
        }
        for ty in store_types {
            let members: Vec<usize> = (0..targets.len())
                .filter(|&e| is_store(targets[e].0) && self.nodes[targets[e].0].ty == ty)
                .collect();
            let n = members.len() as f64;
            let reads = if replicas_take_reads && is_db(targets[members[0]].0) && !from_store {
                0.0
            } else {
                data_reads
            };
            for e in members {
                calls.push(Call {
                    target: targets[e].0,
                    edge: e,
                    share: [reads / n, 1.0 / n],
                    group,
                    off_path: false,
                });
            }
            group += 1;
        }
        // Everything else gets the whole load.
        for (e, (t, _)) in targets.iter().enumerate() {
            if matches!(role_of(*t), Role::Store | Role::Replica | Role::Cache) {
                continue;
            }
            calls.push(Call {
                target: *t,
                edge: e,
                share: [read_factor, 1.0],
                group,
                off_path: false,
            });
            group += 1;
        }
        (calls, [0.0; 2])
    }

    /// The calls of node `v` in `run`.
    pub fn calls<'r>(&self, run: &'r Run, v: usize) -> &'r [Call] {
        let (a, b) = run.nodes[v].calls;
        &run.calls[a..b]
    }

    /// Runs one scenario. `base`, when given, is a run of the same graph with the same hit rates and
    /// nothing failed: nodes none of whose targets is failed reuse its calls instead of routing again
    /// (the failure check runs one scenario per node).
    pub fn run(&self, input: &RunInput, base: Option<&Run>) -> Run {
        let n = self.nodes.len();
        let mut run = Run {
            nodes: vec![NodeRun::default(); n],
            calls: Vec::with_capacity(base.map_or(n * 2, |b| b.calls.len() + 8)),
            generated: vec![[0.0; 2]; n],
            ..Run::default()
        };
        // Entry: reads at `redirect_client`s (else plain clients), writes at `create_client`s (else
        // plain clients), split evenly.
        let rate = input.rate.max(0.0);
        let class_rate = [rate * input.read_share, rate * (1.0 - input.read_share)];
        for (class, wants) in [(READ, true), (WRITE, false)] {
            let named: Vec<usize> = (0..n)
                .filter(|&v| {
                    self.nodes[v].role == Role::Client && self.nodes[v].traffic == Some(wants)
                })
                .collect();
            let entry = if named.is_empty() {
                (0..n)
                    .filter(|&v| {
                        self.nodes[v].role == Role::Client && self.nodes[v].traffic.is_none()
                    })
                    .collect()
            } else {
                named
            };
            if entry.is_empty() {
                run.unrouted[class] = class_rate[class] > 0.0;
                continue;
            }
            for &v in &entry {
                run.generated[v][class] = class_rate[class] / entry.len() as f64;
                run.nodes[v].offered[class] = run.generated[v][class];
            }
            run.offered_rps += class_rate[class];
        }
        // Forward: flow.
        for &v in &self.order {
            let node = &self.nodes[v];
            let offered = run.nodes[v].offered;
            let total = offered[READ] + offered[WRITE];
            let capacity = self.capacity(v);
            let sized = !matches!(node.role, Role::Client | Role::Unknown);
            let utilisation = if sized && capacity > 0.0 {
                total / capacity
            } else {
                0.0
            };
            let served_fraction = if input.failed[v] {
                0.0
            } else if utilisation > 1.0 {
                1.0 / utilisation
            } else {
                1.0
            };
            let latency = if sized && input.with_latency {
                node_latency(
                    node.instances,
                    node.rps,
                    node.service_ms,
                    total * served_fraction,
                )
            } else {
                Latency::default()
            };
            let start = run.calls.len();
            let lost = if input.failed[v] {
                [0.0; 2]
            } else if let Some(base) = base
                && !self.out[v].iter().any(|(t, _)| input.failed[*t])
            {
                run.calls.extend_from_slice(self.calls(base, v));
                base.nodes[v].lost
            } else {
                let (calls, lost) = self.route(v, input);
                run.calls.extend(calls);
                lost
            };
            // Demand flows on whole: a node past its capacity fails its excess (its error rate, counted
            // end to end below) but the nodes behind it are shown the load they must carry once it keeps
            // up, so one overloaded tier does not hide the next. A failed node sends nothing.
            let sent = if input.failed[v] { [0.0; 2] } else { offered };
            for call in &run.calls[start..] {
                let into = &mut run.nodes[call.target].offered;
                into[READ] += sent[READ] * call.share[READ];
                into[WRITE] += sent[WRITE] * call.share[WRITE];
            }
            let r = &mut run.nodes[v];
            r.capacity = capacity;
            r.utilisation = utilisation;
            r.served_fraction = served_fraction;
            r.latency = latency;
            r.backlog = if node.is_async && !input.failed[v] {
                (total - capacity).max(0.0)
            } else {
                0.0
            };
            r.calls = (start, run.calls.len());
            r.lost = lost;
        }
        // Backward: success and latency from each node on.
        for &v in self.order.iter().rev() {
            let node = &self.nodes[v];
            let mut success = [0.0; 2];
            let mut mean = [0.0; 2];
            let mut p50 = [0.0; 2];
            let mut p99 = [0.0; 2];
            if !input.failed[v] && node.is_async {
                success = [1.0; 2];
            } else if !input.failed[v] {
                let r = &run.nodes[v];
                let calls = self.calls(&run, v);
                success = success_of(r.served_fraction, r.lost, calls, input.failed, |t| {
                    run.nodes[t].success
                });
                for class in [READ, WRITE] {
                    let mut m = r.latency.mean_ms;
                    let mut q50 = r.latency.p50_ms;
                    let mut q99 = r.latency.p99_ms;
                    let mut at = 0;
                    while at < calls.len() {
                        let group = calls[at].group;
                        let (mut made, mut g50, mut g99) = (0.0, 0.0, 0.0f64);
                        while at < calls.len() && calls[at].group == group {
                            let call = calls[at];
                            at += 1;
                            let f = call.share[class];
                            if f <= 0.0 || call.off_path {
                                continue;
                            }
                            let t = &run.nodes[call.target];
                            made += f;
                            if !self.nodes[call.target].is_async {
                                m += f * t.mean[class];
                                g50 += f * t.p50[class];
                                g99 = g99.max(t.p99[class]);
                            }
                        }
                        if made >= P50_SHARE {
                            q50 += g50 / made;
                        }
                        if made >= P99_SHARE {
                            q99 += g99;
                        }
                    }
                    mean[class] = m;
                    p50[class] = q50;
                    p99[class] = q99;
                }
            }
            let r = &mut run.nodes[v];
            r.success = success;
            r.mean = mean;
            r.p50 = p50;
            r.p99 = p99;
        }
        // End to end: the clients' requests, weighted by what each generates.
        if run.offered_rps > 0.0 {
            let mut ok = 0.0;
            for v in 0..n {
                for class in [READ, WRITE] {
                    let q = run.generated[v][class] / run.offered_rps;
                    if q <= 0.0 {
                        continue;
                    }
                    let r = &run.nodes[v];
                    ok += q * r.success[class];
                    run.mean_ms += q * r.mean[class];
                    run.p50_ms += q * r.p50[class];
                    if q >= P99_SHARE {
                        run.p99_ms = run.p99_ms.max(r.p99[class]);
                    }
                }
            }
            run.error_rate = (1.0 - ok).clamp(0.0, 1.0);
            if run.error_rate < 1e-12 {
                run.error_rate = 0.0;
            }
        }
        run
    }
}

/// The success probability (per class) of a request from a node on: its own served fraction, less
/// what it loses for want of a live target, times, per group of alternative calls, the share of that
/// group's calls that succeed (a failed target never does; calls off the request path do not count).
/// The one expression both a full run and the failure check's incremental recomputation use, so that
/// both give the same bits.
fn success_of(
    own: f64,
    lost: [f64; 2],
    calls: &[Call],
    failed: &[bool],
    target_success: impl Fn(usize) -> [f64; 2],
) -> [f64; 2] {
    let mut success = [0.0; 2];
    for class in [READ, WRITE] {
        let mut s = own * (1.0 - lost[class]);
        let mut at = 0;
        while at < calls.len() {
            let group = calls[at].group;
            let mut fail = 0.0;
            while at < calls.len() && calls[at].group == group {
                let call = calls[at];
                at += 1;
                let f = call.share[class];
                if f <= 0.0 || call.off_path {
                    continue;
                }
                let ts = if failed[call.target] {
                    0.0
                } else {
                    target_success(call.target)[class]
                };
                fail += f * (1.0 - ts);
            }
            s *= (1.0 - fail).max(0.0);
        }
        success[class] = s.clamp(0.0, 1.0);
    }
    success
}

/// The single-point-of-failure check without a full run per node (docs/SIMULATION.md §5).
///
/// With a no-failure run that has no errors, failing node `v` causes errors exactly when (a) a caller
/// of `v` that carries request traffic still calls it (nothing routes around it) or, being a balancer,
/// is left with no live target, or (b) the load its callers move elsewhere pushes a node that carries
/// request traffic past its capacity. Demand is linear and only the callers of `v` route differently,
/// so (b) needs only the change in demand below them, in topological order. When the no-failure run
/// already has errors, the error rate with `v` failed is recomputed incrementally ([`Self::error_rate_without`]):
/// only the demand below the callers that route differently and the success above the nodes whose
/// served fraction changed are computed again, with the very operations of a full run, so the figure
/// is bit for bit the one a full run gives (it fails when the error rate grows).
pub struct FailureCheck<'a> {
    graph: &'a Graph,
    base: &'a Run,
    input: RunInput<'a>,
    /// Request traffic (reached from a client through synchronous calls) per node and class.
    on_path: Vec<[bool; 2]>,
    /// Callers of each node (any edge into it).
    callers: Vec<Vec<usize>>,
    /// Position of each node in the topological order.
    position: Vec<usize>,
    /// Per node, its callers in topological order with the index of their call to it in
    /// `base.calls` (`NO_CALL` when the no-failure run makes none): the order in which a full run
    /// adds their demand, which an incremental recomputation must repeat to get the same bits.
    inbound: Vec<Vec<(usize, usize)>>,
    /// The clients' requests as the end-to-end sum of a run adds them: (node, class, share).
    entry: Vec<(usize, usize, f64)>,
    /// For the demand-shift shortcut, per node, compactly (the walk touches little else): the demand
    /// of the no-failure run, and the demand past which it fails requests (`capacity × (1 + 1e-12)`
    /// for synchronous sized nodes on the request path, infinite for the rest).
    offered: Vec<[f64; 2]>,
    limit: Vec<f64>,
    /// The rest of the no-failure run the incremental recomputation reads, likewise compact.
    served: Vec<f64>,
    success: Vec<[f64; 2]>,
    lost: Vec<[f64; 2]>,
    capacity: Vec<f64>,
    /// `base.calls[ranges[w].0..ranges[w].1]` are node `w`'s calls.
    ranges: Vec<(usize, usize)>,
    /// Not a client or an unknown type (has a utilisation), and asynchronous.
    sized: Vec<bool>,
    is_async: Vec<bool>,
    scratch: RefCell<Scratch>,
}

const NO_CALL: usize = usize::MAX;

/// Per-candidate working memory of [`FailureCheck::error_rate_without`], reused across candidates:
/// an entry is valid for the current candidate when its stamp equals `epoch` (no clearing between
/// candidates).
#[derive(Default)]
struct Scratch {
    epoch: u32,
    /// Demand recomputed (and differing from the no-failure run).
    offered_at: Vec<u32>,
    offered: Vec<[f64; 2]>,
    served: Vec<f64>,
    /// Success recomputed (and differing).
    success_at: Vec<u32>,
    success: Vec<[f64; 2]>,
    /// Positions to recompute: demand (forwards), success (backwards).
    forward: Marks,
    backward: Marks,
    /// Callers of the failed node, routed again: their index in `rerouted`.
    rerouted_at: Vec<u32>,
    rerouted_index: Vec<usize>,
    rerouted: Vec<(Vec<Call>, [f64; 2])>,
    /// The demand-shift shortcut: change of demand per node, and the positions still to visit.
    delta_at: Vec<u32>,
    delta: Vec<[f64; 2]>,
    queued: Marks,
    /// The balancer bound: per balancer, the nodes it overflows (computed once, on first use), and the
    /// unit demand pushed down from the balancer's targets (stamped by `unit_epoch`).
    overflows_of: Vec<Option<Vec<usize>>>,
    unit_epoch: u32,
    unit_at: Vec<u32>,
    unit: Vec<[f64; 2]>,
    unit_marks: Marks,
}

impl Scratch {
    /// Starts a candidate: every stamp from an earlier one becomes stale.
    fn next_epoch(&mut self) -> u32 {
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            // Stamps wrapped: clear them so that no stale entry reads as current.
            for stamps in [
                &mut self.offered_at,
                &mut self.success_at,
                &mut self.rerouted_at,
                &mut self.delta_at,
            ] {
                stamps.fill(0);
            }
            self.epoch = 1;
        }
        self.epoch
    }
}

/// A set of positions in the topological order, one bit each: marking is O(1), and the next marked
/// position after (or before) a given one is found a word at a time.
#[derive(Default)]
struct Marks {
    bits: Vec<u64>,
}

impl Marks {
    fn new(n: usize) -> Marks {
        Marks {
            bits: vec![0; n.div_ceil(64)],
        }
    }

    fn clear(&mut self) {
        self.bits.fill(0);
    }

    fn set(&mut self, p: usize) {
        self.bits[p / 64] |= 1 << (p % 64);
    }

    /// The smallest marked position ≥ `p`.
    fn next_from(&self, p: usize) -> Option<usize> {
        let mut i = p / 64;
        let mut word = *self.bits.get(i)? & (!0u64 << (p % 64));
        while word == 0 {
            i += 1;
            word = *self.bits.get(i)?;
        }
        Some(i * 64 + word.trailing_zeros() as usize)
    }

    /// The largest marked position ≤ `p`.
    fn prev_from(&self, p: usize) -> Option<usize> {
        let mut i = p / 64;
        let mut word = *self.bits.get(i)? & (!0u64 >> (63 - p % 64));
        while word == 0 {
            i = i.checked_sub(1)?;
            word = self.bits[i];
        }
        Some(i * 64 + 63 - word.leading_zeros() as usize)
    }
}

impl<'a> FailureCheck<'a> {
    /// `input` must be the one `base` was run with (nothing failed).
    pub fn new(graph: &'a Graph, base: &'a Run, input: RunInput<'a>) -> FailureCheck<'a> {
        let n = graph.nodes.len();
        let mut position = vec![0; n];
        for (i, &v) in graph.order.iter().enumerate() {
            position[v] = i;
        }
        let mut callers = vec![Vec::new(); n];
        for (u, out) in graph.out.iter().enumerate() {
            for (t, _) in out {
                callers[*t].push(u);
            }
        }
        let mut sync: Vec<[f64; 2]> = base.generated.clone();
        for &u in &graph.order {
            if graph.nodes[u].is_async {
                continue;
            }
            for call in graph.calls(base, u) {
                if call.off_path {
                    continue;
                }
                for k in [READ, WRITE] {
                    sync[call.target][k] += sync[u][k] * call.share[k];
                }
            }
        }
        let mut inbound: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
        for (w, list) in inbound.iter_mut().enumerate() {
            let mut from: Vec<usize> = callers[w].clone();
            from.sort_unstable_by_key(|&u| position[u]);
            from.dedup();
            for u in from {
                let (a, b) = base.nodes[u].calls;
                let call = (a..b)
                    .find(|&i| base.calls[i].target == w)
                    .unwrap_or(NO_CALL);
                list.push((u, call));
            }
        }
        let mut entry = Vec::new();
        if base.offered_rps > 0.0 {
            for v in 0..n {
                for class in [READ, WRITE] {
                    let q = base.generated[v][class] / base.offered_rps;
                    if q > 0.0 {
                        entry.push((v, class, q));
                    }
                }
            }
        }
        let scratch = Scratch {
            offered_at: vec![0; n],
            offered: vec![[0.0; 2]; n],
            served: vec![0.0; n],
            success_at: vec![0; n],
            success: vec![[0.0; 2]; n],
            rerouted_at: vec![0; n],
            rerouted_index: vec![0; n],
            delta_at: vec![0; n],
            delta: vec![[0.0; 2]; n],
            queued: Marks::new(n),
            overflows_of: vec![None; n],
            unit_at: vec![0; n],
            unit: vec![[0.0; 2]; n],
            unit_marks: Marks::new(n),
            forward: Marks::new(n),
            backward: Marks::new(n),
            ..Scratch::default()
        };
        let on_path: Vec<[bool; 2]> = sync
            .iter()
            .map(|s| [s[READ] > 0.0, s[WRITE] > 0.0])
            .collect();
        let limit = (0..n)
            .map(|w| {
                let node = &graph.nodes[w];
                let sized = !matches!(node.role, Role::Client | Role::Unknown) && !node.is_async;
                if sized && (on_path[w][READ] || on_path[w][WRITE]) {
                    base.nodes[w].capacity * (1.0 + 1e-12)
                } else {
                    f64::INFINITY
                }
            })
            .collect();
        FailureCheck {
            graph,
            base,
            input,
            on_path,
            offered: base.nodes.iter().map(|r| r.offered).collect(),
            limit,
            served: base.nodes.iter().map(|r| r.served_fraction).collect(),
            success: base.nodes.iter().map(|r| r.success).collect(),
            lost: base.nodes.iter().map(|r| r.lost).collect(),
            capacity: base.nodes.iter().map(|r| r.capacity).collect(),
            ranges: base.nodes.iter().map(|r| r.calls).collect(),
            sized: graph
                .nodes
                .iter()
                .map(|n| !matches!(n.role, Role::Client | Role::Unknown))
                .collect(),
            is_async: graph.nodes.iter().map(|n| n.is_async).collect(),
            callers,
            position,
            inbound,
            entry,
            scratch: RefCell::new(scratch),
        }
    }

    /// Node `w`'s calls in the no-failure run.
    fn base_calls(&self, w: usize) -> &'a [Call] {
        let (a, b) = self.ranges[w];
        &self.base.calls[a..b]
    }

    /// The end-to-end error rate with `v` failed exceeds the no-failure one.
    pub fn fails_requests(&self, v: usize, failed: &mut [bool]) -> bool {
        let base = self.base;
        failed[v] = true;
        let input = RunInput {
            failed,
            ..self.input.clone()
        };
        let answer = if base.error_rate > 0.0 {
            self.incremental(v, &input) > base.error_rate + 1e-12
        } else {
            self.quick(v, &input)
        };
        failed[v] = false;
        answer
    }

    /// What `fails_requests` computed before the incremental recomputation: with errors at peak, a
    /// full run per failed node. Kept as the reference the tests and the benchmark compare with.
    pub fn fails_requests_by_full_runs(&self, v: usize, failed: &mut [bool]) -> bool {
        let (g, base) = (self.graph, self.base);
        failed[v] = true;
        let input = RunInput {
            failed,
            ..self.input.clone()
        };
        let answer = if base.error_rate > 0.0 {
            g.run(&input, Some(base)).error_rate > base.error_rate + 1e-12
        } else {
            self.quick_by_maps(v, &input)
        };
        failed[v] = false;
        answer
    }

    /// The end-to-end error rate with `v` failed: exactly (bit for bit) the `error_rate` of a full run
    /// of the same input with `v` failed.
    pub fn error_rate_without(&self, v: usize, failed: &mut [bool]) -> f64 {
        failed[v] = true;
        let input = RunInput {
            failed,
            ..self.input.clone()
        };
        let e = self.incremental(v, &input);
        failed[v] = false;
        e
    }

    /// The error rate of a run with `v` failed, recomputing only what failing `v` changes.
    ///
    /// Forwards, in topological order: `v` sends nothing and its callers route again, so the demand of
    /// their targets is summed again from all its callers in the order a full run adds it; a node whose
    /// demand comes out different passes the recomputation on to its targets. Backwards: a node's
    /// success is computed again (the same expression as [`Graph::run`]) when its served fraction, its
    /// calls or a target's success changed; a change passes on to its callers. Nodes below 100 % keep a
    /// served fraction of exactly 1, so a shift of load among them stops there.
    fn incremental(&self, v: usize, input: &RunInput) -> f64 {
        let (g, base) = (self.graph, self.base);
        if base.offered_rps <= 0.0 {
            return 0.0;
        }
        let mut guard = self.scratch.borrow_mut();
        let sc = &mut *guard;
        let epoch = sc.next_epoch();
        sc.rerouted.clear();
        sc.forward.clear();
        sc.backward.clear();
        // The callers of `v` route again (a full run does so for every node with a failed target).
        for &u in &self.callers[v] {
            if u == v || sc.rerouted_at[u] == epoch {
                continue;
            }
            let (calls, lost) = g.route(u, input);
            for c in calls.iter().chain(self.base_calls(u)) {
                sc.forward.set(self.position[c.target]);
            }
            sc.rerouted_at[u] = epoch;
            sc.rerouted_index[u] = sc.rerouted.len();
            sc.rerouted.push((calls, lost));
            sc.backward.set(self.position[u]);
        }
        // `v` sends nothing.
        for c in self.base_calls(v) {
            sc.forward.set(self.position[c.target]);
        }
        // Forwards: demand and served fraction, visiting marked positions in increasing order (a
        // node's targets come after it, so marks made on the way are still ahead).
        let mut from = 0;
        while let Some(p) = sc.forward.next_from(from) {
            from = p + 1;
            let w = g.order[p];
            if w == v {
                continue;
            }
            let mut offered = base.generated[w];
            for &(u, at) in &self.inbound[w] {
                if u == v {
                    continue;
                }
                let call = if sc.rerouted_at[u] == epoch {
                    sc.rerouted[sc.rerouted_index[u]]
                        .0
                        .iter()
                        .find(|c| c.target == w)
                } else if at != NO_CALL {
                    Some(&base.calls[at])
                } else {
                    None
                };
                if let Some(call) = call {
                    let sent = if sc.offered_at[u] == epoch {
                        sc.offered[u]
                    } else {
                        self.offered[u]
                    };
                    offered[READ] += sent[READ] * call.share[READ];
                    offered[WRITE] += sent[WRITE] * call.share[WRITE];
                }
            }
            let was = self.offered[w];
            if offered[READ].to_bits() == was[READ].to_bits()
                && offered[WRITE].to_bits() == was[WRITE].to_bits()
            {
                continue;
            }
            // The expressions of `Graph::run`'s forward pass.
            let total = offered[READ] + offered[WRITE];
            let capacity = self.capacity[w];
            let sized = self.sized[w];
            let utilisation = if sized && capacity > 0.0 {
                total / capacity
            } else {
                0.0
            };
            let served = if utilisation > 1.0 {
                1.0 / utilisation
            } else {
                1.0
            };
            sc.offered_at[w] = epoch;
            sc.offered[w] = offered;
            sc.served[w] = served;
            let calls = if sc.rerouted_at[w] == epoch {
                &sc.rerouted[sc.rerouted_index[w]].0[..]
            } else {
                self.base_calls(w)
            };
            for c in calls {
                sc.forward.set(self.position[c.target]);
            }
            if served.to_bits() != self.served[w].to_bits() {
                sc.backward.set(p);
            }
        }
        // Backwards: success, in decreasing position (callers come before their targets). The failed
        // node has none, whatever it had.
        sc.success_at[v] = epoch;
        sc.success[v] = [0.0; 2];
        for &(u, _) in &self.inbound[v] {
            sc.backward.set(self.position[u]);
        }
        let mut from = g.nodes.len().checked_sub(1);
        while let Some(p) = from.and_then(|f| sc.backward.prev_from(f)) {
            from = p.checked_sub(1);
            let w = g.order[p];
            if w == v {
                continue;
            }
            let success = if self.is_async[w] {
                [1.0; 2]
            } else {
                let (calls, lost) = if sc.rerouted_at[w] == epoch {
                    let (c, l) = &sc.rerouted[sc.rerouted_index[w]];
                    (&c[..], *l)
                } else {
                    (self.base_calls(w), self.lost[w])
                };
                let own = if sc.offered_at[w] == epoch {
                    sc.served[w]
                } else {
                    self.served[w]
                };
                let (success_at, success) = (&sc.success_at, &sc.success);
                success_of(own, lost, calls, input.failed, |t| {
                    if success_at[t] == epoch {
                        success[t]
                    } else {
                        self.success[t]
                    }
                })
            };
            let was = self.success[w];
            if success[READ].to_bits() == was[READ].to_bits()
                && success[WRITE].to_bits() == was[WRITE].to_bits()
            {
                continue;
            }
            sc.success_at[w] = epoch;
            sc.success[w] = success;
            for &(u, _) in &self.inbound[w] {
                sc.backward.set(self.position[u]);
            }
        }
        // End to end: the sum of a run, in its order.
        let mut ok = 0.0;
        for &(w, class, q) in &self.entry {
            let s = if sc.success_at[w] == epoch {
                sc.success[w]
            } else {
                self.success[w]
            };
            ok += q * s[class];
        }
        let error_rate = (1.0 - ok).clamp(0.0, 1.0);
        if error_rate < 1e-12 { 0.0 } else { error_rate }
    }

    fn quick(&self, v: usize, input: &RunInput) -> bool {
        let g = self.graph;
        let mut guard = self.scratch.borrow_mut();
        let sc = &mut *guard;
        let epoch = sc.next_epoch();
        sc.rerouted.clear();
        sc.queued.clear();
        // (a) Calls into the failed node, or balancers left without a target, on the request path.
        for &u in &self.callers[v] {
            if u == v || sc.rerouted_at[u] == epoch {
                continue;
            }
            let (calls, lost) = g.route(u, input);
            for k in [READ, WRITE] {
                if !self.on_path[u][k] || g.nodes[u].is_async {
                    continue;
                }
                if lost[k] > 0.0 {
                    return true;
                }
                if calls
                    .iter()
                    .any(|c| c.target == v && !c.off_path && c.share[k] > 0.0)
                {
                    return true;
                }
            }
            sc.rerouted_at[u] = epoch;
            sc.rerouted_index[u] = sc.rerouted.len();
            sc.rerouted.push((calls, lost));
            sc.queued.set(self.position[u]);
        }
        // A target of a balancer that is its only caller: the balancer's other targets share its load.
        // When even all of the balancer's traffic moved onto them (an upper bound, whichever of its
        // targets fails) overflows no node but possibly `v`, nothing overflows.
        if self.balancer_bound_holds(v, sc, epoch) {
            return false;
        }
        // (b) The demand that moves, pushed down in topological order: the failed node sends nothing,
        // its callers send along their new routes, and every node whose demand changed passes the
        // change on along its (unchanged) calls. Targets come after their callers, so one pass over
        // the marked positions in increasing order visits each changed node after all its callers.
        sc.queued.set(self.position[v]);
        let none: &[Call] = &[];
        let mut from = 0;
        while let Some(p) = sc.queued.next_from(from) {
            from = p + 1;
            let w = g.order[p];
            let d = if sc.delta_at[w] == epoch {
                sc.delta[w]
            } else {
                [0.0; 2]
            };
            let old = self.offered[w];
            let new = if w == v {
                [0.0; 2]
            } else {
                [old[READ] + d[READ], old[WRITE] + d[WRITE]]
            };
            if w != v && new[READ] + new[WRITE] > self.limit[w] {
                return true;
            }
            let new_calls = if w == v {
                Some(none)
            } else if sc.rerouted_at[w] == epoch {
                Some(&sc.rerouted[sc.rerouted_index[w]].0[..])
            } else {
                None
            };
            let moved = (d[READ].abs() + d[WRITE].abs()) > 1e-9 * (old[READ] + old[WRITE] + 1.0);
            if new_calls.is_none() && !moved {
                continue;
            }
            let (delta, delta_at, queued) = (&mut sc.delta, &mut sc.delta_at, &mut sc.queued);
            let mut add = |target: usize, amount: [f64; 2], sign: f64| {
                if delta_at[target] != epoch {
                    delta_at[target] = epoch;
                    delta[target] = [0.0; 2];
                }
                let e = &mut delta[target];
                for k in [READ, WRITE] {
                    if sign < 0.0 {
                        e[k] -= amount[k];
                    } else {
                        e[k] += amount[k];
                    }
                }
                queued.set(self.position[target]);
            };
            for call in self.base_calls(w) {
                add(
                    call.target,
                    [old[READ] * call.share[READ], old[WRITE] * call.share[WRITE]],
                    -1.0,
                );
            }
            for call in new_calls.unwrap_or_else(|| self.base_calls(w)) {
                add(
                    call.target,
                    [new[READ] * call.share[READ], new[WRITE] * call.share[WRITE]],
                    1.0,
                );
            }
        }
        false
    }

    /// For a node `v` whose only caller `u` is a balancer (or client) with `k ≥ 2` targets: failing `v`
    /// gives each other target `sent / (k (k − 1))` more and takes `sent / k` off everything below `v`,
    /// so by linearity every node's new demand is at most `base + sent / (k (k − 1)) × S`, where `S` is
    /// the demand that one request/s into each of `u`'s targets brings to it. `S` is pushed down once
    /// per balancer and the nodes the bound overflows are kept; when they are none but `v`, failing
    /// `v` overflows nothing (true when the bound proves it; otherwise the exact walk decides).
    fn balancer_bound_holds(&self, v: usize, sc: &mut Scratch, epoch: u32) -> bool {
        let g = self.graph;
        let [u] = self.callers[v][..] else {
            return false;
        };
        if u == v || !matches!(g.nodes[u].role, Role::Client | Role::Balancer) {
            return false;
        }
        let k = self.base_calls(u).len();
        if k < 2 || sc.rerouted_at[u] != epoch {
            return false;
        }
        if sc.overflows_of[u].is_none() {
            let overflows = self.balancer_overflows(u, sc);
            sc.overflows_of[u] = Some(overflows);
        }
        sc.overflows_of[u]
            .as_ref()
            .is_some_and(|o| o.iter().all(|&x| x == v))
    }

    /// The nodes the bound of [`Self::balancer_bound_holds`] overflows for balancer `u`.
    fn balancer_overflows(&self, u: usize, sc: &mut Scratch) -> Vec<usize> {
        let g = self.graph;
        let k = self.base_calls(u).len() as f64;
        let sent = self.offered[u];
        let c = [sent[READ] / (k * (k - 1.0)), sent[WRITE] / (k * (k - 1.0))];
        sc.unit_epoch = sc.unit_epoch.wrapping_add(1);
        if sc.unit_epoch == 0 {
            sc.unit_at.fill(0);
            sc.unit_epoch = 1;
        }
        let stamp = sc.unit_epoch;
        sc.unit_marks.clear();
        for call in self.base_calls(u) {
            let t = call.target;
            sc.unit_at[t] = stamp;
            sc.unit[t] = [1.0; 2];
            sc.unit_marks.set(self.position[t]);
        }
        let mut overflows = Vec::new();
        let mut from = 0;
        while let Some(p) = sc.unit_marks.next_from(from) {
            from = p + 1;
            let w = g.order[p];
            let s = sc.unit[w];
            let old = self.offered[w];
            if old[READ] + old[WRITE] + c[READ] * s[READ] + c[WRITE] * s[WRITE] > self.limit[w] {
                overflows.push(w);
            }
            for call in self.base_calls(w) {
                let t = call.target;
                if sc.unit_at[t] != stamp {
                    sc.unit_at[t] = stamp;
                    sc.unit[t] = [0.0; 2];
                }
                sc.unit[t][READ] += s[READ] * call.share[READ];
                sc.unit[t][WRITE] += s[WRITE] * call.share[WRITE];
                sc.unit_marks.set(self.position[t]);
            }
        }
        overflows
    }

    /// `quick` as it was before the incremental recomputation (hash maps and a heap), for
    /// `fails_requests_by_full_runs`: the reference keeps the former method whole.
    fn quick_by_maps(&self, v: usize, input: &RunInput) -> bool {
        let (g, base) = (self.graph, self.base);
        // (a) Calls into the failed node, or balancers left without a target, on the request path.
        let mut rerouted: Vec<(usize, Vec<Call>)> = Vec::new();
        for &u in &self.callers[v] {
            if u == v || rerouted.iter().any(|(w, _)| *w == u) {
                continue;
            }
            let (calls, lost) = g.route(u, input);
            for k in [READ, WRITE] {
                if !self.on_path[u][k] || g.nodes[u].is_async {
                    continue;
                }
                if lost[k] > 0.0 {
                    return true;
                }
                if calls
                    .iter()
                    .any(|c| c.target == v && !c.off_path && c.share[k] > 0.0)
                {
                    return true;
                }
            }
            rerouted.push((u, calls));
        }
        // (b) The demand that moves, pushed down in topological order: the failed node sends nothing,
        // its callers send along their new routes, and every node whose demand changed passes the
        // change on along its (unchanged) calls.
        let mut delta: HashMap<usize, [f64; 2]> = HashMap::new();
        let mut queue: BinaryHeap<Reverse<(usize, usize)>> = BinaryHeap::new();
        let mut queued: HashSet<usize> = HashSet::new();
        let mut push = |queue: &mut BinaryHeap<Reverse<(usize, usize)>>, w: usize| {
            if queued.insert(w) {
                queue.push(Reverse((self.position[w], w)));
            }
        };
        push(&mut queue, v);
        for (u, _) in &rerouted {
            push(&mut queue, *u);
        }
        let none: &[Call] = &[];
        while let Some(Reverse((_, w))) = queue.pop() {
            let d = delta.get(&w).copied().unwrap_or([0.0; 2]);
            let old = base.nodes[w].offered;
            let new = if w == v {
                [0.0; 2]
            } else {
                [old[READ] + d[READ], old[WRITE] + d[WRITE]]
            };
            let node = &g.nodes[w];
            let sized = !matches!(node.role, Role::Client | Role::Unknown) && !node.is_async;
            if w != v
                && sized
                && (self.on_path[w][READ] || self.on_path[w][WRITE])
                && new[READ] + new[WRITE] > base.nodes[w].capacity * (1.0 + 1e-12)
            {
                return true;
            }
            let new_calls = if w == v {
                Some(none)
            } else {
                rerouted
                    .iter()
                    .find(|(u, _)| *u == w)
                    .map(|(_, c)| c.as_slice())
            };
            let moved = (d[READ].abs() + d[WRITE].abs()) > 1e-9 * (old[READ] + old[WRITE] + 1.0);
            if new_calls.is_none() && !moved {
                continue;
            }
            for call in g.calls(base, w) {
                let e = delta.entry(call.target).or_insert([0.0; 2]);
                for k in [READ, WRITE] {
                    e[k] -= old[k] * call.share[k];
                }
                push(&mut queue, call.target);
            }
            for call in new_calls.unwrap_or_else(|| g.calls(base, w)) {
                let e = delta.entry(call.target).or_insert([0.0; 2]);
                for k in [READ, WRITE] {
                    e[k] += new[k] * call.share[k];
                }
                push(&mut queue, call.target);
            }
        }
        false
    }
}
