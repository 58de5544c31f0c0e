//! `tierboard problems lint | import | author`.

use crate::config::ProblemsCommand;
use crate::problems::{Bank, author, import, load};

pub fn run(command: ProblemsCommand) -> crate::Result<()> {
    match command {
        ProblemsCommand::Lint { problems } => {
            let started = std::time::Instant::now();
            let (list, catalog, errors) = load::load_all(&problems)?;
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
            Bank::load(&problems)?;
            Ok(())
        }
        ProblemsCommand::Import { seeds, problems } => {
            let r = import::run(&seeds, &problems)?;
            for (id, change) in &r.completions {
                tracing::debug!(problem = %id, %change, "reference design completed");
            }
            println!(
                "{} problems: {} written, {} unchanged; {} with seed tiers, {} authored tier sets kept; catalog {} types ({} drafted); {} reference completions; {} files not from the seeds",
                r.problems,
                r.written,
                r.unchanged,
                r.seed_tiers,
                r.kept_authored,
                r.catalog_types,
                r.catalog_added,
                r.completions.len(),
                r.not_in_seeds.len()
            );
            Ok(())
        }
        ProblemsCommand::Author { problems } => {
            let n = author::run(&problems)?;
            println!("authored tiers and reference designs for {n} problems");
            Ok(())
        }
    }
}
