//! `tierboard problems lint` (also `tierboard-bank lint`): the bank's checks, with a summary.

use std::path::Path;

use crate::config::ProblemsCommand;
use crate::problems::{Bank, load};

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
