//! A `redis-server` of a test's own, for the Redis backend's tests and the feature suite on
//! Redis: started on a free loopback port in a temporary directory, without persistence
//! unless asked, and stopped (by its own pid) when dropped; and a backend configuration
//! with short timings and a key prefix of its own.
//!
//! Without `redis-server` a test is skipped, loudly ([`RedisServer::start`] answers
//! `None`), unless `CI=true`: there it fails.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use a2a_events_redis::RedisConfig;

/// How long a server may take to start on a loaded machine.
const PATIENCE: Duration = Duration::from_secs(10);

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

/// A `redis-server` process of the test's own.
#[derive(Debug)]
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
    ///
    /// # Panics
    ///
    /// When it is not installed in CI, or does not start.
    #[must_use]
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

    /// The port it listens on (loopback).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its `redis://` address.
    #[must_use]
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
#[must_use]
pub fn test_config(url: &str) -> RedisConfig {
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
