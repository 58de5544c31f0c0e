//! `tierboard simulate --problem <id> design.json [--load peak|normal|N] [--fail <id>]`: print the
//! simulation as a table; exits non-zero when a capacity check fails.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;

use super::{CheckStatus, Load, Scenario, SimulationResult, num, simulate};

/// Exit status when every check passes.
pub const EXIT_PASS: i32 = 0;
/// Exit status when a capacity check fails.
pub const EXIT_CHECK_FAILED: i32 = 1;
/// Exit status when the input could not be read.
pub const EXIT_ERROR: i32 = 2;

/// Reads `--load`: `peak`, `normal` or a multiple of peak.
pub fn parse_load(text: &str) -> anyhow::Result<Load> {
    match text.trim() {
        "peak" => Ok(Load::Peak),
        "normal" => Ok(Load::Normal),
        other => {
            let m: f64 = other
                .trim_end_matches(['x', '×'])
                .parse()
                .with_context(|| {
                    format!("--load must be peak, normal or a number, got '{other}'")
                })?;
            anyhow::ensure!(
                m.is_finite() && (0.0..=super::result::MAX_MULTIPLIER).contains(&m),
                "--load {other}: the multiple of peak must be between 0 and {}",
                super::result::MAX_MULTIPLIER
            );
            Ok(Load::Times(m))
        }
    }
}

/// Runs the command and returns the exit status; the table goes to stdout, errors to stderr.
pub fn run(problem: &str, design: &Path, problems: &Path, load: &str, fail: &[String]) -> i32 {
    match check(problem, design, problems, load, fail) {
        Ok((table, passed)) => {
            print!("{table}");
            if passed { EXIT_PASS } else { EXIT_CHECK_FAILED }
        }
        Err(e) => {
            eprintln!("tierboard simulate: {e:#}");
            EXIT_ERROR
        }
    }
}

/// Loads the bank and the design, simulates, and returns the table and whether every check passes.
pub fn check(
    problem: &str,
    design: &Path,
    problems: &Path,
    load: &str,
    fail: &[String],
) -> anyhow::Result<(String, bool)> {
    let scenario = Scenario {
        load: parse_load(load)?,
        fail: fail.to_vec(),
        cold_cache: false,
    };
    let (bank, problem, design) =
        crate::problems::cli::load_check_inputs(problem, design, problems)?;
    let result = simulate(&problem, bank.catalog(), &design, &scenario);
    let passed = result.checks.iter().all(|c| c.status != CheckStatus::Fail);
    Ok((render(&problem.title, &result), passed))
}

/// The node table, the end-to-end line, the checks and the explanations.
pub fn render(title: &str, result: &SimulationResult) -> String {
    let mut out = String::new();
    let s = &result.scenario;
    let _ = writeln!(out, "{title} ({})", result.problem);
    let _ = writeln!(
        out,
        "scenario: load {}, {} rps offered ({} reads, {} writes){}{}\n",
        match s.load {
            Load::Normal => "normal".to_string(),
            Load::Peak => "peak".to_string(),
            Load::Times(m) => format!("{}× peak", num(m)),
        },
        num(s.offered_rps),
        num(s.read_rps),
        num(s.write_rps),
        if s.fail.is_empty() {
            String::new()
        } else {
            format!(", failed: {}", s.fail.join(", "))
        },
        if s.cold_cache { ", cold caches" } else { "" }
    );
    let rows: Vec<[String; 8]> = result
        .nodes
        .iter()
        .map(|(id, n)| {
            [
                id.clone(),
                n.ty.clone(),
                num(n.instances),
                num(n.offered_rps),
                if n.capacity_rps > 0.0 {
                    num(n.capacity_rps)
                } else {
                    "-".into()
                },
                if n.capacity_rps > 0.0 {
                    format!("{} %", num(n.utilisation * 100.0))
                } else {
                    "-".into()
                },
                format!("{}/{}", num(n.latency_ms), num(n.p99_ms)),
                if n.failed {
                    "failed".into()
                } else if n.backlog_rps > 0.0 {
                    format!("backlog +{}/s", num(n.backlog_rps))
                } else {
                    format!("{} %", num(n.error_rate * 100.0))
                },
            ]
        })
        .collect();
    let header = [
        "node",
        "type",
        "inst",
        "offered",
        "capacity",
        "util",
        "mean/p99 ms",
        "errors",
    ]
    .map(String::from);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, w))| {
                if i < 2 {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    let e = &result.end_to_end;
    let _ = writeln!(
        out,
        "\nend to end: {} rps answered, error rate {} %, p50 {} ms, p99 {} ms; bottleneck: {}; ${} a month",
        num(e.throughput_rps),
        num(e.error_rate * 100.0),
        num(e.p50_ms),
        num(e.p99_ms),
        result.bottleneck.as_deref().unwrap_or("none"),
        num(result.monthly_usd)
    );
    let _ = writeln!(out, "\nchecks (at peak):");
    for c in &result.checks {
        let mark = match c.status {
            CheckStatus::Pass => "✓",
            CheckStatus::Fail => "✗",
            CheckStatus::Info => "·",
        };
        let _ = writeln!(out, "  {mark} {}: {}", c.title, c.explanation);
    }
    let _ = writeln!(out, "\nexplanations:");
    for line in &result.explanations {
        let _ = writeln!(out, "  {line}");
    }
    if !result.design_issues.is_empty() {
        let _ = writeln!(out, "\ndesign issues:");
        for i in &result.design_issues {
            let _ = writeln!(out, "  {}: {}", i.code, i.message);
        }
    }
    out
}
