//! Reference designs: the seed's component and connection lists turned into a design graph, with the
//! instance counts and parameters its text states, completed where its own tiers ask for more.
//!
//! Completion never hides anything: a count or parameter the text does not state is listed in the node's
//! `filled_in`, a component or edge the seed lacks carries `added = true`.

use std::collections::{BTreeMap, HashMap};

use crate::seed::SeedReference;
use crate::seed::classic::slug;
use crate::seed::numbers::number_at;
use tierboard::design::ParamValue;
use tierboard::problems::catalog::Catalog;
use tierboard::problems::model::{
    Problem, RefEdge, RefNode, ReferenceSolution, Rule, Tier, TierSource,
};

/// Builds the design of a seed reference solution (before completion).
pub fn from_seed(r: &SeedReference, catalog: &Catalog) -> Result<ReferenceSolution, String> {
    let mut nodes: Vec<RefNode> = Vec::new();
    let mut by_label: HashMap<String, String> = HashMap::new();
    for (label, ty) in &r.components {
        let mut id = slug(label);
        if id.is_empty() {
            id = ty.clone();
        }
        let base = id.clone();
        let mut k = 2;
        while nodes.iter().any(|n| n.id == id) {
            id = format!("{base}-{k}");
            k += 1;
        }
        by_label.insert(label.to_lowercase(), id.clone());
        let mut params = BTreeMap::new();
        // Without a stated count a node is one instance (the catalog default); `complete` raises it and
        // marks it filled in when a tier asks for more.
        let count = stated_count(&r.text, label, ty).unwrap_or(1.0);
        params.insert("instances".to_string(), ParamValue::Number(count));
        if let Some(kind) = catalog.kind_of(ty) {
            for def in &catalog
                .get(ty)
                .map(|t| t.params.clone())
                .unwrap_or_default()
            {
                if def.name == "instances" {
                    continue;
                }
                if let Some(v) = stated_param(&r.text, label, kind, &def.name) {
                    params.insert(def.name.clone(), ParamValue::Number(v));
                }
            }
        }
        nodes.push(RefNode {
            id,
            ty: ty.clone(),
            label: label.clone(),
            x: 0.0,
            y: 0.0,
            params,
            added: false,
            filled_in: vec![],
        });
    }
    let mut edges = Vec::new();
    for (a, b) in &r.connections {
        let find = |l: &str| {
            by_label
                .get(&l.to_lowercase())
                .cloned()
                .ok_or_else(|| format!("connection names '{l}', which is not among the components"))
        };
        edges.push(RefEdge {
            id: format!("e{}", edges.len() + 1),
            from: find(a)?,
            to: find(b)?,
            added: false,
        });
    }
    let mut sol = ReferenceSolution {
        source: TierSource::Seed,
        text: r.text.clone(),
        nodes,
        edges,
    };
    layout(&mut sol);
    Ok(sol)
}

/// Word-boundary, case-insensitive search for `needle` in `hay` (both lowercase).
fn find_words(hay: &str, needle: &str) -> Vec<usize> {
    hay.match_indices(needle)
        .map(|(i, _)| i)
        .filter(|&i| {
            let before = hay[..i].chars().next_back();
            let after = hay[i + needle.len()..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
        .collect()
}

/// The fleet size the prose states for a node: "App Servers (8x)", "200 app servers", "8× App Servers",
/// "WebSocket servers: 12 × 10K connections" (the type's name plus "servers" counts as a name too).
pub fn stated_count(text: &str, label: &str, ty: &str) -> Option<f64> {
    let hay = text.to_lowercase();
    let label = label.to_lowercase();
    let mut forms = vec![label.clone()];
    if let Some(s) = label.strip_suffix('s') {
        forms.push(s.to_string());
    }
    forms.push(format!("{} servers", ty.replace('_', " ")));
    for form in &forms {
        for i in find_words(&hay, form) {
            let after = &hay[i + form.len()..];
            // "Label (8x)"
            if let Some(rest) = after.strip_prefix(" (")
                && let Some(end) = rest.find("x)")
                && let Ok(n) = rest[..end].trim().parse::<f64>()
            {
                return Some(n);
            }
            // "Label: 12 × 10K connections"
            if let Some(rest) = after.strip_prefix(": ")
                && let Some((n, len)) = number_at(rest, 0)
                && (rest[len..].starts_with(" ×") || rest[len..].starts_with(" x "))
                && n >= 1.0
            {
                return Some(n);
            }
            // "8 label", "8x label", "8× label", "8 × label"
            let before = hay[..i].trim_end();
            let before = before
                .strip_suffix('×')
                .or_else(|| before.strip_suffix('x'))
                .map(str::trim_end)
                .unwrap_or(before);
            let start = before
                .char_indices()
                .rev()
                .take_while(|(_, c)| c.is_ascii_digit() || *c == ',')
                .last()
                .map(|(j, _)| j);
            if let Some(j) = start
                && let Some((n, len)) = number_at(before, j)
                && j + len == before.len()
                && n >= 1.0
            {
                return Some(n);
            }
        }
    }
    None
}

/// A parameter the prose states for a node: a hit rate ("90% hit rate", "offload 85%") in a sentence
/// that names the node, or a partition count ("16-partition", "200 partitions").
pub fn stated_param(text: &str, label: &str, kind: &str, param: &str) -> Option<f64> {
    let label = label.to_lowercase();
    let words: Vec<&str> = match kind {
        "cdn" => vec!["cdn", label.as_str()],
        "cache" => vec!["cache", "redis", label.as_str()],
        "stream" | "queue" => vec!["kafka", "stream", label.as_str()],
        _ => vec![label.as_str()],
    };
    for sentence in text.to_lowercase().split(". ") {
        if !words.iter().any(|w| !find_words(sentence, w).is_empty()) {
            continue;
        }
        for (i, c) in sentence.char_indices() {
            if !c.is_ascii_digit() {
                continue;
            }
            let Some((n, len)) = number_at(sentence, i) else {
                continue;
            };
            let rest = &sentence[i + len..];
            match param {
                "hit_rate" if rest.starts_with('%') && n <= 100.0 => return Some(n / 100.0),
                "partitions"
                    if rest.starts_with("-partition") || rest.starts_with(" partition") =>
                {
                    return Some(n);
                }
                _ => {}
            }
        }
    }
    None
}

fn instances(n: &RefNode) -> f64 {
    match n.params.get("instances") {
        Some(ParamValue::Number(v)) => *v,
        _ => 1.0,
    }
}

/// Completes `sol` so that it reaches every tier in `tiers`: raises counts, sets parameters, adds the
/// components and edges the rules require and the seed lacks. Returns what it changed, for the log.
pub fn complete(sol: &mut ReferenceSolution, tiers: &[Tier], catalog: &Catalog) -> Vec<String> {
    let mut changes = Vec::new();
    for rule in tiers.iter().flat_map(|t| &t.rules) {
        // The structure and capacity kinds are completed by `complete_structure`, on the whole design.
        let ty = match rule {
            Rule::Include { ty, .. }
            | Rule::MinCount { ty, .. }
            | Rule::ConnectionFrom { ty, .. }
            | Rule::ParamRange { ty, .. } => ty.as_str(),
            _ => continue,
        };
        let matching: Vec<usize> = (0..sol.nodes.len())
            .filter(|&i| catalog.same_kind(&sol.nodes[i].ty, ty))
            .collect();
        let idx = match matching.first() {
            Some(&i) => i,
            None => {
                add_node(sol, ty, catalog);
                changes.push(format!("added a '{ty}' node for '{}'", rule.text()));
                sol.nodes.len() - 1
            }
        };
        match rule {
            Rule::Include { .. } => {}
            Rule::MinCount { count, .. } => {
                let matching: Vec<usize> = (0..sol.nodes.len())
                    .filter(|&i| catalog.same_kind(&sol.nodes[i].ty, ty))
                    .collect();
                let total: f64 = matching.iter().map(|&i| instances(&sol.nodes[i])).sum();
                if total < *count as f64 {
                    let n = &mut sol.nodes[idx];
                    let raised = instances(n) + (*count as f64 - total);
                    n.params
                        .insert("instances".into(), ParamValue::Number(raised));
                    if !n.filled_in.contains(&"instances".to_string()) {
                        n.filled_in.push("instances".into());
                    }
                    changes.push(format!(
                        "'{}' instances → {raised} for '{}'",
                        n.label,
                        rule.text()
                    ));
                }
            }
            Rule::ConnectionFrom { .. } => {
                let has_out = |sol: &ReferenceSolution| {
                    sol.edges.iter().any(|e| {
                        sol.nodes
                            .iter()
                            .any(|n| n.id == e.from && catalog.same_kind(&n.ty, ty))
                    })
                };
                if !has_out(sol) {
                    let from = sol.nodes[idx].id.clone();
                    if let Some(to) = entry_target(sol, &from, catalog) {
                        sol.edges.push(RefEdge {
                            id: format!("e{}", sol.edges.len() + 1),
                            from,
                            to,
                            added: true,
                        });
                        changes.push(format!("added an edge for '{}'", rule.text()));
                    }
                }
            }
            Rule::Path { .. }
            | Rule::Redundant { .. }
            | Rule::Capacity { .. }
            | Rule::Latency { .. } => {}
            Rule::ParamRange {
                param, min, max, ..
            } => {
                let matching: Vec<usize> = (0..sol.nodes.len())
                    .filter(|&i| catalog.same_kind(&sol.nodes[i].ty, ty))
                    .collect();
                for i in matching {
                    let n = &mut sol.nodes[i];
                    let ok = matches!(n.params.get(param), Some(ParamValue::Number(v)) if v >= min && v <= max);
                    if !ok {
                        n.params.insert(param.clone(), ParamValue::Number(*min));
                        if !n.filled_in.contains(param) {
                            n.filled_in.push(param.clone());
                        }
                        changes.push(format!(
                            "'{}' {param} → {min} for '{}'",
                            n.label,
                            rule.text()
                        ));
                    }
                }
            }
        }
    }
    if !changes.is_empty() {
        layout(sol);
    }
    changes
}

/// Whether a node of type `node_ty` meets a rule naming `rule_ty` (the validation engine's matching).
fn meets(catalog: &Catalog, rule_ty: &str, node_ty: &str) -> bool {
    if catalog.exact_match(rule_ty) {
        node_ty == rule_ty
    } else {
        catalog.same_kind(rule_ty, node_ty)
    }
}

/// Completes `sol` for `p`'s `path`, `redundant` and `capacity` rules (after [`complete`]): a listed type
/// the design lacks is added, a missing link of a path becomes an edge between the first nodes of the two
/// types, a single instance on the request path becomes two, and every node over a capacity rule's bound
/// at the problem's peak gets the instances (or partitions) the simulation says it needs, marked
/// `filled_in`. Returns what it changed.
pub fn complete_structure(
    sol: &mut ReferenceSolution,
    p: &Problem,
    catalog: &Catalog,
) -> Vec<String> {
    let mut changes = Vec::new();
    let first_of = |sol: &ReferenceSolution, ty: &str| {
        sol.nodes.iter().position(|n| meets(catalog, ty, &n.ty))
    };
    for rule in p.tiers.iter().flat_map(|t| &t.rules) {
        match rule {
            Rule::Path { types, text, .. } => {
                for ty in types {
                    if first_of(sol, ty).is_none() {
                        add_node(sol, ty, catalog);
                        changes.push(format!("added a '{ty}' node for '{text}'"));
                    }
                }
                if path_exists(sol, types, catalog) {
                    continue;
                }
                for pair in types.windows(2) {
                    let a = sol.nodes[first_of(sol, &pair[0]).unwrap_or(0)].id.clone();
                    let b = sol.nodes[first_of(sol, &pair[1]).unwrap_or(0)].id.clone();
                    if a != b && !reachable(sol, &a).contains(&b) {
                        sol.edges.push(RefEdge {
                            id: format!("e{}", sol.edges.len() + 1),
                            from: a.clone(),
                            to: b.clone(),
                            added: true,
                        });
                        changes.push(format!("added an edge {a} → {b} for '{text}'"));
                    }
                }
            }
            Rule::Redundant { ty, text, .. } => {
                for n in sol.nodes.iter_mut().filter(|n| meets(catalog, ty, &n.ty)) {
                    if instances(n) < 2.0 {
                        n.params.insert("instances".into(), ParamValue::Number(2.0));
                        if !n.filled_in.contains(&"instances".to_string()) {
                            n.filled_in.push("instances".into());
                        }
                        changes.push(format!("'{}' instances → 2 for '{text}'", n.label));
                    }
                }
            }
            _ => {}
        }
    }
    for rule in p.tiers.iter().flat_map(|t| &t.rules) {
        if let Rule::Capacity {
            ty,
            max_utilisation,
            text,
            ..
        } = rule
        {
            changes.extend(hold_peak(
                sol,
                p,
                catalog,
                ty.as_deref(),
                *max_utilisation,
                text,
            ));
        }
    }
    if !changes.is_empty() {
        layout(sol);
    }
    changes
}

/// Every node id reachable from `from` along the edges (one or more).
fn reachable(sol: &ReferenceSolution, from: &str) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut todo = vec![from.to_string()];
    while let Some(v) = todo.pop() {
        for e in sol.edges.iter().filter(|e| e.from == v) {
            if !seen.contains(&e.to) {
                seen.push(e.to.clone());
                todo.push(e.to.clone());
            }
        }
    }
    seen
}

/// Whether nodes of `types` are joined by a directed path in that order (other nodes between allowed).
pub fn path_exists(sol: &ReferenceSolution, types: &[String], catalog: &Catalog) -> bool {
    let Some((first, rest)) = types.split_first() else {
        return false;
    };
    let mut stage: Vec<String> = sol
        .nodes
        .iter()
        .filter(|n| meets(catalog, first, &n.ty))
        .map(|n| n.id.clone())
        .collect();
    for ty in rest {
        let next: Vec<String> = stage.iter().flat_map(|v| reachable(sol, v)).collect();
        stage = sol
            .nodes
            .iter()
            .filter(|n| meets(catalog, ty, &n.ty) && next.contains(&n.id))
            .map(|n| n.id.clone())
            .collect();
    }
    !stage.is_empty()
}

/// Raises the instances (and, for partition-capped streams and queues, the partitions) of every node
/// the simulation finds over `bound` at the problem's peak. Load is demand (it does not depend on the
/// capacities upstream), so one pass suffices; the loop re-checks to be sure.
fn hold_peak(
    sol: &mut ReferenceSolution,
    p: &Problem,
    catalog: &Catalog,
    ty: Option<&str>,
    bound: f64,
    text: &str,
) -> Vec<String> {
    let mut changes = Vec::new();
    for _ in 0..3 {
        let peak = tierboard::simulation::peak(p, catalog, &sol.design(), false);
        let mut changed = false;
        for (v, node) in peak.graph.nodes.iter().enumerate() {
            let r = &peak.run.nodes[v];
            if ty.is_some_and(|t| !meets(catalog, t, &node.ty)) || node.rps <= 0.0 {
                continue;
            }
            if r.utilisation <= bound {
                continue;
            }
            let load: f64 = r.offered.iter().sum();
            let Some(n) = sol.nodes.iter_mut().find(|n| n.id == node.id) else {
                continue;
            };
            let needed = (load / (bound * node.rps)).ceil().clamp(1.0, MAX_INSTANCES);
            if needed > instances(n) {
                n.params
                    .insert("instances".into(), ParamValue::Number(needed));
                if !n.filled_in.contains(&"instances".to_string()) {
                    n.filled_in.push("instances".into());
                }
                changes.push(format!(
                    "'{}' instances → {needed} for '{text}' ({} rps ÷ ({bound} × {} rps))",
                    n.label,
                    tierboard::simulation::num(load),
                    tierboard::simulation::num(node.rps)
                ));
                changed = true;
            }
            if node.partitions.is_some() || catalog.param(&node.ty, "partitions").is_some() {
                let parts = (load / (bound * tierboard::simulation::graph::PARTITION_RPS))
                    .ceil()
                    .clamp(1.0, MAX_INSTANCES);
                let has = match n.params.get("partitions") {
                    Some(ParamValue::Number(x)) => *x,
                    _ => 0.0,
                };
                if node.partitions.is_some() && parts > has {
                    n.params
                        .insert("partitions".into(), ParamValue::Number(parts));
                    if !n.filled_in.contains(&"partitions".to_string()) {
                        n.filled_in.push("partitions".into());
                    }
                    changes.push(format!("'{}' partitions → {parts} for '{text}'", n.label));
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    changes
}

/// The most instances a node may have (the catalog's bound on `instances`).
const MAX_INSTANCES: f64 = 100_000.0;

/// Where an edge from `from` should go: clients enter at the first non-client node something else
/// points at (the design's entry), other components at the first compute node.
fn entry_target(sol: &ReferenceSolution, from: &str, catalog: &Catalog) -> Option<String> {
    let family = |ty: &str| catalog.get(ty).map(|t| t.family.as_str()).unwrap_or("");
    let from_family = sol
        .nodes
        .iter()
        .find(|n| n.id == from)
        .map(|n| family(&n.ty))
        .unwrap_or("");
    let candidates = sol
        .nodes
        .iter()
        .filter(|n| n.id != from && family(&n.ty) != "client");
    if from_family == "client" {
        // The node another client already enters through, else the first load balancer / gateway / app.
        let entered = sol.edges.iter().find_map(|e| {
            let src = sol.nodes.iter().find(|n| n.id == e.from)?;
            (family(&src.ty) == "client").then(|| e.to.clone())
        });
        entered.or_else(|| {
            candidates
                .clone()
                .find(|n| family(&n.ty) != "storage")
                .map(|n| n.id.clone())
        })
    } else {
        candidates
            .clone()
            .find(|n| family(&n.ty) != "compute")
            .or_else(|| candidates.clone().next())
            .map(|n| n.id.clone())
    }
}

fn add_node(sol: &mut ReferenceSolution, ty: &str, catalog: &Catalog) {
    let label = catalog
        .get(ty)
        .map(|t| t.name.clone())
        .unwrap_or_else(|| ty.to_string());
    let mut id = slug(&label);
    let base = id.clone();
    let mut k = 2;
    while sol.nodes.iter().any(|n| n.id == id) {
        id = format!("{base}-{k}");
        k += 1;
    }
    let mut params = BTreeMap::new();
    params.insert("instances".into(), ParamValue::Number(1.0));
    sol.nodes.push(RefNode {
        id: id.clone(),
        ty: ty.to_string(),
        label,
        x: 0.0,
        y: 0.0,
        params,
        added: true,
        filled_in: vec!["instances".into()],
    });
    // An added component is wired in: clients point at the entry, anything else hangs off the first
    // compute node (or the entry when there is none), so the design has no isolated node.
    let family = catalog.get(ty).map(|t| t.family.as_str()).unwrap_or("");
    if family == "client" {
        if let Some(to) = entry_target(sol, &id, catalog) {
            sol.edges.push(RefEdge {
                id: format!("e{}", sol.edges.len() + 1),
                from: id,
                to,
                added: true,
            });
        }
    } else if let Some(from) = sol
        .nodes
        .iter()
        .find(|n| n.id != id && catalog.get(&n.ty).is_some_and(|t| t.family == "compute"))
        .or_else(|| sol.nodes.iter().find(|n| n.id != id))
        .map(|n| n.id.clone())
    {
        sol.edges.push(RefEdge {
            id: format!("e{}", sol.edges.len() + 1),
            from,
            to: id,
            added: true,
        });
    }
}

/// A simple layered layout: a node's column is its longest distance from a node with no incoming edge,
/// rows fill top to bottom in component order.
pub fn layout(sol: &mut ReferenceSolution) {
    let n = sol.nodes.len();
    let index: HashMap<&str, usize> = sol
        .nodes
        .iter()
        .enumerate()
        .map(|(i, x)| (x.id.as_str(), i))
        .collect();
    let mut depth = vec![0usize; n];
    // Relax at most n times: longest paths in a DAG, bounded on cycles.
    for _ in 0..n {
        let mut changed = false;
        for e in &sol.edges {
            if let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str()))
                && depth[b] < depth[a] + 1
                && depth[a] + 1 < n
            {
                depth[b] = depth[a] + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut rows: HashMap<usize, usize> = HashMap::new();
    for (i, node) in sol.nodes.iter_mut().enumerate() {
        let row = rows.entry(depth[i]).or_insert(0);
        node.x = 40.0 + 240.0 * depth[i] as f64;
        node.y = 40.0 + 140.0 * *row as f64;
        *row += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_counts_from_prose() {
        let t = "Load Balancer → App Servers (8x): LB distributes. 200 app servers handle it.";
        let cases = [
            (t, "App Servers", "app", Some(8.0)),
            ("We run 200 app servers", "App Servers", "app", Some(200.0)),
            (
                "with 5 read replicas",
                "Read Replicas",
                "db_replica",
                Some(5.0),
            ),
            ("uses 10 gateway instances", "Gateway", "app", Some(10.0)),
            (
                "12 × WebSocket Servers",
                "WebSocket Servers",
                "websocket",
                Some(12.0),
            ),
            (
                "- WebSocket servers: 12 × 10K connections",
                "WS Servers",
                "websocket",
                Some(12.0),
            ),
            (
                "- API servers: 25 × 500 msg/sec",
                "API Servers",
                "app",
                Some(25.0),
            ),
            ("a Redis cache", "Redis Cache", "cache", None),
        ];
        for (text, label, ty, want) in cases {
            assert_eq!(stated_count(text, label, ty), want, "{text}");
        }
    }

    #[test]
    fn reads_params_from_prose() {
        let t = "This solution uses a CDN to offload 85% of redirect traffic. A Redis cache provides 90% hit rate.";
        assert_eq!(stated_param(t, "CDN", "cdn", "hit_rate"), Some(0.85));
        assert_eq!(
            stated_param(t, "Redis Cache", "cache", "hit_rate"),
            Some(0.9)
        );
        assert_eq!(
            stated_param(
                "a 16-partition Kafka stream",
                "Stream",
                "stream",
                "partitions"
            ),
            Some(16.0)
        );
    }
}
