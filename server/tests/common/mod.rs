//! Shared helpers for the integration tests: a real server on port 0 and a y-websocket client built on
//! yrs, both driven from the test.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tierboard::config::ServeConfig;
use tierboard::problems::Bank;
use tierboard::sync::protocol;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

pub const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The committed problem bank, loaded once per test binary.
pub fn bank() -> Arc<Bank> {
    static BANK: OnceLock<Arc<Bank>> = OnceLock::new();
    BANK.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../problems");
        Arc::new(Bank::load(&dir).expect("the committed problem bank loads"))
    })
    .clone()
}

/// A fresh SQLite database file in a temporary folder (kept for the test's lifetime).
pub fn sqlite_url() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    (dir, url)
}

/// Fails with a clear message when PostgreSQL is down.
pub async fn require_postgres() {
    if TcpStream::connect("127.0.0.1:5432").await.is_err() {
        panic!(
            "PostgreSQL is not reachable on 127.0.0.1:5432: start it with \
             `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`"
        );
    }
}

/// A server running in this process on an ephemeral port.
pub struct TestServer {
    pub addr: SocketAddr,
    pub state: tierboard::AppState,
    shutdown: CancellationToken,
    task: JoinHandle<tierboard::Result<()>>,
}

impl TestServer {
    pub async fn start(database_url: &str) -> TestServer {
        TestServer::start_with(ServeConfig::for_test(database_url, "problems")).await
    }

    pub async fn start_with(config: ServeConfig) -> TestServer {
        let server = tierboard::Server::bind_with(config, bank())
            .await
            .expect("server binds");
        let addr = server.local_addr();
        let state = server.state().clone();
        let shutdown = server.shutdown_token();
        let task = tokio::spawn(server.run());
        TestServer {
            addr,
            state,
            shutdown,
            task,
        }
    }

    /// Graceful shutdown, as on SIGTERM.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.task
            .await
            .expect("server task")
            .expect("clean shutdown");
    }

    pub fn ws_url(&self, room: &str, token: &str) -> String {
        format!("ws://{}/ws/{room}?token={token}", self.addr)
    }

    /// `POST /api/rooms`, returning (room, edit token, view token).
    pub async fn create_room(&self, problem: &str) -> (String, String, String) {
        create_room_at(self.addr, problem).await
    }
}

/// `POST /api/rooms` on the server at `addr`, returning (room, edit token, view token).
pub async fn create_room_at(addr: SocketAddr, problem: &str) -> (String, String, String) {
    let body = serde_json::json!({ "problem": problem }).to_string();
    let (status, json) = http(addr, "POST", "/api/rooms", Some(&body)).await;
    assert_eq!(status, 201, "create room: {json}");
    (
        json["room"].as_str().unwrap().to_string(),
        json["tokens"]["edit"].as_str().unwrap().to_string(),
        json["tokens"]["view"].as_str().unwrap().to_string(),
    )
}

/// A minimal HTTP/1.1 client (the tests need a handful of requests, not a dependency).
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response);
    let status: u16 = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    // Chunked bodies are not expected from axum for small JSON; fall back to Null if it is not JSON.
    (
        status,
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    )
}

/// Whether `GET /healthz` answers 200 (any I/O error: not yet).
async fn healthz_ok(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return false;
    };
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut response = Vec::new();
    if stream.read_to_end(&mut response).await.is_err() {
        return false;
    }
    response.starts_with(b"HTTP/1.1 200")
}

/// A y-websocket client with a real yrs document.
pub struct WsClient {
    pub doc: Doc,
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub synced: bool,
    pub tierboard: Vec<serde_json::Value>,
    pub close_code: Option<u16>,
    /// `[0, 2, update]` messages received (a merged run of updates counts once).
    pub updates_received: usize,
    /// Every binary message received, as it came over the wire, concatenated.
    pub raw: Vec<u8>,
}

impl WsClient {
    /// Connects and completes the sync handshake.
    pub async fn connect(url: &str) -> WsClient {
        let mut client = WsClient::connect_unsynced(url).await;
        client
            .pump_until(Duration::from_secs(10), |c| c.synced)
            .await;
        client
    }

    /// Connects and sends sync step 1, without waiting for the answer.
    pub async fn connect_unsynced(url: &str) -> WsClient {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("websocket connects");
        let mut client = WsClient {
            doc: Doc::new(),
            ws,
            synced: false,
            tierboard: Vec::new(),
            close_code: None,
            updates_received: 0,
            raw: Vec::new(),
        };
        let sv = client.doc.transact().state_vector().encode_v1();
        client.send(protocol::encode_step1(&sv)).await;
        client
    }

    pub async fn send(&mut self, frame: bytes::Bytes) {
        self.ws.send(Message::Binary(frame)).await.expect("send");
    }

    /// Sends a local change: `edit` mutates the doc; the resulting update goes to the server.
    pub async fn edit(&mut self, edit: impl FnOnce(&Doc, &mut yrs::TransactionMut)) {
        let update = {
            let mut txn = self.doc.transact_mut();
            edit(&self.doc, &mut txn);
            txn.encode_update_v1()
        };
        self.send(protocol::encode_update(&update)).await;
    }

    /// Reads messages, applying sync messages to the doc, until `done` holds or the time runs out.
    pub async fn pump_until(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&WsClient) -> bool,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while !done(self) {
            let Ok(next) = tokio::time::timeout_at(deadline, self.ws.next()).await else {
                return false;
            };
            match next {
                Some(Ok(Message::Binary(frame))) => {
                    self.raw.extend_from_slice(&frame);
                    self.handle(&frame).await
                }
                Some(Ok(Message::Close(frame))) => {
                    self.close_code = Some(frame.map_or(1005, |f| f.code.into()));
                    return done(self);
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return done(self),
            }
        }
        true
    }

    async fn handle(&mut self, frame: &[u8]) {
        let mut reader = protocol::Reader::new(frame);
        while !reader.is_empty() {
            let kind = reader.read_var().expect("message type");
            match kind {
                protocol::MSG_SYNC => {
                    let sub = reader.read_var().expect("sync type");
                    let payload = reader.read_buf().expect("payload").to_vec();
                    match sub {
                        protocol::SYNC_STEP1 => {
                            let sv = StateVector::decode_v1(&payload).expect("state vector");
                            let diff = self.doc.transact().encode_state_as_update_v1(&sv);
                            self.send(protocol::encode_step2(&diff)).await;
                        }
                        _ => {
                            let update = Update::decode_v1(&payload).expect("update");
                            self.doc.transact_mut().apply_update(update).expect("apply");
                            if sub == protocol::SYNC_STEP2 {
                                self.synced = true;
                            } else {
                                self.updates_received += 1;
                            }
                        }
                    }
                }
                protocol::MSG_AWARENESS => {
                    reader.read_buf().expect("awareness");
                }
                protocol::MSG_TIERBOARD => {
                    let json = reader.read_buf().expect("json");
                    self.tierboard
                        .push(serde_json::from_slice(json).expect("tierboard JSON"));
                }
                other => panic!("unexpected message type {other}"),
            }
        }
    }

    /// Whether the server has stored every edit of this client (from the latest `saved` message).
    pub fn saved(&self) -> bool {
        use base64::Engine;
        let mine = self.doc.client_id();
        let local = self.doc.transact().state_vector().get(&mine);
        self.tierboard
            .iter()
            .rev()
            .filter(|m| m["type"] == "saved")
            .any(|m| {
                let sv = base64::engine::general_purpose::STANDARD
                    .decode(m["sv"].as_str().unwrap())
                    .unwrap();
                StateVector::decode_v1(&sv).unwrap().get(&mine) >= local
            })
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// A `tierboard serve` child process on a free port, for tests that measure the server's own memory
/// (`/proc/<pid>/status`) or need the binary's allocator and flags. Killed when dropped; its log is
/// kept in a temporary folder and printed by [`ServerProcess::log`].
pub struct ServerProcess {
    pub addr: SocketAddr,
    child: std::process::Child,
    dir: tempfile::TempDir,
}

impl ServerProcess {
    /// Starts the binary with a fresh SQLite database and `extra` flags; waits for `/healthz`.
    pub async fn start(extra: &[&str]) -> ServerProcess {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            probe.local_addr().expect("bound").port()
        };
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
        let log = std::fs::File::create(dir.path().join("server.log")).expect("log file");
        let problems = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../problems");
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_tierboard"))
            .arg("serve")
            .arg("--addr")
            .arg(addr.to_string())
            .arg("--database-url")
            .arg(format!(
                "sqlite://{}",
                dir.path().join("server.db").display()
            ))
            .arg("--problems")
            .arg(problems)
            .args(extra)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("the tierboard binary starts");
        let server = ServerProcess { addr, child, dir };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            // A server still starting may accept and reset: only a full 200 answer counts.
            if healthz_ok(addr).await {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the server did not answer /healthz within 60 s:\n{}",
                server.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory of the server process, in bytes (`VmRSS` of `/proc/<pid>/status`).
    pub fn rss(&self) -> u64 {
        self.status_bytes("VmRSS:")
    }

    /// The peak resident memory since the start or the last [`ServerProcess::reset_peak`] (`VmHWM`).
    pub fn peak(&self) -> u64 {
        self.status_bytes("VmHWM:")
    }

    /// Resets the kernel's resident high-water mark (`/proc/<pid>/clear_refs`).
    pub fn reset_peak(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5")
            .expect("clear_refs of the server process");
    }

    fn status_bytes(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("the server process is alive");
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{field} in /proc/<pid>/status"))
            * 1024
    }

    /// The `connections` figure of `/healthz`.
    pub async fn connections(&self) -> u64 {
        let (status, json) = http(self.addr, "GET", "/healthz", None).await;
        assert_eq!(status, 200, "healthz: {json}");
        json["connections"]
            .as_u64()
            .expect("connections in /healthz")
    }

    pub fn ws_url(&self, room: &str, token: &str) -> String {
        format!("ws://{}/ws/{room}?token={token}", self.addr)
    }

    /// `POST /api/rooms`, returning (room, edit token, view token).
    pub async fn create_room(&self, problem: &str) -> (String, String, String) {
        create_room_at(self.addr, problem).await
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every 100 ms until it holds or `limit` passes; whether it held.
pub async fn wait_until<F: std::future::Future<Output = bool>>(
    limit: Duration,
    mut check: impl FnMut() -> F,
) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
