//! `tierboard-bank import`: rebuilds the seed-derived content of `problems/` from the seed files.
//!
//! Deterministic: the same seeds and the same authored content give the same bytes. It never overwrites
//! authored content: for a problem whose seed has no tiers, the tiers, the reference solution and the
//! available components marked authored are read back from the existing file and kept; catalog entries
//! already in `problems/catalog.toml` are kept as they are (new type names get a drafted entry).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::drafts::{entry_for, synonym_targets};
use crate::seed::{self, SeedProblem, SeedTier};
use crate::{Error, Result};
use crate::{ranges, reference};
use tierboard::problems::catalog::{Catalog, CatalogFile, NOTE};
use tierboard::problems::file_path;
use tierboard::problems::model::{Problem, Rule, Tier, TierSource};

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub problems: usize,
    pub written: usize,
    pub unchanged: usize,
    pub seed_tiers: usize,
    pub kept_authored: usize,
    pub catalog_types: usize,
    pub catalog_added: usize,
    /// Reference designs completed for their own tiers: (problem id, what changed).
    pub completions: Vec<(String, String)>,
    /// Problem files whose id no seed has (hand-added problems, or left over from an older seed). They
    /// are kept, not deleted: the importer never removes content it did not make.
    pub not_in_seeds: Vec<PathBuf>,
}

/// Parses one seed rule line: `Must include: app`, `Minimum 7 of type: app`,
/// `Must have connection from: app`, `Parameter range check: cache.hit_rate`.
pub fn parse_rule(text: &str, p: &Problem, catalog: &Catalog) -> Result<Rule, String> {
    let text_owned = text.to_string();
    if let Some(t) = text.strip_prefix("Must include: ") {
        return Ok(Rule::Include {
            ty: t.trim().into(),
            text: text_owned,
            because: None,
        });
    }
    if let Some(t) = text.strip_prefix("Must have connection from: ") {
        return Ok(Rule::ConnectionFrom {
            ty: t.trim().into(),
            text: text_owned,
            because: None,
        });
    }
    if let Some(rest) = text.strip_prefix("Minimum ")
        && let Some((n, t)) = rest.split_once(" of type: ")
    {
        let count = n
            .trim()
            .parse()
            .map_err(|_| format!("count '{n}' in rule '{text}'"))?;
        return Ok(Rule::MinCount {
            ty: t.trim().into(),
            count,
            text: text_owned,
            because: None,
        });
    }
    if let Some(t) = text.strip_prefix("Parameter range check: ") {
        let (ty, param) = t
            .trim()
            .split_once('.')
            .ok_or_else(|| format!("rule '{text}' lacks 'type.param'"))?;
        let (min, max, derived_from) = ranges::derive(p, catalog, ty, param)?;
        return Ok(Rule::ParamRange {
            ty: ty.into(),
            param: param.into(),
            min,
            max,
            text: text_owned,
            derived_from: Some(derived_from),
            because: None,
        });
    }
    Err(format!("unknown rule '{text}'"))
}

fn seed_tiers(tiers: &[SeedTier], p: &Problem, catalog: &Catalog) -> Result<Vec<Tier>, String> {
    tiers
        .iter()
        .map(|t| {
            Ok(Tier {
                id: t.id.clone(),
                title: t.title.clone(),
                source: TierSource::Seed,
                generated: false,
                note: None,
                rules: t
                    .rules
                    .iter()
                    .map(|r| parse_rule(r, p, catalog))
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect()
}

/// Reads every problem file under `dir` into a map id → problem (unreadable files are errors).
pub fn read_existing(dir: &Path) -> Result<BTreeMap<String, Problem>> {
    let mut out = BTreeMap::new();
    for path in tierboard::problems::problem_files(dir)? {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::Internal(format!("{}: {e}", path.display())))?;
        let p: Problem = toml::from_str(&text)
            .map_err(|e| Error::Internal(format!("{}: {e}", path.display())))?;
        out.insert(p.id.clone(), p);
    }
    Ok(out)
}

/// Serialises a problem the way every file is written.
pub fn to_toml(p: &Problem) -> Result<String> {
    let body = toml::to_string_pretty(p).map_err(|e| Error::Internal(format!("{}: {e}", p.id)))?;
    Ok(format!(
        "# Problem '{}'. Format: problems/README.md. Seed-derived fields are rebuilt by\n# `tierboard-bank import`; tiers and designs with source = \"authored\" are kept.\n\n{body}",
        p.id
    ))
}

/// Writes `text` to `path` unless it already holds exactly that; returns whether it wrote.
fn write_if_changed(path: &Path, text: &str) -> Result<bool> {
    if std::fs::read_to_string(path).ok().as_deref() == Some(text) {
        return Ok(false);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::Internal(format!("{}: {e}", parent.display())))?;
    }
    std::fs::write(path, text).map_err(|e| Error::Internal(format!("{}: {e}", path.display())))?;
    Ok(true)
}

/// Every type name the seed problems mention, plus what the existing files use.
fn used_types(seeds: &[SeedProblem], existing: &BTreeMap<String, Problem>) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for s in seeds {
        names.extend(s.problem.available_components.iter().cloned());
        for t in &s.tiers {
            for r in &t.rules {
                if let Some((_, ty)) = r.rsplit_once(": ") {
                    names.insert(ty.split('.').next().unwrap_or(ty).trim().to_string());
                }
            }
        }
        if let Some(r) = &s.reference {
            names.extend(r.components.iter().map(|(_, t)| t.clone()));
        }
    }
    for p in existing.values() {
        names.extend(p.available_components.iter().cloned());
        names.extend(
            p.tiers
                .iter()
                .flat_map(|t| t.rules.iter().flat_map(|r| r.types().iter().cloned())),
        );
        if let Some(r) = &p.reference_solution {
            names.extend(r.nodes.iter().map(|n| n.ty.clone()));
        }
    }
    names.extend(synonym_targets().map(String::from));
    names.insert(NOTE.to_string());
    names
}

/// Keeps the existing catalog entries, drafts entries for new names, writes the file back sorted by type.
fn update_catalog(
    path: &Path,
    names: &BTreeSet<String>,
    report: &mut ImportReport,
) -> Result<Catalog> {
    let mut file: CatalogFile = match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text)
            .map_err(|e| Error::Internal(format!("{}: {e}", path.display())))?,
        Err(_) => CatalogFile::default(),
    };
    let known: BTreeSet<String> = file.components.iter().map(|c| c.ty.clone()).collect();
    for n in names.difference(&known) {
        file.components.push(entry_for(n));
        report.catalog_added += 1;
    }
    file.components.sort_by(|a, b| a.ty.cmp(&b.ty));
    report.catalog_types = file.components.len();
    let body =
        toml::to_string_pretty(&file).map_err(|e| Error::Internal(format!("catalog: {e}")))?;
    let text = format!(
        "# The component catalog: every component type the bank uses. Format: problems/README.md.\n# Authored content: `tierboard-bank import` only adds drafted entries for new type names.\n\n{body}"
    );
    write_if_changed(path, &text)?;
    Catalog::new(file.components).map_err(|e| Error::Internal(format!("{}: {e}", path.display())))
}

/// Checks that 002's streaming problems equal their copies in 004 (apart from where they come from).
fn check_streaming(seeds: &seed::Seeds) -> Result<()> {
    for s in &seeds.streaming {
        let copy = seeds
            .problems
            .iter()
            .find(|p| p.problem.id == s.problem.id)
            .ok_or_else(|| {
                Error::Internal(format!(
                    "002 problem '{}' is missing from 004",
                    s.problem.id
                ))
            })?;
        let mut a = s.problem.clone();
        a.origin = copy.problem.origin.clone();
        if a != copy.problem || s.tiers != copy.tiers {
            return Err(Error::Internal(format!(
                "002 problem '{}' differs from its copy in 004",
                s.problem.id
            )));
        }
    }
    Ok(())
}

/// Builds every problem from the seeds (keeping authored content found in `problems_dir`).
pub fn build(
    seeds_dir: &Path,
    problems_dir: &Path,
    report: &mut ImportReport,
) -> Result<(Vec<Problem>, Catalog)> {
    let seeds = seed::read(seeds_dir)?;
    check_streaming(&seeds)?;
    let existing = read_existing(problems_dir)?;
    let catalog = update_catalog(
        &problems_dir.join("catalog.toml"),
        &used_types(&seeds.problems, &existing),
        report,
    )?;
    let mut out = Vec::with_capacity(seeds.problems.len());
    for s in seeds.problems {
        let mut p = s.problem;
        let fail = |m: String| Error::Internal(format!("seed problem '{}': {m}", p.id));
        if !s.tiers.is_empty() {
            p.tiers = seed_tiers(&s.tiers, &p, &catalog).map_err(fail)?;
            report.seed_tiers += 1;
        }
        if let Some(r) = &s.reference {
            let mut sol = reference::from_seed(r, &catalog)
                .map_err(|m| Error::Internal(format!("seed problem '{}': {m}", p.id)))?;
            for change in reference::complete(&mut sol, &p.tiers, &catalog) {
                report.completions.push((p.id.clone(), change));
            }
            p.reference_solution = Some(sol);
        }
        if let Some(old) = existing.get(&p.id) {
            // A hand-written problem keeps what its author added where the seed states nothing: hints
            // and a peak read from its own text.
            if old.tiers_by_hand() {
                if p.hints.is_empty() {
                    p.hints = old.hints.clone();
                }
                if p.targets.peak_rate_per_sec.is_none() && old.targets.peak_rate_from.is_some() {
                    p.targets.peak_rate_per_sec = old.targets.peak_rate_per_sec;
                    p.targets.peak_rate_from = old.targets.peak_rate_from.clone();
                    p.targets.peak_rate_arithmetic = old.targets.peak_rate_arithmetic.clone();
                }
            }
            if s.tiers.is_empty()
                && old.tiers.iter().all(|t| t.source == TierSource::Authored)
                && !old.tiers.is_empty()
            {
                p.tiers = old.tiers.clone();
                report.kept_authored += 1;
            } else if !s.tiers.is_empty() {
                // Authored tiers after the seed's (the generated last tier, hand-written ones) are kept.
                let after: Vec<_> = old
                    .tiers
                    .iter()
                    .filter(|t| t.source == TierSource::Authored)
                    .cloned()
                    .collect();
                if !after.is_empty() {
                    p.tiers.extend(after);
                    report.kept_authored += 1;
                }
                if let Some(mut sol) = p.reference_solution.take() {
                    let mut changes = reference::complete(&mut sol, &p.tiers, &catalog);
                    changes.extend(reference::complete_structure(&mut sol, &p, &catalog));
                    for change in changes {
                        report.completions.push((p.id.clone(), change));
                    }
                    p.reference_solution = Some(sol);
                }
            }
            if let Some(r) = &old.reference_solution
                && r.source == TierSource::Authored
                && p.reference_solution.is_none()
            {
                p.reference_solution = Some(r.clone());
            }
            if old.available_components_authored && p.available_components.is_empty() {
                p.available_components = old.available_components.clone();
                p.available_components_authored = true;
            }
        }
        out.push(p);
    }
    Ok((out, catalog))
}

/// Runs the import and writes the files.
pub fn run(seeds_dir: &Path, problems_dir: &Path) -> Result<ImportReport> {
    let mut report = ImportReport::default();
    let (problems, _) = build(seeds_dir, problems_dir, &mut report)?;
    report.problems = problems.len();
    let ids: BTreeSet<&str> = problems.iter().map(|p| p.id.as_str()).collect();
    for path in tierboard::problems::problem_files(problems_dir)? {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if !ids.contains(stem) {
            tracing::warn!(file = %path.display(), "problem file not produced by any seed; kept as it is");
            report.not_in_seeds.push(path);
        }
    }
    for p in &problems {
        let path: PathBuf = file_path(problems_dir, p);
        if write_if_changed(&path, &to_toml(p)?)? {
            report.written += 1;
        } else {
            report.unchanged += 1;
        }
    }
    Ok(report)
}
