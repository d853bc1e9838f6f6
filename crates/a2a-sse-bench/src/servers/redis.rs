//! A `redis-server` of the run's own, for the Redis-backed demo rows and the publish-rate
//! benchmark: a free loopback port, a fresh temporary directory, no persistence
//! (`--save '' --appendonly no`), scheduled like the servers (the same `taskset -c`), and
//! killed with its directory removed when dropped.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use a2a_sse_testkit::launcher::{Launcher, Process, Ready};

use super::process::{Scheduling, launch};

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
    process: Process,
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
        static STARTED: AtomicU32 = AtomicU32::new(0);
        let n = STARTED.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("a2a-bench-redis-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let launcher = Launcher::new(redis_server_binary())
            .through(scheduling.prefix())
            .listen_args(|addr: SocketAddr| {
                vec![
                    "--port".to_owned(),
                    addr.port().to_string(),
                    "--bind".to_owned(),
                    addr.ip().to_string(),
                ]
            })
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--loglevel", "warning", "--dir"])
            .args([&dir])
            .ready(Ready::When(Box::new(answers_ping)))
            .within(ready_within)
            .echo_stderr(true);
        match launch(launcher).await {
            Ok(process) => Ok(Self { process, dir }),
            Err(err) => {
                let _ = std::fs::remove_dir_all(&dir);
                Err(err)
            }
        }
    }

    /// Its process id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Its URL, as the demos' `--redis` takes it.
    #[must_use]
    pub fn url(&self) -> String {
        format!("redis://{}", self.process.addr())
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether a Redis at `addr` answers an inline `PING` with `+PONG` within half a second.
fn answers_ping(addr: SocketAddr) -> bool {
    let exchange = || -> io::Result<bool> {
        let timeout = Duration::from_millis(500);
        let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.write_all(b"PING\r\n")?;
        let mut reply = [0u8; 7];
        stream.read_exact(&mut reply)?;
        Ok(&reply == b"+PONG\r\n")
    };
    exchange().unwrap_or(false)
}
