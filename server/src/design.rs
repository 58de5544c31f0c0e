//! The canvas schema on the server side (docs/PROTOCOL.md §3): the design JSON that travels outside a room,
//! and reading the same design out of a room's yrs document.
//!
//! This is the server's one definition of the schema. Both readers are lenient on purpose: a design is
//! user input edited live by several people, so a wrong value type (a string where a number belongs, a
//! node that is not a map, a parameter that is `null`) never makes reading fail. What cannot be
//! represented in [`Design`] is recorded in [`Design::read_issues`], and validation reports it next to the
//! issues it finds itself (unknown types, dangling edges ...). Only a design that is not an object at all
//! is refused, because there is nothing to read.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize};
use yrs::types::GetString;
use yrs::{Any, Doc, Map, MapPrelim, MapRef, Out, ReadTxn, Transact, TransactionMut, WriteTxn};

/// The special node type of a free-text sticky note; validation ignores notes (the catalog lists it too).
pub const NOTE_TYPE: &str = "note";
/// The parameter that holds a node's fleet size (integer ≥ 1, default 1).
pub const INSTANCES: &str = "instances";

/// Root keys of a room's document.
pub const NODES_KEY: &str = "nodes";
pub const EDGES_KEY: &str = "edges";
/// The keys of a node's map that reading a design looks at: a change to any other key of a node
/// (a client's own bookkeeping) cannot change the design, its validation or its simulation.
pub const NODE_KEYS: [&str; 5] = ["type", "label", "x", "y", "params"];
pub const META_KEY: &str = "meta";
pub const NOTES_KEY: &str = "notes";

/// Something wrong with the design itself, independent of the tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IssueCode {
    /// A node type the catalog does not know.
    UnknownType,
    /// A parameter of the wrong type or out of its allowed range.
    BadParam,
    /// An edge whose `from` or `to` names no node.
    DanglingEdge,
    /// A required field is missing or has the wrong type.
    MissingField,
    /// Two nodes (or two edges) with the same id; only the first counts.
    DuplicateId,
}

/// One design issue or advisory: a code, a sentence, and what it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Finding<C> {
    pub code: C,
    pub message: String,
    pub nodes: Vec<String>,
    pub edges: Vec<String>,
}

pub type DesignIssue = Finding<IssueCode>;

/// A parameter value as the canvas stores it: a number, a string or a boolean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ParamValue {
    Bool(bool),
    Number(f64),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DesignNode {
    pub id: String,
    /// Component type id from the catalog; empty when the node has none.
    #[serde(rename = "type", default)]
    pub ty: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub x: f64,
    #[serde(default)]
    pub y: f64,
    #[serde(default)]
    pub params: BTreeMap<String, ParamValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DesignEdge {
    pub id: String,
    /// Source node id; empty when the edge has none.
    #[serde(default)]
    pub from: String,
    /// Target node id; empty when the edge has none.
    #[serde(default)]
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A design: the nodes and edges of a canvas.
///
/// Deserialising is lenient (see the module docs): it goes through [`Design::from_json`], so the same
/// rules apply to `POST /api/validate`, the CLI and the reference designs of the problem files.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Design {
    pub nodes: Vec<DesignNode>,
    pub edges: Vec<DesignEdge>,
    /// What the reader could not represent (wrong value types, entries that are not objects); reported
    /// by validation as design issues. Never serialised.
    #[serde(skip)]
    pub read_issues: Vec<DesignIssue>,
}

impl<'de> Deserialize<'de> for Design {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Design, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        Design::from_json(&value).map_err(serde::de::Error::custom)
    }
}

impl DesignNode {
    /// A node with the given id, type and label at the origin, without parameters.
    pub fn new(
        id: impl Into<String>,
        ty: impl Into<String>,
        label: impl Into<String>,
    ) -> DesignNode {
        DesignNode {
            id: id.into(),
            ty: ty.into(),
            label: label.into(),
            x: 0.0,
            y: 0.0,
            params: BTreeMap::new(),
        }
    }

    /// Sets a parameter (builder style, for tests and tools).
    pub fn with_param(mut self, name: impl Into<String>, value: ParamValue) -> DesignNode {
        self.params.insert(name.into(), value);
        self
    }

    /// Sets `instances` (builder style).
    pub fn with_instances(self, instances: u64) -> DesignNode {
        self.with_param(INSTANCES, ParamValue::Number(instances as f64))
    }

    /// The label, or the id when the label is blank: how messages name a node.
    pub fn display_name(&self) -> &str {
        if self.label.trim().is_empty() {
            &self.id
        } else {
            &self.label
        }
    }

    pub fn is_note(&self) -> bool {
        self.ty == NOTE_TYPE
    }
}

impl DesignEdge {
    pub fn new(
        id: impl Into<String>,
        from: impl Into<String>,
        to: impl Into<String>,
    ) -> DesignEdge {
        DesignEdge {
            id: id.into(),
            from: from.into(),
            to: to.into(),
            label: None,
        }
    }
}

/// Records one read issue.
fn issue(
    issues: &mut Vec<DesignIssue>,
    code: IssueCode,
    message: String,
    node: Option<&str>,
    edge: Option<&str>,
) {
    issues.push(DesignIssue {
        code,
        message,
        nodes: node.map(|n| vec![n.to_string()]).unwrap_or_default(),
        edges: edge.map(|e| vec![e.to_string()]).unwrap_or_default(),
    });
}

fn json_type_name(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

// ---------------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------------

impl Design {
    /// Reads a design from JSON (docs/PROTOCOL.md §3), tolerating malformed content.
    ///
    /// Fails only when `value` is not an object. `nodes` and `edges` may be lists (the exchange format)
    /// or objects keyed by id (the shape of the room document); anything else is a read issue.
    pub fn from_json(value: &serde_json::Value) -> Result<Design, String> {
        let serde_json::Value::Object(root) = value else {
            return Err(format!(
                "a design must be an object with `nodes` and `edges`, not {}",
                json_type_name(value)
            ));
        };
        let mut design = Design::default();
        let mut issues = Vec::new();
        for (key, target) in [("nodes", true), ("edges", false)] {
            let entries: Vec<(Option<&str>, &serde_json::Value)> = match root.get(key) {
                None | Some(serde_json::Value::Null) => Vec::new(),
                Some(serde_json::Value::Array(items)) => items.iter().map(|v| (None, v)).collect(),
                Some(serde_json::Value::Object(map)) => {
                    map.iter().map(|(k, v)| (Some(k.as_str()), v)).collect()
                }
                Some(other) => {
                    issue(
                        &mut issues,
                        IssueCode::MissingField,
                        format!("`{key}` is {}, expected a list", json_type_name(other)),
                        None,
                        None,
                    );
                    Vec::new()
                }
            };
            for (position, (key_id, entry)) in entries.into_iter().enumerate() {
                if target {
                    if let Some(node) = node_from_json(position, key_id, entry, &mut issues) {
                        design.nodes.push(node);
                    }
                } else if let Some(edge) = edge_from_json(position, key_id, entry, &mut issues) {
                    design.edges.push(edge);
                }
            }
        }
        design.read_issues = issues;
        Ok(design)
    }
}

/// A node or edge entry: its fields and its id (its `id` field, else the key it is stored under).
/// An entry that is not an object, or has no usable id, is a read issue and is skipped.
fn json_entry<'a>(
    what: &str,
    position: usize,
    key_id: Option<&'a str>,
    entry: &'a serde_json::Value,
    issues: &mut Vec<DesignIssue>,
) -> Option<(&'a serde_json::Map<String, serde_json::Value>, &'a str)> {
    let n = position + 1;
    let problem = match (entry, key_id) {
        (serde_json::Value::Object(fields), key_id) => match (fields.get("id"), key_id) {
            (Some(serde_json::Value::String(id)), _) if !id.is_empty() => {
                return Some((fields, id));
            }
            (None, Some(key)) => return Some((fields, key)),
            (Some(other), _) => format!(
                "{what} #{n} has id {}, expected a non-empty string; ignored",
                json_type_name(other)
            ),
            (None, None) => format!("{what} #{n} has no id; ignored"),
        },
        (other, _) => format!(
            "{what} #{n} is {}, expected an object; ignored",
            json_type_name(other)
        ),
    };
    issue(issues, IssueCode::MissingField, problem, None, None);
    None
}

/// A string field; a value of another type is a read issue and reads as empty.
fn json_string(
    fields: &serde_json::Map<String, serde_json::Value>,
    what: &str,
    id: &str,
    name: &str,
    issues: &mut Vec<DesignIssue>,
    is_node: bool,
) -> Option<String> {
    match fields.get(name) {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(other) => {
            let (node, edge) = if is_node {
                (Some(id), None)
            } else {
                (None, Some(id))
            };
            issue(
                issues,
                IssueCode::MissingField,
                format!(
                    "{what} '{id}': `{name}` is {}, expected a string",
                    json_type_name(other)
                ),
                node,
                edge,
            );
            None
        }
    }
}

fn node_from_json(
    position: usize,
    key_id: Option<&str>,
    entry: &serde_json::Value,
    issues: &mut Vec<DesignIssue>,
) -> Option<DesignNode> {
    let (fields, id) = json_entry("node", position, key_id, entry, issues)?;
    let mut node = DesignNode::new(id, "", "");
    node.ty = json_string(fields, "node", id, "type", issues, true).unwrap_or_default();
    node.label = json_string(fields, "node", id, "label", issues, true).unwrap_or_default();
    for (axis, slot) in [("x", &mut node.x), ("y", &mut node.y)] {
        match fields.get(axis) {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Number(n)) => *slot = n.as_f64().unwrap_or(0.0),
            Some(other) => issue(
                issues,
                IssueCode::MissingField,
                format!(
                    "node '{id}': `{axis}` is {}, expected a number",
                    json_type_name(other)
                ),
                Some(id),
                None,
            ),
        }
    }
    match fields.get("params") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Object(params)) => {
            for (name, value) in params {
                let value = match value {
                    serde_json::Value::Bool(b) => ParamValue::Bool(*b),
                    serde_json::Value::Number(n) => match n.as_f64() {
                        Some(f) => ParamValue::Number(f),
                        None => ParamValue::Text(n.to_string()),
                    },
                    serde_json::Value::String(s) => ParamValue::Text(s.clone()),
                    other => {
                        issue(
                            issues,
                            IssueCode::BadParam,
                            format!(
                                "node '{id}': parameter `{name}` is {}, expected a number, string or boolean; ignored",
                                json_type_name(other)
                            ),
                            Some(id),
                            None,
                        );
                        continue;
                    }
                };
                node.params.insert(name.clone(), value);
            }
        }
        Some(other) => issue(
            issues,
            IssueCode::BadParam,
            format!(
                "node '{id}': `params` is {}, expected an object; ignored",
                json_type_name(other)
            ),
            Some(id),
            None,
        ),
    }
    Some(node)
}

fn edge_from_json(
    position: usize,
    key_id: Option<&str>,
    entry: &serde_json::Value,
    issues: &mut Vec<DesignIssue>,
) -> Option<DesignEdge> {
    let (fields, id) = json_entry("edge", position, key_id, entry, issues)?;
    let mut edge = DesignEdge::new(id, "", "");
    edge.from = json_string(fields, "edge", id, "from", issues, false).unwrap_or_default();
    edge.to = json_string(fields, "edge", id, "to", issues, false).unwrap_or_default();
    edge.label = json_string(fields, "edge", id, "label", issues, false);
    Some(edge)
}

// ---------------------------------------------------------------------------------------------------
// yrs document
// ---------------------------------------------------------------------------------------------------

/// A map-like value in the document: a `Y.Map`, or a plain object stored as one value (a client that
/// wrote `nodes.set(id, {...})` instead of a nested `Y.Map`). Both read the same way.
enum DocObject {
    Shared(MapRef),
    Plain(Arc<HashMap<String, Any>>),
}

/// A leaf value read out of the document, owned.
enum DocValue {
    Str(String),
    Num(f64),
    Bool(bool),
    Object(DocObject),
    /// Anything else, named for the message.
    Other(&'static str),
}

fn any_value(any: &Any) -> DocValue {
    match any {
        Any::String(s) => DocValue::Str(s.to_string()),
        Any::Number(n) => match n.as_f64() {
            Some(f) => DocValue::Num(f),
            None => DocValue::Other("an integer too large for a number"),
        },
        Any::Bool(b) => DocValue::Bool(*b),
        Any::Map(m) => DocValue::Object(DocObject::Plain(m.clone())),
        Any::Null => DocValue::Other("null"),
        Any::Undefined => DocValue::Other("undefined"),
        Any::Buffer(_) => DocValue::Other("binary data"),
        Any::Array(_) => DocValue::Other("a list"),
    }
}

fn out_value<T: ReadTxn>(txn: &T, out: Out) -> DocValue {
    match out {
        Out::Any(any) => any_value(&any),
        Out::YMap(map) => DocValue::Object(DocObject::Shared(map)),
        // A label kept as collaborative text reads as its string.
        Out::YText(text) => DocValue::Str(text.get_string(txn)),
        Out::YArray(_) => DocValue::Other("a shared list"),
        Out::YDoc(_) => DocValue::Other("a subdocument"),
        _ => DocValue::Other("a shared XML type"),
    }
}

fn value_type_name(value: &DocValue) -> &'static str {
    match value {
        DocValue::Str(_) => "a string",
        DocValue::Num(_) => "a number",
        DocValue::Bool(_) => "a boolean",
        DocValue::Object(_) => "a map",
        DocValue::Other(name) => name,
    }
}

impl DocObject {
    /// Reads the fields named in `names` in one pass over the entries (cheaper than one lookup per
    /// field); other entries are skipped without being converted.
    fn fields<T: ReadTxn, const N: usize>(
        &self,
        txn: &T,
        names: [&str; N],
    ) -> [Option<DocValue>; N] {
        let mut out = [const { None }; N];
        match self {
            DocObject::Shared(map) => {
                for (key, value) in map.iter(txn) {
                    if let Some(i) = names.iter().position(|n| *n == key) {
                        out[i] = Some(out_value(txn, value));
                    }
                }
            }
            DocObject::Plain(map) => {
                for (i, name) in names.iter().enumerate() {
                    out[i] = map.get(*name).map(any_value);
                }
            }
        }
        out
    }

    /// Every entry, in no particular order.
    fn entries<T: ReadTxn>(&self, txn: &T) -> Vec<(String, DocValue)> {
        match self {
            DocObject::Shared(map) => map
                .iter(txn)
                .map(|(k, out)| (k.to_string(), out_value(txn, out)))
                .collect(),
            DocObject::Plain(map) => map.iter().map(|(k, v)| (k.clone(), any_value(v))).collect(),
        }
    }
}

/// A string field of a node or edge; another type is a read issue and reads as absent.
fn doc_string(
    value: Option<DocValue>,
    field: &str,
    what: &str,
    id: &str,
    issues: &mut Vec<DesignIssue>,
) -> Option<String> {
    match value? {
        DocValue::Str(s) => Some(s),
        other => {
            let (node, edge) = if what == "node" {
                (Some(id), None)
            } else {
                (None, Some(id))
            };
            issue(
                issues,
                IssueCode::MissingField,
                format!(
                    "{what} '{id}': `{field}` is {}, expected a string",
                    value_type_name(&other)
                ),
                node,
                edge,
            );
            None
        }
    }
}

impl Design {
    /// Reads the design out of a room's document (docs/PROTOCOL.md §3). Takes the document's read lock
    /// for the duration: call it from the document's owner, not while a write transaction is open.
    pub fn from_doc(doc: &Doc) -> Design {
        Design::from_txn(&doc.transact())
    }

    /// Reads the design through an open transaction. Nodes and edges come out sorted by id, so that
    /// the same document state always gives the same design (and the same validation result).
    pub fn from_txn<T: ReadTxn>(txn: &T) -> Design {
        let mut design = Design::default();
        let mut issues = Vec::new();
        if let Some(nodes) = txn.get_map(NODES_KEY) {
            for (id, value) in nodes.iter(txn) {
                let DocValue::Object(object) = out_value(txn, value) else {
                    issue(
                        &mut issues,
                        IssueCode::MissingField,
                        format!("node '{id}' is not a map; ignored"),
                        Some(id),
                        None,
                    );
                    continue;
                };
                design
                    .nodes
                    .push(node_from_doc(txn, id, &object, &mut issues));
            }
        }
        if let Some(edges) = txn.get_map(EDGES_KEY) {
            for (id, value) in edges.iter(txn) {
                let DocValue::Object(object) = out_value(txn, value) else {
                    issue(
                        &mut issues,
                        IssueCode::MissingField,
                        format!("edge '{id}' is not a map; ignored"),
                        None,
                        Some(id),
                    );
                    continue;
                };
                let [from, to, label] = object.fields(txn, ["from", "to", "label"]);
                let mut edge = DesignEdge::new(id, "", "");
                edge.from = doc_string(from, "from", "edge", id, &mut issues).unwrap_or_default();
                edge.to = doc_string(to, "to", "edge", id, &mut issues).unwrap_or_default();
                edge.label = doc_string(label, "label", "edge", id, &mut issues);
                design.edges.push(edge);
            }
        }
        design.nodes.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        design.edges.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        issues.sort_by(|a, b| {
            (&a.nodes, &a.edges, &a.message).cmp(&(&b.nodes, &b.edges, &b.message))
        });
        design.read_issues = issues;
        design
    }

    /// Writes this design into the root `nodes` / `edges` maps of `doc`, as a client would (nested
    /// `Y.Map`s). Existing entries with the same ids are replaced. Used by tests and the benchmark.
    pub fn write_to_doc(&self, doc: &Doc) {
        let mut txn = doc.transact_mut();
        self.write_to_txn(&mut txn);
    }

    /// [`Design::write_to_doc`] inside an open write transaction.
    pub fn write_to_txn(&self, txn: &mut TransactionMut) {
        let nodes = txn.get_or_insert_map(NODES_KEY);
        let edges = txn.get_or_insert_map(EDGES_KEY);
        for node in &self.nodes {
            let params: MapPrelim = node
                .params
                .iter()
                .map(|(name, value)| {
                    let any = match value {
                        ParamValue::Bool(b) => Any::from(*b),
                        ParamValue::Number(n) => Any::from(*n),
                        ParamValue::Text(s) => Any::from(s.as_str()),
                    };
                    (name.as_str(), any)
                })
                .collect();
            let map = nodes.insert(txn, node.id.as_str(), MapPrelim::default());
            map.insert(txn, "type", node.ty.as_str());
            map.insert(txn, "label", node.label.as_str());
            map.insert(txn, "x", node.x);
            map.insert(txn, "y", node.y);
            map.insert(txn, "params", params);
        }
        for edge in &self.edges {
            let map = edges.insert(txn, edge.id.as_str(), MapPrelim::default());
            map.insert(txn, "from", edge.from.as_str());
            map.insert(txn, "to", edge.to.as_str());
            if let Some(label) = &edge.label {
                map.insert(txn, "label", label.as_str());
            }
        }
    }
}

fn node_from_doc<T: ReadTxn>(
    txn: &T,
    id: &str,
    object: &DocObject,
    issues: &mut Vec<DesignIssue>,
) -> DesignNode {
    let [ty, label, x, y, params] = object.fields(txn, NODE_KEYS);
    let mut node = DesignNode::new(id, "", "");
    node.ty = doc_string(ty, "type", "node", id, issues).unwrap_or_default();
    node.label = doc_string(label, "label", "node", id, issues).unwrap_or_default();
    for (axis, value, slot) in [("x", x, &mut node.x), ("y", y, &mut node.y)] {
        match value {
            None => {}
            Some(DocValue::Num(n)) if n.is_finite() => *slot = n,
            Some(DocValue::Num(_)) => issue(
                issues,
                IssueCode::MissingField,
                format!("node '{id}': `{axis}` is not a finite number"),
                Some(id),
                None,
            ),
            Some(other) => issue(
                issues,
                IssueCode::MissingField,
                format!(
                    "node '{id}': `{axis}` is {}, expected a number",
                    value_type_name(&other)
                ),
                Some(id),
                None,
            ),
        }
    }
    match params {
        None => {}
        Some(DocValue::Object(params)) => {
            for (name, value) in params.entries(txn) {
                let value = match value {
                    DocValue::Num(n) => ParamValue::Number(n),
                    DocValue::Str(s) => ParamValue::Text(s),
                    DocValue::Bool(b) => ParamValue::Bool(b),
                    other => {
                        issue(
                            issues,
                            IssueCode::BadParam,
                            format!(
                                "node '{id}': parameter `{name}` is {}, expected a number, string or boolean; ignored",
                                value_type_name(&other)
                            ),
                            Some(id),
                            None,
                        );
                        continue;
                    }
                };
                node.params.insert(name, value);
            }
        }
        Some(other) => issue(
            issues,
            IssueCode::BadParam,
            format!(
                "node '{id}': `params` is {}, expected a map; ignored",
                value_type_name(&other)
            ),
            Some(id),
            None,
        ),
    }
    node
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Design {
        Design {
            nodes: vec![
                DesignNode::new("a", "client", "Users"),
                DesignNode::new("b", "app", "App Servers")
                    .with_instances(8)
                    .with_param("region", ParamValue::Text("eu".into()))
                    .with_param("autoscale", ParamValue::Bool(true)),
                DesignNode::new("c", "db_primary", "Primary DB"),
            ],
            edges: vec![
                DesignEdge {
                    label: Some("HTTP".into()),
                    ..DesignEdge::new("e1", "a", "b")
                },
                DesignEdge::new("e2", "b", "c"),
            ],
            read_issues: Vec::new(),
        }
    }

    #[test]
    fn doc_round_trip_gives_the_same_design() {
        let doc = Doc::new();
        let mut design = sample();
        design.nodes[1].x = 120.5;
        design.nodes[1].y = -3.0;
        design.write_to_doc(&doc);
        let read = Design::from_doc(&doc);
        assert_eq!(read, design);
        assert!(read.read_issues.is_empty());
    }

    #[test]
    fn doc_read_is_sorted_by_id_whatever_the_insert_order() {
        let doc = Doc::new();
        let mut design = sample();
        design.nodes.reverse();
        design.edges.reverse();
        design.write_to_doc(&doc);
        let read = Design::from_doc(&doc);
        let ids: Vec<&str> = read.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        let ids: Vec<&str> = read.edges.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["e1", "e2"]);
    }

    #[test]
    fn empty_doc_is_an_empty_design() {
        let design = Design::from_doc(&Doc::new());
        assert_eq!(design, Design::default());
    }

    #[test]
    fn malformed_doc_values_become_read_issues() {
        let doc = Doc::new();
        {
            let mut txn = doc.transact_mut();
            let nodes = txn.get_or_insert_map(NODES_KEY);
            let edges = txn.get_or_insert_map(EDGES_KEY);
            // Not a map at all.
            nodes.insert(&mut txn, "n0", 42);
            // Wrong value types in every field.
            let n1 = nodes.insert(&mut txn, "n1", MapPrelim::default());
            n1.insert(&mut txn, "type", 7);
            n1.insert(&mut txn, "label", true);
            n1.insert(&mut txn, "x", "left");
            n1.insert(&mut txn, "params", "instances=3");
            // A plain object instead of a nested Y.Map, with a null and a list parameter.
            let plain: HashMap<String, Any> = HashMap::from([
                ("type".to_string(), Any::from("app")),
                ("label".to_string(), Any::from("Plain")),
                (
                    "params".to_string(),
                    Any::Map(Arc::new(HashMap::from([
                        ("instances".to_string(), Any::from(3.0)),
                        ("bad".to_string(), Any::Null),
                        (
                            "list".to_string(),
                            Any::Array(Arc::from(vec![Any::from(1.0)])),
                        ),
                    ]))),
                ),
            ]);
            nodes.insert(&mut txn, "n2", Any::Map(Arc::new(plain)));
            let e1 = edges.insert(&mut txn, "e1", MapPrelim::default());
            e1.insert(&mut txn, "from", 1);
            e1.insert(&mut txn, "to", "n2");
            edges.insert(&mut txn, "e2", "n1->n2");
        }
        let design = Design::from_doc(&doc);
        let ids: Vec<&str> = design.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["n1", "n2"]);
        assert_eq!(design.nodes[0].ty, "");
        assert_eq!(design.nodes[0].label, "");
        assert_eq!(design.nodes[1].ty, "app");
        assert_eq!(
            design.nodes[1].params.get(INSTANCES),
            Some(&ParamValue::Number(3.0))
        );
        assert_eq!(design.nodes[1].params.len(), 1);
        assert_eq!(design.edges.len(), 1);
        assert_eq!(design.edges[0].from, "");
        assert_eq!(design.edges[0].to, "n2");

        let messages: Vec<&str> = design
            .read_issues
            .iter()
            .map(|i| i.message.as_str())
            .collect();
        for expected in [
            "node 'n0' is not a map; ignored",
            "node 'n1': `type` is a number, expected a string",
            "node 'n1': `label` is a boolean, expected a string",
            "node 'n1': `x` is a string, expected a number",
            "node 'n1': `params` is a string, expected a map; ignored",
            "node 'n2': parameter `bad` is null, expected a number, string or boolean; ignored",
            "node 'n2': parameter `list` is a list, expected a number, string or boolean; ignored",
            "edge 'e1': `from` is a number, expected a string",
            "edge 'e2' is not a map; ignored",
        ] {
            assert!(
                messages.contains(&expected),
                "missing {expected:?} in {messages:#?}"
            );
        }
        assert_eq!(messages.len(), 9, "{messages:#?}");
        // Reading twice gives the same thing (issue order included).
        assert_eq!(Design::from_doc(&doc), design);
    }

    #[test]
    fn json_round_trip_and_lenient_reading() {
        let design = sample();
        let text = serde_json::to_string(&design).unwrap();
        let back: Design = serde_json::from_str(&text).unwrap();
        assert_eq!(back, design);

        let messy = json!({
            "nodes": [
                {"id": "n1", "type": "app", "label": "App", "x": "10", "params": {"instances": "8", "q": null}},
                {"type": "app"},
                "not a node",
                {"id": 5, "type": "db"},
                {"id": "n2", "type": ["db"], "params": 3}
            ],
            "edges": [{"id": "e1", "from": "n1"}, {"id": "e2", "from": "n1", "to": "n2", "label": 4}],
        });
        let design: Design = serde_json::from_value(messy).unwrap();
        assert_eq!(design.nodes.len(), 2);
        assert_eq!(
            design.nodes[0].params.get(INSTANCES),
            Some(&ParamValue::Text("8".into()))
        );
        assert_eq!(design.nodes[1].ty, "");
        assert_eq!(design.edges.len(), 2);
        assert_eq!(design.edges[0].to, "");
        assert_eq!(design.edges[1].label, None);
        assert_eq!(design.read_issues.len(), 8, "{:#?}", design.read_issues);

        // Nodes keyed by id, as in the room document, read too.
        let keyed: Design =
            serde_json::from_value(json!({"nodes": {"a": {"type": "app"}}, "edges": {}})).unwrap();
        assert_eq!(keyed.nodes[0].id, "a");

        for not_a_design in [json!(5), json!("x"), json!([1, 2]), json!(null)] {
            assert!(serde_json::from_value::<Design>(not_a_design).is_err());
        }
    }
}
