//! The problem bank: problem files under `problems/`, the component catalog, loading, lint and search.
//!
//! - [`model`]: the file format (one TOML file per problem, `problems/README.md`).
//! - [`catalog`]: component types, kinds and parameters (`problems/catalog.toml`).
//! - [`load`]: reading and checking every file ([`Bank::load`], `tierboard problems lint`).
//! - [`cli`]: `tierboard problems lint`.
//! - [`search`], [`api`]: ranked full-text search and the HTTP routes (`router`).
//! - [`family`]: near-copies of one problem grouped as variants of a family, computed from the text.
//!
//! The tools that write the bank (seed import, tier authoring) are the `tierboard-bank` crate (`bank/`).

pub mod api;
pub mod catalog;
pub mod cli;
pub mod family;
pub mod load;
pub mod model;
pub mod search;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

pub use api::router;
pub use catalog::{Capacity, CapacitySource, Catalog, ComponentType, ParamDef};
pub use load::{LintError, problem_files};
pub use model::{Problem, Rule, Tier, TierSource};

/// Where a problem's file lives: `problems/<category>/<id>.toml`.
pub fn file_path(dir: &Path, p: &Problem) -> PathBuf {
    dir.join(&p.category).join(format!("{}.toml", p.id))
}

/// Every problem, loaded once at start and shared read-only.
#[derive(Debug, Default)]
pub struct Bank {
    problems: HashMap<String, Arc<Problem>>,
    /// Ids in a stable order (category, then id).
    order: Vec<String>,
    catalog: Catalog,
    index: search::Index,
    /// Families of near-identical problems ([`family`]), and each member's family.
    families: Vec<family::Family>,
    family_of: HashMap<String, usize>,
}

impl Bank {
    /// Loads and checks every problem file under `dir`; fails on the first broken file with a message
    /// naming the file and the field (all errors are logged).
    pub fn load(dir: &Path) -> crate::Result<Bank> {
        let started = Instant::now();
        let (problems, catalog, errors) = load::load_all(dir)?;
        if let Some(first) = errors.first() {
            for e in &errors {
                tracing::error!(%e, "broken problem file");
            }
            return Err(crate::Error::Internal(format!(
                "problem bank {} has {} error(s); first: {first}",
                dir.display(),
                errors.len()
            )));
        }
        let bank = Bank::from_parts(problems, catalog);
        tracing::info!(
            problems = bank.len(),
            components = bank.catalog.len(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "problem bank loaded"
        );
        Ok(bank)
    }

    pub fn from_parts(problems: Vec<Problem>, catalog: Catalog) -> Bank {
        let mut order: Vec<(String, String)> = problems
            .iter()
            .map(|p| (p.category.clone(), p.id.clone()))
            .collect();
        order.sort();
        let mut index = search::Index::build(&problems);
        let families = family::families(&problems);
        let family_of: HashMap<String, usize> = families
            .iter()
            .enumerate()
            .flat_map(|(i, f)| f.variants.iter().map(move |id| (id.clone(), i)))
            .collect();
        index.set_families(&family_of);
        let problems = problems
            .into_iter()
            .map(|p| (p.id.clone(), Arc::new(p)))
            .collect();
        Bank {
            problems,
            order: order.into_iter().map(|(_, id)| id).collect(),
            catalog,
            index,
            families,
            family_of,
        }
    }

    /// The family `id` belongs to, when it is a variant of one.
    pub fn family_of(&self, id: &str) -> Option<&family::Family> {
        self.family_of.get(id).map(|&i| &self.families[i])
    }

    /// Every family of two or more near-identical problems.
    pub fn families(&self) -> &[family::Family] {
        &self.families
    }

    pub fn get(&self, id: &str) -> Option<Arc<Problem>> {
        self.problems.get(id).cloned()
    }

    /// Every problem, by category then id.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Problem>> {
        self.order.iter().map(|id| &self.problems[id])
    }

    pub fn len(&self) -> usize {
        self.problems.len()
    }

    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    /// Ranked, filtered, paginated search (see [`search`]).
    pub fn search(&self, q: &search::Query) -> search::Results {
        self.index.search(q)
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }
}
