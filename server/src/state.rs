//! The application state every handler shares. Cheap to clone: every field is an `Arc` or small.

use std::sync::Arc;
use std::time::Instant;

use crate::config::ServeConfig;
use crate::ids::InstanceId;
use crate::metrics::Metrics;
use crate::problems::Bank;
use crate::rooms::Rooms;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<ServeConfig>,
    pub store: Arc<Store>,
    pub bank: Arc<Bank>,
    pub rooms: Arc<Rooms>,
    pub metrics: Arc<Metrics>,
    pub instance: InstanceId,
    pub started: Instant,
    /// Room creations per client address.
    pub room_creations: Arc<crate::ratelimit::RateLimiter>,
    /// Every live WebSocket connection, so shutdown can wait for their close frames to go out.
    pub connections: tokio_util::task::TaskTracker,
}
