//! [`Demo`]: a demo server process and what can be read of it from outside.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use a2a_sse_testkit::eventually::{Waited, eventually_with};
use a2a_sse_testkit::launcher::{Launcher, Process, wait_status};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::metrics;
use crate::servers::launch;

/// A demo process on a loopback port (killed when dropped).
#[derive(Debug)]
pub struct Demo {
    process: Process,
}

impl Demo {
    /// Starts `binary --addr 127.0.0.1:<free port> --no-simulate <args…>` and waits until
    /// its agent card answers. It inherits this process's open-files limit.
    pub async fn start(binary: &Path, args: &[String]) -> io::Result<Self> {
        let launcher = Launcher::new(binary)
            .args(["--no-simulate"])
            .args(args)
            .within(Duration::from_secs(20))
            .echo_stderr(true);
        Ok(Self {
            process: launch(launcher).await?,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.process.addr()
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Its resident set size, KiB.
    pub fn rss_kib(&self) -> io::Result<u64> {
        metrics::rss_kib(self.pid())
    }

    /// How many file descriptors it holds.
    pub fn descriptors(&self) -> io::Result<usize> {
        self.process.descriptors()
    }

    /// Its `/metrics` page.
    pub async fn metrics_page(&self) -> io::Result<String> {
        let read = async {
            let mut socket = TcpStream::connect(self.addr()).await?;
            socket
                .write_all(b"GET /metrics HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n")
                .await?;
            let mut answer = Vec::new();
            socket.read_to_end(&mut answer).await?;
            Ok::<_, io::Error>(answer)
        };
        let answer = tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "/metrics timed out"))??;
        let text = String::from_utf8_lossy(&answer);
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            return Err(io::Error::other("/metrics: no response head"));
        };
        if !head.starts_with("HTTP/1.1 200") {
            return Err(io::Error::other(format!("/metrics: {head}")));
        }
        Ok(body.to_owned())
    }

    /// The streams it has open now (`a2a_sse_open_streams`; 0 before the first one).
    pub async fn open_streams(&self) -> io::Result<u64> {
        Ok(metric_sum(
            &self.metrics_page().await?,
            "a2a_sse_open_streams",
        ))
    }

    /// Waits up to `budget` until its count of open streams satisfies `done`.
    pub async fn wait_open_streams(
        &self,
        budget: Duration,
        done: impl Fn(u64) -> bool,
    ) -> Waited<u64> {
        eventually_with(
            budget,
            || async { self.open_streams().await.ok() },
            |&n| done(n),
        )
        .await
    }

    /// jemalloc's statistic `kind` (`allocated`, `active`, `metadata`, `resident`), bytes,
    /// from its `/metrics` page; `None` for a demo not built with jemalloc.
    pub async fn allocator_bytes(&self, kind: &str) -> io::Result<Option<u64>> {
        let wanted = format!("a2a_sse_demo_allocator_bytes{{kind=\"{kind}\"}}");
        Ok(samples(&self.metrics_page().await?)
            .find(|&(series, _)| series == wanted)
            .map(|(_, value)| value))
    }

    /// Sends it `SIGINT`, as Ctrl-C does.
    pub fn interrupt(&self) -> io::Result<()> {
        self.process.interrupt()
    }

    /// Waits up to `budget` for it to exit. Returns how long it took and its wait status
    /// (0: it returned from `main` with success), or `None`.
    pub fn exited_within(&mut self, budget: Duration) -> io::Result<Option<(Duration, i32)>> {
        Ok(self
            .process
            .exited_within(budget)?
            .map(|(took, status)| (took, wait_status(status))))
    }

    /// Kills it (if it still runs) and reaps it.
    pub fn stop(mut self) -> io::Result<()> {
        self.process.kill().map(drop)
    }
}

/// The sum of the samples of `name` (every label set) on a Prometheus text page; 0 when
/// it has none.
pub fn metric_sum(page: &str, name: &str) -> u64 {
    samples(page)
        .filter(|(series, _)| series.split('{').next() == Some(name))
        .map(|(_, value)| value)
        .sum()
}

/// The samples of a Prometheus text page: each series (its name and labels, as written)
/// with its value, negative values as 0.
fn samples(page: &str) -> impl Iterator<Item = (&str, u64)> {
    page.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series, value.parse::<f64>().ok()?.max(0.0) as u64))
        })
}

#[cfg(test)]
mod tests {
    use super::metric_sum;

    #[test]
    fn samples_of_one_metric_are_summed_over_labels() {
        let page = "# HELP a2a_sse_open_streams Streams open now.\n\
                    # TYPE a2a_sse_open_streams gauge\n\
                    a2a_sse_open_streams 12\n\
                    a2a_sse_open_streams_other 5\n\
                    a2a_sse_disconnects_total{binding=\"native\",reason=\"client_gone\"} 40\n\
                    a2a_sse_disconnects_total{binding=\"native\",reason=\"shutdown\"} 2\n";
        assert_eq!(metric_sum(page, "a2a_sse_open_streams"), 12);
        assert_eq!(metric_sum(page, "a2a_sse_disconnects_total"), 42);
        assert_eq!(metric_sum(page, "a2a_sse_lagged_total"), 0);
    }
}
