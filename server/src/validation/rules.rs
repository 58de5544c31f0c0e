//! The rule kinds that judge the design rather than its parts list (docs/PROTOCOL.md §5):
//!
//! - `path`: nodes of the listed types joined by one directed path, in that order. Other nodes may lie
//!   between two listed ones (a CDN between the client and the load balancer does not break
//!   `client → lb → app`). Answered by a breadth-first search over (node, how many listed types are
//!   matched so far), so it is linear in the design for each listed type.
//! - `redundant`: every node of the type that requests reach (from a client, along the edges) survives
//!   the loss of one instance: it has 2 or more instances, or a balancer in front of it also feeds
//!   another node of its kind, or it replicates to (or from) another node of its kind or a read replica.
//! - `capacity` and `latency`: the design run once at the problem's peak through the simulation
//!   ([`crate::simulation::peak_under`], docs/SIMULATION.md), computed on the first rule that needs it;
//!   under a scenario (a room's curveball, issue 22) at its load, with its failed nodes and cold caches.
//!
//! A failed rule names the nodes and the figures: where a path breaks, which node is a single
//! instance, the load and capacity arithmetic of every node over its bound.

use std::collections::VecDeque;
use std::fmt::Write as _;

use crate::simulation::{Peak, Role, graph::PARTITION_RPS, num as figure, peak_under};

use super::engine::{Context, KindKey, plural, q, unknown_note};
use super::result::RuleKind;

type Answer = (RuleKind, bool, String, Vec<String>);

/// Nodes named in a path explanation before the middle is elided.
const PATH_SHOWN: usize = 12;
/// Offending nodes a capacity explanation spells out.
const CAPACITY_SHOWN: usize = 4;

fn percent(x: f64) -> String {
    format!("{} %", figure(x * 100.0))
}

/// Whether the peak's requests reach some component: clients send them and a node that is not a
/// client carries load (a client with no edge sends into nothing, and nothing is measured).
fn carries_traffic(p: &Peak) -> bool {
    p.run.offered_rps > 0.0
        && p.graph.nodes.iter().enumerate().any(|(v, n)| {
            n.role != Role::Client && p.run.nodes[v].offered.iter().sum::<f64>() > 0.0
        })
}

impl Context<'_, '_> {
    /// Successors of `v` among the design's nodes (the graph's two extra vertices left out).
    fn next(&self, v: u32) -> impl Iterator<Item = u32> + '_ {
        let n = self.members.len() as u32;
        self.graph
            .successors(v)
            .iter()
            .copied()
            .filter(move |&w| w < n)
    }

    pub(super) fn path(&self, types: &[String]) -> Answer {
        let keys: Vec<KindKey> = types
            .iter()
            .map(|t| KindKey::rule(self.catalog, t))
            .collect();
        let chain = keys
            .iter()
            .map(|k| q(k.name()).into_owned())
            .collect::<Vec<_>>()
            .join(" → ");
        if keys.is_empty() {
            return (
                RuleKind::Path,
                false,
                "the rule lists no types".into(),
                vec![],
            );
        }
        // A listed type without a node: the path cannot exist, say which.
        for (i, key) in keys.iter().enumerate() {
            if self.groups.of(*key).is_empty() {
                let explanation = format!(
                    "no path {chain}: the design has no {} node{}",
                    q(key.name()),
                    unknown_note(*key)
                );
                let before: Vec<u32> = keys[..i]
                    .iter()
                    .flat_map(|k| self.groups.of(*k).iter().copied())
                    .collect();
                return (RuleKind::Path, false, explanation, self.ids(&before));
            }
        }
        let n = self.members.len();
        let k = keys.len();
        // in_stage[s][v]: node v is of the s-th listed type.
        let mut in_stage = vec![false; n * k];
        for (s, key) in keys.iter().enumerate() {
            for &v in self.groups.of(*key) {
                in_stage[s * n + v as usize] = true;
            }
        }
        // State s * n + v: the first s + 1 listed types are matched, the last of them at or before v.
        const UNSEEN: u32 = u32::MAX;
        const START: u32 = u32::MAX - 1;
        let mut parent = vec![UNSEEN; n * k];
        let mut queue: VecDeque<u32> = VecDeque::new();
        for &v in self.groups.of(keys[0]) {
            parent[v as usize] = START;
            queue.push_back(v);
        }
        let mut furthest = 0;
        let mut found = None;
        while let Some(state) = queue.pop_front() {
            let (s, v) = (state as usize / n, state % n as u32);
            if s + 1 == k {
                found = Some(state);
                break;
            }
            for w in self.next(v) {
                let advance = ((s + 1) * n) as u32 + w;
                if in_stage[advance as usize] && parent[advance as usize] == UNSEEN {
                    parent[advance as usize] = state;
                    furthest = furthest.max(s + 1);
                    queue.push_back(advance);
                }
                let through = (s * n) as u32 + w;
                if parent[through as usize] == UNSEEN {
                    parent[through as usize] = state;
                    queue.push_back(through);
                }
            }
        }
        if let Some(end) = found {
            let mut nodes = vec![end % n as u32];
            let mut at = end;
            while parent[at as usize] != START {
                at = parent[at as usize];
                nodes.push(at % n as u32);
            }
            nodes.reverse();
            let mut shown: Vec<String> = nodes
                .iter()
                .map(|&v| format!("'{}'", self.name(v)))
                .collect();
            if shown.len() > PATH_SHOWN {
                let hidden = shown.len() - PATH_SHOWN;
                shown.splice(
                    PATH_SHOWN / 2..shown.len() - PATH_SHOWN / 2,
                    [format!("… {hidden} more …")],
                );
            }
            let explanation = format!("path {chain} found: {}", shown.join(" → "));
            return (RuleKind::Path, true, explanation, self.ids(&nodes));
        }
        // Where it breaks: the nodes that match the first `furthest + 1` types, and the next type's.
        let reached: Vec<u32> = (0..n as u32)
            .filter(|&v| {
                in_stage[furthest * n + v as usize] && parent[furthest * n + v as usize] != UNSEEN
            })
            .collect();
        let next = self.groups.of(keys[furthest + 1]);
        let done = keys[..=furthest]
            .iter()
            .map(|k| q(k.name()).into_owned())
            .collect::<Vec<_>>()
            .join(" → ");
        let explanation = format!(
            "no path {chain}: it breaks after {done}: no {} node ({}) can be reached along the edges from {}",
            q(keys[furthest + 1].name()),
            self.names(next),
            self.names(&reached)
        );
        let mut concerned = reached;
        concerned.extend_from_slice(next);
        (RuleKind::Path, false, explanation, self.ids(&concerned))
    }

    pub(super) fn redundant(&self, ty: &str) -> Answer {
        let key = KindKey::rule(self.catalog, ty);
        let group = self.groups.of(key);
        let kind = q(key.name());
        if group.is_empty() {
            let explanation = format!("no node of kind {kind}{}", unknown_note(key));
            return (RuleKind::Redundant, false, explanation, vec![]);
        }
        // What requests reach: everything reachable from a client.
        let n = self.members.len();
        let mut reached = vec![false; n];
        let mut stack: Vec<u32> = (0..n as u32).filter(|&v| self.member(v).client).collect();
        for &v in &stack {
            reached[v as usize] = true;
        }
        while let Some(v) = stack.pop() {
            for w in self.next(v) {
                if !reached[w as usize] {
                    reached[w as usize] = true;
                    stack.push(w);
                }
            }
        }
        let on_path: Vec<u32> = group
            .iter()
            .copied()
            .filter(|&v| reached[v as usize])
            .collect();
        if on_path.is_empty() {
            let explanation = format!(
                "no {kind} node is on a request path: {} {} not reached along the edges from a client",
                self.names(group),
                if group.len() == 1 { "is" } else { "are" }
            );
            return (RuleKind::Redundant, false, explanation, self.ids(group));
        }
        let in_group = |v: u32| group.contains(&v);
        let role = |v: u32| {
            self.member(v)
                .def
                .map(|d| crate::simulation::graph::role_of(&d.kind, &d.family))
        };
        let mut reasons: Vec<(u32, String)> = Vec::new();
        let mut single: Vec<u32> = Vec::new();
        for &v in &on_path {
            let m = self.member(v);
            if m.instances >= 2 {
                reasons.push((
                    v,
                    format!("'{}' has {} instances", self.name(v), m.instances),
                ));
                continue;
            }
            // A balancer in front of it that also feeds another node of its kind.
            let balanced = self.graph.predecessors(v).iter().copied().find(|&p| {
                (p as usize) < n
                    && role(p) == Some(Role::Balancer)
                    && self.next(p).any(|w| w != v && in_group(w))
            });
            if let Some(b) = balanced {
                reasons.push((
                    v,
                    format!(
                        "'{}' shares balancer '{}' with another {kind} node",
                        self.name(v),
                        self.name(b)
                    ),
                ));
                continue;
            }
            // Replication to or from another node of its kind, or a read replica.
            let copy = self
                .next(v)
                .chain(
                    self.graph
                        .predecessors(v)
                        .iter()
                        .copied()
                        .filter(|&p| (p as usize) < n),
                )
                .find(|&w| w != v && (in_group(w) || role(w) == Some(Role::Replica)));
            if let Some(c) = copy {
                reasons.push((
                    v,
                    format!("'{}' is replicated with '{}'", self.name(v), self.name(c)),
                ));
                continue;
            }
            single.push(v);
        }
        if single.is_empty() {
            let shown: Vec<&str> = reasons.iter().take(3).map(|(_, s)| s.as_str()).collect();
            let mut explanation = format!(
                "every {kind} node on the request path survives losing one instance: {}",
                shown.join("; ")
            );
            if reasons.len() > 3 {
                let _ = write!(
                    explanation,
                    "; and {} more",
                    plural(reasons.len() - 3, "node")
                );
            }
            (RuleKind::Redundant, true, explanation, self.ids(&on_path))
        } else {
            let explanation = format!(
                "{} {} a single instance on the request path (1 instance, no balancer in front of a second {kind} node, no replica): losing it stops the requests through it",
                self.names(&single),
                if single.len() == 1 { "is" } else { "are" }
            );
            (RuleKind::Redundant, false, explanation, self.ids(&single))
        }
    }

    /// The design at the problem's peak (or under the validation's scenario), run once per validation.
    /// Latency is computed only when a rule asks for it.
    fn peak(&self) -> &Peak {
        self.peak.get_or_init(|| {
            let with_latency = self
                .problem
                .tiers
                .iter()
                .flat_map(|t| &t.rules)
                .any(|r| matches!(r, crate::problems::Rule::Latency { .. }));
            peak_under(
                self.problem,
                self.catalog,
                self.design,
                self.scenario,
                with_latency,
            )
        })
    }

    pub(super) fn capacity(&self, ty: Option<&str>, bound: f64) -> Answer {
        let p = self.peak();
        let (graph, run) = (&p.graph, &p.run);
        let at = &p.situation;
        let subject = match ty {
            Some(t) => format!("{} node", q(KindKey::rule(self.catalog, t).name())),
            None => "node".to_string(),
        };
        if !carries_traffic(p) {
            let explanation = format!(
                "{at} no traffic enters the design: connect a client to the components that serve it"
            );
            return (RuleKind::Capacity, false, explanation, vec![]);
        }
        let key = ty.map(|t| KindKey::rule(self.catalog, t));
        let selected: Vec<usize> = (0..graph.nodes.len())
            .filter(|&v| {
                let node = &graph.nodes[v];
                match key {
                    Some(KindKey::Exact(t)) | Some(KindKey::Unknown(t)) => node.ty == t,
                    Some(KindKey::Known(k)) => node.kind == k,
                    None => !matches!(node.role, Role::Client | Role::Unknown),
                }
            })
            .collect();
        let offered = |v: usize| run.nodes[v].offered.iter().sum::<f64>();
        if let Some(key) = key {
            if selected.is_empty() {
                let explanation = format!("no node of kind {}{}", q(key.name()), unknown_note(key));
                return (RuleKind::Capacity, false, explanation, vec![]);
            }
            // The scenario failed every one of them: nothing of that kind serves.
            if selected.iter().all(|&v| p.failed[v]) {
                let ids: Vec<String> = selected
                    .iter()
                    .map(|&v| graph.nodes[v].id.clone())
                    .collect();
                let explanation = format!("{at} every {subject} is failed: none serves");
                return (RuleKind::Capacity, false, explanation, ids);
            }
        }
        // A failed node serves nothing and is judged by nothing: the requests it fails are in the
        // error rate, the load it moves is on its siblings.
        let selected: Vec<usize> = selected.into_iter().filter(|&v| !p.failed[v]).collect();
        if key.is_some() && selected.iter().all(|&v| offered(v) <= 0.0) {
            let ids: Vec<String> = selected
                .iter()
                .map(|&v| graph.nodes[v].id.clone())
                .collect();
            let names: Vec<String> = selected
                .iter()
                .take(5)
                .map(|&v| format!("'{}'", q(&graph.nodes[v].label)))
                .collect();
            let explanation = format!(
                "{at} no request reaches a {subject} ({}): put it on the path from a client",
                names.join(", ")
            );
            return (RuleKind::Capacity, false, explanation, ids);
        }
        // "App Servers: 87,000 rps, 8 × 5,000 = 40,000 capacity, 218 %: needs ≥ 22 instances (87,000 ÷ (0.8 × 5,000))"
        let sentence = |v: usize, over: bool| {
            let node = &graph.nodes[v];
            let r = &run.nodes[v];
            let load = offered(v);
            let mut s = format!(
                "'{}' {} rps, {} × {} = {} capacity, {}",
                q(&node.label),
                figure(load),
                figure(node.instances),
                figure(node.rps),
                figure(r.capacity),
                percent(r.utilisation)
            );
            if r.capacity + 1e-9 < node.instances * node.rps {
                let _ = write!(
                    s,
                    " (capped by {} partitions × {} msg/s)",
                    figure(node.partitions.unwrap_or(0.0)),
                    figure(PARTITION_RPS)
                );
            } else if over && node.rps > 0.0 {
                let needed = (load / (bound * node.rps)).ceil().max(1.0);
                let _ = write!(
                    s,
                    ": needs ≥ {} instances ({} ÷ ({} × {}))",
                    figure(needed),
                    figure(load),
                    figure(bound),
                    figure(node.rps)
                );
            }
            if !node.is_async && r.served_fraction < 1.0 {
                let _ = write!(
                    s,
                    "; {} of its requests fail",
                    percent(1.0 - r.served_fraction)
                );
            } else if node.is_async && r.backlog > 0.0 {
                let _ = write!(s, "; its backlog grows by {} per second", figure(r.backlog));
            }
            s
        };
        let mut hot: Vec<usize> = selected
            .iter()
            .copied()
            .filter(|&v| {
                let r = &run.nodes[v];
                r.utilisation > bound + 1e-12
                    || (!graph.nodes[v].is_async && r.served_fraction < 1.0)
            })
            .collect();
        hot.sort_by(|&a, &b| {
            run.nodes[b]
                .utilisation
                .total_cmp(&run.nodes[a].utilisation)
        });
        let errors = ty.is_none() && run.error_rate > 0.0;
        if hot.is_empty() && !errors {
            let busiest = selected
                .iter()
                .copied()
                .filter(|&v| offered(v) > 0.0)
                .max_by(|&a, &b| {
                    run.nodes[a]
                        .utilisation
                        .total_cmp(&run.nodes[b].utilisation)
                });
            let explanation = format!(
                "{at} every {subject} stays under {} without errors{}",
                percent(bound),
                busiest
                    .map(|v| format!("; busiest: {}", sentence(v, false)))
                    .unwrap_or_default()
            );
            let ids = selected
                .iter()
                .filter(|&&v| offered(v) > 0.0)
                .map(|&v| graph.nodes[v].id.clone())
                .collect();
            return (RuleKind::Capacity, true, explanation, ids);
        }
        let mut parts: Vec<String> = hot
            .iter()
            .take(CAPACITY_SHOWN)
            .map(|&v| sentence(v, true))
            .collect();
        if hot.len() > CAPACITY_SHOWN {
            parts.push(format!(
                "and {} more",
                plural(hot.len() - CAPACITY_SHOWN, "node")
            ));
        }
        if errors {
            parts.push(format!(
                "end to end {} of requests fail",
                percent(run.error_rate)
            ));
        }
        let explanation = format!(
            "{at} (bound {} per {subject}): {}",
            percent(bound),
            parts.join("; ")
        );
        let ids = hot.iter().map(|&v| graph.nodes[v].id.clone()).collect();
        (RuleKind::Capacity, false, explanation, ids)
    }

    pub(super) fn latency(&self, max_ms: Option<f64>) -> Answer {
        let p = self.peak();
        let (graph, run, w) = (&p.graph, &p.run, &p.workload);
        let at = &p.situation;
        let (bound, percentile, whence) = match max_ms {
            Some(ms) => (ms, "p99", String::new()),
            None if w.latency_percentile == "p50" => (
                w.latency_target_ms,
                "p50",
                ", the problem's p50 target".to_string(),
            ),
            None => (
                w.latency_target_ms,
                "p99",
                format!(", the problem's {} target", w.latency_percentile),
            ),
        };
        if !carries_traffic(p) {
            let explanation = format!(
                "{at} no traffic enters the design, so there is no latency to measure: connect a client to the components that serve it"
            );
            return (RuleKind::Latency, false, explanation, vec![]);
        }
        let simulated = if percentile == "p50" {
            run.p50_ms
        } else {
            run.p99_ms
        };
        let passed = simulated <= bound;
        // The slowest nodes that carry traffic, by their own p99.
        let mut slow: Vec<usize> = (0..graph.nodes.len())
            .filter(|&v| {
                run.nodes[v].offered.iter().sum::<f64>() > 0.0 && run.nodes[v].latency.p99_ms > 0.0
            })
            .collect();
        slow.sort_by(|&a, &b| {
            run.nodes[b]
                .latency
                .p99_ms
                .total_cmp(&run.nodes[a].latency.p99_ms)
        });
        slow.truncate(3);
        let slowest: Vec<String> = slow
            .iter()
            .map(|&v| {
                format!(
                    "'{}' p99 {} ms at {}",
                    q(&graph.nodes[v].label),
                    figure(run.nodes[v].latency.p99_ms),
                    percent(run.nodes[v].utilisation)
                )
            })
            .collect();
        let mut explanation = format!(
            "simulated {percentile} {at}: {} ms, {} the bound of {} ms{whence}",
            figure(simulated),
            if passed { "within" } else { "over" },
            figure(bound)
        );
        if !slowest.is_empty() {
            let _ = write!(explanation, "; slowest: {}", slowest.join(", "));
        }
        if run.error_rate > 0.0 {
            let _ = write!(
                explanation,
                "; {} of requests fail",
                percent(run.error_rate)
            );
        }
        let ids = slow.iter().map(|&v| graph.nodes[v].id.clone()).collect();
        (RuleKind::Latency, passed, explanation, ids)
    }
}
