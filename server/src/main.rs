//! The `tierboard` binary: parses the command line and dispatches. Everything else is in the library.

use clap::Parser;
use tierboard::config::{Cli, Command};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn,sqlx=warn")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(config) => serve(config).await,
        Command::Migrate(db) => migrate(&db.database_url).await,
        Command::Problems { .. } | Command::Validate { .. } => {
            Err(tierboard::Error::Internal("not available in this build yet".into()))
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("tierboard: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn migrate(url: &str) -> tierboard::Result<()> {
    let store = tierboard::store::Store::connect(url, tierboard::ids::InstanceId::random()).await?;
    store.migrate().await?;
    tracing::info!("migrations applied");
    Ok(())
}

async fn serve(config: tierboard::config::ServeConfig) -> tierboard::Result<()> {
    let server = tierboard::Server::bind(config).await?;
    let token = server.shutdown_token();
    tokio::spawn(async move {
        shutdown_signal().await;
        token.cancel();
    });
    server.run().await
}

/// SIGTERM or ctrl-c.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("signal received");
}
