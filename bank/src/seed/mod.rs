//! Reading the seed documents in `problems/seeds/` (see its README): 004 (repaired from its Mac Roman
//! mojibake) and 002 in the bank format, 003 / 000 / 001 in their own formats.

pub mod bank_file;
pub mod classic;
pub mod mac_roman;
pub mod numbers;

use std::fmt;
use std::path::Path;

pub use bank_file::{SeedProblem, SeedReference};

/// A parse failure, located in a seed file.
#[derive(Debug, Clone)]
pub struct SeedError {
    pub file: String,
    pub line: usize,
    pub problem: String,
    pub message: String,
}

impl fmt::Display for SeedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{} (problem '{}'): {}",
            self.file, self.line, self.problem, self.message
        )
    }
}

/// A tier as the seed writes it: rule lines verbatim, not yet resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedTier {
    pub id: String,
    pub title: String,
    pub rules: Vec<String>,
}

/// Every problem of every seed file, in a fixed order: 004, 003, 000, 001.
pub struct Seeds {
    pub problems: Vec<SeedProblem>,
    /// The streaming problems of 002, parsed separately (they must equal their copies in 004).
    pub streaming: Vec<SeedProblem>,
}

fn find(dir: &Path, prefix: &str) -> crate::Result<(String, String)> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        crate::Error::Internal(format!("cannot read seeds folder {}: {e}", dir.display()))
    })?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix) && n.ends_with(".txt"))
        .collect();
    names.sort();
    let name = names.into_iter().next().ok_or_else(|| {
        crate::Error::Internal(format!("no seed file {prefix}*.txt in {}", dir.display()))
    })?;
    let text = std::fs::read_to_string(dir.join(&name))
        .map_err(|e| crate::Error::Internal(format!("cannot read {name}: {e}")))?;
    Ok((name, text))
}

fn seed_err(e: SeedError) -> crate::Error {
    crate::Error::Internal(format!("seed parse error: {e}"))
}

/// Reads and parses every seed file in `dir`.
pub fn read(dir: &Path) -> crate::Result<Seeds> {
    let (name, raw) = find(dir, "004_")?;
    let repaired = mac_roman::repair(&raw)
        .map_err(|e| crate::Error::Internal(format!("{name}: encoding repair failed at {e}")))?;
    let mut problems = bank_file::parse(&repaired, &name).map_err(seed_err)?;

    let (name, text) = find(dir, "002_")?;
    let streaming = bank_file::parse(&text, &name).map_err(seed_err)?;

    let no_extra = |p| SeedProblem {
        problem: p,
        tiers: vec![],
        reference: None,
    };
    type Parser = fn(&str, &str) -> Result<Vec<tierboard::problems::Problem>, SeedError>;
    let others: [(&str, Parser); 3] = [
        ("003_", classic::parse_questions),
        ("000_", classic::parse_tests),
        ("001_", classic::parse_scenarios),
    ];
    for (prefix, parse) in others {
        let (name, text) = find(dir, prefix)?;
        problems.extend(
            parse(&text, &name)
                .map_err(seed_err)?
                .into_iter()
                .map(no_extra),
        );
    }
    Ok(Seeds {
        problems,
        streaming,
    })
}
