//! `tierboard validate --problem <id> design.json`: print a readable tier table, exit non-zero when a
//! tier is not reached.

use std::fmt::Write as _;
use std::path::Path;

use crate::problems::Problem;

use super::{ValidationResult, validate};

/// Exit status when every tier is reached.
pub const EXIT_ALL_REACHED: i32 = 0;
/// Exit status when some tier is not reached.
pub const EXIT_NOT_REACHED: i32 = 1;
/// Exit status when the design or the problem could not be read.
pub const EXIT_ERROR: i32 = 2;

/// Runs the command and returns the process exit status; the table goes to stdout, errors to stderr.
pub fn run(problem: &str, design: &Path, problems: &Path) -> i32 {
    match check(problem, design, problems) {
        Ok((table, all_reached)) => {
            print!("{table}");
            if all_reached {
                EXIT_ALL_REACHED
            } else {
                EXIT_NOT_REACHED
            }
        }
        Err(e) => {
            eprintln!("tierboard validate: {e:#}");
            EXIT_ERROR
        }
    }
}

/// Loads the bank and the design, validates, and returns the table and whether every tier is reached.
pub fn check(problem: &str, design: &Path, problems: &Path) -> anyhow::Result<(String, bool)> {
    let (bank, problem, design) =
        crate::problems::cli::load_check_inputs(problem, design, problems)?;
    let result = validate(&problem, bank.catalog(), &design);
    Ok((render(&problem, &result), result.all_reached()))
}

/// The tier table: one block per tier with a mark per rule and its explanation, then the design issues
/// and advisories.
pub fn render(problem: &Problem, result: &ValidationResult) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} ({})", problem.title, problem.id);
    let _ = writeln!(
        out,
        "{} of {} tiers reached\n",
        result.reached,
        result.tiers.len()
    );
    for tier in &result.tiers {
        let status = match (tier.reached, tier.passed) {
            (true, _) => "reached",
            (false, true) => "passes, but an earlier tier does not",
            (false, false) => "not reached",
        };
        let _ = writeln!(
            out,
            "{} {}  {}  [{status}]",
            mark(tier.reached),
            tier.id,
            tier.title
        );
        for rule in &tier.rules {
            let _ = writeln!(out, "    {} {}", mark(rule.passed), rule.text);
            let _ = writeln!(out, "        {}", rule.explanation);
        }
    }
    if !result.design_issues.is_empty() {
        let _ = writeln!(out, "\ndesign issues:");
        for issue in &result.design_issues {
            let code = serde_json::to_value(issue.code).unwrap_or_default();
            let _ = writeln!(out, "  {}: {}", code.as_str().unwrap_or("?"), issue.message);
        }
    }
    if !result.advisories.is_empty() {
        let _ = writeln!(out, "\nadvisories:");
        for advisory in &result.advisories {
            let code = serde_json::to_value(advisory.code).unwrap_or_default();
            let _ = writeln!(
                out,
                "  {}: {}",
                code.as_str().unwrap_or("?"),
                advisory.message
            );
        }
    }
    out
}

fn mark(ok: bool) -> &'static str {
    if ok { "✓" } else { "✗" }
}
