//! The flow model (docs/SIMULATION.md §2–4): one run routes a workload through a prepared [`Graph`]
//! with some nodes failed and returns, per node, what it was offered and served and, per client and
//! traffic class, the end-to-end success, mean and percentiles.
//!
//! Routing fractions depend only on the graph, the failed nodes and the hit rates, never on the rates,
//! so a run is one pass forwards (flow) and one backwards (success and latency), O(nodes + edges).
//! The flow is demand: offered load is linear in the rate and independent of capacities.

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
                let own = r.served_fraction;
                for class in [READ, WRITE] {
                    let mut s = own * (1.0 - r.lost[class]);
                    let mut m = r.latency.mean_ms;
                    let mut q50 = r.latency.p50_ms;
                    let mut q99 = r.latency.p99_ms;
                    let mut at = 0;
                    while at < calls.len() {
                        let group = calls[at].group;
                        let (mut fail, mut made, mut g50, mut g99) = (0.0, 0.0, 0.0, 0.0f64);
                        while at < calls.len() && calls[at].group == group {
                            let call = calls[at];
                            at += 1;
                            let f = call.share[class];
                            if f <= 0.0 || call.off_path {
                                continue;
                            }
                            let t = &run.nodes[call.target];
                            let target_async = self.nodes[call.target].is_async;
                            let ts = if input.failed[call.target] {
                                0.0
                            } else {
                                t.success[class]
                            };
                            fail += f * (1.0 - ts);
                            made += f;
                            if !target_async {
                                m += f * t.mean[class];
                                g50 += f * t.p50[class];
                                g99 = g99.max(t.p99[class]);
                            }
                        }
                        s *= (1.0 - fail).max(0.0);
                        if made >= P50_SHARE {
                            q50 += g50 / made;
                        }
                        if made >= P99_SHARE {
                            q99 += g99;
                        }
                    }
                    success[class] = s.clamp(0.0, 1.0);
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

/// The single-point-of-failure check without a full run per node (docs/SIMULATION.md §5).
///
/// With a no-failure run that has no errors, failing node `v` causes errors exactly when (a) a caller
/// of `v` that carries request traffic still calls it (nothing routes around it) or, being a balancer,
/// is left with no live target, or (b) the load its callers move elsewhere pushes a node that carries
/// request traffic past its capacity. Demand is linear and only the callers of `v` route differently,
/// so (b) needs only the change in demand below them, in topological order. When the no-failure run
/// already has errors, each node gets a full run instead (it fails when the error rate grows).
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
        FailureCheck {
            graph,
            base,
            input,
            on_path: sync
                .iter()
                .map(|s| [s[READ] > 0.0, s[WRITE] > 0.0])
                .collect(),
            callers,
            position,
        }
    }

    /// The end-to-end error rate with `v` failed exceeds the no-failure one.
    pub fn fails_requests(&self, v: usize, failed: &mut [bool]) -> bool {
        let (g, base) = (self.graph, self.base);
        failed[v] = true;
        let input = RunInput {
            failed,
            ..self.input.clone()
        };
        let answer = if base.error_rate > 0.0 {
            g.run(&input, Some(base)).error_rate > base.error_rate + 1e-12
        } else {
            self.quick(v, &input)
        };
        failed[v] = false;
        answer
    }

    fn quick(&self, v: usize, input: &RunInput) -> bool {
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
