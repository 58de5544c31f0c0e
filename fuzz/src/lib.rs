//! The server's I/O-free `sync` module (server/src/sync: framing, awareness table, update guard),
//! compiled from the server's own source files so the fuzz target exercises exactly that code
//! without building and instrumenting the rest of the server. `sync` imports nothing from the rest
//! of the crate; keep it that way (the fuzz build fails otherwise).

#[path = "../../server/src/sync/mod.rs"]
pub mod sync;
