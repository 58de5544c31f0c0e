//! The component catalog (`problems/catalog.toml`): every component type the bank uses, its kind, family,
//! icon and parameters.
//!
//! Validation matches nodes to rules by *kind*: two type ids with the same kind denote the same component
//! (`redirect_client` and `client` are both kind `client`; `s3` is kind `object_store`). A kind is itself a
//! type id of the catalog. Aliases of a type are computed on load (every other type of the same kind), so the
//! file states each relation once.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The component type of a free-text sticky note; validation ignores it.
pub const NOTE: &str = crate::design::NOTE_TYPE;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamDef {
    pub name: String,
    /// `integer`, `number`, `string` or `boolean`.
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentType {
    #[serde(rename = "type")]
    pub ty: String,
    pub name: String,
    /// The canonical kind validation matches on; aliases share their target's kind.
    pub kind: String,
    pub family: String,
    pub icon: String,
    /// Other type ids of the same kind (computed on load; not stored in the file).
    #[serde(default, skip_deserializing, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub params: Vec<ParamDef>,
}

/// The file layout of `problems/catalog.toml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    #[serde(default, rename = "component")]
    pub components: Vec<ComponentType>,
}

/// Families a component may belong to.
pub const FAMILIES: &[&str] = &[
    "client",
    "compute",
    "storage",
    "cache",
    "messaging",
    "network",
    "edge",
    "observability",
    "security",
    "specialised",
    "annotation",
];

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    by_type: HashMap<String, ComponentType>,
    /// Type ids in file order, for stable listings.
    order: Vec<String>,
}

impl Catalog {
    /// Builds a catalog, checking it: unique type ids, kinds that are type ids of the same kind, known
    /// families, parameters with sane ranges and an `instances` parameter on every type but `note`.
    pub fn new(types: Vec<ComponentType>) -> Result<Catalog, String> {
        let mut by_type: HashMap<String, ComponentType> = HashMap::new();
        let mut order = Vec::new();
        for t in types {
            if t.ty.is_empty()
                || !t
                    .ty
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                return Err(format!("component '{}': type must be snake_case", t.ty));
            }
            order.push(t.ty.clone());
            if by_type.insert(t.ty.clone(), t).is_some() {
                return Err(format!(
                    "component '{}': listed twice",
                    order.last().unwrap()
                ));
            }
        }
        let mut kinds: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for ty in &order {
            let t = &by_type[ty];
            let check = |field: &str, ok: bool, why: &str| {
                if ok {
                    Ok(())
                } else {
                    Err(format!("component '{ty}': field '{field}': {why}"))
                }
            };
            check("name", !t.name.trim().is_empty(), "empty")?;
            check("icon", !t.icon.trim().is_empty(), "empty")?;
            check(
                "family",
                FAMILIES.contains(&t.family.as_str()),
                "unknown family",
            )?;
            let target = by_type.get(&t.kind);
            check("kind", target.is_some(), "not a type id of the catalog")?;
            check(
                "kind",
                target.is_some_and(|k| k.kind == k.ty),
                "names a type that is itself an alias",
            )?;
            for p in &t.params {
                let field = format!("params.{}", p.name);
                check(
                    &field,
                    ["integer", "number", "string", "boolean"].contains(&p.ty.as_str()),
                    "unknown param type",
                )?;
                if let (Some(min), Some(max)) = (p.min, p.max) {
                    check(&field, min <= max, "min > max")?;
                }
            }
            if t.ty != NOTE {
                let inst = t.params.iter().find(|p| p.name == "instances");
                check(
                    "params.instances",
                    inst.is_some_and(|p| p.ty == "integer" && p.min == Some(1.0)),
                    "every type needs an integer 'instances' with min 1",
                )?;
            }
            kinds.entry(t.kind.clone()).or_default().push(ty.clone());
        }
        for members in kinds.values() {
            for m in members {
                let t = by_type.get_mut(m).expect("member exists");
                t.aliases = members.iter().filter(|o| *o != m).cloned().collect();
            }
        }
        Ok(Catalog { by_type, order })
    }

    /// Reads and checks `problems/catalog.toml`.
    pub fn load(path: &Path) -> crate::Result<Catalog> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| crate::Error::Internal(format!("{}: {e}", path.display())))?;
        let file: CatalogFile = toml::from_str(&text)
            .map_err(|e| crate::Error::Internal(format!("{}: {e}", path.display())))?;
        Catalog::new(file.components)
            .map_err(|e| crate::Error::Internal(format!("{}: {e}", path.display())))
    }

    pub fn get(&self, ty: &str) -> Option<&ComponentType> {
        self.by_type.get(ty)
    }

    pub fn contains(&self, ty: &str) -> bool {
        self.by_type.contains_key(ty)
    }

    /// The kind a component type id denotes, if the catalog knows it.
    pub fn kind_of(&self, ty: &str) -> Option<&str> {
        self.by_type.get(ty).map(|t| t.kind.as_str())
    }

    /// Whether two type ids denote the same kind (both known).
    pub fn same_kind(&self, a: &str, b: &str) -> bool {
        matches!((self.kind_of(a), self.kind_of(b)), (Some(x), Some(y)) if x == y)
    }

    /// The parameter `name` of type `ty`.
    pub fn param(&self, ty: &str, name: &str) -> Option<&ParamDef> {
        self.get(ty)?.params.iter().find(|p| p.name == name)
    }

    /// Every type in file order.
    pub fn iter(&self) -> impl Iterator<Item = &ComponentType> {
        self.order.iter().map(|t| &self.by_type[t])
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}
