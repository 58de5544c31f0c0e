use clap::Parser;
use tierboard::config::{Cli, Command};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match cli.command {
        Command::Problems { command } => tierboard::problems::cli::run(command),
        other => anyhow::bail!("command {other:?} is not wired in yet"),
    }
}
