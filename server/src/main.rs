use clap::Parser;
use tierboard::config::{Cli, Command};
use tierboard::ids::InstanceId;
use tierboard::store::Store;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Migrate(db) => migrate(&db.database_url).await,
        Command::Problems { command } => tierboard::problems::cli::run(command),
        _ => Err(tierboard::Error::Internal("not implemented yet".into())),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "tierboard failed");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `tierboard migrate`: apply the embedded migrations and exit.
async fn migrate(database_url: &str) -> tierboard::Result<()> {
    let store = Store::connect(database_url, InstanceId::random()).await?;
    store.migrate().await?;
    store.close().await;
    tracing::info!(database = %database_url.split('@').next_back().unwrap_or_default(), "migrations applied");
    Ok(())
}
