//! Churn: connections opened and reset in waves while events flow. Afterwards the server
//! must hold nothing of them: no open stream, no descriptor more than before, and its
//! memory back within 10 % of where it started; streams that stayed open throughout must
//! have received every event of theirs exactly once.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use a2a_sse_testkit::eventually::{Waited, eventually_with};

use super::{Demo, Report, check_descriptors, mib, secs, sources};
use crate::client::{Sources, send_request};
use crate::publisher::{PublishPlan, Publisher};
use crate::streams::TrackedStreams;

/// The shape of a churn run.
#[derive(Debug, Clone)]
pub struct ChurnConfig {
    /// Connections opened and reset in all.
    pub connections: usize,
    /// Connections per wave: a wave is opened, held for `hold`, then reset at once.
    pub wave: usize,
    /// How long each wave stays open (events flow to it meanwhile).
    pub hold: Duration,
    /// Plans the events (and the streams) are spread over.
    pub plans: u32,
    /// Events per second published throughout.
    pub rate: f64,
    /// Connects in flight at once.
    pub concurrency: usize,
    /// Every `early_reset`-th connection is reset right after its request, before the
    /// answer (0: none).
    pub early_reset: usize,
    /// Loopback source addresses (see [`Sources`]).
    pub sources: usize,
    /// How far above the baseline the server's RSS may end, as a share (0.10: 10 %);
    /// `None` reports it without checking it (small runs, whose few megabytes are
    /// allocator noise).
    pub rss_tolerance: Option<f64>,
    /// How long the server's RSS must stop falling before it is read, for the baseline
    /// and at the end: longer than the allocator's delay in handing freed pages back
    /// (jemalloc's decay time is 10 s).
    pub rss_quiet: Duration,
    /// Arguments for the demo besides `--addr` and `--no-simulate`.
    pub server_args: Vec<String>,
}

/// Events published before the baseline, more than the demo's history keeps.
const HISTORY_FILL: u64 = 1_100;

/// Longest wait for the server to let go of the reset connections.
const RELEASE_BUDGET: Duration = Duration::from_secs(60);

/// How often [`settled_rss`] reads the server's RSS.
const RSS_EVERY: Duration = Duration::from_millis(500);

/// Longest wait in [`settled_rss`] beyond its quiet time.
const RSS_BUDGET: Duration = Duration::from_secs(30);

/// The server's RSS once it has stopped falling, KiB: read every [`RSS_EVERY`] until no
/// reading for `quiet` has been 1 % below the lowest before it (or [`RSS_BUDGET`] more has
/// passed), and the last reading. An allocator may hand freed pages back some time after
/// they were freed (jemalloc's background threads do, gradually over its decay time), so
/// the baseline and the end are both read once that is over, by the same rule.
async fn settled_rss(demo: &Demo, quiet: Duration) -> io::Result<u64> {
    let start = Instant::now();
    let mut lowest = demo.rss_kib()?;
    let mut fell_at = start;
    loop {
        tokio::time::sleep(RSS_EVERY).await;
        let now = demo.rss_kib()?;
        if (now as f64) < lowest as f64 * 0.99 {
            lowest = now;
            fell_at = Instant::now();
        }
        if fell_at.elapsed() >= quiet || start.elapsed() >= quiet + RSS_BUDGET {
            return Ok(now);
        }
    }
}

/// Runs `config` against the demo at `binary`.
pub async fn run(binary: &Path, config: &ChurnConfig) -> io::Result<Report> {
    let mut report = Report::new("churn");
    if !check_descriptors(&mut report, config.wave + config.plans as usize, 256) {
        return Ok(report);
    }
    let demo = Demo::start(binary, &config.server_args).await?;
    let addr = demo.addr();
    let sources = sources(&mut report, config.sources);
    warm_up(&demo, &sources).await?;
    let streams_before = demo.open_streams().await?;
    let fds_before = demo.descriptors()?;
    let rss_cold = demo.rss_kib()?;
    report.figure("server streams before", streams_before);
    report.figure("server descriptors before", fds_before);
    report.figure(
        "server RSS after start (64 streams opened and closed)",
        mib(rss_cold),
    );

    // Fill the queue's history (it keeps the last 1,024 events by default) before the
    // baseline, so that its growth is not taken for the churn's.
    let history = Publisher::start(PublishPlan::steady(
        addr,
        config.plans,
        2_000.0,
        HISTORY_FILL,
    ))?
    .finish()
    .await?;
    report.check(history.errors == 0, || {
        format!("filling the history: {:?}", history.first_error)
    });

    // Streams that stay open through all the waves: one per plan and one unfiltered.
    let mut filters: Vec<Option<u32>> = (0..config.plans).map(Some).collect();
    filters.push(None);
    let capacity = 1 << 22;
    let watchers = TrackedStreams::open(addr, &sources, filters, config.plans, capacity, 64);
    if !watchers.wait_settled(Duration::from_secs(30)).await {
        report.check(false, || "the watching streams did not open".to_owned());
    }
    let watching = watchers.len() as u64;
    let feeder = Publisher::start(PublishPlan::steady(
        addr,
        config.plans,
        config.rate,
        capacity,
    ))?;
    // One wave before the baseline, events flowing: the allocator keeps what it needed for
    // a wave in its arenas (glibc returns little of it), so the baseline is a server that
    // has seen one.
    let warm = wave(
        &demo,
        &sources,
        config,
        0,
        config.wave.min(config.connections),
    )
    .await?;
    report.check(warm.failed == 0, || {
        format!(
            "the warm-up wave: {} connects failed: {:?}",
            warm.failed, warm.first_error
        )
    });
    let _ = demo
        .wait_open_streams(RELEASE_BUDGET, |n| n == watching)
        .await;
    let rss_before = settled_rss(&demo, config.rss_quiet).await?;
    report.figure(
        "server RSS before (after one wave opened and reset)",
        mib(rss_before),
    );
    let heap_before = Heap::read(&demo).await?;

    let started = Instant::now();
    let mut opened = 0usize;
    let mut errors = 0usize;
    let mut first_error = None;
    let mut peak_streams = 0;
    let mut rss_series = Vec::new();
    let mut wave_number = 0usize;
    while opened + errors < config.connections {
        let size = config.wave.min(config.connections - opened - errors);
        let outcome = wave(&demo, &sources, config, wave_number * config.wave, size).await?;
        opened += outcome.opened;
        errors += outcome.failed;
        first_error = first_error.or(outcome.first_error);
        peak_streams = peak_streams.max(outcome.streams_while_held);
        wave_number += 1;
        let _ = demo
            .wait_open_streams(Duration::from_secs(10), |n| n == watching)
            .await;
        rss_series.push(demo.rss_kib()?);
    }
    let churn_time = started.elapsed();

    // The server lets go of every reset connection.
    let Waited {
        last: left,
        after: took,
    } = demo
        .wait_open_streams(RELEASE_BUDGET, |n| n == watching)
        .await;
    // The end is read as the baseline was: events still flowing, once RSS has settled.
    // The history then holds events published after the last wave rather than during it,
    // as it did at the baseline; read with the publisher stopped, the last wave's events
    // would pin the pages of that wave's connections (docs/benchmarks.md, "Churn").
    let rss_after = settled_rss(&demo, config.rss_quiet).await?;
    let heap_after = Heap::read(&demo).await?;
    let published = feeder.stop().await?;
    let expected = watchers.expected(&published.accepted);
    watchers
        .wait_delivered(expected, Duration::from_secs(10), Duration::MAX)
        .await;

    let early = match config.early_reset {
        0 => String::new(),
        n => format!(", every {n}th right after its request"),
    };
    report.figure(
        "connections reset",
        format!(
            "{opened} in {wave_number} waves of {}{early}, in {}",
            config.wave,
            secs(churn_time)
        ),
    );
    report.figure("server streams at the peak of a wave", peak_streams);
    let step = rss_series.len().div_ceil(10).max(1);
    let series: Vec<String> = rss_series
        .iter()
        .enumerate()
        .filter(|&(i, _)| i % step == 0 || i + 1 == rss_series.len())
        .map(|(i, &kib)| format!("{}: {:.1}", i + 1, kib as f64 / 1024.0))
        .collect();
    report.figure(
        "server RSS after wave n (once its streams are gone), MiB",
        series.join(", "),
    );
    report.figure(
        "events published during the churn and the reading of RSS",
        format!("{} at {}/s", published.count(), config.rate),
    );
    report.check(errors == 0, || {
        format!("{errors} connections failed: {first_error:?}")
    });
    report.check_published(&published);
    report.figure(
        "server streams after the churn (the watchers only)",
        format!("{left:?}, settled after {}", took.map_or("-".into(), secs)),
    );
    report.check(took.is_some(), || {
        format!("{left:?} streams open {RELEASE_BUDGET:?} after the churn, {watching} expected")
    });
    let tolerance = config.rss_tolerance.unwrap_or(f64::INFINITY);
    // The most a figure may end at, `tolerance` above where it started.
    let bound = |before: u64| (before as f64 * (1.0 + tolerance)).min(u64::MAX as f64) as u64;
    report.figure(
        "server RSS after (events flowing, as before)",
        format!(
            "{} ({:+.1} % of before)",
            mib(rss_after),
            (rss_after as f64 / rss_before as f64 - 1.0) * 100.0
        ),
    );
    report.check(rss_after <= bound(rss_before), || {
        format!(
            "RSS {} at the end, more than {:.0} % above the {} before",
            mib(rss_after),
            tolerance * 100.0,
            mib(rss_before)
        )
    });
    // A demo built with jemalloc tells what its allocator holds: the live bytes must come
    // back as RSS must (no state of the reset connections kept); the rest tells where the
    // RSS above the baseline is (pages kept for scattered allocations, or metadata).
    if let (Some(before), Some(after)) = (heap_before, heap_after) {
        report.figure(
            "jemalloc before → after: allocated, active, metadata, MiB",
            format!("{} → {}", before.describe(), after.describe()),
        );
        report.check(after.allocated <= bound(before.allocated), || {
            format!(
                "live allocations {} at the end, more than {:.0} % above the {} before",
                mib(after.allocated / 1024),
                tolerance * 100.0,
                mib(before.allocated / 1024)
            )
        });
    }

    let totals = watchers.close(&published.accepted).await?.counts;
    report.check_streams("watching streams", &totals);

    let Waited {
        last: streams_after,
        after: took,
    } = demo
        .wait_open_streams(RELEASE_BUDGET, |n| n == streams_before)
        .await;
    report.figure("server streams after", format!("{streams_after:?}"));
    report.check(took.is_some(), || {
        format!("{streams_after:?} streams open at the end, {streams_before} before")
    });
    let Waited {
        last: fds_after,
        after: took,
    } = eventually_with(
        RELEASE_BUDGET,
        || async { demo.descriptors().ok() },
        |&n| n <= fds_before,
    )
    .await;
    report.figure("server descriptors after", format!("{fds_after:?}"));
    report.check(took.is_some(), || {
        format!("{fds_after:?} descriptors at the end, {fds_before} before")
    });
    demo.stop()?;
    Ok(report)
}

/// Opens and closes a few streams, so that lazily built state (allocator arenas of the
/// worker threads, the router) is in the baseline rather than counted as churn.
async fn warm_up(demo: &Demo, sources: &Sources) -> io::Result<()> {
    let mut open = Vec::new();
    for i in 0..64 {
        open.push(sources.open_stream(demo.addr(), Some(i % 4), false).await?);
    }
    drop(open);
    let _ = demo
        .wait_open_streams(Duration::from_secs(10), |n| n == 0)
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(())
}

/// jemalloc's statistics of a demo built with it, bytes.
struct Heap {
    /// Live allocations.
    allocated: u64,
    /// Pages those are in.
    active: u64,
    /// jemalloc's own records.
    metadata: u64,
}

impl Heap {
    /// The demo's, or `None` when it does not run on jemalloc.
    async fn read(demo: &Demo) -> io::Result<Option<Self>> {
        let (Some(allocated), Some(active), Some(metadata)) = (
            demo.allocator_bytes("allocated").await?,
            demo.allocator_bytes("active").await?,
            demo.allocator_bytes("metadata").await?,
        ) else {
            return Ok(None);
        };
        Ok(Some(Self {
            allocated,
            active,
            metadata,
        }))
    }

    fn describe(&self) -> String {
        let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
        format!(
            "{:.2}, {:.2}, {:.2}",
            mib(self.allocated),
            mib(self.active),
            mib(self.metadata)
        )
    }
}

/// What one wave did.
struct Wave {
    opened: usize,
    failed: usize,
    first_error: Option<String>,
    /// The server's open streams while the wave was held (the watchers included).
    streams_while_held: u64,
}

/// One wave: `size` connections opened (connection `first + i` filtered to plan
/// `(first + i) % plans`), held for `hold` while events flow, then all reset at once.
async fn wave(
    demo: &Demo,
    sources: &Arc<Sources>,
    config: &ChurnConfig,
    first: usize,
    size: usize,
) -> io::Result<Wave> {
    let addr = demo.addr();
    let permits = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let plans = config.plans.max(1) as usize;
    let early = config.early_reset;
    let tasks: Vec<_> = (first..first + size)
        .map(|index| {
            let (sources, permits) = (sources.clone(), permits.clone());
            tokio::spawn(async move {
                let _permit = permits.acquire().await;
                let plan = (index % plans) as u32;
                if early > 0 && index % early == 0 {
                    // Reset right after the request, before (or while) it is answered.
                    let mut socket = sources.connect(addr, true).await?;
                    send_request(&mut socket, Some(plan)).await?;
                    return Ok(None);
                }
                sources.open_stream(addr, Some(plan), true).await.map(Some)
            })
        })
        .collect();
    let mut held = Vec::with_capacity(size);
    let mut outcome = Wave {
        opened: 0,
        failed: 0,
        first_error: None,
        streams_while_held: 0,
    };
    for task in tasks {
        match task.await.map_err(io::Error::other) {
            Ok(Ok(stream)) => {
                outcome.opened += 1;
                held.extend(stream);
            }
            Ok(Err(err)) | Err(err) => {
                outcome.failed += 1;
                outcome.first_error.get_or_insert(err.to_string());
            }
        }
    }
    let hold = tokio::time::sleep(config.hold);
    outcome.streams_while_held = demo.open_streams().await?;
    hold.await;
    // Zero linger: every one of them goes with a RST.
    drop(held);
    Ok(outcome)
}
