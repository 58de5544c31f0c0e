//! `tierboard problems lint` (also `tierboard-bank lint`): the bank's checks, with a summary.

use std::path::Path;

use std::sync::Arc;

use anyhow::Context;

use crate::config::ProblemsCommand;
use crate::design::Design;
use crate::problems::{Bank, Problem, load};

pub fn run(command: ProblemsCommand) -> crate::Result<()> {
    match command {
        ProblemsCommand::Lint { problems } => lint(&problems),
    }
}

/// Checks every file under `problems`, prints each error and a summary; fails when there is an error.
pub fn lint(problems: &Path) -> crate::Result<()> {
    let started = std::time::Instant::now();
    let (list, catalog, errors) = load::load_all(problems)?;
    for e in &errors {
        println!("error: {e}");
    }
    let tiers: usize = list.iter().map(|p| p.tiers.len()).sum();
    let authored = list
        .iter()
        .filter(|p| p.tier_source() == "authored")
        .count();
    let seed = list.iter().filter(|p| p.tier_source() == "seed").count();
    println!(
        "{} problems ({seed} with seed tiers, {authored} with authored tiers), {tiers} tiers, {} component types, {} error(s), {:.1} ms",
        list.len(),
        catalog.len(),
        errors.len(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    if !errors.is_empty() {
        return Err(crate::Error::Internal(format!(
            "lint failed: {} error(s)",
            errors.len()
        )));
    }
    // The same load the server does at start, so the log shows its time too.
    Bank::load(problems)?;
    Ok(())
}

/// What `tierboard validate` and `tierboard simulate` start from: the bank in `problems`, the problem
/// `problem` in it, and the design JSON (docs/PROTOCOL.md §3) in the file `design`; each failure names
/// the file or id at fault.
pub fn load_check_inputs(
    problem: &str,
    design: &Path,
    problems: &Path,
) -> anyhow::Result<(Bank, Arc<Problem>, Design)> {
    let text = std::fs::read_to_string(design)
        .with_context(|| format!("cannot read the design file {}", design.display()))?;
    let parsed: Design = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a design JSON (docs/PROTOCOL.md §3)",
            design.display()
        )
    })?;
    let bank = Bank::load(problems)
        .with_context(|| format!("cannot load the problem bank from {}", problems.display()))?;
    let found = bank
        .get(problem)
        .with_context(|| format!("no problem with id '{problem}' in {}", problems.display()))?;
    Ok((bank, found, parsed))
}
