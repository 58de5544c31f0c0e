//! `docs/ARCHITECTURE.md` stays a true map of `server/src` (issue 18, item 10): every module and file
//! its module map names exists, and every top-level module of `server/src` is named there.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The rows of the table under `## Module map`, as (first cell, the other cells).
fn module_map_rows() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo().join("docs/ARCHITECTURE.md")).unwrap();
    let start = text
        .find("## Module map")
        .expect("docs/ARCHITECTURE.md has a '## Module map' section");
    let section = &text[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    section
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---") && !l.starts_with("| module"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').collect();
            (cells[0].trim().to_string(), cells[1..].join("|"))
        })
        .collect()
}

/// The `backticked` words of a cell.
fn code_spans(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// A name that looks like a path: `ws.rs`, `room/core/`, `room/effect.rs`.
fn is_path(name: &str) -> bool {
    name.ends_with(".rs") || (name.ends_with('/') && !name.contains(' '))
}

#[test]
fn every_path_in_the_module_map_exists() {
    let mut missing = Vec::new();
    let mut checked = 0;
    for (module, rest) in module_map_rows() {
        let module = code_spans(&module)
            .pop()
            .unwrap_or_else(|| panic!("module map row without a `module`: {module}"));
        if !src().join(&module).exists() {
            missing.push(module.clone());
        }
        checked += 1;
        // Files named in the other cells: relative to the row's module folder (`peer.rs` in
        // `sync/`), or to server/src (`room/effect.rs`), or to the repository (`bank/`).
        let folder = if module.ends_with('/') {
            src().join(&module)
        } else {
            src().join(&module).parent().unwrap().to_path_buf()
        };
        for name in code_spans(&rest).into_iter().filter(|n| is_path(n)) {
            let found = [folder.join(&name), src().join(&name), repo().join(&name)]
                .iter()
                .any(|p| p.exists());
            if !found {
                missing.push(format!("{name} (row {module})"));
            }
            checked += 1;
        }
    }
    assert!(checked > 20, "the module map looks empty ({checked} names)");
    assert!(
        missing.is_empty(),
        "docs/ARCHITECTURE.md's module map names what server/src does not have: {missing:?}"
    );
}

#[test]
fn every_top_level_module_is_in_the_module_map() {
    let named: BTreeSet<String> = module_map_rows()
        .into_iter()
        .filter_map(|(module, _)| code_spans(&module).pop())
        .collect();
    let mut unnamed = Vec::new();
    for entry in std::fs::read_dir(src()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let name = if path.is_dir() {
            format!("{name}/")
        } else if name.ends_with(".rs") && name != "lib.rs" {
            name
        } else {
            continue;
        };
        // A folder counts as named when the map names it or a file or folder in it (`room/core/`).
        if !named
            .iter()
            .any(|n| n == &name || (name.ends_with('/') && n.starts_with(&name)))
        {
            unnamed.push(name);
        }
    }
    unnamed.sort();
    assert!(
        unnamed.is_empty(),
        "modules of server/src missing from docs/ARCHITECTURE.md's module map: {unnamed:?}"
    );
}
