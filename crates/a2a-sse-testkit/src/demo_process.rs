//! [`DemoProcess`]: one of the demo servers as a real process, for tests of what only a
//! process shows (its exit on a signal, its descriptors, its memory), and raw loopback
//! connections that open streams cheaply by the hundred.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::launcher::{Launcher, Process};

/// A demo server process (started by the [`Launcher`]), killed when dropped.
#[derive(Debug)]
pub struct DemoProcess {
    process: Process,
}

/// Builds the example `name` of `package` with the test's own cargo, into the target
/// directory the running test binary was built in, and returns the executable's path.
///
/// Building into the test's own target directory shares its compiled dependencies: a
/// coverage run (whose test binaries live in a target directory of their own) builds the
/// example instrumented, beside them, instead of compiling the whole tree a second time.
///
/// # Panics
///
/// When cargo cannot build it.
#[must_use]
pub fn build_example(package: &str, name: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command.args(["build", "--quiet", "-p", package, "--example", name]);
    if let Some(dir) = test_target_dir() {
        command.arg("--target-dir").arg(dir);
    }
    let output = command
        .arg("--message-format=json")
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("cargo build --example {name}: {e}"));
    assert!(
        output.status.success(),
        "cargo build --example {name} failed"
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["target"]["name"] == name)
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo named no executable for example {name}"))
}

/// The target directory the running test binary was built in: the executable sits in
/// `<target>/<profile>/deps/`, and cargo marks `<target>` with a `CACHEDIR.TAG`. `None`
/// elsewhere (a cross build's `<target>/<triple>/<profile>/deps/` too), which leaves the
/// choice to cargo.
fn test_target_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let deps = exe.parent()?;
    if deps.file_name()? != "deps" {
        return None;
    }
    let target = deps.parent()?.parent()?;
    target
        .join("CACHEDIR.TAG")
        .exists()
        .then(|| target.to_path_buf())
}

impl DemoProcess {
    /// Starts the demo at `path` on a free loopback port with `args` (besides `--addr`),
    /// and waits until its agent card answers.
    ///
    /// # Panics
    ///
    /// When it cannot be started or is not ready within ten seconds (the message quotes
    /// its stderr).
    #[must_use]
    pub fn start(path: &Path, args: &[&str]) -> Self {
        let process = Launcher::new(path)
            .args(args)
            .start()
            .unwrap_or_else(|e| panic!("{e}"));
        Self { process }
    }

    /// Where it listens.
    #[must_use]
    pub const fn addr(&self) -> SocketAddr {
        self.process.addr()
    }

    /// Its process id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Sends it `SIGINT`, as Ctrl-C does.
    ///
    /// # Panics
    ///
    /// When `kill` cannot be run.
    pub fn interrupt(&self) {
        self.process.interrupt().unwrap_or_else(|e| panic!("{e}"));
    }

    /// Waits up to `limit` for it to exit; how long it took, or `None`.
    ///
    /// # Panics
    ///
    /// When its status cannot be read.
    pub fn exited_within(&mut self, limit: Duration) -> Option<Duration> {
        self.process
            .exited_within(limit)
            .unwrap_or_else(|e| panic!("wait: {e}"))
            .map(|(took, _)| took)
    }

    /// Kills it with `SIGKILL`, as a crash would, and reaps it.
    ///
    /// # Panics
    ///
    /// When it cannot be killed.
    pub fn kill(&mut self) {
        self.process.kill().unwrap_or_else(|e| panic!("kill: {e}"));
    }

    /// How many file descriptors it holds now (Linux; 0 when they cannot be read).
    #[must_use]
    pub fn descriptors(&self) -> usize {
        self.process.descriptors().unwrap_or(0)
    }
}

/// A raw connection that sent `GET path` and read the response head: an open stream
/// that costs the test one socket and nothing else.
#[derive(Debug)]
pub struct RawStream {
    socket: TcpStream,
}

impl RawStream {
    /// Opens `path` on `addr` and waits for the head and the stream's first bytes.
    ///
    /// # Panics
    ///
    /// When the server does not answer `200` within ten seconds.
    pub async fn open(addr: SocketAddr, path: &str) -> Self {
        let mut socket = TcpStream::connect(addr)
            .await
            .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        let request = format!("GET {path} HTTP/1.1\r\nhost: test\r\n\r\n");
        socket
            .write_all(request.as_bytes())
            .await
            .unwrap_or_else(|e| panic!("send: {e}"));
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        let read = async {
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = socket.read(&mut buf).await.unwrap_or(0);
                assert!(n > 0, "closed before the head: {head:?}");
                head.extend_from_slice(&buf[..n]);
            }
        };
        tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .unwrap_or_else(|_| panic!("no head from {addr}{path}"));
        assert!(
            head.starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&head)
        );
        Self { socket }
    }

    /// Reads until the server closes; `true` when it did within `limit`.
    pub async fn closed_within(&mut self, limit: Duration) -> bool {
        let mut buf = [0u8; 4096];
        tokio::time::timeout(limit, async {
            while matches!(self.socket.read(&mut buf).await, Ok(n) if n > 0) {}
        })
        .await
        .is_ok()
    }
}

/// Sends `bytes` on a new connection to `addr` and returns the status of the answer (0 when
/// the server closed without one) and the rest of the answer as text.
///
/// # Panics
///
/// When `addr` cannot be reached.
pub async fn raw_request(addr: SocketAddr, bytes: &[u8]) -> (u16, String) {
    let mut socket = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    // A server may answer and close before reading everything: ignore a failed write.
    let _ = socket.write_all(bytes).await;
    let mut answer = Vec::new();
    let mut buf = [0u8; 8192];
    let read = async {
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
            if answer_is_whole(&answer) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), read).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// Whether `answer` holds a whole response with a `content-length` body (or no body).
fn answer_is_whole(answer: &[u8]) -> bool {
    let text = String::from_utf8_lossy(answer);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())
                .flatten()
        })
        .unwrap_or(0);
    body.len() >= length
}
