//! Results: the JSON written per run and the table in `BENCHMARKS.md`.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::server::Usage;
use crate::stats::Latency;

/// The result of one scenario on one server.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub status: Status,
    /// Why a figure is missing (not available, failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The figure the floor is about, in `Scenario::unit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub figure: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<Latency>,
    /// The server process during the measured phase.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerCost>,
    /// Everything else the scenario measured.
    pub details: Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    NotAvailable,
    Failed,
    Skipped,
}

/// Memory and CPU of the server process(es) over a measured phase.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ServerCost {
    pub rss_mb: f64,
    pub peak_rss_mb: f64,
    /// CPU seconds (user + system) used during the phase.
    pub cpu_secs: f64,
    /// MB the server wrote to storage during the phase (its database; Node's LevelDB for the
    /// reference).
    pub disk_written_mb: f64,
}

impl ServerCost {
    pub fn between(before: Usage, after: Usage) -> ServerCost {
        ServerCost {
            rss_mb: mb(after.rss),
            peak_rss_mb: mb(after.peak_rss),
            cpu_secs: (after.cpu_secs - before.cpu_secs).max(0.0),
            disk_written_mb: mb(after.disk_written.saturating_sub(before.disk_written)),
        }
    }
}

pub fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

impl Outcome {
    pub fn ok(figure: f64) -> Outcome {
        Outcome {
            status: Status::Ok,
            reason: None,
            figure: Some(figure),
            latency: None,
            server: None,
            details: Map::new(),
        }
    }

    pub fn latency(latency: Latency) -> Outcome {
        let mut o = Outcome::ok(latency.p99_ms);
        o.latency = Some(latency);
        o
    }

    pub fn not_available(reason: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::NotAvailable,
            reason: Some(reason.into()),
            figure: None,
            latency: None,
            server: None,
            details: Map::new(),
        }
    }

    pub fn failed(reason: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::Failed,
            ..Outcome::not_available(reason)
        }
    }

    pub fn skipped(reason: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::Skipped,
            ..Outcome::not_available(reason)
        }
    }

    pub fn with(mut self, key: &str, value: impl Serialize) -> Outcome {
        self.details.insert(
            key.to_string(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
        self
    }

    pub fn cost(mut self, cost: ServerCost) -> Outcome {
        self.server = Some(cost);
        self
    }
}

/// One scenario's figures for both servers and the verdict against its floor.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    pub id: u8,
    pub title: String,
    /// What the figure is and its unit, e.g. "p99 latency (ms)".
    pub figure: String,
    pub floor: String,
    /// `true` / `false`; `null` when tierboard has no figure.
    pub floor_met: Option<bool>,
    /// tierboard's figure divided by the reference server's.
    pub ratio: Option<f64>,
    /// Parameters that differ from the (quick mode), stated in the table.
    pub notes: Vec<String>,
    pub tierboard: Outcome,
    pub reference: Outcome,
    /// The null relay's figure (scenarios 1 to 3, when it ran): what the machine allows any server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relay: Option<Outcome>,
    /// Hocuspocus's figure, when it ran (issue 26).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hocuspocus: Option<Outcome>,
    /// y-sweet's figure, when it ran (issue 26).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ysweet: Option<Outcome>,
}

impl ScenarioResult {
    /// tierboard's figure over another server's, when both have one.
    pub fn ratio_to(&self, other: &Outcome) -> Option<f64> {
        ratio(&self.tierboard, other)
    }
}

/// `a`'s figure divided by `b`'s, when both ran to a figure.
pub fn ratio(a: &Outcome, b: &Outcome) -> Option<f64> {
    match (a.status, b.status, a.figure, b.figure) {
        (Status::Ok, Status::Ok, Some(x), Some(y)) if y > 0.0 => Some(x / y),
        _ => None,
    }
}

/// The whole run.
#[derive(Debug, Serialize)]
pub struct Run {
    pub started_utc: String,
    pub duration_secs: f64,
    pub quick: bool,
    pub command: String,
    pub machine: Machine,
    pub scenarios: Vec<ScenarioResult>,
}

#[derive(Debug, Serialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_gb: f64,
    pub kernel: String,
    pub node: String,
    pub reference_server: String,
    pub tierboard_commit: String,
}

impl Machine {
    pub fn describe(reference_version: String, commit: String) -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_else(|| "unknown".into());
        let cores = cpuinfo
            .lines()
            .filter(|l| l.starts_with("processor"))
            .count();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_kb: f64 = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let node = std::process::Command::new("node")
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|| "not found".into());
        Machine {
            cpu,
            cores,
            memory_gb: mem_kb / (1024.0 * 1024.0),
            kernel,
            node,
            reference_server: reference_version,
            tierboard_commit: commit,
        }
    }
}

fn fmt_num(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else if x.abs() >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

fn cell(o: &Outcome) -> String {
    match o.status {
        Status::Ok => {
            let mut s = o.figure.map(fmt_num).unwrap_or_else(|| "—".into());
            if let Some(l) = &o.latency {
                if o.figure == Some(l.p99_ms) {
                    s = format!(
                        "**{}** (p50 {} · p90 {} · max {})",
                        fmt_num(l.p99_ms),
                        fmt_num(l.p50_ms),
                        fmt_num(l.p90_ms),
                        fmt_num(l.max_ms)
                    );
                } else {
                    // The figure is something else (scenario 3's rate): the latency comes after it.
                    s = format!(
                        "**{s}** (p99 {} ms · p50 {} · max {})",
                        fmt_num(l.p99_ms),
                        fmt_num(l.p50_ms),
                        fmt_num(l.max_ms)
                    );
                }
            } else {
                s = format!("**{s}**");
            }
            if let Some(extra) = o.details.get("table_note").and_then(|v| v.as_str()) {
                s.push_str(&format!("; {extra}"));
            }
            s
        }
        Status::NotAvailable => format!(
            "not available: {}",
            o.reason.as_deref().unwrap_or("no reason given")
        ),
        Status::Failed => format!("failed: {}", o.reason.as_deref().unwrap_or("unknown")),
        Status::Skipped => format!("skipped: {}", o.reason.as_deref().unwrap_or("")),
    }
}

fn cost_cell(o: &Outcome) -> String {
    match &o.server {
        Some(c) => format!(
            "{} MB peak · {} s CPU",
            fmt_num(c.peak_rss_mb),
            fmt_num(c.cpu_secs)
        ),
        None => "—".into(),
    }
}

/// The Markdown table (and its preamble) that goes between the markers in `BENCHMARKS.md`.
pub fn markdown(run: &Run) -> String {
    let m = &run.machine;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Latest run: {} UTC, {:.0} s{}, tierboard `{}`. Reproduce with `scripts/bench{}`.\n",
        run.started_utc,
        run.duration_secs,
        if run.quick { ", quick mode" } else { "" },
        m.tierboard_commit,
        if run.quick { " --quick" } else { "" }
    );
    let _ = writeln!(
        s,
        "Machine: {} × {} cores, {:.1} GB RAM, Linux {}; Node {} running {}. The load generator runs on \
         the same machine and shares its cores with the server under test.\n",
        m.cpu, m.cores, m.memory_gb, m.kernel, m.node, m.reference_server
    );
    let loads: Vec<f64> = run
        .scenarios
        .iter()
        .flat_map(|r| [&r.tierboard, &r.reference])
        .filter_map(|o| o.details.get("loadavg_1m_before").and_then(|v| v.as_f64()))
        .filter(|x| x.is_finite())
        .collect();
    if let (Some(lo), Some(hi)) = (
        loads.iter().copied().reduce(f64::min),
        loads.iter().copied().reduce(f64::max),
    ) {
        let _ = writeln!(
            s,
            "1-minute load average at the start of the scenarios: {lo:.1}–{hi:.1} (2 cores; anything above \
             ~1.5 means other work competed with the servers and the generator).\n"
        );
    }
    s.push_str("| # | scenario | figure | floor | tierboard | reference | tierboard / reference | floor met | server cost (tierboard · reference) |\n");
    s.push_str("|---|---|---|---|---|---|---|---|---|\n");
    for r in &run.scenarios {
        let ratio = r
            .ratio
            .map(|x| format!("{}×", fmt_num(x)))
            .unwrap_or_else(|| "—".into());
        let met = match r.floor_met {
            Some(true) => "yes".to_string(),
            Some(false) => "**no**".to_string(),
            None => "—".to_string(),
        };
        let mut title = r.title.clone();
        for n in &r.notes {
            title.push_str(&format!(" ({n})"));
        }
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} · {} |",
            r.id,
            title,
            r.figure,
            r.floor,
            cell(&r.tierboard),
            cell(&r.reference),
            ratio,
            met,
            cost_cell(&r.tierboard),
            cost_cell(&r.reference)
        );
    }
    if let Some(relay) = relay_table(run) {
        s.push_str(&relay);
    }
    if let Some(deployed) = deployed_table(run) {
        s.push_str(&deployed);
    }
    s
}

/// tierboard beside the Yjs servers people deploy (Hocuspocus, y-sweet), with its ratio to each.
fn deployed_table(run: &Run) -> Option<String> {
    let rows: Vec<&ScenarioResult> = run
        .scenarios
        .iter()
        .filter(|r| r.hocuspocus.is_some() || r.ysweet.is_some())
        .collect();
    if rows.is_empty() {
        return None;
    }
    let mut s = String::new();
    s.push_str(
        "\nAgainst the Yjs servers people deploy, in the same run: Hocuspocus (`@hocuspocus/server` with \
         its SQLite extension, `bench/reference/hocuspocus.mjs`) and y-sweet (the `y-sweet` crate's \
         server with a local store folder). What each does per update is in the section \
         \"The servers compared\" below. A ratio below 1 is tierboard's advantage for times and \
         memory, above 1 for rates (scenario 3).\n\n",
    );
    s.push_str("| # | figure | tierboard | Hocuspocus | tierboard / Hocuspocus | y-sweet | tierboard / y-sweet | server cost (Hocuspocus · y-sweet) |\n");
    s.push_str("|---|---|---|---|---|---|---|---|\n");
    let missing = Outcome::skipped("not selected for this run");
    for r in rows {
        let hp = r.hocuspocus.as_ref().unwrap_or(&missing);
        let ys = r.ysweet.as_ref().unwrap_or(&missing);
        let ratio_cell = |o: &Outcome| {
            r.ratio_to(o)
                .map(|x| format!("{}×", fmt_num(x)))
                .unwrap_or_else(|| "—".into())
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} · {} |",
            r.id,
            r.figure,
            r.tierboard
                .figure
                .filter(|_| r.tierboard.status == Status::Ok)
                .map(fmt_num)
                .unwrap_or_else(|| "—".into()),
            cell(hp),
            ratio_cell(hp),
            cell(ys),
            ratio_cell(ys),
            cost_cell(hp),
            cost_cell(ys)
        );
    }
    Some(s)
}

/// Whether the relay's figure reaches the floor of its scenario: if it does not, no server can on
/// this machine with this generator.
fn relay_reaches_floor(r: &ScenarioResult, relay: &Outcome) -> Option<bool> {
    let x = relay.figure.filter(|_| relay.status == Status::Ok)?;
    Some(match r.id {
        1 => x <= 1.0,
        2 => x <= 15.0,
        3 => {
            let reference = r
                .reference
                .figure
                .filter(|_| r.reference.status == Status::Ok)?;
            x >= 3.0 * reference
        }
        _ => return None,
    })
}

/// The calibration table: the null relay's figures beside the two servers'.
fn relay_table(run: &Run) -> Option<String> {
    let rows: Vec<(&ScenarioResult, &Outcome)> = run
        .scenarios
        .iter()
        .filter_map(|r| r.relay.as_ref().map(|o| (r, o)))
        .collect();
    if rows.is_empty() {
        return None;
    }
    let mut s = String::new();
    s.push_str(
        "\nWhat the machine allows: the same scenarios against the null relay (`tierboard-bench relay`), a \
         y-websocket server that only forwards each update to the room's other connections (no document, \
         no storage; awareness forwarded, not kept), with the same generator on the same cores, in the same run. Every \
         server does at least the relay's work, so a floor the relay misses is out of reach for any \
         server on this machine with this generator.\n\n",
    );
    s.push_str("| # | figure | floor | relay (null server) | tierboard | reference | floor within the relay's reach |\n");
    s.push_str("|---|---|---|---|---|---|---|\n");
    for (r, relay) in rows {
        let reach = match relay_reaches_floor(r, relay) {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "—",
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} (server cost {}) | {} | {} | {} |",
            r.id,
            r.figure,
            r.floor,
            cell(relay),
            cost_cell(relay),
            r.tierboard
                .figure
                .map(fmt_num)
                .unwrap_or_else(|| "—".into()),
            r.reference
                .figure
                .map(fmt_num)
                .unwrap_or_else(|| "—".into()),
            reach
        );
    }
    Some(s)
}

const BEGIN: &str = "<!-- bench:begin (written by scripts/bench; edit outside the markers) -->";
const END: &str = "<!-- bench:end -->";

/// Rewrites the table between the markers of `BENCHMARKS.md`, keeping everything else.
pub fn update_markdown(path: &Path, table: &str) -> Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let block = format!("{BEGIN}\n{table}{END}");
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if e > b => format!("{}{}{}", &old[..b], block, &old[e + END.len()..]),
        _ => format!("# Benchmarks\n\n{block}\n\n{old}"),
    };
    std::fs::write(path, new).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_replaced_between_markers_only() {
        let dir = std::env::temp_dir().join(format!("bench-md-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("B.md");
        std::fs::write(&path, format!("intro\n{BEGIN}\nold\n{END}\noutro\n")).unwrap();
        update_markdown(&path, "new\n").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, format!("intro\n{BEGIN}\nnew\n{END}\noutro\n"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn cells_say_why_a_figure_is_missing() {
        assert_eq!(
            cell(&Outcome::not_available("no Redis")),
            "not available: no Redis"
        );
        assert!(cell(&Outcome::ok(2.5)).contains("2.50"));
    }
}
