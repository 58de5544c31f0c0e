//! Tier validation: a pure function from (problem, catalog, design) to a result (docs/PROTOCOL.md §4).
//!
//! Owned by the validation work (issue 4).
