//! Start-up and shutdown: wires the store, the persister, the bank and the rooms into a running
//! server. Tests drive [`Server`] directly on port 0.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::bus::Bus;
use crate::close::CloseCode;
use crate::config::ServeConfig;
use crate::ids::InstanceId;
use crate::metrics::Metrics;
use crate::problems::Bank;
use crate::room::RoomDeps;
use crate::rooms::Rooms;
use crate::state::AppState;
use crate::store::{Persister, Store};

/// How long a shutdown spends compacting the rooms it flushed, at most.
const SHUTDOWN_COMPACTION: Duration = Duration::from_secs(5);

pub struct Server {
    state: AppState,
    listener: TcpListener,
    persister: Persister,
    persister_task: JoinHandle<()>,
    bus: Arc<dyn Bus>,
    shutdown: CancellationToken,
}

impl Server {
    /// Loads the problem bank from `config.problems`, then [`Server::bind_with`].
    pub async fn bind(config: ServeConfig) -> crate::Result<Server> {
        let started = Instant::now();
        let bank = Bank::load(&config.problems)?;
        tracing::info!(
            problems = bank.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "problem bank loaded"
        );
        Server::bind_with(config, Arc::new(bank)).await
    }

    /// Connects and migrates the database, starts the persister and binds the listener.
    pub async fn bind_with(config: ServeConfig, bank: Arc<Bank>) -> crate::Result<Server> {
        let instance = InstanceId::random();
        let metrics = Arc::new(Metrics::default());
        let store = Arc::new(Store::connect(&config.db.database_url, instance.clone()).await?);
        store.migrate().await?;
        let (persister, persister_task) = Persister::spawn(
            store.clone(),
            config.persist_interval(),
            config.compact_rows,
            metrics.clone(),
        );
        let bus = crate::bus::open(
            config.redis_url.as_deref(),
            instance.clone(),
            metrics.clone(),
        )?;
        let rooms = Arc::new(Rooms::new(RoomDeps {
            store: store.clone(),
            bank: bank.clone(),
            persister: persister.clone(),
            metrics: metrics.clone(),
            bus: bus.clone(),
            idle: config.room_idle(),
            persist_steady: config.persist_steady(),
            presence_window: config.presence_window(),
            limits: crate::room::RoomLimits {
                max_document_bytes: config.max_document_bytes,
                max_pending_updates: config.max_pending_updates,
                max_pending_bytes: config.max_pending_bytes,
            },
            results: Default::default(),
        }));
        let listener = TcpListener::bind(config.addr).await.map_err(|e| {
            crate::Error::Internal(format!("cannot listen on {}: {e}", config.addr))
        })?;
        let room_creations = Arc::new(crate::ratelimit::RateLimiter::new(
            config.room_creations_per_minute,
        ));
        let state = AppState {
            room_creations,
            config: Arc::new(config),
            store,
            bank,
            rooms,
            metrics,
            instance,
            started: Instant::now(),
            connections: tokio_util::task::TaskTracker::new(),
        };
        Ok(Server {
            state,
            listener,
            persister,
            persister_task,
            bus,
            shutdown: CancellationToken::new(),
        })
    }

    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    /// Cancel it to shut the server down gracefully.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the shutdown token is cancelled; then stops accepting, flushes every room and the
    /// persister, and closes every socket with 1001 (`CloseCode::GoingAway`).
    pub async fn run(self) -> crate::Result<()> {
        let Server {
            state,
            listener,
            persister,
            persister_task,
            bus,
            shutdown,
        } = self;
        tracing::info!(addr = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(), instance = %state.instance, "tierboard listening");
        let app = crate::app(state.clone());
        let limits = crate::listen::Limits::new(
            state.config.max_connections_per_address,
            state.config.max_connections,
        );
        let serve = crate::listen::serve(
            listener,
            app,
            limits,
            state.config.header_timeout(),
            shutdown.clone(),
        );
        // Upgraded WebSockets outlive axum's graceful shutdown, so the rooms close them below.
        let serve = tokio::spawn(serve);
        let retention = tokio::spawn(crate::retention::run(
            state.store.clone(),
            state.rooms.clone(),
            state.config.room_retention_days,
            shutdown.child_token(),
        ));
        shutdown.cancelled().await;
        let _ = retention.await;
        tracing::info!("shutting down: flushing rooms");
        let rooms = state.rooms.flush_all().await;
        if let Err(e) = persister.flush().await {
            tracing::error!(error = %e, "final flush failed");
        }
        state.rooms.close_all(CloseCode::GoingAway).await;
        // One stored row per room makes the first join after the restart fast: it is answered from
        // that row while the document is integrated. Bounded: a slow store only delays the exit.
        let compacted = state.store.compact_all(&rooms, SHUTDOWN_COMPACTION).await;
        tracing::info!(rooms = rooms.len(), compacted, "compacted for the restart");
        bus.close();
        // Let the writers send their close frames before the process goes away.
        state.connections.close();
        if tokio::time::timeout(Duration::from_secs(5), state.connections.wait())
            .await
            .is_err()
        {
            tracing::warn!("some connections did not close within 5 s");
        }
        if let Err(e) = persister.shutdown().await {
            tracing::error!(error = %e, "persister shutdown failed");
        }
        let _ = persister_task.await;
        let _ = serve.await;
        tracing::info!("shutdown complete");
        Ok(())
    }
}
