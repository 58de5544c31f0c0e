//! The server's I/O-free `sync` module (server/src/sync: framing, awareness table, update guard),
//! compiled from the server's own source files so the fuzz target exercises exactly that code
//! without building and instrumenting the rest of the server. `sync` imports only `close` (the
//! close-code table) and `ids` (the instance id in bus messages) from the rest of the crate, both
//! compiled here the same way; keep it that way (the fuzz build fails otherwise).

#[path = "../../server/src/close.rs"]
pub mod close;
#[path = "../../server/src/ids.rs"]
pub mod ids;
#[path = "../../server/src/sync/mod.rs"]
pub mod sync;
