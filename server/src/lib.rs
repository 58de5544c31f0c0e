//! tierboard: a multiplayer whiteboard for system-design practice.
//!
//! A room's canvas is a Yjs document; this server is where its participants meet. Module map (see
//! `docs/ARCHITECTURE.md` for how one update flows through them):
//!
//! - [`config`]: flags with environment fallbacks.
//! - [`error`]: the crate [`Error`], mapped to HTTP status and WebSocket close codes in one place.
//! - [`close`]: the one table of WebSocket close codes (code, reason, whether the client reconnects).
//! - [`clock`]: wall-clock epoch milliseconds for what is stored (timers use `tokio::time`).
//! - [`state`], [`auth`]: the shared [`AppState`]; one `authorize` for HTTP and WebSocket.
//! - [`browser`]: the WebSocket `Origin` check, security headers, the `/metrics` token.
//! - [`ids`]: newtypes for room ids, tokens (only their hashes are stored), roles, instance ids.
//! - [`interned`]: identical results (validation, simulation, section checks) shared between rooms.
//! - [`sync`]: the y-websocket protocol, the awareness table, the bus messages and reconciling, without I/O.
//! - [`rows`]: plain data of stored rows and tier transitions (shared by the store and the room core).
//! - [`room`]: one loaded room: a sans-IO core (inputs and time in, effects out) and the actor task
//!   that executes its effects; loading; connection handles.
//! - [`rooms`]: the registry: get-or-load, forget a room when its task ends, shutdown.
//! - [`bus`]: fan-out across instances (in-process or Redis pub/sub) and reconciliation by state vectors.
//! - [`store`]: SQLite / PostgreSQL through sqlx: rooms, tokens, the update log and compaction, and
//!   the group-commit [`store::Persister`].
//! - [`problems`]: the problem bank and the component catalog.
//! - [`design`]: the canvas schema (design JSON and reading it out of a document).
//! - [`validation`]: pure tier validation of a design.
//! - [`simulation`]: pure capacity simulation of a design (load, latency, errors, cost, checks).
//! - [`http`], [`ws`]: the routes and the WebSocket adapter.
//! - [`openapi`]: the OpenAPI document of the HTTP API, served at `/api/openapi.json`.
//! - [`metrics`]: Prometheus counters; [`memory`]: the allocator's settings and memory gauges.
//! - [`queue`]: the bounded queues between tasks (mailboxes, bus inboxes, outboxes), empty when idle.
//! - [`listen`]: accepting connections: caps per address and in total, the header-read timeout.
//! - [`ratelimit`]: per-address token buckets (room creation).
//! - [`server`]: start-up and graceful shutdown.

pub mod auth;
pub mod browser;
pub mod bus;
pub mod clock;
pub mod close;
pub mod config;
pub mod design;
pub mod error;
pub mod http;
pub mod ids;
pub mod interned;
pub mod listen;
pub mod memory;
pub mod metrics;
pub mod openapi;
pub mod problems;
pub mod queue;
pub mod ratelimit;
pub mod report;
pub mod retention;
pub mod room;
pub mod rooms;
pub mod rows;
pub mod sections;
pub mod server;
pub mod simulation;
pub mod state;
pub mod store;
pub mod sync;
pub mod validation;
pub mod ws;

pub use error::{Error, Result};
pub use server::Server;
pub use state::AppState;

use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// The whole HTTP surface: API, WebSocket and (when built) the client.
pub fn app(state: AppState) -> Router {
    let static_dir = state.config.static_dir.clone();
    let bank = state.bank.clone();
    let hide_solutions = state.config.hide_solutions;
    // The report's routes are merged here, not in `http`: `report` uses `http`'s extractors.
    let mut router = http::routes()
        .merge(report::routes())
        .with_state(state)
        .merge(problems::api::router_with(bank.clone(), hide_solutions))
        .merge(validation::api::router(bank.clone()))
        .merge(simulation::api::router(bank))
        // Here rather than in `http`: the document lists `http`'s handlers, so `http` cannot import it.
        .route("/api/openapi.json", axum::routing::get(openapi::serve))
        // API clients get JSON errors, never the web page: an unknown `/api/...` path is 404 and a
        // wrong method 405, both with the error body; only other paths fall back to the client.
        .route(
            "/api/{*rest}",
            axum::routing::any(|| async {
                Error::NotFound("an API route (see docs/PROTOCOL.md)".into())
            }),
        )
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(TraceLayer::new_for_http());
    if let Some(client) = http::static_client(&static_dir) {
        router = router.fallback_service(client);
    }
    for (name, value) in browser::security_headers() {
        router = router.layer(SetResponseHeaderLayer::overriding(name, value));
    }
    router.layer(compression())
}

/// gzip and brotli for what is worth it: the API's JSON, `/metrics`, and client files the build did
/// not precompress. Not images (already compressed), not answers under 32 bytes, not the WebSocket
/// upgrade. Level 4: brotli's default (11) costs ~100× the CPU for a few percent on JSON.
pub fn compression()
-> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::predicate::{DefaultPredicate, Predicate};
    use tower_http::compression::{CompressionLayer, CompressionLevel};
    let not_upgrade = |status: axum::http::StatusCode,
                       _: axum::http::Version,
                       _: &axum::http::HeaderMap,
                       _: &axum::http::Extensions| {
        status != axum::http::StatusCode::SWITCHING_PROTOCOLS
    };
    CompressionLayer::new()
        .gzip(true)
        .br(true)
        .quality(CompressionLevel::Precise(4))
        .compress_when(DefaultPredicate::new().and(not_upgrade))
}
