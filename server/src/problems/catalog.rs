//! The component catalog: every component type the bank uses, its kind, family, icon and parameters.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParamDef {
    pub name: String,
    /// `integer`, `number`, `string` or `boolean`.
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub default: Option<serde_json::Value>,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ComponentType {
    #[serde(rename = "type")]
    pub ty: String,
    pub name: String,
    /// The canonical kind validation matches on; aliases share their target's kind.
    pub kind: String,
    pub family: String,
    pub icon: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub params: Vec<ParamDef>,
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    by_type: HashMap<String, ComponentType>,
}

impl Catalog {
    pub fn new(types: Vec<ComponentType>) -> Catalog {
        Catalog {
            by_type: types.into_iter().map(|t| (t.ty.clone(), t)).collect(),
        }
    }

    pub fn get(&self, ty: &str) -> Option<&ComponentType> {
        self.by_type.get(ty)
    }

    /// The kind a component type id denotes, if the catalog knows it.
    pub fn kind_of(&self, ty: &str) -> Option<&str> {
        self.by_type.get(ty).map(|t| t.kind.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = &ComponentType> {
        self.by_type.values()
    }
}
