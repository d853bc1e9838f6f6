//! Starting a server binary as a child process (through the test kit's [`Launcher`]) and
//! scheduling it beside the load generator.

use std::ffi::OsString;
use std::io;

use a2a_sse_testkit::launcher::{Launcher, Process};

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
    /// The command line a server is started through: `nice -n N` and `taskset -c CPUS`
    /// where asked for. Each replaces itself with what it runs, so the child's pid is the
    /// server's.
    pub fn prefix(&self) -> Vec<OsString> {
        let mut line: Vec<OsString> = Vec::new();
        if self.nice != 0 {
            line.extend(["nice".into(), "-n".into(), self.nice.to_string().into()]);
        }
        if let Some(cpus) = &self.cpus {
            line.extend(["taskset".into(), "-c".into(), cpus.into()]);
        }
        line
    }
}

/// Runs `launcher` on a blocking thread (starting a server waits for it to get ready) and
/// returns the running server.
///
/// # Errors
///
/// As [`Launcher::start`].
pub async fn launch(launcher: Launcher) -> io::Result<Process> {
    tokio::task::spawn_blocking(move || launcher.start())
        .await
        .map_err(io::Error::other)?
}
