//! Starting a server binary as a child process of a test or a benchmark: [`Launcher`]
//! says what to run and when it counts as ready, [`Process`] is the running server.
//!
//! ```no_run
//! use std::time::Duration;
//! use a2a_sse_testkit::launcher::{Launcher, Ready};
//!
//! # fn demo() -> std::io::Result<()> {
//! // A demo on a free loopback port, ready once its agent card answers 200.
//! let demo = Launcher::new("target/debug/examples/demo")
//!     .args(["--no-simulate"])
//!     .start()?;
//! println!("{} listens on {}", demo.pid(), demo.addr());
//!
//! // A server that is not an A2A agent: ready once it accepts connections, started
//! // through `taskset` (which replaces itself with the server, so the pid is the
//! // server's), its stderr echoed as well as kept.
//! let bare = Launcher::new("target/release/bare")
//!     .through(["taskset", "-c", "1"])
//!     .ready(Ready::Accepting)
//!     .within(Duration::from_secs(20))
//!     .echo_stderr(true)
//!     .start()?;
//! # drop((demo, bare)); Ok(()) }
//! ```
//!
//! The launcher picks the port ([`free_port`]) and passes it to the server, by default as
//! `--addr 127.0.0.1:PORT` ([`Launcher::listen_args`] changes that). A server that exits
//! before it is ready was most likely beaten to the port, so the launcher tries again on
//! another, three times in all. The server's stderr is read all along and its last 16 KiB
//! kept: every error the launcher returns quotes it, and [`Process::stderr`] gives it. The
//! process is killed when the [`Process`] is dropped.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::eventually::eventually_blocking;

/// The path every A2A agent answers on, and that [`Ready::AgentCard`] asks for.
pub const AGENT_CARD_PATH: &str = "/.well-known/agent-card.json";

/// How much of a server's stderr is kept: the end of it.
const STDERR_KEPT: usize = 16 * 1024;

/// Attempts on fresh ports when the server exits before it is ready.
const ATTEMPTS: u32 = 3;

/// A loopback port that was free a moment ago and that no earlier call of this process
/// returned. Taken from 20,000–31,999, below Linux's ephemeral range (32,768 and up), so
/// that the client sockets of a test or a load generator cannot be holding it; not the
/// system's pick (`:0`), which readily hands a port just freed by a killed server to the
/// next caller.
///
/// # Errors
///
/// When no port at all can be bound on loopback.
pub fn free_port() -> io::Result<u16> {
    static SEED: OnceLock<u32> = OnceLock::new();
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let seed = *SEED.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        nanos ^ std::process::id().wrapping_mul(2_654_435_761)
    });
    for _ in 0..64 {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = 20_000 + (seed.wrapping_add(n.wrapping_mul(7919)) % 12_000) as u16;
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return Ok(port);
        }
    }
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// When a started server counts as ready.
pub enum Ready {
    /// `GET /.well-known/agent-card.json` answers `200` (every demo; the default).
    AgentCard,
    /// It accepts TCP connections (servers without an agent card).
    Accepting,
    /// The predicate, given the server's address, returns `true` (say, a Redis that
    /// answers `PING`).
    When(Box<dyn FnMut(SocketAddr) -> bool + Send>),
}

impl Ready {
    fn check(&mut self, addr: SocketAddr) -> bool {
        match self {
            Ready::AgentCard => answers_200(addr, AGENT_CARD_PATH),
            Ready::Accepting => TcpStream::connect_timeout(&addr, PROBE_TIMEOUT).is_ok(),
            Ready::When(predicate) => predicate(addr),
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Ready::AgentCard => "answered GET /.well-known/agent-card.json with 200",
            Ready::Accepting => "accepted a connection",
            Ready::When(_) => "passed its readiness check",
        }
    }
}

impl std::fmt::Debug for Ready {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Ready::AgentCard => "AgentCard",
            Ready::Accepting => "Accepting",
            Ready::When(_) => "When(..)",
        })
    }
}

/// How long one readiness probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// Whether `GET path` on `addr` answers with status 200.
fn answers_200(addr: SocketAddr, path: &str) -> bool {
    let exchange = || -> io::Result<bool> {
        let mut socket = TcpStream::connect_timeout(&addr, PROBE_TIMEOUT)?;
        socket.set_read_timeout(Some(PROBE_TIMEOUT))?;
        socket.set_write_timeout(Some(PROBE_TIMEOUT))?;
        // One write: a server that answers after the first segment and closes with the
        // rest unread would reset the connection.
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        socket.write_all(request.as_bytes())?;
        let mut status = [0u8; 12];
        socket.read_exact(&mut status)?;
        Ok(status.starts_with(b"HTTP/1.") && &status[8..] == b" 200")
    };
    exchange().unwrap_or(false)
}

/// What to start and when it is ready; [`Launcher::start`] starts it.
pub struct Launcher {
    program: PathBuf,
    through: Vec<OsString>,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    listen: Box<dyn Fn(SocketAddr) -> Vec<OsString> + Send>,
    ready: Ready,
    within: Duration,
    echo_stderr: bool,
}

impl std::fmt::Debug for Launcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Launcher")
            .field("program", &self.program)
            .field("through", &self.through)
            .field("args", &self.args)
            .field("ready", &self.ready)
            .field("within", &self.within)
            .finish_non_exhaustive()
    }
}

impl Launcher {
    /// Runs `program`, by default as `program --addr 127.0.0.1:PORT`, ready when its agent
    /// card answers, within ten seconds.
    pub fn new(program: impl AsRef<Path>) -> Self {
        Self {
            program: program.as_ref().to_owned(),
            through: Vec::new(),
            args: Vec::new(),
            env: Vec::new(),
            listen: Box::new(|addr| vec!["--addr".into(), addr.to_string().into()]),
            ready: Ready::AgentCard,
            within: Duration::from_secs(10),
            echo_stderr: false,
        }
    }

    /// Starts the program through this command line, which must replace itself with the
    /// program (`nice -n 5`, `taskset -c 1`), so that the pid is still the server's.
    #[must_use]
    pub fn through<S: AsRef<OsStr>>(mut self, prefix: impl IntoIterator<Item = S>) -> Self {
        self.through
            .extend(prefix.into_iter().map(|s| s.as_ref().to_owned()));
        self
    }

    /// Arguments after the listening ones.
    #[must_use]
    pub fn args<S: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args
            .extend(args.into_iter().map(|s| s.as_ref().to_owned()));
        self
    }

    /// One environment variable for the server.
    #[must_use]
    pub fn env(mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env
            .push((name.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// How the server is told where to listen: the arguments for an address (by default
    /// `--addr ADDR`; a Redis takes `--port PORT --bind 127.0.0.1`).
    #[must_use]
    pub fn listen_args<S: Into<OsString>>(
        mut self,
        args: impl Fn(SocketAddr) -> Vec<S> + Send + 'static,
    ) -> Self {
        self.listen = Box::new(move |addr| args(addr).into_iter().map(Into::into).collect());
        self
    }

    /// When the server counts as ready (by default [`Ready::AgentCard`]).
    #[must_use]
    pub fn ready(mut self, ready: Ready) -> Self {
        self.ready = ready;
        self
    }

    /// How long it may take to get ready (by default ten seconds), per attempt.
    #[must_use]
    pub const fn within(mut self, limit: Duration) -> Self {
        self.within = limit;
        self
    }

    /// Also copy the server's stderr to this process's, line by line, as it comes (it is
    /// kept for [`Process::stderr`] either way).
    #[must_use]
    pub const fn echo_stderr(mut self, echo: bool) -> Self {
        self.echo_stderr = echo;
        self
    }

    /// Starts the server on a [`free_port`] and waits until it is ready; tries another
    /// port when it exits before that (three attempts in all).
    ///
    /// # Errors
    ///
    /// When it cannot be spawned, keeps exiting early, or is not ready in time; the error
    /// quotes the end of its stderr.
    pub fn start(mut self) -> io::Result<Process> {
        let mut attempt = 1;
        loop {
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()?));
            match self.start_on(addr) {
                Ok(process) => return Ok(process),
                Err((true, _)) if attempt < ATTEMPTS => attempt += 1,
                Err((_, err)) => return Err(err),
            }
        }
    }

    /// One attempt on `addr`; the error says whether the server exited (worth another
    /// port) or not.
    fn start_on(&mut self, addr: SocketAddr) -> Result<Process, (bool, io::Error)> {
        let mut line: Vec<OsString> = self.through.clone();
        line.push(self.program.clone().into());
        let mut command = Command::new(&line[0]);
        command
            .args(&line[1..])
            .args((self.listen)(addr))
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let name = self.program.display().to_string();
        let mut child = command
            .spawn()
            .map_err(|e| (false, io::Error::new(e.kind(), format!("{name}: {e}"))))?;
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(pipe) = child.stderr.take() {
            let (kept, echo) = (stderr.clone(), self.echo_stderr);
            std::thread::spawn(move || keep_stderr(pipe, &kept, echo));
        }
        let mut process = Process {
            child,
            addr,
            name,
            stderr,
            exit: None,
        };
        let ready = &mut self.ready;
        let mut exited = None;
        let became_ready = eventually_blocking(self.within, || match process.child.try_wait() {
            Ok(Some(status)) => {
                exited = Some(status);
                true
            }
            Ok(None) => ready.check(addr),
            Err(_) => false,
        });
        if let Some(status) = exited {
            process.exit = Some(status);
            return Err((true, process.failure(&format!("exited early ({status})"))));
        }
        if !became_ready {
            let why = format!("never {} within {:?}", ready.describe(), self.within);
            return Err((false, process.failure(&why)));
        }
        Ok(process)
    }
}

/// Reads a server's stderr until it closes, keeping the last [`STDERR_KEPT`] bytes.
fn keep_stderr(pipe: impl Read, kept: &Mutex<VecDeque<u8>>, echo: bool) {
    let mut reader = BufReader::new(pipe);
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
        if echo {
            let _ = io::stderr().write_all(&line);
        }
        let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.extend(&line);
        let excess = kept.len().saturating_sub(STDERR_KEPT);
        kept.drain(..excess);
        line.clear();
    }
}

/// A running server started by a [`Launcher`]; killed (`SIGKILL`) and reaped when dropped.
#[derive(Debug)]
pub struct Process {
    child: Child,
    addr: SocketAddr,
    name: String,
    stderr: Arc<Mutex<VecDeque<u8>>>,
    exit: Option<ExitStatus>,
}

impl Process {
    /// Where it listens.
    #[must_use]
    pub const fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its process id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The end of what it wrote to stderr so far (the last 16 KiB).
    #[must_use]
    pub fn stderr(&self) -> String {
        let kept = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        let (front, back) = kept.as_slices();
        String::from_utf8_lossy(&[front, back].concat()).into_owned()
    }

    /// An error naming the server, `what` happened, and the end of its stderr.
    fn failure(&self, what: &str) -> io::Error {
        // Let the reader thread take in what the server wrote just before.
        std::thread::sleep(Duration::from_millis(20));
        let stderr = self.stderr();
        let tail = stderr.trim_end();
        if tail.is_empty() {
            io::Error::other(format!("{}: {what}; nothing on stderr", self.name))
        } else {
            io::Error::other(format!("{}: {what}; its stderr:\n{tail}", self.name))
        }
    }

    /// How many file descriptors it holds now (Linux).
    ///
    /// # Errors
    ///
    /// When `/proc/PID/fd` cannot be read.
    pub fn descriptors(&self) -> io::Result<usize> {
        Ok(std::fs::read_dir(format!("/proc/{}/fd", self.pid()))?.count())
    }

    /// Sends it a signal by number, as `kill -SIGNAL PID` does (`2` is `SIGINT`).
    ///
    /// # Errors
    ///
    /// When `kill` cannot be run or fails.
    pub fn signal(&self, signal: i32) -> io::Result<()> {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!("kill -{signal}: {status}")))
        }
    }

    /// Sends it `SIGINT`, as Ctrl-C does.
    ///
    /// # Errors
    ///
    /// As [`Process::signal`].
    pub fn interrupt(&self) -> io::Result<()> {
        self.signal(2)
    }

    /// Waits up to `limit` (checking every millisecond) for it to exit; how long that took
    /// and its exit status, or `None` when it still runs.
    ///
    /// # Errors
    ///
    /// When its status cannot be read.
    pub fn exited_within(&mut self, limit: Duration) -> io::Result<Option<(Duration, ExitStatus)>> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.try_exit()? {
                return Ok(Some((start.elapsed(), status)));
            }
            if start.elapsed() >= limit {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Its exit status if it has exited (reaping it), `None` while it runs.
    ///
    /// # Errors
    ///
    /// When its status cannot be read.
    pub fn try_exit(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait()?;
        }
        Ok(self.exit)
    }

    /// Kills it (`SIGKILL`) unless it has exited, and reaps it.
    ///
    /// # Errors
    ///
    /// When it cannot be killed or reaped.
    pub fn kill(&mut self) -> io::Result<ExitStatus> {
        if let Some(status) = self.try_exit()? {
            return Ok(status);
        }
        self.child.kill()?;
        let status = self.child.wait()?;
        self.exit = Some(status);
        Ok(status)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// The raw wait status of `status` (0: it returned from `main` with success), as a shell's
/// `$?` shows a normal exit's code times 256.
#[must_use]
pub fn wait_status(status: ExitStatus) -> i32 {
    status.into_raw()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_differ_and_sit_below_the_ephemeral_range() {
        let ports: Vec<u16> = (0..20).map(|_| free_port().unwrap()).collect();
        let mut distinct = ports.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), ports.len());
        assert!(
            ports.iter().all(|p| (20_000..32_000).contains(p)),
            "{ports:?}"
        );
    }

    /// A shell "server" that writes to stderr and then does as `script` says.
    fn shell(script: &str) -> Launcher {
        let script = script.to_owned();
        Launcher::new("sh").listen_args(move |addr: SocketAddr| {
            vec!["-c".to_owned(), script.clone(), addr.to_string()]
        })
    }

    #[test]
    fn a_server_that_exits_is_tried_three_times_and_its_stderr_quoted() {
        let script = "echo \"no luck on $0\" >&2; exit 3";
        let err = shell(script).start().unwrap_err();
        let message = err.to_string();
        assert!(message.contains("exited early"), "{message}");
        assert!(message.contains("no luck on 127.0.0.1:"), "{message}");
    }

    #[test]
    fn a_predicate_decides_readiness_and_the_process_is_killed_on_drop() {
        let mut checks = 0;
        let process = shell("echo started >&2; exec sleep 30")
            .ready(Ready::When(Box::new(move |_| {
                checks += 1;
                checks >= 3
            })))
            .start()
            .unwrap();
        let pid = process.pid();
        assert!(eventually_blocking(Duration::from_secs(5), || process
            .stderr()
            .contains("started")));
        drop(process);
        // Killed and reaped: nothing left under its pid (or another process by now).
        let stat = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        assert!(!stat.contains("sleep"), "{stat}");
    }

    #[test]
    fn a_server_never_ready_times_out_without_retrying() {
        let start = Instant::now();
        let err = shell("exec sleep 30")
            .ready(Ready::Accepting)
            .within(Duration::from_millis(200))
            .start()
            .unwrap_err();
        assert!(
            err.to_string().contains("never accepted a connection"),
            "{err}"
        );
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn an_agent_card_that_answers_200_is_ready() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let mut paths = Vec::new();
            for _ in 0..2 {
                let (mut socket, _) = listener.accept().unwrap();
                let mut head = Vec::new();
                let mut buf = [0u8; 256];
                while !head.ends_with(b"\r\n\r\n") {
                    let n = socket.read(&mut buf).unwrap();
                    assert!(n > 0, "closed before the head's end");
                    head.extend_from_slice(&buf[..n]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let status = if paths.is_empty() {
                    "503 Busy"
                } else {
                    "200 OK"
                };
                paths.push(head.split(' ').nth(1).unwrap_or_default().to_owned());
                write!(socket, "HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n").unwrap();
            }
            paths
        });
        let mut ready = Ready::AgentCard;
        assert!(!ready.check(addr));
        assert!(ready.check(addr));
        assert_eq!(server.join().unwrap(), [AGENT_CARD_PATH, AGENT_CARD_PATH]);
    }

    #[test]
    fn an_interrupted_server_exits_with_the_signal() {
        let mut process = shell("exec sleep 30")
            .ready(Ready::When(Box::new(|_| true)))
            .start()
            .unwrap();
        assert!(process.try_exit().unwrap().is_none());
        assert!(process.descriptors().unwrap() >= 3);
        process.interrupt().unwrap();
        let (_, status) = process
            .exited_within(Duration::from_secs(5))
            .unwrap()
            .expect("an exit");
        assert_eq!(status.signal(), Some(2));
        assert_eq!(wait_status(status), 2);
        assert_eq!(process.kill().unwrap(), status);
    }
}
