//! The design prepared for simulation: simulated nodes with their role, capacity and parameters, the
//! edges between them made acyclic, and a topological order. Built once per design and reused by every
//! scenario run (the single-point-of-failure check runs one per node).
//!
//! Nothing here fails: what cannot be simulated (unknown types, dangling edges, edges to notes, cycles,
//! bad parameters) becomes a [`SimIssue`] and is left out or given a safe value.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use serde::Serialize;

use crate::design::{Design, INSTANCES, ParamValue};
use crate::problems::Catalog;

/// Something in the design the simulation could not take as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SimIssue {
    /// `unknown_type`, `no_capacity`, `dangling_edge`, `note_edge`, `cycle`, `duplicate_id`,
    /// `duplicate_edge`, `bad_param`, `no_client`, `unknown_failed_node`, or a code of the design
    /// reader (`missing_field`, `bad_param` ...).
    pub code: String,
    pub message: String,
    pub nodes: Vec<String>,
    pub edges: Vec<String>,
}

impl SimIssue {
    pub fn new(code: &str, message: String, nodes: Vec<String>, edges: Vec<String>) -> SimIssue {
        SimIssue {
            code: code.to_string(),
            message,
            nodes,
            edges,
        }
    }
}

/// What a node does with the traffic it receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Generates the workload (kind `client`).
    Client,
    /// Splits its traffic evenly over its live targets (load balancers, gateways).
    Balancer,
    /// Answers `hit_rate` of the reads; forwards misses and writes (caches).
    Cache,
    /// A cache at the edge (CDNs); same arithmetic as a cache.
    Cdn,
    /// Holds data (storage family): callers send it reads and writes.
    Store,
    /// A read replica: takes the reads of its callers' primaries.
    Replica,
    /// Anything else: does its work and calls every target.
    Service,
    /// A type the catalog does not know (or knows without a capacity): passes traffic on, unmeasured.
    Unknown,
}

/// Balancer kinds besides those named `*lb` / `*gateway`.
const BALANCER_KINDS: &[&str] = &["ingress", "apollo_router", "tenant_router"];

/// The role of a catalog type.
pub fn role_of(kind: &str, family: &str) -> Role {
    match kind {
        "client" => Role::Client,
        "cdn" => Role::Cdn,
        "cache" | "cache_hierarchy" => Role::Cache,
        "db_replica" => Role::Replica,
        k if k == "lb" || k.ends_with("_lb") || k.ends_with("gateway") => Role::Balancer,
        k if BALANCER_KINDS.contains(&k) => Role::Balancer,
        k if k.ends_with("_cache") => Role::Cache,
        _ if family == "storage" => Role::Store,
        _ => Role::Service,
    }
}

/// One simulated node.
#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    pub label: String,
    pub ty: String,
    pub kind: String,
    pub role: Role,
    /// Off the request path (queues, streams, workers).
    pub is_async: bool,
    pub instances: f64,
    /// Per instance, from the catalog (0 for clients and unknown types).
    pub rps: f64,
    pub service_ms: f64,
    pub monthly_usd: f64,
    /// `hit_rate` as the node sets it (caches and CDNs), else `None` (the workload's default applies).
    pub hit_rate: Option<f64>,
    /// `partitions` as the node sets it (streams and queues).
    pub partitions: Option<f64>,
    /// For client nodes: `Some(true)` reads only (`redirect_client`), `Some(false)` writes only
    /// (`create_client`), `None` both.
    pub traffic: Option<bool>,
}

/// The design as the simulation walks it.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub nodes: Vec<Node>,
    /// Node id → index (foldhash: the room hashes every id on every validation).
    pub index: HashMap<String, usize>,
    /// Outgoing edges per node after dropping dangling, duplicate and cycle-closing ones: (target, edge id).
    pub out: Vec<Vec<(usize, String)>>,
    /// Every node, each before all its targets.
    pub order: Vec<usize>,
    pub issues: Vec<SimIssue>,
}

/// Messages per second one partition of a stream or queue sustains (one consumer per partition); the
/// bank's documented `partition_rps` default (problems/README.md).
pub const PARTITION_RPS: f64 = 5_000.0;

fn number(value: Option<&ParamValue>) -> Option<f64> {
    match value {
        Some(ParamValue::Number(n)) => Some(*n),
        Some(ParamValue::Text(s)) => s.trim().parse().ok(),
        _ => None,
    }
}

impl Graph {
    /// Prepares `design` for simulation against `catalog`.
    pub fn build(design: &Design, catalog: &Catalog) -> Graph {
        let mut g = Graph::default();
        for issue in &design.read_issues {
            let code = serde_json::to_value(issue.code)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_else(|| "read".into());
            g.issues.push(SimIssue::new(
                &code,
                issue.message.clone(),
                issue.nodes.clone(),
                issue.edges.clone(),
            ));
        }
        let mut notes: HashSet<&str> = HashSet::new();
        g.index = HashMap::with_capacity(design.nodes.len());
        for node in &design.nodes {
            if node.is_note() {
                notes.insert(&node.id);
                continue;
            }
            if g.index.contains_key(&node.id) {
                g.issues.push(SimIssue::new(
                    "duplicate_id",
                    format!(
                        "two nodes have the id '{}'; only the first is simulated",
                        node.id
                    ),
                    vec![node.id.clone()],
                    vec![],
                ));
                continue;
            }
            let name = node.display_name().to_string();
            let known = catalog.get(&node.ty);
            let capacity = known.and_then(|t| t.capacity.as_ref());
            let role = match (known, capacity) {
                (Some(t), Some(_)) => role_of(&t.kind, &t.family),
                (Some(t), None) if t.kind == "client" => Role::Client,
                (Some(_), None) => {
                    g.issues.push(SimIssue::new(
                        "no_capacity",
                        format!("{name}: type '{}' has no capacity in the catalog; passed through unmeasured", node.ty),
                        vec![node.id.clone()],
                        vec![],
                    ));
                    Role::Unknown
                }
                (None, _) => {
                    g.issues.push(SimIssue::new(
                        "unknown_type",
                        format!(
                            "{name}: unknown component type '{}'; passed through unmeasured",
                            node.ty
                        ),
                        vec![node.id.clone()],
                        vec![],
                    ));
                    Role::Unknown
                }
            };
            let mut bad = |param: &str, why: String| {
                g.issues.push(SimIssue::new(
                    "bad_param",
                    format!("{name}: `{param}` {why}"),
                    vec![node.id.clone()],
                    vec![],
                ))
            };
            let instances = match node.params.get(INSTANCES) {
                None => 1.0,
                Some(v) => match number(Some(v)) {
                    Some(n) if n.is_finite() && n >= 1.0 => n.floor(),
                    _ => {
                        bad(
                            INSTANCES,
                            format!("is {v:?}, not a number ≥ 1; simulated as 1"),
                        );
                        1.0
                    }
                },
            };
            let hit_rate = match node.params.get("hit_rate") {
                None => None,
                Some(v) => match number(Some(v)) {
                    Some(h) if (0.0..=1.0).contains(&h) => Some(h),
                    _ => {
                        bad(
                            "hit_rate",
                            format!("is {v:?}, not a number in 0..1; the default applies"),
                        );
                        None
                    }
                },
            };
            let partitions = number(node.params.get("partitions"))
                .filter(|p| p.is_finite() && *p >= 1.0)
                .map(f64::floor);
            let (rps, service_ms, monthly_usd, is_async) = match (role, capacity) {
                (Role::Client | Role::Unknown, _) | (_, None) => (0.0, 0.0, 0.0, false),
                (_, Some(c)) => (c.rps, c.service_ms, c.monthly_usd, c.is_async),
            };
            let traffic = match node.ty.as_str() {
                "redirect_client" => Some(true),
                "create_client" => Some(false),
                _ => None,
            };
            g.index.insert(node.id.clone(), g.nodes.len());
            g.nodes.push(Node {
                id: node.id.clone(),
                label: name,
                ty: node.ty.clone(),
                kind: known.map(|t| t.kind.clone()).unwrap_or_default(),
                role,
                is_async,
                instances,
                rps,
                service_ms,
                monthly_usd,
                hit_rate,
                partitions,
                traffic,
            });
        }
        g.out = vec![Vec::new(); g.nodes.len()];
        let mut seen: HashSet<(usize, usize)> = HashSet::with_capacity(design.edges.len());
        for edge in &design.edges {
            if notes.contains(edge.from.as_str()) || notes.contains(edge.to.as_str()) {
                g.issues.push(SimIssue::new(
                    "note_edge",
                    format!("edge '{}' touches a note; not simulated", edge.id),
                    vec![],
                    vec![edge.id.clone()],
                ));
                continue;
            }
            let (Some(&from), Some(&to)) = (g.index.get(&edge.from), g.index.get(&edge.to)) else {
                g.issues.push(SimIssue::new(
                    "dangling_edge",
                    format!(
                        "edge '{}' ({} → {}) names a node that does not exist; not simulated",
                        edge.id, edge.from, edge.to
                    ),
                    vec![],
                    vec![edge.id.clone()],
                ));
                continue;
            };
            if !seen.insert((from, to)) {
                g.issues.push(SimIssue::new(
                    "duplicate_edge",
                    format!(
                        "edge '{}' repeats {} → {}; counted once",
                        edge.id, g.nodes[from].label, g.nodes[to].label
                    ),
                    vec![],
                    vec![edge.id.clone()],
                ));
                continue;
            }
            g.out[from].push((to, edge.id.clone()));
        }
        g.break_cycles();
        if !g.nodes.iter().any(|n| n.role == Role::Client) && !g.nodes.is_empty() {
            g.issues.push(SimIssue::new(
                "no_client",
                "no client node: no traffic enters the design (add a client and connect it)".into(),
                vec![],
                vec![],
            ));
        }
        g
    }

    /// Depth-first from the clients, then from every other node, in design order: an edge back to a
    /// node on the current path closes a cycle; it is dropped (and reported) so that traffic cannot
    /// loop. The reverse post-order of the walk is the topological order.
    fn break_cycles(&mut self) {
        const NEW: u8 = 0;
        const OPEN: u8 = 1;
        const DONE: u8 = 2;
        let n = self.nodes.len();
        let mut state = vec![NEW; n];
        let mut post = Vec::with_capacity(n);
        let mut dropped: Vec<(usize, usize)> = Vec::new();
        let roots: Vec<usize> = (0..n)
            .filter(|&i| self.nodes[i].role == Role::Client)
            .chain(0..n)
            .collect();
        let mut stack: Vec<(usize, usize)> = Vec::new();
        for root in roots {
            if state[root] != NEW {
                continue;
            }
            state[root] = OPEN;
            stack.push((root, 0));
            while let Some(&mut (v, ref mut next)) = stack.last_mut() {
                if *next < self.out[v].len() {
                    let (w, _) = self.out[v][*next];
                    let at = *next;
                    *next += 1;
                    match state[w] {
                        NEW => {
                            state[w] = OPEN;
                            stack.push((w, 0));
                        }
                        OPEN => dropped.push((v, at)),
                        _ => {}
                    }
                } else {
                    state[v] = DONE;
                    post.push(v);
                    stack.pop();
                }
            }
        }
        // Remove back edges, highest position first so positions stay valid.
        dropped.sort_unstable_by(|a, b| b.cmp(a));
        for (v, at) in dropped {
            let (w, edge) = self.out[v].remove(at);
            self.issues.push(SimIssue::new(
                "cycle",
                format!(
                    "edge '{edge}' ({} → {}) closes a cycle; traffic does not flow along it",
                    self.nodes[v].label, self.nodes[w].label
                ),
                vec![self.nodes[v].id.clone(), self.nodes[w].id.clone()],
                vec![edge],
            ));
        }
        post.reverse();
        self.order = post;
    }
}
