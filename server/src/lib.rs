//! tierboard: a multiplayer whiteboard for system-design practice.
//!
//! Module map (see `docs/ARCHITECTURE.md` for how one update flows):
//! - [`config`]: flags and environment.
//! - [`error`]: the crate [`Error`], mapped to HTTP status and WebSocket close codes.
//! - [`problems`]: the problem bank and the component catalog.
//! - [`validation`]: pure tier validation of a design.
//! - [`store`]: SQLite/PostgreSQL storage (rooms, tokens, update log, compaction) and the group-commit
//!   [`store::Persister`].

pub mod config;
pub mod design;
pub mod error;
pub mod ids;
pub mod metrics;
pub mod problems;
pub mod store;
pub mod validation;

pub use error::{Error, Result};
