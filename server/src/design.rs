//! The canvas schema on the server side (docs/PROTOCOL.md §3): the design JSON that travels outside a room.
//!
//! Reading a design out of a room's yrs document also lives here, so that the schema has one definition.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A parameter value as the canvas stores it: a number, a string or a boolean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    Bool(bool),
    Number(f64),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesignNode {
    pub id: String,
    #[serde(rename = "type")]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesignEdge {
    pub id: String,
    pub from: String,
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Design {
    #[serde(default)]
    pub nodes: Vec<DesignNode>,
    #[serde(default)]
    pub edges: Vec<DesignEdge>,
}
