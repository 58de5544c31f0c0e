//! The component catalog (`problems/catalog.toml`): every component type the bank uses, its kind, family,
//! icon and parameters.
//!
//! Validation matches nodes to rules by *kind*: two type ids with the same kind denote the same component
//! (`redirect_client` and `client` are both kind `client`; `s3` is kind `object_store`). A kind is itself a
//! type id of the catalog. Aliases of a type are computed on load (every other type of the same kind), so the
//! file states each relation once.
//!
//! Every type but `note` also has a [`Capacity`] per instance (throughput, service time, monthly cost,
//! whether it works off the request path) for the capacity simulation (`crate::simulation`). Each
//! capacity names a [`CapacitySource`] of the file (`[[capacity_source]]`), which says where the figures
//! come from, or that they are a guess. [`Catalog::load`] refuses a file where a type lacks one.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The component type of a free-text sticky note; validation ignores it.
pub const NOTE: &str = crate::design::NOTE_TYPE;
/// The kind of the nodes requests come from.
pub const CLIENT: &str = "client";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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

fn is_false(b: &bool) -> bool {
    !*b
}

/// What one instance of a component type serves (`[component.capacity]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    /// Requests (operations, messages) per second one instance serves at full utilisation.
    pub rps: f64,
    /// The time one request takes on an idle instance, in milliseconds (median).
    pub service_ms: f64,
    /// List price of one instance per month, in US dollars.
    pub monthly_usd: f64,
    /// Works off the request path (queue, stream, worker): it takes load and builds a backlog, but adds
    /// no latency to the request that handed it the work.
    #[serde(default, rename = "async", skip_serializing_if = "is_false")]
    pub is_async: bool,
    /// The id of the `[[capacity_source]]` the figures come from.
    pub source: String,
}

/// Where a group of capacity figures comes from (`[[capacity_source]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapacitySource {
    pub id: String,
    /// The published figures and where they are published, and how the catalog's figures follow.
    pub text: String,
    /// No published figure exists for these types: the figures are an order-of-magnitude guess.
    #[serde(default, skip_serializing_if = "is_false")]
    pub guess: bool,
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
    /// Per-instance capacity for the simulation; every type but `note` has one in the bank's file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Capacity>,
}

/// The file layout of `problems/catalog.toml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    /// Where the capacity figures come from; listed first so that the file opens with its sources.
    #[serde(
        default,
        rename = "capacity_source",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub capacity_sources: Vec<CapacitySource>,
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
    /// Capacity sources by id.
    sources: HashMap<String, CapacitySource>,
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
        Ok(Catalog {
            by_type,
            order,
            sources: HashMap::new(),
        })
    }

    /// Builds a catalog from the file layout and checks the capacities too: every type but `note` has
    /// one, its figures are finite and not negative (`rps` above 0), and its `source` names a
    /// `[[capacity_source]]` of the file. Sources have unique ids and a text.
    pub fn from_file(file: CatalogFile) -> Result<Catalog, String> {
        let mut catalog = Catalog::new(file.components)?;
        for s in file.capacity_sources {
            if s.id.trim().is_empty() || s.text.trim().is_empty() {
                return Err(format!(
                    "capacity_source '{}': id and text must not be empty",
                    s.id
                ));
            }
            if let Some(dup) = catalog.sources.insert(s.id.clone(), s) {
                return Err(format!("capacity_source '{}': listed twice", dup.id));
            }
        }
        for t in catalog.iter() {
            if t.ty == NOTE {
                continue;
            }
            let err = |why: String| format!("component '{}': field 'capacity': {why}", t.ty);
            let Some(c) = &t.capacity else {
                return Err(err(
                    "missing (every type but 'note' needs rps, service_ms, monthly_usd, source)"
                        .into(),
                ));
            };
            for (name, value, min_exclusive) in [
                ("rps", c.rps, true),
                ("service_ms", c.service_ms, false),
                ("monthly_usd", c.monthly_usd, false),
            ] {
                let ok = value.is_finite()
                    && if min_exclusive {
                        value > 0.0
                    } else {
                        value >= 0.0
                    };
                if !ok {
                    return Err(err(format!("{name} = {value} is out of range")));
                }
            }
            if !catalog.sources.contains_key(&c.source) {
                return Err(err(format!(
                    "source '{}' names no [[capacity_source]]",
                    c.source
                )));
            }
        }
        Ok(catalog)
    }

    /// Reads and checks `problems/catalog.toml` (capacities included, see [`Catalog::from_file`]).
    pub fn load(path: &Path) -> crate::Result<Catalog> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| crate::Error::Internal(format!("{}: {e}", path.display())))?;
        let file: CatalogFile = toml::from_str(&text)
            .map_err(|e| crate::Error::Internal(format!("{}: {e}", path.display())))?;
        Catalog::from_file(file)
            .map_err(|e| crate::Error::Internal(format!("{}: {e}", path.display())))
    }

    /// The capacity source `id`.
    pub fn source(&self, id: &str) -> Option<&CapacitySource> {
        self.sources.get(id)
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

    /// Whether a rule naming `ty` is met only by nodes of that very type, not by the other types of its
    /// kind: the specific clients (`create_client`, `redirect_client`), which the simulation treats as
    /// different traffic (writes, reads). Every other rule type is matched by kind.
    pub fn exact_match(&self, ty: &str) -> bool {
        self.kind_of(ty) == Some(CLIENT) && ty != CLIENT
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

#[cfg(test)]
mod tests {
    use super::*;

    fn bank_catalog_text() -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../problems/catalog.toml");
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// The importer reads `catalog.toml` into [`CatalogFile`] and writes it back with
    /// `toml::to_string_pretty` under a two-line header: hand-edited capacities must survive that
    /// byte for byte, or the next import would rewrite them.
    #[test]
    fn the_bank_catalog_round_trips_through_the_model_unchanged() {
        let text = bank_catalog_text();
        let file: CatalogFile = toml::from_str(&text).unwrap();
        let body = toml::to_string_pretty(&file).unwrap();
        let (header, rest) = text.split_at(text.find("\n\n").unwrap() + 2);
        assert!(header.starts_with("# The component catalog"), "{header}");
        if rest != body {
            let first = rest
                .lines()
                .zip(body.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            panic!(
                "catalog.toml differs from its serialisation at body line {first}: {:?} vs {:?}",
                rest.lines().nth(first),
                body.lines().nth(first)
            );
        }
    }

    #[test]
    fn every_type_of_the_bank_has_a_capacity_with_a_source() {
        let file: CatalogFile = toml::from_str(&bank_catalog_text()).unwrap();
        let catalog = Catalog::from_file(file).unwrap();
        assert!(catalog.len() > 300, "{}", catalog.len());
        for t in catalog.iter().filter(|t| t.ty != NOTE) {
            let c = t.capacity.as_ref().unwrap();
            assert!(catalog.source(&c.source).is_some(), "{}", t.ty);
        }
        let queue = catalog.get("queue").unwrap().capacity.as_ref().unwrap();
        assert!(queue.is_async);
        let app = catalog.get("app").unwrap().capacity.as_ref().unwrap();
        assert!(!app.is_async);
    }

    #[test]
    fn a_missing_or_broken_capacity_is_refused_with_the_type_and_field() {
        let mut file: CatalogFile = toml::from_str(&bank_catalog_text()).unwrap();
        let app = file.components.iter_mut().find(|t| t.ty == "app").unwrap();
        let saved = app.capacity.take();
        let err = Catalog::from_file(file.clone()).unwrap_err();
        assert!(
            err.contains("component 'app': field 'capacity': missing"),
            "{err}"
        );
        let app = file.components.iter_mut().find(|t| t.ty == "app").unwrap();
        app.capacity = saved.map(|c| Capacity { rps: f64::NAN, ..c });
        let err = Catalog::from_file(file.clone()).unwrap_err();
        assert!(err.contains("rps = NaN"), "{err}");
        let app = file.components.iter_mut().find(|t| t.ty == "app").unwrap();
        if let Some(c) = app.capacity.as_mut() {
            c.rps = 10.0;
            c.source = "nowhere".into();
        }
        let err = Catalog::from_file(file).unwrap_err();
        assert!(
            err.contains("source 'nowhere' names no [[capacity_source]]"),
            "{err}"
        );
    }
}
