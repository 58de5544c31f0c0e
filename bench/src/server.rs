//! The servers under test as child processes, and what they cost, read from `/proc`.
//!
//! Each scenario starts fresh server processes (so one scenario's documents never inflate the next
//! one's memory figure), waits until they answer, samples their resident memory and CPU time every
//! 100 ms while the scenario runs, and stops them with SIGTERM (SIGKILL after a grace period). The
//! kernel's own high-water mark (`VmHWM`) is reset through `/proc/<pid>/clear_refs` at the start of
//! a measured phase, so the peak it reports belongs to that phase; the 100 ms samples back it up
//! where `clear_refs` is not permitted.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde::Serialize;
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

use crate::client::WsUrl;
use crate::http;

/// Which server a figure belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Tierboard,
    Reference,
    /// The null relay (`crate::relay`): what the machine leaves for any server, scenarios 1 to 3.
    Relay,
    /// Hocuspocus (`@hocuspocus/server` with its SQLite extension), run by `bench/reference/hocuspocus.mjs`.
    Hocuspocus,
    /// y-sweet (the `y-sweet` crate's server) with a local store folder.
    YSweet,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Tierboard => "tierboard",
            Kind::Reference => "reference",
            Kind::Relay => "relay",
            Kind::Hocuspocus => "hocuspocus",
            Kind::YSweet => "y-sweet",
        }
    }
}

/// Where the servers' programs are and where their data goes.
#[derive(Debug, Clone)]
pub struct Setup {
    /// `target/release/tierboard`.
    pub tierboard_bin: PathBuf,
    /// Folder with `node_modules/@y/websocket-server`, `node_modules/@hocuspocus/server` and the
    /// script that runs Hocuspocus (`hocuspocus.mjs`).
    pub reference_dir: PathBuf,
    /// The `y-sweet` binary (`scripts/bench` installs it into `bench/ysweet/`).
    pub ysweet_bin: PathBuf,
    /// The problem bank tierboard serves (`problems/`).
    pub problems: PathBuf,
    /// Scratch folder for databases and logs of this run.
    pub work_dir: PathBuf,
    /// Redis for the two-instance scenario.
    pub redis_url: String,
}

/// Options for one tierboard process.
#[derive(Debug, Clone, Default)]
pub struct TierboardOpts {
    pub database_url: Option<String>,
    pub redis_url: Option<String>,
    pub port: Option<u16>,
}

/// A running server process.
pub struct Server {
    pub kind: Kind,
    pub addr: SocketAddr,
    pub pid: u32,
    child: Child,
    log: PathBuf,
    usage: Arc<Mutex<Sampled>>,
    sampler: JoinHandle<()>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Sampled {
    peak_rss: u64,
    last_rss: u64,
    samples: u64,
}

/// Memory and CPU of a server process at one moment.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Usage {
    /// Resident memory now, bytes.
    pub rss: u64,
    /// Highest resident memory since the last [`Server::reset_peak`]: the kernel's `VmHWM` or the
    /// highest 100 ms sample, whichever is larger.
    pub peak_rss: u64,
    /// User + system CPU time since the process started, seconds.
    pub cpu_secs: f64,
    /// Bytes the process caused to be written to storage since it started (`write_bytes` in
    /// `/proc/<pid>/io`): the database's WAL, checkpoints and logs.
    pub disk_written: u64,
}

/// The text of `<bin> serve --help`, empty when it cannot be run (the start that follows then says why).
fn serve_help(bin: &Path) -> String {
    std::process::Command::new(bin)
        .args(["serve", "--help"])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default()
}

pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

impl Server {
    /// Starts `tierboard serve` and waits until `/healthz` answers.
    pub async fn tierboard(setup: &Setup, opts: TierboardOpts, tag: &str) -> Result<Server> {
        let port = match opts.port {
            Some(p) => p,
            None => free_port()?,
        };
        let database_url = match opts.database_url {
            Some(url) => url,
            None => format!(
                "sqlite://{}",
                setup.work_dir.join(format!("{tag}.db")).display()
            ),
        };
        let mut cmd = Command::new(&setup.tierboard_bin);
        cmd.arg("serve")
            .arg("--addr")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--database-url")
            .arg(&database_url)
            .arg("--problems")
            .arg(&setup.problems);
        // Every benchmark client connects from loopback, so the per-address and total caps would
        // refuse them, and scenarios create a thousand rooms from one address. An older binary (a
        // base commit in `scripts/bench-compare`) predates these flags and would refuse to start if
        // given them: pass only those its `serve --help` lists.
        let help = serve_help(&setup.tierboard_bin);
        for flag in [
            "--max-connections-per-address",
            "--max-connections",
            "--room-creations-per-minute",
        ] {
            if help
                .split(|c: char| c.is_whitespace() || c == ',' || c == '=' || c == '<')
                .any(|word| word == flag)
            {
                cmd.arg(flag).arg("0");
            }
        }
        if let Some(redis) = &opts.redis_url {
            cmd.arg("--redis-url").arg(redis);
        }
        // `BENCH_SERVER_LOG` (a `RUST_LOG` filter) to see what the server did during a run; its log
        // is in the run's scratch folder.
        cmd.env(
            "RUST_LOG",
            std::env::var("BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
        );
        let server = Server::spawn(Kind::Tierboard, cmd, port, setup, tag)?;
        server.wait_ready(true).await
    }

    /// Starts the reference Node server (`@y/websocket-server`), optionally persisting to LevelDB.
    pub async fn reference(setup: &Setup, persist: Option<&Path>, tag: &str) -> Result<Server> {
        Server::reference_at(setup, persist, free_port()?, tag).await
    }

    /// Starts the reference server on a given port (a restart keeps its address).
    pub async fn reference_at(
        setup: &Setup,
        persist: Option<&Path>,
        port: u16,
        tag: &str,
    ) -> Result<Server> {
        let script = setup
            .reference_dir
            .join("node_modules/@y/websocket-server/src/server.js");
        if !script.exists() {
            bail!(
                "{} is missing: install it with `npm install --prefix {} @y/websocket-server@0.1.1 yjs@13`",
                script.display(),
                setup.reference_dir.display()
            );
        }
        let mut cmd = Command::new("node");
        // The default heap limit would end the reference server on the 20 MB document scenario before
        // it had a chance to finish; give it the room a real deployment would.
        cmd.arg("--max-old-space-size=8192")
            .arg(&script)
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string());
        if let Some(dir) = persist {
            cmd.env("YPERSISTENCE", dir);
        }
        let server = Server::spawn(Kind::Reference, cmd, port, setup, tag)?;
        server.wait_ready(false).await
    }

    /// Starts the null relay (`tierboard-bench relay`, this same program) in its own process, so
    /// that its CPU and memory are read like any server's.
    pub async fn relay(setup: &Setup, tag: &str) -> Result<Server> {
        let port = free_port()?;
        let exe = std::env::current_exe().context("locating tierboard-bench itself")?;
        let mut cmd = Command::new(exe);
        cmd.arg("relay").arg("--port").arg(port.to_string());
        let server = Server::spawn(Kind::Relay, cmd, port, setup, tag)?;
        server.wait_ready(false).await
    }

    /// Starts Hocuspocus with its SQLite extension on a database file of this run (`db` names it, so
    /// that a restart finds the same documents).
    pub async fn hocuspocus_at(setup: &Setup, db: &Path, port: u16, tag: &str) -> Result<Server> {
        let script = setup.reference_dir.join("hocuspocus.mjs");
        let module = setup
            .reference_dir
            .join("node_modules/@hocuspocus/server/package.json");
        if !module.exists() {
            bail!(
                "{} is missing: run `npm ci --prefix {}` (scripts/bench does)",
                module.display(),
                setup.reference_dir.display()
            );
        }
        let mut cmd = Command::new("node");
        cmd.arg("--max-old-space-size=8192")
            .arg(&script)
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("HOCUSPOCUS_DB", db);
        let server = Server::spawn(Kind::Hocuspocus, cmd, port, setup, tag)?;
        server.wait_ready(false).await
    }

    /// Starts y-sweet with a store folder of this run (`store` names it, so that a restart finds
    /// the same documents). No auth key: every document is open, as for the other servers here.
    pub async fn ysweet_at(setup: &Setup, store: &Path, port: u16, tag: &str) -> Result<Server> {
        if !setup.ysweet_bin.exists() {
            bail!(
                "{} is missing: `cargo install y-sweet --locked --root bench/ysweet` (scripts/bench does)",
                setup.ysweet_bin.display()
            );
        }
        std::fs::create_dir_all(store)?;
        let mut cmd = Command::new(&setup.ysweet_bin);
        cmd.arg("serve")
            .arg(store)
            .arg("--host")
            .arg("127.0.0.1")
            .arg("--port")
            .arg(port.to_string())
            // Its default is 10 s: a document is written to the store at most that often. One
            // second matches how soon tierboard stores an edit (scenario 6 restarts the server).
            .arg("--checkpoint-freq-seconds")
            .arg("1")
            .env("RUST_LOG", "warn");
        let server = Server::spawn(Kind::YSweet, cmd, port, setup, tag)?;
        server.wait_ready(false).await
    }

    fn spawn(kind: Kind, mut cmd: Command, port: u16, setup: &Setup, tag: &str) -> Result<Server> {
        let log = setup.work_dir.join(format!("{tag}.log"));
        let out =
            std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        cmd.stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .kill_on_drop(true);
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {} ({:?})", kind.name(), cmd.as_std()))?;
        let pid = child.id().ok_or_else(|| anyhow!("child exited at once"))?;
        let usage = Arc::new(Mutex::new(Sampled::default()));
        let sampler = tokio::spawn(sample(pid, usage.clone()));
        Ok(Server {
            kind,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            pid,
            child,
            log,
            usage,
            sampler,
        })
    }

    async fn wait_ready(mut self, health: bool) -> Result<Server> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "{} exited during start-up ({status}); log {}:\n{}",
                    self.kind.name(),
                    self.log.display(),
                    self.log_tail()
                );
            }
            let ready = if health {
                matches!(http::request(self.addr, "GET", "/healthz", None).await, Ok(r) if r.status == 200)
            } else {
                tokio::net::TcpStream::connect(self.addr).await.is_ok()
            };
            if ready {
                return Ok(self);
            }
            if Instant::now() > deadline {
                bail!(
                    "{} did not answer on {} within 30 s; log:\n{}",
                    self.kind.name(),
                    self.addr,
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The last lines of the server's log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// The WebSocket URL of a room path on this server.
    ///
    /// Hocuspocus takes every connection on `/` and reads the document's name from each message:
    /// the path names the document there.
    pub fn ws(&self, path: &str) -> Result<WsUrl> {
        if self.kind == Kind::Hocuspocus {
            let mut url = WsUrl::parse(&format!("ws://{}/", self.addr))?;
            url.framing = crate::wire::Framing::named(path.trim_start_matches('/'));
            return Ok(url);
        }
        WsUrl::parse(&format!("ws://{}{}", self.addr, path))
    }

    /// Starts a new peak-memory window.
    pub fn reset_peak(&self) {
        // "5" resets the peak RSS (VmHWM) to the current RSS (proc(5)); needs root or CAP_SYS_RESOURCE.
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5");
        let mut s = self.usage.lock().expect("usage lock");
        let now = read_rss(self.pid).unwrap_or(s.last_rss);
        s.peak_rss = now;
        s.last_rss = now;
    }

    pub fn usage(&self) -> Usage {
        let sampled = *self.usage.lock().expect("usage lock");
        let status = read_status(self.pid).unwrap_or_default();
        Usage {
            rss: if status.rss > 0 {
                status.rss
            } else {
                sampled.last_rss
            },
            peak_rss: sampled.peak_rss.max(status.hwm).max(status.rss),
            cpu_secs: read_cpu_secs(self.pid).unwrap_or(0.0),
            disk_written: read_disk_written(self.pid).unwrap_or(0),
        }
    }

    /// SIGTERM, then SIGKILL after `grace`. Returns how long the process took to exit.
    pub async fn stop(mut self, grace: Duration) -> Result<Duration> {
        self.sampler.abort();
        let started = Instant::now();
        if self.child.try_wait()?.is_none() {
            // SAFETY: kill(2) with a pid we spawned and have not reaped yet.
            unsafe {
                libc::kill(self.pid as libc::pid_t, libc::SIGTERM);
            }
            if tokio::time::timeout(grace, self.child.wait())
                .await
                .is_err()
            {
                self.child.kill().await?;
                bail!(
                    "{} did not exit within {grace:?} of SIGTERM; killed",
                    self.kind.name()
                );
            }
        }
        Ok(started.elapsed())
    }
}

async fn sample(pid: u32, usage: Arc<Mutex<Sampled>>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        let Some(rss) = read_rss(pid) else { return };
        let mut s = usage.lock().expect("usage lock");
        s.last_rss = rss;
        s.peak_rss = s.peak_rss.max(rss);
        s.samples += 1;
    }
}

#[derive(Debug, Default)]
struct Status {
    rss: u64,
    hwm: u64,
}

fn read_status(pid: u32) -> Option<Status> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    };
    Some(Status {
        rss: field("VmRSS:")?,
        hwm: field("VmHWM:").unwrap_or(0),
    })
}

fn read_rss(pid: u32) -> Option<u64> {
    read_status(pid).map(|s| s.rss)
}

/// utime + stime from `/proc/<pid>/stat`, in seconds.
pub fn read_cpu_secs(pid: u32) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ")": field 3 is state (index 0); utime is field 14 (index 11), stime 15 (index 12).
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Some((utime + stime) / ticks.max(1.0))
}

/// The load generator's own CPU time so far, seconds (it shares the machine with the server).
pub fn own_cpu_secs() -> f64 {
    read_cpu_secs(std::process::id()).unwrap_or(0.0)
}

/// The whole machine's CPU counters at one moment: `/proc/stat`'s first line (in clock ticks) and the
/// kernel's CPU pressure (`/proc/pressure/cpu`, microseconds during which some runnable task waited for
/// a core), when it reports one.
#[derive(Debug, Clone, Copy)]
pub struct CpuCounters {
    at: Instant,
    total: u64,
    idle: u64,
    steal: u64,
    pressure_us: Option<u64>,
}

/// How busy the whole machine was between two [`CpuCounters`]: the server and the generator share it,
/// so a step that fails on a saturated machine says so in its own figures.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct MachineLoad {
    /// Share of all cores' time not idle (every process and the kernel), 0–1.
    pub busy: f64,
    /// Share of all cores' time the hypervisor reports as stolen, 0–1.
    pub steal: f64,
    /// Share of wall time during which at least one runnable task waited for a core (PSI "some"),
    /// 0–1; absent where the kernel has no pressure accounting.
    pub cpu_pressure: Option<f64>,
}

impl CpuCounters {
    pub fn now() -> CpuCounters {
        let at = Instant::now();
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        // cpu user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is
        // already counted in user, so only the first eight fields are summed.
        let fields: Vec<u64> = stat
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .skip(1)
            .take(8)
            .filter_map(|v| v.parse().ok())
            .collect();
        let field = |i: usize| fields.get(i).copied().unwrap_or(0);
        let pressure_us = std::fs::read_to_string("/proc/pressure/cpu")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|line| line.starts_with("some "))?
                    .split_whitespace()
                    .find_map(|kv| kv.strip_prefix("total="))?
                    .parse()
                    .ok()
            });
        CpuCounters {
            at,
            total: fields.iter().sum(),
            idle: field(3) + field(4),
            steal: field(7),
            pressure_us,
        }
    }
}

impl MachineLoad {
    pub fn between(before: CpuCounters, after: CpuCounters) -> MachineLoad {
        let total = after.total.saturating_sub(before.total).max(1) as f64;
        let wall_us = after.at.duration_since(before.at).as_micros().max(1) as f64;
        MachineLoad {
            busy: 1.0 - after.idle.saturating_sub(before.idle) as f64 / total,
            steal: after.steal.saturating_sub(before.steal) as f64 / total,
            cpu_pressure: before
                .pressure_us
                .zip(after.pressure_us)
                .map(|(a, b)| (b.saturating_sub(a) as f64 / wall_us).min(1.0)),
        }
    }
}

/// `write_bytes` of `/proc/<pid>/io`: what the process sent to storage (page-cache writes are
/// counted when they are written back, to the process that dirtied them).
pub fn read_disk_written(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix("write_bytes:"))
        .and_then(|v| v.trim().parse().ok())
}

/// Raises this process's open-file limit (children inherit it): thousands of sockets on each side.
pub fn raise_fd_limit(want: u64) -> Result<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid pointer to a local struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            bail!("getrlimit: {}", std::io::Error::last_os_error());
        }
        let raised = libc::rlimit {
            rlim_cur: want,
            rlim_max: lim.rlim_max.max(want),
        };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
            return Ok(want);
        }
        // Without the privilege to raise the hard limit, take what the hard limit allows.
        let capped = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &capped) != 0 {
            bail!("setrlimit: {}", std::io::Error::last_os_error());
        }
        Ok(lim.rlim_max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process_from_proc() {
        let pid = std::process::id();
        let status = read_status(pid).unwrap();
        assert!(status.rss > 0 && status.hwm >= status.rss / 2);
        assert!(read_cpu_secs(pid).unwrap() >= 0.0);
        // Writing and syncing a file shows up in `write_bytes` (a tmpfs temp dir would not count:
        // write next to the sources, which are on disk, and remove it).
        let before = read_disk_written(pid).unwrap();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!(".disk-written-{pid}.bin"));
        let mut file = std::fs::File::create(&path).unwrap();
        std::io::Write::write_all(&mut file, &vec![1u8; 1 << 20]).unwrap();
        file.sync_all().unwrap();
        let after = read_disk_written(pid).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(after >= before + (1 << 20), "{before} -> {after}");
    }
}
