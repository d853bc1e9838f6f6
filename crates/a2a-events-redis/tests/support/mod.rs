//! What the Redis tests share: a `redis-server` of their own on a free loopback port, in a
//! temporary directory, stopped (by its own pid) when dropped; a backend configuration
//! with short timings; and small event and stream helpers.
//!
//! Without `redis-server` a test is skipped, loudly, unless `CI=true`: there it fails.

#![allow(dead_code, unreachable_pub)] // each test file uses its own part of it

pub mod proxy;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use a2a_events::{
    A2aEvent, EventId, EventPayload, NewEvent, PlanId, SubscriptionItem, TaskArtifactUpdateEvent,
    TaskState, TaskStatusUpdateEvent,
};
use a2a_events_redis::{RedisBackend, RedisConfig};
use futures_util::StreamExt;

/// How long anything expected may take on a loaded machine.
pub const PATIENCE: Duration = Duration::from_secs(10);

static SERVERS: AtomicU64 = AtomicU64::new(0);

/// A port no other server of this process had, free now. Not the system's pick (`:0`):
/// it hands a port freed by a killed server to the next test, whose restarted server
/// would then find it taken. Below the ephemeral range, from where this process's pid
/// puts it.
fn free_port() -> (u64, u16) {
    let base = 20_000 + u64::from(std::process::id() % 400) * 25;
    loop {
        let n = SERVERS.fetch_add(1, Ordering::Relaxed);
        let port = u16::try_from(base + n % 10_000).expect("a port");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return (n, port);
        }
    }
}

/// Starts a `redis-server` for this test, or skips the test (`return`s from it) when none
/// is installed outside CI.
#[macro_export]
macro_rules! redis_server {
    ($($arg:expr),* $(,)?) => {
        match $crate::support::RedisServer::start(&[$($arg),*]) {
            Some(server) => server,
            None => return,
        }
    };
}

/// A `redis-server` process of the test's own.
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    args: Vec<String>,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts `redis-server` with `args` beyond the defaults (no persistence, loopback
    /// only, a free port, a fresh directory). `None` when it is not installed and this is
    /// not CI.
    pub fn start(args: &[&str]) -> Option<Self> {
        let found = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !found {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "redis-server is not installed, and the Redis tests must run in CI (apt-get install redis-server)"
            );
            eprintln!(
                "\n!!!!! SKIPPED: redis-server is not installed; the Redis backend is NOT tested (apt-get install redis-server) !!!!!\n"
            );
            return None;
        }
        let (n, port) = free_port();
        let dir = std::env::temp_dir().join(format!("a2a-redis-{}-{n}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let mut server = Self {
            port,
            dir,
            args: args.iter().map(|&a| a.to_owned()).collect(),
            child: None,
        };
        server.run();
        Some(server)
    }

    fn run(&mut self) {
        assert!(self.child.is_none(), "already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("server.log"))
            .expect("a log file");
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .args(&self.args)
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log));
        self.child = Some(command.spawn().expect("redis-server starts"));
        self.wait_ready();
    }

    fn wait_ready(&self) {
        let began = Instant::now();
        while began.elapsed() < PATIENCE {
            let ping = redis::Client::open(self.url()).and_then(|client| {
                let mut conn = client.get_connection_with_timeout(Duration::from_millis(200))?;
                redis::cmd("PING").query::<String>(&mut conn)
            });
            if ping.is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("redis-server on port {} did not start", self.port);
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// SIGKILL: the process dies at once; what it did not persist is lost.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again, same port, directory and arguments.
    pub fn restart(&mut self) {
        self.run();
    }

    /// Starts the server again with other arguments.
    pub fn restart_with(&mut self, args: &[&str]) {
        self.args = args.iter().map(|&a| a.to_owned()).collect();
        self.run();
    }

    /// SIGSTOP / SIGCONT: a server that keeps its sockets and answers nothing.
    pub fn freeze(&self, frozen: bool) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let signal = if frozen { "-STOP" } else { "-CONT" };
        let status = Command::new("kill").args([signal, &pid]).status();
        assert!(status.is_ok_and(|s| s.success()), "kill {signal} {pid}");
    }

    /// A plain connection for the test's own commands.
    pub fn connection(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(2)))
            .expect("a connection")
    }

    /// `CLIENT LIST`'s lines whose name starts with `name`.
    pub fn clients_named(&self, name: &str) -> Vec<String> {
        let list: String = redis::cmd("CLIENT")
            .arg("LIST")
            .query(&mut self.connection())
            .expect("CLIENT LIST");
        list.lines()
            .filter(|line| {
                line.split(' ').any(|field| {
                    field
                        .strip_prefix("name=")
                        .is_some_and(|n| n.starts_with(name))
                })
            })
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.freeze(false);
        }
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

static NAMES: AtomicU64 = AtomicU64::new(0);

/// A configuration for `url` with timings short enough for tests, a prefix and
/// connection names of its own.
pub fn config(url: &str) -> RedisConfig {
    let n = NAMES.fetch_add(1, Ordering::Relaxed);
    let mut config = RedisConfig::new(url);
    config.prefix = format!("{{t{n}}}");
    config.client_name = format!("test-{n}");
    config.block = Duration::from_millis(500);
    config.probe_interval = Duration::from_millis(150);
    config.reconnect_min = Duration::from_millis(20);
    config.reconnect_max = Duration::from_millis(200);
    config.publish_timeout = Duration::from_millis(1500);
    config.command_timeout = Duration::from_millis(500);
    config.connect_timeout = Duration::from_millis(300);
    config
}

/// A backend on `server` with the test configuration.
pub async fn backend(server: &RedisServer) -> RedisBackend {
    RedisBackend::connect(config(&server.url()))
        .await
        .expect("connect")
}

pub fn plan(name: &str) -> PlanId {
    PlanId::new(name).unwrap()
}

pub fn status(plan_name: &str, state: TaskState) -> NewEvent {
    NewEvent::new(
        plan(plan_name),
        EventPayload::StatusUpdate(TaskStatusUpdateEvent {
            task_id: plan_name.into(),
            context_id: "ctx".into(),
            status: state.into(),
            metadata: None,
        }),
    )
}

pub fn working(plan_name: &str) -> NewEvent {
    status(plan_name, TaskState::Working)
}

pub fn done(plan_name: &str) -> NewEvent {
    status(plan_name, TaskState::Completed)
}

pub fn chunk(plan_name: &str, text: &str, append: bool) -> NewEvent {
    NewEvent::new(
        plan(plan_name),
        EventPayload::ArtifactUpdate(TaskArtifactUpdateEvent {
            task_id: plan_name.into(),
            context_id: "ctx".into(),
            artifact: a2a_events::Artifact {
                artifact_id: "a".into(),
                name: None,
                description: None,
                parts: vec![a2a_events::Part::text(text)],
                metadata: None,
            },
            append: Some(append),
            last_chunk: None,
            metadata: None,
        }),
    )
}

/// The next item, within [`PATIENCE`].
pub async fn next<S>(stream: &mut S) -> Option<SubscriptionItem>
where
    S: futures_util::Stream<Item = SubscriptionItem> + Unpin,
{
    tokio::time::timeout(PATIENCE, stream.next())
        .await
        .expect("an item in time")
}

/// The id of the next item, which must be an event.
pub async fn next_id<S>(stream: &mut S) -> EventId
where
    S: futures_util::Stream<Item = SubscriptionItem> + Unpin,
{
    match next(stream).await {
        Some(SubscriptionItem::Event(event)) => event.id(),
        other => panic!("expected an event, got {other:?}"),
    }
}

/// The ids of the next `count` items, which must be events.
pub async fn next_ids<S>(stream: &mut S, count: usize) -> Vec<EventId>
where
    S: futures_util::Stream<Item = SubscriptionItem> + Unpin,
{
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        ids.push(next_id(stream).await);
    }
    ids
}

/// Whether nothing arrives on `stream` for `quiet`.
pub async fn stays_quiet<S>(stream: &mut S, quiet: Duration) -> bool
where
    S: futures_util::Stream<Item = SubscriptionItem> + Unpin,
{
    tokio::time::timeout(quiet, stream.next()).await.is_err()
}

/// The event's JSON, read back.
pub fn event_of(item: &SubscriptionItem) -> A2aEvent {
    match item {
        SubscriptionItem::Event(event) => event.to_event().unwrap(),
        other => panic!("expected an event, got {other:?}"),
    }
}

/// Waits until `done` holds, for at most [`PATIENCE`].
pub async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let began = Instant::now();
    while began.elapsed() < PATIENCE {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    done()
}
