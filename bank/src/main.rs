//! The `tierboard-bank` binary: `import`, `author` and `lint` over a problems folder.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use tierboard_bank::{author, import};

#[derive(Debug, Parser)]
#[command(
    name = "tierboard-bank",
    version,
    about = "Build and check tierboard's problem bank"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Rebuild the seed-derived content of the bank from the seed files.
    Import {
        /// Folder that holds the seed files.
        #[arg(long, default_value = "problems/seeds")]
        seeds: PathBuf,
        #[arg(long, env = "TIERBOARD_PROBLEMS", default_value = "problems")]
        problems: PathBuf,
    },
    /// Author tiers and reference designs for problems that have none (run once; the output is committed
    /// and kept by `import`).
    Author {
        #[arg(long, env = "TIERBOARD_PROBLEMS", default_value = "problems")]
        problems: PathBuf,
        /// Also rewrite existing authored tiers and the generated last tier (problems whose tiers carry a
        /// tier `note` (hand-written) are never touched; seed tiers are kept).
        #[arg(long)]
        regenerate: bool,
    },
    /// Check every problem file against the format and the catalog (the server's start-up check).
    Lint {
        #[arg(long, env = "TIERBOARD_PROBLEMS", default_value = "problems")]
        problems: PathBuf,
    },
}

fn run(command: Command) -> tierboard_bank::Result<()> {
    match command {
        Command::Import { seeds, problems } => {
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
        Command::Author {
            problems,
            regenerate,
        } => {
            let r = author::run(&problems, regenerate)?;
            println!(
                "{} files written; {} generated last tiers; {} reference designs extended; {} hand-written tier sets left alone",
                r.written, r.generated, r.extended, r.by_hand
            );
            Ok(())
        }
        Command::Lint { problems } => tierboard::problems::cli::lint(&problems),
    }
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(Cli::parse().command) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "tierboard-bank failed");
            eprintln!("tierboard-bank: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
