//! Starting a server binary as a child process and making sure it dies with the run.

use std::ffi::OsString;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// A running server; killed (SIGKILL) when dropped or on [`ServerProcess::stop`].
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    pid: u32,
    addr: SocketAddr,
}

/// A loopback port that was free a moment ago, taken below the usual ephemeral range
/// (32768–60999) so that the load generator's own client sockets cannot hold it.
pub fn free_port() -> io::Result<u16> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let seed = nanos ^ std::process::id().wrapping_mul(2_654_435_761);
    for i in 0..64u32 {
        let port = 20_000 + (seed.wrapping_add(i.wrapping_mul(7919)) % 12_000) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// How a server process is scheduled beside the load generator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scheduling {
    /// Niceness (`nice -n`); 0 leaves the load generator's own.
    pub nice: i32,
    /// The CPUs the server may run on, in `taskset -c` syntax (`"1"`, `"0,2-3"`); `None`
    /// leaves the load generator's own set.
    pub cpus: Option<String>,
}

impl Scheduling {
    /// The command that starts `binary` so: `nice` and `taskset` each replace themselves
    /// with what they run, so the child's pid is the server's.
    pub(crate) fn command(&self, binary: &Path) -> Command {
        let mut line: Vec<OsString> = Vec::new();
        if self.nice != 0 {
            line.extend(["nice".into(), "-n".into(), self.nice.to_string().into()]);
        }
        if let Some(cpus) = &self.cpus {
            line.extend(["taskset".into(), "-c".into(), cpus.into()]);
        }
        line.push(binary.as_os_str().to_owned());
        let mut command = Command::new(&line[0]);
        command.args(&line[1..]);
        command
    }
}

impl ServerProcess {
    /// Starts `binary --addr <addr> <args…>` as `scheduling` says (through `nice -n` and
    /// `taskset -c` where it asks for them) and waits (up to `ready_within`) until it
    /// accepts TCP connections. Its stdout is discarded; stderr is inherited.
    pub async fn start(
        binary: &Path,
        addr: SocketAddr,
        args: &[String],
        scheduling: &Scheduling,
        ready_within: Duration,
    ) -> io::Result<Self> {
        let mut command = scheduling.command(binary);
        let child = command
            .arg("--addr")
            .arg(addr.to_string())
            .args(args)
            // Per-connection INFO logs would be measured as server work; keep warnings.
            .env(
                "RUST_LOG",
                std::env::var("BENCH_SERVER_RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", binary.display())))?;
        let pid = child
            .id()
            .ok_or_else(|| io::Error::other("child has no pid"))?;
        let mut server = Self { child, pid, addr };
        let deadline = Instant::now() + ready_within;
        loop {
            if let Some(status) = server.child.try_wait()? {
                return Err(io::Error::other(format!(
                    "{} exited early: {status}",
                    binary.display()
                )));
            }
            if TcpStream::connect(addr).await.is_ok() {
                return Ok(server);
            }
            if Instant::now() >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("{} never listened", binary.display()),
                ));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Kills the server and reaps it.
    pub async fn stop(mut self) -> io::Result<()> {
        self.child.kill().await
    }
}
