//! The engine: (problem, catalog, design) → [`ValidationResult`]. Pure, total, linear in the design.
//!
//! One pass indexes the design (kinds through [`Catalog::kind_of`], instance counts, malformed entries
//! turned into design issues), nodes are grouped once by the kinds the problem's rules name, and every
//! rule is then answered from its group. The path advisories run on a compressed graph with two extra
//! vertices: a source joined to every client and a sink joined from every storage node, so "a path
//! from a client to storage" is one reachability question and "on every such path" is dominance.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::hash_map::Entry;
use std::fmt::Write as _;

// Node and edge ids are user input hashed on every change: a fast hasher, still randomly seeded.
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use crate::design::{Design, DesignNode, INSTANCES, ParamValue};
use crate::problems::{Catalog, ComponentType, Problem, Rule};
use crate::simulation::{Peak, Scenario};

use super::graph::Graph;
use super::result::{
    Advisory, AdvisoryCode, DesignIssue, Finding, IssueCode, RuleKind, RuleResult, TierResult,
    ValidationResult,
};

/// The kind of the nodes requests come from.
pub const CLIENT_KIND: &str = "client";
/// The catalog family of the nodes data ends up in.
pub const STORAGE_FAMILY: &str = "storage";
/// Single points of failure are reported only for problems that ask for at least this availability (%).
pub const SPOF_AVAILABILITY: f64 = 99.9;

/// How many names an explanation lists before it says "and N more".
const LIST_LIMIT: usize = 5;
/// Names and values quoted in messages are cut to this many characters: labels are user input.
const QUOTE_LIMIT: usize = 60;

/// What a node or a rule's type is matched by: the catalog kind, or the literal type when the catalog
/// does not know it (so an unknown rule type can still be met by a node of that same unknown type,
/// but an unknown node type never meets a rule about a known kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KindKey<'a> {
    Known(&'a str),
    Unknown(&'a str),
    /// A rule type met only by nodes of that very type ([`Catalog::exact_match`]: `create_client`).
    Exact(&'a str),
}

impl<'a> KindKey<'a> {
    fn of(catalog: &'a Catalog, ty: &'a str) -> KindKey<'a> {
        match catalog.kind_of(ty) {
            Some(kind) => KindKey::Known(kind),
            None => KindKey::Unknown(ty),
        }
    }

    /// What a rule naming `ty` is met by.
    pub(super) fn rule(catalog: &'a Catalog, ty: &'a str) -> KindKey<'a> {
        if catalog.exact_match(ty) {
            KindKey::Exact(ty)
        } else {
            KindKey::of(catalog, ty)
        }
    }

    pub(super) fn name(self) -> &'a str {
        match self {
            KindKey::Known(k) | KindKey::Unknown(k) | KindKey::Exact(k) => k,
        }
    }
}

/// A design node that takes part in validation (not a note, not a duplicate).
pub(super) struct Member<'a> {
    pub(super) node: &'a DesignNode,
    pub(super) key: Option<KindKey<'a>>,
    pub(super) def: Option<&'a ComponentType>,
    pub(super) instances: u64,
    pub(super) client: bool,
    pub(super) storage: bool,
    /// Some edge leaves it for another node.
    pub(super) leaves: bool,
    /// Some edge touches it.
    pub(super) connected: bool,
}

enum Slot {
    Member(u32),
    Note,
}

/// Validates `design` against every tier of `problem`. Never panics; malformed input becomes design
/// issues. See docs/PROTOCOL.md §4 for the result and issue 4 for the rule semantics.
pub fn validate(problem: &Problem, catalog: &Catalog, design: &Design) -> ValidationResult {
    validate_under(problem, catalog, design, &Scenario::peak())
}

/// [`validate`] with the `capacity` and `latency` rules judged under `scenario` (its load, failed
/// nodes, cold caches) instead of the plain peak: what a room under an interview's curveball runs
/// (issue 22). The other rules do not depend on the scenario.
pub fn validate_under(
    problem: &Problem,
    catalog: &Catalog,
    design: &Design,
    scenario: &Scenario,
) -> ValidationResult {
    let mut issues: Vec<DesignIssue> = design.read_issues.clone();
    let mut members: Vec<Member> = Vec::with_capacity(design.nodes.len());
    let mut slots: HashMap<&str, Slot> = HashMap::with_capacity(design.nodes.len());
    // A design has a few distinct types over many nodes: ask the catalog once per type.
    let mut types: HashMap<&str, TypeInfo> = HashMap::new();

    for node in &design.nodes {
        if node.id.is_empty() {
            push(
                &mut issues,
                IssueCode::MissingField,
                format!("node '{}' has no id; ignored", q(node.display_name())),
                &[],
                &[],
            );
            continue;
        }
        match slots.entry(node.id.as_str()) {
            Entry::Occupied(_) => {
                let message = format!(
                    "two nodes have id '{}'; the later one ('{}') is ignored",
                    q(&node.id),
                    q(node.display_name())
                );
                push(
                    &mut issues,
                    IssueCode::DuplicateId,
                    message,
                    &[&node.id],
                    &[],
                );
                continue;
            }
            Entry::Vacant(slot) if node.is_note() => {
                slot.insert(Slot::Note);
                continue;
            }
            Entry::Vacant(slot) => {
                slot.insert(Slot::Member(members.len() as u32));
            }
        }
        members.push(index_node(catalog, &mut types, node, &mut issues));
    }

    let n = members.len() as u32;
    let (source, sink) = (n, n + 1);
    let mut arcs: Vec<(u32, u32)> = Vec::with_capacity(design.edges.len() + members.len());
    let mut edge_ids: HashSet<&str> = HashSet::with_capacity(design.edges.len());
    for edge in &design.edges {
        if edge.id.is_empty() {
            push(
                &mut issues,
                IssueCode::MissingField,
                "an edge has no id; ignored".to_string(),
                &[],
                &[],
            );
            continue;
        }
        if !edge_ids.insert(edge.id.as_str()) {
            let message = format!(
                "two edges have id '{}'; the later one is ignored",
                q(&edge.id)
            );
            push(
                &mut issues,
                IssueCode::DuplicateId,
                message,
                &[],
                &[&edge.id],
            );
            continue;
        }
        let mut missing = Vec::new();
        let mut no_endpoint = false;
        let mut ends = [None, None];
        let mut touches_note = false;
        for (end, (field, target)) in [("from", &edge.from), ("to", &edge.to)]
            .into_iter()
            .enumerate()
        {
            if target.is_empty() {
                missing.push(format!("has no `{field}`"));
                no_endpoint = true;
                continue;
            }
            match slots.get(target.as_str()) {
                Some(Slot::Member(i)) => ends[end] = Some(*i),
                Some(Slot::Note) => touches_note = true,
                None => missing.push(format!(
                    "{} missing node '{}'",
                    if end == 0 { "comes from" } else { "goes to" },
                    q(target)
                )),
            }
        }
        if !missing.is_empty() {
            let code = if no_endpoint {
                IssueCode::MissingField
            } else {
                IssueCode::DanglingEdge
            };
            let present: Vec<&str> = ends
                .iter()
                .flatten()
                .map(|&i| members[i as usize].node.id.as_str())
                .collect();
            let message = format!("edge '{}' {}", q(&edge.id), missing.join(" and "));
            push(&mut issues, code, message, &present, &[&edge.id]);
            continue;
        }
        // An edge to or from a note is an annotation, not part of the system.
        if touches_note {
            continue;
        }
        let (Some(from), Some(to)) = (ends[0], ends[1]) else {
            continue;
        };
        members[from as usize].connected = true;
        members[to as usize].connected = true;
        if from != to {
            members[from as usize].leaves = true;
            arcs.push((from, to));
        }
    }
    for (i, m) in members.iter().enumerate() {
        if m.client {
            arcs.push((source, i as u32));
        }
        if m.storage {
            arcs.push((i as u32, sink));
        }
    }
    let graph = Graph::new(members.len() + 2, &arcs);

    let ctx = Context {
        members: &members,
        graph: &graph,
        groups: Groups::new(problem, catalog, &members),
        catalog,
        problem,
        design,
        scenario,
        peak: OnceCell::new(),
    };
    let mut tiers = Vec::with_capacity(problem.tiers.len());
    let mut reached = 0;
    let mut all_before = true;
    for tier in &problem.tiers {
        let rules: Vec<RuleResult> = tier.rules.iter().map(|rule| ctx.rule(rule)).collect();
        let passed = rules.iter().all(|r| r.passed);
        all_before &= passed;
        if all_before {
            reached += 1;
        }
        tiers.push(TierResult {
            id: tier.id.clone(),
            title: tier.title.clone(),
            passed,
            reached: all_before,
            source: tier.source,
            rules,
        });
    }

    let advisories = advisories(problem, &members, &graph, source, sink);
    ValidationResult {
        problem: problem.id.clone(),
        reached,
        tiers,
        design_issues: issues,
        advisories,
    }
}

/// What the catalog says about one node type.
#[derive(Clone, Copy)]
struct TypeInfo<'a> {
    key: KindKey<'a>,
    def: Option<&'a ComponentType>,
}

impl<'a> TypeInfo<'a> {
    fn of(catalog: &'a Catalog, ty: &'a str) -> TypeInfo<'a> {
        let key = KindKey::of(catalog, ty);
        // The catalog entry gives the family and the parameter definitions; an alias that is not an
        // entry of its own borrows its kind's.
        let def = match key {
            KindKey::Known(kind) => catalog.get(ty).or_else(|| catalog.get(kind)),
            KindKey::Unknown(_) | KindKey::Exact(_) => None,
        };
        TypeInfo { key, def }
    }
}

/// Indexes one node: its kind, its catalog entry, its fleet size; reports what is malformed about it.
fn index_node<'a>(
    catalog: &'a Catalog,
    types: &mut HashMap<&'a str, TypeInfo<'a>>,
    node: &'a DesignNode,
    issues: &mut Vec<DesignIssue>,
) -> Member<'a> {
    let name = node.display_name();
    let info = if node.ty.is_empty() {
        push(
            issues,
            IssueCode::MissingField,
            format!("node '{}' has no type", q(name)),
            &[&node.id],
            &[],
        );
        None
    } else {
        let info = *types
            .entry(node.ty.as_str())
            .or_insert_with(|| TypeInfo::of(catalog, &node.ty));
        if let KindKey::Unknown(ty) = info.key {
            let message = format!("node '{}' has unknown type '{}'", q(name), q(ty));
            push(issues, IssueCode::UnknownType, message, &[&node.id], &[]);
        }
        Some(info)
    };
    let key = info.map(|i| i.key);
    let def = info.and_then(|i| i.def);

    let instances = match node.params.get(INSTANCES) {
        None => 1,
        Some(ParamValue::Number(v))
            if v.fract() == 0.0 && *v >= 1.0 && *v <= f64::from(u32::MAX) =>
        {
            *v as u64
        }
        Some(other) => {
            let message = format!(
                "node '{}': instances is {}, expected a whole number ≥ 1; counted as 1",
                q(name),
                show_value(other)
            );
            push(issues, IssueCode::BadParam, message, &[&node.id], &[]);
            1
        }
    };
    if let Some(max) = def
        .and_then(|d| d.params.iter().find(|p| p.name == INSTANCES))
        .and_then(|p| p.max)
        .filter(|&max| instances as f64 > max)
    {
        let message = format!(
            "node '{}': instances is {instances}, above the allowed maximum {}",
            q(name),
            num(max)
        );
        push(issues, IssueCode::BadParam, message, &[&node.id], &[]);
    }
    if let Some(def) = def {
        for (param, value) in &node.params {
            if param == INSTANCES {
                continue;
            }
            let Some(spec) = def.params.iter().find(|p| p.name == *param) else {
                continue;
            };
            let problem = match (spec.ty.as_str(), value) {
                ("integer", ParamValue::Number(v)) if v.fract() != 0.0 => {
                    Some(format!("is {}, expected a whole number", show_value(value)))
                }
                ("integer" | "number", ParamValue::Number(v)) if !v.is_finite() => {
                    Some("is not a finite number".to_string())
                }
                ("integer" | "number", ParamValue::Number(v)) => match (spec.min, spec.max) {
                    (Some(min), _) if *v < min => Some(format!(
                        "is {}, below the allowed minimum {}",
                        num(*v),
                        num(min)
                    )),
                    (_, Some(max)) if *v > max => Some(format!(
                        "is {}, above the allowed maximum {}",
                        num(*v),
                        num(max)
                    )),
                    _ => None,
                },
                ("integer" | "number", _) => {
                    Some(format!("is {}, expected a number", show_value(value)))
                }
                ("boolean", ParamValue::Bool(_)) | ("string", ParamValue::Text(_)) => None,
                ("boolean", _) => Some(format!("is {}, expected true or false", show_value(value))),
                ("string", _) => Some(format!("is {}, expected text", show_value(value))),
                _ => None,
            };
            if let Some(problem) = problem {
                let message = format!("node '{}': {} {}", q(name), q(param), problem);
                push(issues, IssueCode::BadParam, message, &[&node.id], &[]);
            }
        }
    }
    let client = matches!(key, Some(KindKey::Known(CLIENT_KIND)));
    let storage = def.is_some_and(|d| d.family == STORAGE_FAMILY);
    Member {
        node,
        key,
        def,
        instances,
        client,
        storage,
        leaves: false,
        connected: false,
    }
}

/// The members of each distinct kind the problem's rules name, computed once per validation.
pub(super) struct Groups<'a> {
    keys: Vec<KindKey<'a>>,
    members: Vec<Vec<u32>>,
}

impl<'a> Groups<'a> {
    fn new(problem: &'a Problem, catalog: &'a Catalog, members: &[Member<'a>]) -> Groups<'a> {
        let mut keys: Vec<KindKey<'a>> = Vec::new();
        for ty in problem
            .tiers
            .iter()
            .flat_map(|t| &t.rules)
            .flat_map(|r| r.types())
        {
            let key = KindKey::rule(catalog, ty);
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        let mut groups = vec![Vec::new(); keys.len()];
        let exact = keys.iter().any(|k| matches!(k, KindKey::Exact(_)));
        for (i, m) in members.iter().enumerate() {
            if let Some(g) = m.key.and_then(|k| keys.iter().position(|&key| key == k)) {
                groups[g].push(i as u32);
            }
            // A node is in its kind's group and, for a specific client, in its type's group too.
            if exact {
                for (g, key) in keys.iter().enumerate() {
                    if matches!(key, KindKey::Exact(t) if *t == m.node.ty) {
                        groups[g].push(i as u32);
                    }
                }
            }
        }
        Groups {
            keys,
            members: groups,
        }
    }

    pub(super) fn of(&self, key: KindKey) -> &[u32] {
        self.keys
            .iter()
            .position(|&k| k == key)
            .map(|g| self.members[g].as_slice())
            .unwrap_or(&[])
    }
}

pub(super) struct Context<'a, 'm> {
    pub(super) members: &'m [Member<'a>],
    pub(super) graph: &'m Graph,
    pub(super) groups: Groups<'a>,
    pub(super) catalog: &'a Catalog,
    pub(super) problem: &'a Problem,
    pub(super) design: &'a Design,
    /// What the `capacity` and `latency` rules are judged under (the plain peak but in a curveball).
    pub(super) scenario: &'a Scenario,
    /// The design run at the problem's peak (under `scenario`), computed on the first `capacity` or
    /// `latency` rule.
    pub(super) peak: OnceCell<Peak>,
}

impl Context<'_, '_> {
    pub(super) fn ids(&self, indices: &[u32]) -> Vec<String> {
        indices
            .iter()
            .map(|&i| self.member(i).node.id.clone())
            .collect()
    }

    pub(super) fn member(&self, i: u32) -> &Member<'_> {
        &self.members[i as usize]
    }

    pub(super) fn name(&self, i: u32) -> Cow<'_, str> {
        q(self.member(i).node.display_name())
    }

    /// "'A', 'B', 'C' and 4 more"
    pub(super) fn names(&self, indices: &[u32]) -> String {
        let mut out = String::new();
        for (n, &i) in indices.iter().take(LIST_LIMIT).enumerate() {
            if n > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "'{}'", self.name(i));
        }
        if indices.len() > LIST_LIMIT {
            let _ = write!(out, " and {} more", indices.len() - LIST_LIMIT);
        }
        out
    }

    fn rule(&self, rule: &Rule) -> RuleResult {
        let (kind_code, passed, explanation, nodes) = self.answer(rule);
        RuleResult {
            text: rule.text().to_string(),
            kind: kind_code,
            passed,
            explanation,
            nodes,
        }
    }

    /// The verdict, explanation and nodes of one rule. The seed's kinds name one component type and
    /// are answered from its group here; the structure and capacity kinds in `rules.rs`.
    fn answer(&self, rule: &Rule) -> (RuleKind, bool, String, Vec<String>) {
        let key = KindKey::rule(self.catalog, rule.ty().unwrap_or_default());
        let group = self.groups.of(key);
        let kind = q(key.name());
        let (kind_code, passed, explanation, nodes) = match rule {
            Rule::Path { types, .. } => self.path(types),
            Rule::Redundant { ty, .. } => self.redundant(ty),
            Rule::Capacity {
                ty,
                max_utilisation,
                ..
            } => self.capacity(ty.as_deref(), *max_utilisation),
            Rule::Latency { max_ms, .. } => self.latency(*max_ms),
            Rule::Include { .. } => {
                let explanation = if group.is_empty() {
                    format!("no node of kind {kind}{}", unknown_note(key))
                } else {
                    format!(
                        "found {} of kind {kind}: {}",
                        plural(group.len(), "node"),
                        self.names(group)
                    )
                };
                (
                    RuleKind::Include,
                    !group.is_empty(),
                    explanation,
                    self.ids(group),
                )
            }
            Rule::MinCount { count, .. } => {
                let total = group
                    .iter()
                    .fold(0u64, |sum, &i| sum.saturating_add(self.member(i).instances));
                let passed = total >= *count;
                // " in 'App Servers'" for one node, " = 2 in 'A' + 3 in 'B'" for several.
                let mut breakdown = String::new();
                if group.len() == 1 {
                    let _ = write!(breakdown, " in '{}'", self.name(group[0]));
                } else {
                    for (n, &i) in group.iter().take(LIST_LIMIT).enumerate() {
                        breakdown.push_str(if n == 0 { " = " } else { " + " });
                        let _ = write!(
                            breakdown,
                            "{} in '{}'",
                            self.member(i).instances,
                            self.name(i)
                        );
                    }
                    if group.len() > LIST_LIMIT {
                        let rest = group[LIST_LIMIT..]
                            .iter()
                            .fold(0u64, |s, &i| s.saturating_add(self.member(i).instances));
                        let _ = write!(
                            breakdown,
                            " + {rest} in {} more",
                            plural(group.len() - LIST_LIMIT, "node")
                        );
                    }
                }
                let explanation = if passed {
                    format!("found {total} {kind} instances{breakdown} (needs ≥ {count})")
                } else if group.is_empty() {
                    format!(
                        "needs ≥ {count} {kind} instances; found none{}",
                        unknown_note(key)
                    )
                } else {
                    format!("needs ≥ {count} {kind} instances; found {total}{breakdown}")
                };
                (RuleKind::MinCount, passed, explanation, self.ids(group))
            }
            Rule::ConnectionFrom { .. } => {
                let leaving: Vec<u32> = group
                    .iter()
                    .copied()
                    .filter(|&i| self.member(i).leaves)
                    .collect();
                if let Some(&first) = leaving.first() {
                    let to = self
                        .graph
                        .successors(first)
                        .iter()
                        .copied()
                        .find(|&t| t != first && (t as usize) < self.members.len())
                        .map(|t| self.name(t).into_owned())
                        .unwrap_or_default();
                    let mut explanation =
                        format!("edge leaves {kind} node '{}' (to '{to}')", self.name(first));
                    if leaving.len() > 1 {
                        let _ = write!(
                            explanation,
                            "; {} of kind {kind} have outgoing edges",
                            plural(leaving.len(), "node")
                        );
                    }
                    (
                        RuleKind::ConnectionFrom,
                        true,
                        explanation,
                        self.ids(&leaving),
                    )
                } else if group.is_empty() {
                    let explanation = format!(
                        "no edge leaves a node of kind {kind}: the design has no {kind} node{}",
                        unknown_note(key)
                    );
                    (RuleKind::ConnectionFrom, false, explanation, Vec::new())
                } else {
                    let explanation = format!(
                        "no edge leaves a node of kind {kind}: {} {} no outgoing edge",
                        self.names(group),
                        if group.len() == 1 { "has" } else { "have" }
                    );
                    (
                        RuleKind::ConnectionFrom,
                        false,
                        explanation,
                        self.ids(group),
                    )
                }
            }
            Rule::ParamRange {
                ty,
                param,
                min,
                max,
                ..
            } => {
                let subject = format!("{}.{}", q(ty), q(param));
                if group.is_empty() {
                    let explanation = format!(
                        "no node of kind {kind} to check {subject} on{}",
                        unknown_note(key)
                    );
                    (RuleKind::ParamRange, false, explanation, Vec::new())
                } else {
                    let mut violations: Vec<(u32, String)> = Vec::new();
                    let mut values: Vec<(u32, f64, bool)> = Vec::new();
                    for &i in group {
                        let m = self.member(i);
                        let (value, defaulted) = match m.node.params.get(param.as_str()) {
                            Some(v) => (Some(v.clone()), false),
                            None => (default_of(m.def, param).map(ParamValue::Number), true),
                        };
                        let name = self.name(i);
                        let default_note = if defaulted { " (the default)" } else { "" };
                        match value {
                            None => {
                                violations.push((i, format!("{subject} is not set on '{name}'")))
                            }
                            Some(ParamValue::Number(v)) if v.is_finite() => {
                                if v < *min {
                                    violations.push((
                                        i,
                                        format!(
                                            "{subject} {}{default_note} is below {} on '{name}'",
                                            num(v),
                                            num(*min)
                                        ),
                                    ));
                                } else if v > *max {
                                    violations.push((
                                        i,
                                        format!(
                                            "{subject} {}{default_note} is above {} on '{name}'",
                                            num(v),
                                            num(*max)
                                        ),
                                    ));
                                } else {
                                    values.push((i, v, defaulted));
                                }
                            }
                            Some(other) => violations.push((
                                i,
                                format!(
                                    "{subject} {} is not a number on '{name}'",
                                    show_value(&other)
                                ),
                            )),
                        }
                    }
                    if violations.is_empty() {
                        let mut shown = String::new();
                        for (n, (i, v, defaulted)) in values.iter().take(LIST_LIMIT).enumerate() {
                            if n > 0 {
                                shown.push_str(", ");
                            }
                            let _ = write!(
                                shown,
                                "'{}' {}{}",
                                self.name(*i),
                                num(*v),
                                if *defaulted { " (default)" } else { "" }
                            );
                        }
                        if values.len() > LIST_LIMIT {
                            let _ = write!(shown, " and {} more", values.len() - LIST_LIMIT);
                        }
                        let explanation = format!(
                            "{subject} is within {}–{} on every {kind} node: {shown}",
                            num(*min),
                            num(*max)
                        );
                        (RuleKind::ParamRange, true, explanation, self.ids(group))
                    } else {
                        let mut explanation = violations
                            .iter()
                            .take(3)
                            .map(|(_, s)| s.as_str())
                            .collect::<Vec<_>>()
                            .join("; ");
                        if violations.len() > 3 {
                            let _ = write!(
                                explanation,
                                "; and {} more",
                                plural(violations.len() - 3, "node")
                            );
                        }
                        let _ = write!(explanation, " (needs {}–{})", num(*min), num(*max));
                        let ids: Vec<u32> = violations.iter().map(|(i, _)| *i).collect();
                        (RuleKind::ParamRange, false, explanation, self.ids(&ids))
                    }
                }
            }
        };
        (kind_code, passed, explanation, nodes)
    }
}

/// The catalog default of a numeric parameter.
fn default_of(def: Option<&ComponentType>, param: &str) -> Option<f64> {
    def?.params
        .iter()
        .find(|p| p.name == param)?
        .default
        .as_ref()?
        .as_f64()
}

pub(super) fn unknown_note(key: KindKey) -> String {
    match key {
        KindKey::Known(_) | KindKey::Exact(_) => String::new(),
        KindKey::Unknown(_) => " (a type the component catalog does not know)".to_string(),
    }
}

/// The advisories: isolated nodes, no client-to-storage path, single points of failure.
fn advisories(
    problem: &Problem,
    members: &[Member],
    graph: &Graph,
    source: u32,
    sink: u32,
) -> Vec<Advisory> {
    let mut out = Vec::new();
    for m in members.iter().filter(|m| !m.connected) {
        out.push(Finding {
            code: AdvisoryCode::IsolatedNode,
            message: format!("'{}' has no edges", q(m.node.display_name())),
            nodes: vec![m.node.id.clone()],
            edges: Vec::new(),
        });
    }
    if members.is_empty() {
        return out;
    }
    let clients: Vec<&Member> = members.iter().filter(|m| m.client).collect();
    let storage: Vec<&Member> = members.iter().filter(|m| m.storage).collect();
    let ids = |ms: &[&Member]| ms.iter().map(|m| m.node.id.clone()).collect::<Vec<_>>();
    let names = |ms: &[&Member]| {
        let mut s = ms
            .iter()
            .take(LIST_LIMIT)
            .map(|m| format!("'{}'", q(m.node.display_name())))
            .collect::<Vec<_>>()
            .join(", ");
        if ms.len() > LIST_LIMIT {
            let _ = write!(s, " and {} more", ms.len() - LIST_LIMIT);
        }
        s
    };
    let no_path = |message: String, nodes: Vec<String>| Finding {
        code: AdvisoryCode::NoClientToStoragePath,
        message,
        nodes,
        edges: Vec::new(),
    };
    if clients.is_empty() {
        out.push(no_path(
            format!(
                "no node of kind {CLIENT_KIND}, so no request path from a client reaches storage"
            ),
            Vec::new(),
        ));
        return out;
    }
    if storage.is_empty() {
        out.push(no_path(
            format!("no {STORAGE_FAMILY} node (database, object store ...) for requests from {} to reach", names(&clients)),
            ids(&clients),
        ));
        return out;
    }
    let Some(on_every_path) = graph.dominators_of(source, sink) else {
        out.push(no_path(
            format!(
                "no path along the edges from a client ({}) to any {STORAGE_FAMILY} node ({})",
                names(&clients),
                names(&storage)
            ),
            ids(&clients),
        ));
        return out;
    };
    let target = problem.availability_target().unwrap_or(0.0);
    if target >= SPOF_AVAILABILITY {
        // Nearest the clients first.
        for &v in on_every_path.iter().rev() {
            let Some(m) = members.get(v as usize) else {
                continue;
            };
            if m.client || m.instances != 1 {
                continue;
            }
            out.push(Finding {
                code: AdvisoryCode::SinglePointOfFailure,
                message: format!(
                    "'{}' is a single point of failure: every path from a client to storage goes through it and it has 1 instance (availability target {} %)",
                    q(m.node.display_name()),
                    num(target)
                ),
                nodes: vec![m.node.id.clone()],
                edges: Vec::new(),
            });
        }
    }
    out
}

fn push(
    issues: &mut Vec<DesignIssue>,
    code: IssueCode,
    message: String,
    nodes: &[&str],
    edges: &[&str],
) {
    issues.push(Finding {
        code,
        message,
        nodes: nodes.iter().map(|s| s.to_string()).collect(),
        edges: edges.iter().map(|s| s.to_string()).collect(),
    });
}

/// A user string cut to [`QUOTE_LIMIT`] characters, for quoting in a message.
pub(super) fn q(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(QUOTE_LIMIT) {
        None => Cow::Borrowed(s),
        Some((cut, _)) => Cow::Owned(format!("{}…", &s[..cut])),
    }
}

/// A number as people write it: 0.95, 7, 1000000; very large or very small ones in exponent form
/// (1e300 would otherwise print 301 digits).
fn num(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-6..1e15).contains(&a) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

fn show_value(value: &ParamValue) -> String {
    match value {
        ParamValue::Number(v) => num(*v),
        ParamValue::Bool(b) => b.to_string(),
        ParamValue::Text(s) => format!("'{}'", q(s)),
    }
}

pub(super) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
