//! The problem bank: problem files under `problems/`, the component catalog, loading, lint and search.
//!
//! Owned by the problem-bank work (issue 3). This is the minimal contract the rest of the server
//! builds against: [`Bank::load`], [`Bank::get`], the tier model in [`model`] and the [`Catalog`].

pub mod catalog;
pub mod model;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

pub use catalog::{Catalog, ComponentType, ParamDef};
pub use model::{Problem, Rule, Tier, TierSource};

/// Every problem, loaded once at start and shared read-only.
#[derive(Debug, Default)]
pub struct Bank {
    problems: HashMap<String, Arc<Problem>>,
    catalog: Catalog,
}

impl Bank {
    /// Loads and checks every problem file under `dir`.
    pub fn load(_dir: &Path) -> crate::Result<Bank> {
        Ok(Bank::default())
    }

    pub fn from_parts(problems: Vec<Problem>, catalog: Catalog) -> Bank {
        let problems = problems
            .into_iter()
            .map(|p| (p.id.clone(), Arc::new(p)))
            .collect();
        Bank { problems, catalog }
    }

    pub fn get(&self, id: &str) -> Option<Arc<Problem>> {
        self.problems.get(id).cloned()
    }

    pub fn len(&self) -> usize {
        self.problems.len()
    }

    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }
}
