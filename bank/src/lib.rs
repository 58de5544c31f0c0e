//! tierboard-bank: the tools that build the problem bank in `problems/`, kept out of the server.
//!
//! The server only reads the bank (model, loader, lint, catalog and search live in
//! `tierboard::problems`); everything that writes it is here:
//!
//! - [`seed`]: reading the seed documents (Mac Roman repair, the bank format and the other formats).
//! - [`import`], [`ranges`], [`reference`]: rebuilding the seed-derived content of every problem file.
//! - [`author`]: the one-off authoring step for problems whose seed has no tiers.
//! - [`drafts`]: first drafts of catalog entries for type names the catalog lacks (used by [`import`]).
//!
//! The binary `tierboard-bank` runs them: `import`, `author` and `lint` (the server's own check).

pub mod author;
pub mod drafts;
pub mod import;
pub mod ranges;
pub mod reference;
pub mod seed;

/// The bank tools report errors with the server's error type: they share its loader and model.
pub use tierboard::{Error, Result};
