//! Stalled: clients that send their request and never read, beside fast readers, while
//! events flow. The server's memory, the kernel's socket buffers included, must stay
//! bounded (each stalled subscription lags and is cut, each stalled connection is aborted
//! at the write deadline), and the fast readers must get every event.

use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio::sync::watch;

use a2a_sse_testkit::eventually::{Waited, eventually_with};

use super::{
    Demo, Report, ServerSockets, check_descriptors, mib, secs, server_sockets, sources,
    tcp_memory_pages,
};
use crate::client::send_request;
use crate::publisher::{PublishPlan, Publisher};
use crate::streams::TrackedStreams;

/// The shape of a stalled run.
#[derive(Debug, Clone)]
pub struct StalledConfig {
    /// Clients that never read.
    pub stalled: usize,
    /// Clients that read everything.
    pub fast: usize,
    /// Events published (every client subscribes to all of them).
    pub events: u64,
    /// Events per second.
    pub rate: f64,
    /// The demo's write deadline (`--write-timeout-ms`; the library's default is 30 s):
    /// how long to wait for the stalled connections to be cut.
    pub write_timeout: Duration,
    /// The send buffer the server sets on each connection (the library's default is
    /// 256 KiB): the kernel doubles it for its bookkeeping, so no connection may hold more
    /// than twice this unacknowledged, plus one segment in flight.
    pub send_buffer: u64,
    /// Loopback source addresses (see [`Sources`](crate::client::Sources)).
    pub sources: usize,
    /// Arguments for the demo besides `--addr` and `--no-simulate`.
    pub server_args: Vec<String>,
}

/// The highest readings seen while sampling.
#[derive(Debug, Clone, Copy, Default)]
struct Peaks {
    /// When the server's connections first numbered the fast readers only.
    cut_at: Option<Duration>,
    rss_kib: u64,
    tcp_pages: u64,
    sockets: ServerSockets,
}

impl Peaks {
    fn update(&mut self, rss_kib: u64, tcp_pages: u64, sockets: ServerSockets) {
        self.rss_kib = self.rss_kib.max(rss_kib);
        self.tcp_pages = self.tcp_pages.max(tcp_pages);
        let peak = &mut self.sockets;
        peak.server_open = peak.server_open.max(sockets.server_open);
        peak.server_unacked_bytes = peak.server_unacked_bytes.max(sockets.server_unacked_bytes);
        peak.server_unacked_max = peak.server_unacked_max.max(sockets.server_unacked_max);
        peak.client_unread_bytes = peak.client_unread_bytes.max(sockets.client_unread_bytes);
    }
}

/// Runs `config` against the demo at `binary`.
pub async fn run(binary: &Path, config: &StalledConfig) -> io::Result<Report> {
    let mut report = Report::new("stalled");
    if !check_descriptors(&mut report, config.stalled + config.fast, 256) {
        return Ok(report);
    }
    let demo = Demo::start(binary, &config.server_args).await?;
    let addr = demo.addr();
    let port = addr.port();
    let sources = sources(&mut report, config.sources);
    let page_kib = procfs::page_size() / 1024;
    let (rss_before, tcp_before) = (demo.rss_kib()?, tcp_memory_pages()?);
    report.figure("server RSS before", mib(rss_before));
    report.figure("kernel TCP memory before", mib(tcp_before * page_kib));

    let fast = TrackedStreams::open(
        addr,
        &sources,
        vec![None; config.fast],
        1,
        config.events,
        64,
    );
    let mut stalled: Vec<TcpStream> = Vec::with_capacity(config.stalled);
    for _ in 0..config.stalled {
        let mut socket = sources.connect(addr, false).await?;
        send_request(&mut socket, None).await?;
        stalled.push(socket);
    }
    let everyone = (config.stalled + config.fast) as u64;
    let Waited {
        last: open,
        after: took,
    } = demo
        .wait_open_streams(Duration::from_secs(30), |n| n == everyone)
        .await;
    report.figure(
        "streams",
        format!(
            "{} stalled + {} fast readers (the server's count: {open:?})",
            config.stalled, config.fast
        ),
    );
    report.check(took.is_some(), || {
        format!("the server counts {open:?} streams, {everyone} were opened")
    });

    let (stop_sampling, stopped) = watch::channel(false);
    let started = Instant::now();
    let sampler = tokio::spawn(sample(demo.pid(), port, config.fast, started, stopped));
    let published = Publisher::start(PublishPlan::steady(addr, 1, config.rate, config.events))?
        .finish()
        .await?;
    let expected = fast.expected(&published.accepted);
    fast.wait_delivered(expected, Duration::from_secs(30), Duration::MAX)
        .await;
    let published_in = started.elapsed();
    report.figure(
        "events",
        format!(
            "{} published at {}/s in {}",
            published.count(),
            config.rate,
            secs(published_in)
        ),
    );
    report.check_published(&published);

    // Past the write deadline the kernel aborts every stalled connection.
    let budget = config.write_timeout + Duration::from_secs(60);
    let fast_count = config.fast;
    let Waited {
        last: left,
        after: took,
    } = eventually_with(
        budget,
        || async { server_sockets(port).ok() },
        |s| s.server_open <= fast_count,
    )
    .await;
    let seen = started.elapsed();
    let _ = stop_sampling.send(true);
    let peaks = sampler.await.map_err(io::Error::other)??;
    let page = demo.metrics_page().await?;
    report.figure(
        "stalled connections cut",
        format!(
            "{} after the first event (write deadline {}; streams ended: {})",
            took.map_or("not all".into(), |_| secs(peaks.cut_at.unwrap_or(seen))),
            secs(config.write_timeout),
            disconnect_reasons(&page)
        ),
    );
    report.check(took.is_some(), || {
        format!(
            "{:?} server connections open {budget:?} after the events began, {fast_count} \
             fast readers",
            left.map(|s| s.server_open)
        )
    });

    let peak_kib = |kib: u64, before: u64| kib.saturating_sub(before);
    let stalled_n = config.stalled.max(1) as u64;
    report.figure(
        "server RSS at the peak",
        format!(
            "{} (+{} over before, {:.1} KiB per stalled client)",
            mib(peaks.rss_kib),
            mib(peak_kib(peaks.rss_kib, rss_before)),
            peak_kib(peaks.rss_kib, rss_before) as f64 / stalled_n as f64
        ),
    );
    let tcp_peak_kib = peak_kib(peaks.tcp_pages, tcp_before) * page_kib;
    report.figure(
        "kernel TCP memory at the peak, both ends",
        format!(
            "+{} over before ({:.1} KiB per stalled client)",
            mib(tcp_peak_kib),
            tcp_peak_kib as f64 / stalled_n as f64
        ),
    );
    report.figure(
        "unacknowledged bytes in the server's send queues at the peak",
        format!(
            "{} in all, {} KiB on the fullest connection (send buffer {} KiB)",
            mib(peaks.sockets.server_unacked_bytes / 1024),
            peaks.sockets.server_unacked_max / 1024,
            config.send_buffer / 1024
        ),
    );
    report.figure(
        "unread bytes in the stalled clients' receive queues at the peak",
        mib(peaks.sockets.client_unread_bytes / 1024),
    );
    // Twice the option (the kernel's doubling) and one 64 KiB segment in flight.
    let bound = 2 * config.send_buffer + 64 * 1024;
    report.check(peaks.sockets.server_unacked_max <= bound, || {
        format!(
            "a connection held {} KiB unacknowledged, more than the send buffer allows ({} KiB)",
            peaks.sockets.server_unacked_max / 1024,
            bound / 1024
        )
    });
    let (rss_after, sockets_after) = (demo.rss_kib()?, server_sockets(port)?);
    report.figure("server RSS after the cut", mib(rss_after));
    report.figure(
        "server-side connections after the cut",
        format!(
            "{} open (the fast readers), {} KiB unacknowledged",
            sockets_after.server_open,
            sockets_after.server_unacked_bytes / 1024
        ),
    );

    let totals = fast.close(&published.accepted).await?.counts;
    report.check_streams("fast readers", &totals);
    drop(stalled);
    tokio::time::sleep(Duration::from_millis(500)).await;
    report.figure(
        "kernel TCP memory once every client closed",
        format!(
            "+{} over before",
            mib(tcp_memory_pages()?.saturating_sub(tcp_before) * page_kib)
        ),
    );
    demo.stop()?;
    Ok(report)
}

/// Reads the server's memory and its port's sockets every 200 ms until `stop`, and notes
/// when the server's connections first number `fast` (counted from `start`).
async fn sample(
    pid: u32,
    port: u16,
    fast: usize,
    start: Instant,
    mut stop: watch::Receiver<bool>,
) -> io::Result<Peaks> {
    let mut peaks = Peaks::default();
    loop {
        let sockets = server_sockets(port)?;
        if sockets.server_open <= fast && peaks.cut_at.is_none() {
            peaks.cut_at = Some(start.elapsed());
        }
        peaks.update(crate::metrics::rss_kib(pid)?, tcp_memory_pages()?, sockets);
        let tick = tokio::time::sleep(Duration::from_millis(200));
        tokio::select! {
            _ = stop.wait_for(|&s| s) => return Ok(peaks),
            () = tick => {}
        }
    }
}

/// `reason count` for every `a2a_sse_disconnects_total` series of a metrics page.
fn disconnect_reasons(page: &str) -> String {
    let reasons: Vec<String> = page
        .lines()
        .filter(|line| line.starts_with("a2a_sse_disconnects_total{"))
        .filter_map(|line| {
            let reason = line.split("reason=\"").nth(1)?.split('"').next()?;
            let count = line.rsplit(' ').next()?;
            Some(format!("{reason} {count}"))
        })
        .collect();
    reasons.join(", ")
}
