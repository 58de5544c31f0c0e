//! Typed configuration: command-line flags that fall back to environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// `--persist-steady-ms` by default, and the room core's default window (`room::PERSIST_STEADY`), so
/// the two cannot drift.
pub const PERSIST_STEADY_MS: u64 = 50;
/// `--persist-interval-ms` by default (the group commit's window; `server/benches/room.rs` answers
/// its submissions at this interval).
pub const PERSIST_INTERVAL_MS: u64 = 50;
/// `--compact-rows` by default (`server/benches/room.rs` runs its rooms with it).
pub const COMPACT_ROWS: u64 = 1024;

/// `--presence-window-ms` by default, and the room core's (`room::PRESENCE_WINDOW`). Cursor moves
/// arrive every 33-50 ms per participant (20-30 Hz): a window of 20 ms merges the moves of
/// participants that fall in it and delays a move that follows another within the window by at most
/// that (BENCHMARKS.md, "Figures behind code choices").
pub const PRESENCE_WINDOW_MS: u64 = 20;

#[derive(Debug, Parser)]
#[command(
    name = "tierboard",
    version,
    about = "Multiplayer whiteboard for system-design practice"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: HTTP API, WebSocket sync, the built client.
    Serve(ServeConfig),
    /// Apply the database migrations and exit.
    Migrate(DatabaseArgs),
    /// Work with the problem bank.
    Problems {
        #[command(subcommand)]
        command: ProblemsCommand,
    },
    /// Validate a design JSON file against a problem's tiers; exits non-zero when a tier is not reached.
    Validate {
        #[arg(long)]
        problem: String,
        /// Path to a design JSON file (docs/PROTOCOL.md §3).
        design: PathBuf,
        #[arg(long, env = "TIERBOARD_PROBLEMS", default_value = "problems")]
        problems: PathBuf,
    },
    /// Simulate a design JSON file for a problem and print its load, latency, errors, cost and capacity
    /// checks; exits non-zero when a check fails.
    Simulate {
        #[arg(long)]
        problem: String,
        /// Path to a design JSON file (docs/PROTOCOL.md §3).
        design: PathBuf,
        /// `peak`, `normal`, or a multiple of peak (`10` for a 10× spike).
        #[arg(long, default_value = "peak")]
        load: String,
        /// A node id to fail (repeatable).
        #[arg(long)]
        fail: Vec<String>,
        #[arg(long, env = "TIERBOARD_PROBLEMS", default_value = "problems")]
        problems: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProblemsCommand {
    /// Check every problem file against the format and the catalog.
    Lint {
        #[arg(long, env = "TIERBOARD_PROBLEMS", default_value = "problems")]
        problems: PathBuf,
    },
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// `sqlite://path` (created if missing) or `postgres://...`.
    #[arg(
        long,
        env = "TIERBOARD_DATABASE_URL",
        default_value = "sqlite://data/tierboard.db"
    )]
    pub database_url: String,
}

#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "TIERBOARD_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    #[command(flatten)]
    pub db: DatabaseArgs,

    /// Redis URL for fan-out across instances; without it rooms fan out in-process only.
    #[arg(long, env = "TIERBOARD_REDIS_URL")]
    pub redis_url: Option<String>,

    /// Folder of problem files.
    #[arg(long, env = "TIERBOARD_PROBLEMS", default_value = "problems")]
    pub problems: PathBuf,

    /// Folder of the built client, served at `/` when it exists.
    #[arg(long, env = "TIERBOARD_STATIC", default_value = "client/dist")]
    pub static_dir: PathBuf,

    /// Seconds a room with no connections stays loaded (once persisted) before it is unloaded.
    #[arg(long, env = "TIERBOARD_ROOM_IDLE_SECS", default_value_t = 30)]
    pub room_idle_secs: u64,

    /// Largest WebSocket message accepted from a client, in bytes.
    #[arg(long, env = "TIERBOARD_MAX_MESSAGE_BYTES", default_value_t = 32 * 1024 * 1024)]
    pub max_message_bytes: usize,

    /// Messages a connection's outbox holds before the connection is closed as too slow (4000).
    #[arg(long, env = "TIERBOARD_OUTBOX", default_value_t = 1024)]
    pub outbox_capacity: usize,

    /// Seconds a write to a connection may make no progress before the connection is dropped (a
    /// client that stopped reading; its memory is released at once).
    #[arg(long, env = "TIERBOARD_WRITE_TIMEOUT_SECS", default_value_t = 15)]
    pub write_timeout_secs: u64,

    /// Seconds a client has to send a request's headers; a connection that trickles them (or
    /// sends nothing) is closed after this (slowloris).
    #[arg(long, env = "TIERBOARD_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,

    /// Open connections (HTTP and WebSocket) allowed from one client address; 0: no cap.
    #[arg(
        long,
        env = "TIERBOARD_MAX_CONNECTIONS_PER_ADDRESS",
        default_value_t = 256
    )]
    pub max_connections_per_address: usize,

    /// Open connections allowed in total; 0: no cap.
    #[arg(long, env = "TIERBOARD_MAX_CONNECTIONS", default_value_t = 20_000)]
    pub max_connections: usize,

    /// Origins (e.g. `https://app.example`, comma-separated) whose pages may open WebSockets besides
    /// the server's own; requests without an `Origin` header (not from a browser) are always allowed.
    #[arg(long, env = "TIERBOARD_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// For interviews: `GET /api/problems/{id}/solution` answers 404 and problems are served without
    /// hints and tutorial; rooms serve them (`GET /api/rooms/{room}/solution`) to whom they allow.
    #[arg(long, env = "TIERBOARD_HIDE_SOLUTIONS", action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new())]
    pub hide_solutions: bool,

    /// When set, `GET /metrics` requires `Authorization: Bearer <this token>`.
    #[arg(long, env = "TIERBOARD_METRICS_TOKEN")]
    pub metrics_token: Option<String>,

    /// Rooms one client address may create per minute (in bursts of as many); more get 429 with
    /// `Retry-After`. 0: no limit.
    #[arg(
        long,
        env = "TIERBOARD_ROOM_CREATIONS_PER_MINUTE",
        default_value_t = 30
    )]
    pub room_creations_per_minute: u32,

    /// Longest time an accepted update waits before it is stored, in milliseconds (group commit).
    #[arg(long, env = "TIERBOARD_PERSIST_MS", default_value_t = PERSIST_INTERVAL_MS)]
    pub persist_interval_ms: u64,

    /// While a room's edits keep coming, it hands them to storage at most once per this many
    /// milliseconds, merged into one row (the first edit after a quiet spell goes at once). An
    /// accepted update is stored within this plus the persist interval plus one commit: the default
    /// keeps that near 100 ms, the bound the kill -9 test holds the server to. More is fewer rows and
    /// commits for a busy room (BENCHMARKS.md) and more edits in memory when the process dies.
    #[arg(long, env = "TIERBOARD_PERSIST_STEADY_MS", default_value_t = PERSIST_STEADY_MS)]
    pub persist_steady_ms: u64,

    /// While a room's cursors keep moving, its awareness changes go out at most once per this many
    /// milliseconds, merged into one update with each client's latest state (the first change after
    /// a quiet window goes at once). 0 relays every awareness update as it comes. Presence is most
    /// of what a room sends; merging it is fewer writes for the server and fewer messages for
    /// every participant.
    #[arg(long, env = "TIERBOARD_PRESENCE_WINDOW_MS", default_value_t = PRESENCE_WINDOW_MS)]
    pub presence_window_ms: u64,

    /// Stored rows per room above which the room's log is compacted into one snapshot. Each
    /// compaction re-encodes the whole document and checks that it loads, so a busy room should not
    /// do it too often (64 cost markedly more CPU than 256, and 256 about 3 % more than 1024:
    /// BENCHMARKS.md). The rows are small updates, so loading a thousand is quick, and a room that
    /// unloads or a server that stops gracefully compacts its rows anyway.
    #[arg(long, env = "TIERBOARD_COMPACT_ROWS", default_value_t = COMPACT_ROWS)]
    pub compact_rows: u64,

    /// Largest document a room may hold, in encoded bytes: an update that would take it beyond is
    /// refused and its sender closed with 4414. 0: no quota.
    #[arg(long, env = "TIERBOARD_MAX_DOCUMENT_BYTES", default_value_t = 64 << 20)]
    pub max_document_bytes: usize,

    /// Updates a room holds waiting for parts that have not arrived (their sender is closed with
    /// 4415 beyond it). 0: no bound.
    #[arg(long, env = "TIERBOARD_MAX_PENDING_UPDATES", default_value_t = 256)]
    pub max_pending_updates: usize,

    /// Bytes of those updates. 0: no bound.
    #[arg(long, env = "TIERBOARD_MAX_PENDING_BYTES", default_value_t = 8 << 20)]
    pub max_pending_bytes: usize,

    /// Rooms untouched (no stored edit, no creation) for this many days are deleted by a
    /// background task, with their tokens, document and timeline. 0: keep rooms forever.
    #[arg(long, env = "TIERBOARD_ROOM_RETENTION_DAYS", default_value_t = 90)]
    pub room_retention_days: u64,
}

impl ServeConfig {
    /// A configuration for tests: port 0 on loopback, the given database, no Redis.
    #[cfg(feature = "test-util")]
    pub fn for_test(database_url: impl Into<String>, problems: impl Into<PathBuf>) -> ServeConfig {
        ServeConfig {
            addr: "127.0.0.1:0".parse().expect("static address"),
            db: DatabaseArgs {
                database_url: database_url.into(),
            },
            redis_url: None,
            problems: problems.into(),
            static_dir: PathBuf::from("client/dist"),
            room_idle_secs: 30,
            max_message_bytes: 32 * 1024 * 1024,
            outbox_capacity: 1024,
            write_timeout_secs: 15,
            header_timeout_secs: 10,
            allowed_origins: Vec::new(),
            room_creations_per_minute: 0,
            metrics_token: None,
            hide_solutions: false,
            max_connections_per_address: 0,
            max_connections: 0,
            persist_interval_ms: PERSIST_INTERVAL_MS,
            persist_steady_ms: PERSIST_STEADY_MS,
            presence_window_ms: PRESENCE_WINDOW_MS,
            compact_rows: 64,
            max_document_bytes: 64 << 20,
            max_pending_updates: 256,
            max_pending_bytes: 8 << 20,
            room_retention_days: 0,
        }
    }

    pub fn room_idle(&self) -> Duration {
        Duration::from_secs(self.room_idle_secs)
    }

    pub fn write_timeout(&self) -> Duration {
        Duration::from_secs(self.write_timeout_secs.max(1))
    }

    pub fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.header_timeout_secs.max(1))
    }

    pub fn persist_steady(&self) -> Duration {
        Duration::from_millis(self.persist_steady_ms)
    }

    pub fn presence_window(&self) -> Duration {
        Duration::from_millis(self.presence_window_ms)
    }

    pub fn persist_interval(&self) -> Duration {
        Duration::from_millis(self.persist_interval_ms)
    }
}
