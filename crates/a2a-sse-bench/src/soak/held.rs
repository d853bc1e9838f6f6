//! Held: many streams open at once while events flow to them. Every stream must receive
//! exactly the events of its plan (none missing, duplicated or misrouted); the server's
//! memory per connection, its own and the kernel's, is recorded.

use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use a2a_sse_testkit::eventually::Waited;

use super::{Demo, Report, check_descriptors, mib, secs, sources, tcp_memory_pages};
use crate::publisher::{PublishPlan, Publisher};
use crate::streams::TrackedStreams;

/// The shape of a held run.
#[derive(Debug, Clone)]
pub struct HeldConfig {
    /// Streams asked for (reported when fewer fit under the open-files limit).
    pub wanted: usize,
    /// Streams held open at once.
    pub connections: usize,
    /// Plans the streams are spread over (stream `i` watches plan `i % plans`).
    pub plans: u32,
    /// Events published once every stream is open.
    pub events: u64,
    /// Events per second.
    pub rate: f64,
    /// Connects in flight at once.
    pub concurrency: usize,
    /// Loopback source addresses (see [`Sources`](crate::client::Sources)).
    pub sources: usize,
    /// Arguments for the demo besides `--addr` and `--no-simulate`.
    pub server_args: Vec<String>,
}

/// Runs `config` against the demo at `binary`.
pub async fn run(binary: &Path, config: &HeldConfig) -> io::Result<Report> {
    let mut report = Report::new("held");
    if config.wanted > config.connections {
        report.figure(
            "streams wanted",
            format!(
                "{}; {} fit under the open-files limit (the hard limit, which only \
                 CAP_SYS_RESOURCE can raise)",
                config.wanted, config.connections
            ),
        );
    }
    if !check_descriptors(&mut report, config.connections, 256) {
        return Ok(report);
    }
    let demo = Demo::start(binary, &config.server_args).await?;
    let addr = demo.addr();
    let sources = sources(&mut report, config.sources);
    let page = procfs::page_size();
    let (rss_before, tcp_before, slab_before) = (demo.rss_kib()?, tcp_memory_pages()?, slab_kib()?);
    let fds_before = demo.descriptors()?;
    report.figure("server RSS before", mib(rss_before));

    let plans = config.plans.max(1);
    let filters = (0..config.connections)
        .map(|i| Some(i as u32 % plans))
        .collect();
    let started = Instant::now();
    let streams = TrackedStreams::open(
        addr,
        &sources,
        filters,
        plans,
        config.events,
        config.concurrency,
    );
    let budget = Duration::from_secs(60 + config.connections as u64 / 100);
    let settled = streams.wait_settled(budget).await;
    let connect_time = started.elapsed();
    report.check(settled, || {
        format!(
            "{} of {} connects finished within {budget:?}",
            streams.settled(),
            streams.len()
        )
    });
    let n = config.connections as u64;
    let Waited { last: open, .. } = demo
        .wait_open_streams(Duration::from_secs(30), |open| open == n)
        .await;
    report.figure(
        "streams held",
        format!(
            "{} (the server's count: {open:?}), opened in {} ({:.0} per second, {} at once)",
            config.connections,
            secs(connect_time),
            n as f64 / connect_time.as_secs_f64(),
            config.concurrency
        ),
    );
    report.check(open == Some(n), || {
        format!("the server counts {open:?} open streams, {n} were opened")
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    let per_conn = |before: u64, after: u64| after.saturating_sub(before) as f64 / n as f64;
    let rss_idle = demo.rss_kib()?;
    let tcp_idle = tcp_memory_pages()?;
    report.figure(
        "server RSS with the streams open",
        format!(
            "{} ({:.2} KiB per stream)",
            mib(rss_idle),
            per_conn(rss_before, rss_idle)
        ),
    );
    report.figure(
        "server descriptors",
        format!("{} ({} before)", demo.descriptors()?, fds_before),
    );
    report.figure(
        "kernel TCP buffer memory, both ends",
        format!(
            "{} ({:.2} KiB per connection)",
            mib((tcp_idle - tcp_before.min(tcp_idle)) * page / 1024),
            per_conn(tcp_before, tcp_idle) * page as f64 / 1024.0
        ),
    );
    let slab_idle = slab_kib()?;
    report.figure(
        "kernel slab memory, both ends",
        format!(
            "+{} ({:.2} KiB per connection: sockets, files, epoll entries)",
            mib(slab_idle.saturating_sub(slab_before)),
            per_conn(slab_before, slab_idle)
        ),
    );

    let feeding = Instant::now();
    let published = Publisher::start(PublishPlan::steady(addr, plans, config.rate, config.events))?
        .finish()
        .await?;
    let expected = streams.expected(&published.accepted);
    streams
        .wait_delivered(expected, Duration::from_secs(30), Duration::MAX)
        .await;
    let delivery_time = feeding.elapsed();
    let (rss_busy, tcp_busy) = (demo.rss_kib()?, tcp_memory_pages()?);
    report.figure(
        "events",
        format!(
            "{} published at {}/s over {plans} plans, {expected} deliveries expected, \
             all in {}",
            published.count(),
            config.rate,
            secs(delivery_time)
        ),
    );
    report.figure(
        "server RSS after the events",
        format!(
            "{} ({:.2} KiB per stream)",
            mib(rss_busy),
            per_conn(rss_before, rss_busy)
        ),
    );
    report.figure(
        "kernel TCP buffer memory after the events, both ends",
        format!(
            "+{}",
            mib(tcp_busy.saturating_sub(tcp_before) * page / 1024)
        ),
    );
    report.check_published(&published);
    let totals = streams.close(&published.accepted).await?.counts;
    report.check_streams("streams", &totals);
    if let Some(err) = &totals.first_connect_error {
        report.figure("first connect error", err);
    }

    let Waited {
        last: left,
        after: took,
    } = demo
        .wait_open_streams(Duration::from_secs(60), |open| open == 0)
        .await;
    report.figure(
        "server streams after closing",
        format!("{left:?}, after {}", took.map_or("-".into(), secs)),
    );
    report.check(took.is_some(), || {
        format!("{left:?} streams still open a minute after the clients closed")
    });
    demo.stop()?;
    Ok(report)
}

/// The kernel's slab memory (`Slab` in `/proc/meminfo`), KiB: socket structures live there.
fn slab_kib() -> io::Result<u64> {
    use procfs::Current;
    let meminfo = procfs::Meminfo::current().map_err(io::Error::other)?;
    Ok(meminfo.slab / 1024)
}
