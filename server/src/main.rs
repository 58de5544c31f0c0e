//! The `tierboard` binary: parses the command line and dispatches. Everything else is in the library.

use clap::Parser;
use tierboard::config::{Cli, Command};
use tierboard::ids::InstanceId;
use tierboard::store::Store;

/// mimalloc rather than the system allocator: the server makes many small, short-lived allocations
/// on several threads (frames, updates, batches), where glibc's malloc spent a large share of the
/// server's time consolidating and unlinking chunks under load (BENCHMARKS.md, "Figures behind code
/// choices"). The `system-alloc` feature keeps the system allocator instead, for heap profilers that
/// hook malloc (heaptrack; BENCHMARKS.md, scenario 4).
#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tierboard::memory::tune_allocator();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,tower_http=warn,sqlx=warn")
            }),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(config) => serve(config).await,
        Command::Migrate(db) => migrate(&db.database_url).await,
        Command::Problems { command } => tierboard::problems::cli::run(command),
        Command::Validate {
            problem,
            design,
            problems,
        } => {
            // Its own exit statuses: 0 every tier reached, 1 not, 2 unreadable input.
            let status = tierboard::validation::cli::run(&problem, &design, &problems);
            return std::process::ExitCode::from(status as u8);
        }
        Command::Simulate {
            problem,
            design,
            load,
            fail,
            problems,
        } => {
            // Its own exit statuses: 0 every check passes, 1 one fails, 2 unreadable input.
            let status =
                tierboard::simulation::cli::run(&problem, &design, &problems, &load, &fail);
            return std::process::ExitCode::from(status as u8);
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "tierboard failed");
            eprintln!("tierboard: {e}");
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

/// `tierboard serve`: run until SIGTERM or ctrl-c, then shut down gracefully.
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
