//! Loading the bank and checking every file against the format and the catalog (`problems lint` runs
//! the same checks). Every error names the file and the field.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::design::ParamValue;
use crate::problems::catalog::{CLIENT, Catalog, NOTE};
use crate::problems::model::{Problem, Rule, TierSource};

/// One problem with a file, located.
#[derive(Debug, Clone, PartialEq)]
pub struct LintError {
    pub file: PathBuf,
    pub field: String,
    pub message: String,
}

impl fmt::Display for LintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: field '{}': {}",
            self.file.display(),
            self.field,
            self.message
        )
    }
}

/// Every `*.toml` under `dir` except the catalog and the seeds, sorted.
pub fn problem_files(dir: &Path) -> crate::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if d == dir && e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(crate::Error::Internal(format!("{}: {e}", d.display()))),
        };
        for entry in entries {
            let entry =
                entry.map_err(|e| crate::Error::Internal(format!("{}: {e}", d.display())))?;
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "seeds") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "toml") && path.parent() != Some(dir) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Parses one problem file; the error names the file and, where TOML says so, the field.
pub fn parse_file(path: &Path) -> Result<Problem, LintError> {
    let text = std::fs::read_to_string(path).map_err(|e| LintError {
        file: path.into(),
        field: "-".into(),
        message: e.to_string(),
    })?;
    let de = toml::Deserializer::parse(&text).map_err(|e| LintError {
        file: path.into(),
        field: "-".into(),
        message: e.to_string(),
    })?;
    serde_path_to_error::deserialize(de).map_err(|e| LintError {
        file: path.into(),
        field: e.path().to_string(),
        message: e.inner().message().to_string(),
    })
}

/// Checks one parsed problem; returns every problem found (empty when the file is good).
pub fn check(p: &Problem, path: &Path, catalog: &Catalog) -> Vec<LintError> {
    let mut errs = Vec::new();
    let mut e = |field: String, message: String| {
        errs.push(LintError {
            file: path.into(),
            field,
            message,
        })
    };
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    if stem != p.id {
        e(
            "id".into(),
            format!("'{}' differs from the file name '{stem}'", p.id),
        );
    }
    let folder = path
        .parent()
        .and_then(|d| d.file_name())
        .and_then(|s| s.to_str())
        .unwrap_or("");
    if folder != p.category {
        e(
            "category".into(),
            format!("'{}' differs from the folder '{folder}'", p.category),
        );
    }
    for (field, v) in [
        ("id", &p.id),
        ("title", &p.title),
        ("category", &p.category),
    ] {
        if v.trim().is_empty() {
            e(field.into(), "empty".into());
        }
    }
    if !p
        .id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        e(
            "id".into(),
            format!("'{}' must be lowercase letters, digits and '-'", p.id),
        );
    }
    for (i, c) in p.available_components.iter().enumerate() {
        if !catalog.contains(c) {
            e(
                format!("available_components[{i}]"),
                format!("unknown component type '{c}'"),
            );
        }
    }
    if p.tiers.is_empty() {
        e("tiers".into(), "no tiers".into());
    }
    let authored = p
        .tiers
        .iter()
        .filter(|t| t.source == TierSource::Authored)
        .count();
    // A set of tiers written without the seed's; after seed tiers a single authored tier is fine.
    let seeded = p.tiers.iter().any(|t| t.source == TierSource::Seed);
    if !seeded && authored > 0 && authored < 3 {
        e(
            "tiers".into(),
            format!("an authored tier set needs at least 3 tiers, has {authored}"),
        );
    }
    let mut tier_ids = HashSet::new();
    for (ti, t) in p.tiers.iter().enumerate() {
        if !tier_ids.insert(&t.id) {
            e(
                format!("tiers[{ti}].id"),
                format!("duplicate tier id '{}'", t.id),
            );
        }
        if t.rules.is_empty() {
            e(format!("tiers[{ti}].rules"), "empty tier".into());
        }
        for (ri, r) in t.rules.iter().enumerate() {
            let field = format!("tiers[{ti}].rules[{ri}]");
            let type_field = |k: usize| match r {
                Rule::Path { .. } => format!("{field}.types[{k}]"),
                _ => format!("{field}.type"),
            };
            for (k, ty) in r.types().iter().enumerate() {
                if !catalog.contains(ty) {
                    e(type_field(k), format!("unknown component type '{ty}'"));
                }
                if ty == NOTE {
                    e(type_field(k), "a rule cannot ask for a note".into());
                }
            }
            if t.source == TierSource::Authored && r.because().is_none_or(|b| b.trim().is_empty()) {
                e(
                    format!("{field}.because"),
                    "an authored rule must say which text it comes from".into(),
                );
            }
            // The palette is not a reason: a rule must come from what the problem asks for.
            if let Some(b) = r.because()
                && cites_only_palette(b)
            {
                e(
                    format!("{field}.because"),
                    "cites only available_components: the palette offers a component, it does not ask for it".into(),
                );
            }
            // The simulation sends the peak from client nodes: without one in the palette no design
            // can carry it.
            if r.needs_simulation() && !in_palette(p, catalog, CLIENT) {
                e(
                    format!("{field}.kind"),
                    "a capacity or latency rule needs a client in the palette (available_components): the simulated peak enters at clients".into(),
                );
            }
            match r {
                Rule::Path { types, .. } => {
                    if types.len() < 2 {
                        e(
                            format!("{field}.types"),
                            format!("a path needs at least 2 types, has {}", types.len()),
                        );
                    }
                    for (k, ty) in types.iter().enumerate() {
                        if catalog.contains(ty) && !in_palette(p, catalog, ty) {
                            e(
                                format!("{field}.types[{k}]"),
                                format!(
                                    "'{ty}' is not in the palette (available_components), so no design can have it"
                                ),
                            );
                        }
                    }
                }
                Rule::Capacity {
                    max_utilisation, ..
                } => {
                    if p.targets.peak_rate_per_sec.is_none() {
                        e(
                            format!("{field}.kind"),
                            "a capacity rule needs the problem's workload: targets.peak_rate_per_sec is not stated".into(),
                        );
                    }
                    if !(max_utilisation.is_finite()
                        && *max_utilisation > 0.0
                        && *max_utilisation <= 1.0)
                    {
                        e(
                            format!("{field}.max_utilisation"),
                            format!("{max_utilisation} is not in (0, 1]"),
                        );
                    }
                }
                Rule::Latency { max_ms, .. }
                    if max_ms.is_some_and(|ms| !(ms.is_finite() && ms > 0.0)) =>
                {
                    e(
                        format!("{field}.max_ms"),
                        format!("{:?} is not a positive number of milliseconds", max_ms),
                    )
                }
                _ => {}
            }
            match r {
                Rule::MinCount { count, .. } if *count < 1 => {
                    e(format!("{field}.count"), "must be at least 1".into())
                }
                Rule::ParamRange {
                    param,
                    min,
                    max,
                    ty,
                    ..
                } => {
                    if !(min.is_finite() && max.is_finite()) || min > max {
                        e(
                            format!("{field}.min"),
                            format!("empty or invalid range [{min}, {max}]"),
                        );
                    }
                    match catalog.param(ty, param) {
                        None => e(
                            format!("{field}.param"),
                            format!("'{ty}' has no parameter '{param}'"),
                        ),
                        Some(def) => {
                            if def.min.is_some_and(|m| *max < m)
                                || def.max.is_some_and(|m| *min > m)
                            {
                                e(
                                    format!("{field}.min"),
                                    format!(
                                        "range [{min}, {max}] outside the parameter's [{:?}, {:?}]",
                                        def.min, def.max
                                    ),
                                );
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    if let Some(r) = &p.reference_solution {
        let mut ids = HashSet::new();
        for (i, n) in r.nodes.iter().enumerate() {
            let field = format!("reference_solution.nodes[{i}]");
            if !ids.insert(n.id.as_str()) {
                e(
                    format!("{field}.id"),
                    format!("duplicate node id '{}'", n.id),
                );
            }
            if !catalog.contains(&n.ty) {
                e(
                    format!("{field}.type"),
                    format!("unknown component type '{}'", n.ty),
                );
            }
            for (name, v) in &n.params {
                match (catalog.param(&n.ty, name), v) {
                    (None, _) => e(
                        format!("{field}.params.{name}"),
                        format!("'{}' has no parameter '{name}'", n.ty),
                    ),
                    (Some(def), ParamValue::Number(x)) => {
                        if def.min.is_some_and(|m| *x < m)
                            || def.max.is_some_and(|m| *x > m)
                            || (def.ty == "integer" && x.fract() != 0.0)
                        {
                            e(
                                format!("{field}.params.{name}"),
                                format!(
                                    "{x} is not a valid {} in [{:?}, {:?}]",
                                    def.ty, def.min, def.max
                                ),
                            );
                        }
                    }
                    (Some(def), _) => e(
                        format!("{field}.params.{name}"),
                        format!("expected a {}", def.ty),
                    ),
                }
            }
        }
        let mut edge_ids = HashSet::new();
        for (i, edge) in r.edges.iter().enumerate() {
            let field = format!("reference_solution.edges[{i}]");
            if !edge_ids.insert(edge.id.as_str()) {
                e(
                    format!("{field}.id"),
                    format!("duplicate edge id '{}'", edge.id),
                );
            }
            for (end, id) in [("from", &edge.from), ("to", &edge.to)] {
                if !ids.contains(id.as_str()) {
                    e(format!("{field}.{end}"), format!("no node '{id}'"));
                }
            }
        }
    }
    errs
}

/// Whether a `because` cites only the palette: every citation in it (`field: "phrase"`, several joined
/// by `; `) is `available_components`.
pub fn cites_only_palette(because: &str) -> bool {
    let b = because.trim();
    b.starts_with("available_components:")
        && !b.split("; ").skip(1).any(|part| {
            let field = part.split(':').next().unwrap_or("");
            !field.is_empty() && field != "available_components"
        })
}

/// Whether a design for `p` can have a node that meets a rule naming `ty`: the palette lists the
/// type, or (for types matched by kind) another type of its kind.
pub fn in_palette(p: &Problem, catalog: &Catalog, ty: &str) -> bool {
    p.available_components.iter().any(|a| {
        a == ty
            || (!catalog.exact_match(ty)
                && catalog.kind_of(a).is_some()
                && catalog.kind_of(a) == catalog.kind_of(ty))
    })
}

/// Loads every file under `dir` with the catalog `dir/catalog.toml`; returns the problems and every
/// error found (duplicate ids across files included).
pub fn load_all(dir: &Path) -> crate::Result<(Vec<Problem>, Catalog, Vec<LintError>)> {
    let catalog = Catalog::load(&dir.join("catalog.toml"))?;
    let mut problems = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    for path in problem_files(dir)? {
        match parse_file(&path) {
            Ok(p) => {
                errors.extend(check(&p, &path, &catalog));
                if let Some(other) = seen.insert(p.id.clone(), path.clone()) {
                    errors.push(LintError {
                        file: path.clone(),
                        field: "id".into(),
                        message: format!("duplicate id '{}' (also in {})", p.id, other.display()),
                    });
                }
                problems.push(p);
            }
            Err(e) => errors.push(e),
        }
    }
    Ok((problems, catalog, errors))
}
