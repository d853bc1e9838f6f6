//! A `redis-server` of the run's own, for the Redis-backed demo rows and the publish-rate
//! benchmark: a free loopback port, a fresh temporary directory, no persistence
//! (`--save '' --appendonly no`), scheduled like the servers (the same `taskset -c`), and
//! killed with its directory removed when dropped.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::Child;

use super::process::{Scheduling, free_port};

/// The `redis-server` binary: `BENCH_REDIS_SERVER` when set, else `redis-server` on `PATH`.
#[must_use]
pub fn redis_server_binary() -> PathBuf {
    std::env::var_os("BENCH_REDIS_SERVER").map_or_else(|| "redis-server".into(), PathBuf::from)
}

/// Whether [`redis_server_binary`] can be run (`redis-server --version` succeeds).
#[must_use]
pub fn redis_server_available() -> bool {
    std::process::Command::new(redis_server_binary())
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// A running `redis-server`; killed (SIGKILL) and its directory removed when dropped.
#[derive(Debug)]
pub struct RedisProcess {
    child: Child,
    pid: u32,
    addr: SocketAddr,
    dir: PathBuf,
}

impl RedisProcess {
    /// Starts [`redis_server_binary`] on a free loopback port in a fresh directory, without
    /// persistence, as `scheduling` says, and waits (up to `ready_within`) until it answers
    /// `PING`.
    ///
    /// # Errors
    ///
    /// When it cannot be started (not installed), exits, or does not answer in time.
    pub async fn start(scheduling: &Scheduling, ready_within: Duration) -> io::Result<Self> {
        let binary = redis_server_binary();
        let mut attempt = 0;
        loop {
            match Self::start_once(&binary, scheduling, ready_within).await {
                Ok(server) => return Ok(server),
                // The port can be taken between the probe and redis-server's bind.
                Err(err) if attempt >= 2 || err.kind() == io::ErrorKind::NotFound => {
                    return Err(err);
                }
                Err(_) => attempt += 1,
            }
        }
    }

    async fn start_once(
        binary: &Path,
        scheduling: &Scheduling,
        ready_within: Duration,
    ) -> io::Result<Self> {
        let port = free_port()?;
        let dir =
            std::env::temp_dir().join(format!("a2a-bench-redis-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let child = scheduling
            .command(binary)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--loglevel", "warning"])
            .arg("--dir")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", binary.display())))?;
        let pid = child
            .id()
            .ok_or_else(|| io::Error::other("redis-server has no pid"))?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let mut server = Self {
            child,
            pid,
            addr,
            dir,
        };
        let deadline = Instant::now() + ready_within;
        loop {
            if let Some(status) = server.child.try_wait()? {
                return Err(io::Error::other(format!(
                    "redis-server on port {port} exited early: {status}"
                )));
            }
            if ping(addr).await {
                return Ok(server);
            }
            if Instant::now() >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("redis-server on port {port} never answered PING"),
                ));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Its process id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Its URL, as the demos' `--redis` takes it.
    #[must_use]
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// Kills it, reaps it and removes its directory.
    ///
    /// # Errors
    ///
    /// When it cannot be killed.
    pub async fn stop(mut self) -> io::Result<()> {
        self.child.kill().await
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether a Redis at `addr` answers an inline `PING` with `+PONG`.
async fn ping(addr: SocketAddr) -> bool {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(b"PING\r\n").await?;
        let mut reply = [0u8; 7];
        stream.read_exact(&mut reply).await?;
        io::Result::Ok(&reply == b"+PONG\r\n")
    };
    tokio::time::timeout(Duration::from_millis(500), exchange)
        .await
        .is_ok_and(|answer| answer.unwrap_or(false))
}
