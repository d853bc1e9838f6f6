//! [`run_once`]: one run of the push load benchmark, from a fresh demo to its figures.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::config::PushLoad;
use super::http::Conn;
use super::publish::{Pace, Published, publish};
use super::receiver::{Counts, Mode, Receiver};
use super::report::{PhaseFigures, RunFigures, Span};
use super::setup::{drain, expected, set_up, start_demo};
use super::{DOWN, HEALTHY, PHASES, RECOVERY, WARMUP};
use crate::metrics::{self, load_average};
use crate::servers::{RedisProcess, Scheduling};

/// RSS readings: seconds since the run's start, phase, demo KiB, redis-server KiB.
type Samples = Arc<Mutex<Vec<(f64, usize, u64, Option<u64>)>>>;

/// The value of the series `series` (name and labels, as the page writes them).
fn metric(page: &str, series: &str) -> Option<f64> {
    page.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok())?
        })
}

/// `a2a_push_backlog` of the config `task/id`.
fn backlog(page: &str, config: &str) -> Option<f64> {
    metric(page, &format!("a2a_push_backlog{{config=\"{config}\"}}"))
}

/// The demo's `/metrics` page; empty when it cannot be read (twice: the demo may have
/// closed the idle keep-alive connection, which is then reopened).
async fn metrics_page(conn: &mut Conn) -> String {
    for _ in 0..2 {
        if let Ok((200, body)) = conn.get("/metrics").await {
            return String::from_utf8_lossy(&body).into_owned();
        }
    }
    eprintln!("warning: the demo's /metrics page could not be read");
    String::new()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Start, peak and end of the phase's readings (column 2 demo, 3 redis-server).
fn rss_of(samples: &Samples, phase: usize) -> (Span, Option<Span>) {
    let samples = samples.lock().unwrap_or_else(|e| e.into_inner());
    let of: Vec<_> = samples.iter().filter(|s| s.1 == phase).collect();
    let span = |values: Vec<u64>| {
        let first = *values.first()?;
        let last = *values.last()?;
        let peak = values.iter().copied().max()?;
        Some((mib(first), mib(peak), mib(last)))
    };
    let demo = span(of.iter().map(|s| s.2).collect()).unwrap_or_default();
    let redis = span(of.iter().filter_map(|s| s.3).collect());
    (demo, redis)
}

/// The demo's RSS every ten seconds of `phase`, MiB, for the progress lines.
fn rss_series(samples: &Samples, phase: usize) -> String {
    let samples = samples.lock().unwrap_or_else(|e| e.into_inner());
    samples
        .iter()
        .filter(|s| s.1 == phase)
        .step_by(10)
        .map(|s| format!("{:.1}", mib(s.2)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Counts `published`'s failed publishes in `figures`.
fn note_errors(figures: &mut RunFigures, published: &Published) {
    figures.publish_errors += published.errors;
    if figures.first_publish_error.is_none() {
        figures
            .first_publish_error
            .clone_from(&published.first_error);
    }
}

/// Merges the healthy receivers' latency of `phase`.
fn latency(counts: &[Counts], healthy: &[usize], phase: usize) -> Histogram<u64> {
    let mut merged = counts[healthy[0]].phases[phase].latency_us.clone();
    for &r in &healthy[1..] {
        let _ = merged.add(&counts[r].phases[phase].latency_us);
    }
    merged
}

#[allow(clippy::too_many_lines)]
/// One run, numbered `round` in its progress lines: a fresh demo (and `redis-server`),
/// the warm-up, the two measured phases, and the recovery when asked for.
///
/// # Errors
///
/// When something of the run cannot be started or read.
pub async fn run_once(cli: &PushLoad, round: usize) -> Result<RunFigures, String> {
    let scheduling = Scheduling {
        nice: 0,
        cpus: cli.server_cpus.clone(),
    };
    let redis = if cli.redis {
        Some(
            RedisProcess::start(&scheduling, Duration::from_secs(10))
                .await
                .map_err(|e| format!("redis-server: {e}"))?,
        )
    } else {
        None
    };
    let demo = start_demo(cli, redis.as_ref()).await?;
    let pid = demo.pid();
    let setup = set_up(cli, &demo).await?;
    let dead = cli.receivers - 1;
    let healthy: Vec<usize> = (0..dead).collect();
    let everyone: Vec<usize> = (0..cli.receivers).collect();
    let next: Arc<Vec<AtomicU64>> = Arc::new((0..cli.tasks).map(|_| AtomicU64::new(1)).collect());
    let pace = |phase: usize, secs: u64| Pace {
        addr: demo.addr(),
        tasks: Arc::clone(&setup.tasks),
        rate: cli.rate,
        duration: Duration::from_secs(secs),
        phase,
        connections: cli.connections,
    };

    // RSS every second, tagged with the phase.
    let phase_now = Arc::new(AtomicUsize::new(WARMUP));
    let samples: Samples = Arc::default();
    let redis_pid = redis.as_ref().map(RedisProcess::pid);
    let sampler = {
        let (phase_now, samples) = (Arc::clone(&phase_now), Arc::clone(&samples));
        let began = Instant::now();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                let Ok(rss) = metrics::rss_kib(pid) else {
                    continue;
                };
                let redis_rss = redis_pid.and_then(|p| metrics::rss_kib(p).ok());
                let phase = phase_now.load(Ordering::Relaxed);
                samples.lock().unwrap_or_else(|e| e.into_inner()).push((
                    began.elapsed().as_secs_f64(),
                    phase,
                    rss,
                    redis_rss,
                ));
            }
        })
    };
    let mut scrape = Conn::new(demo.addr());
    let drain_budget = Duration::from_secs(cli.drain);
    let mut figures = RunFigures::default();

    // Warm-up: the configs claimed, connections open.
    let warm = publish(pace(WARMUP, cli.warmup), Arc::clone(&next))
        .await
        .map_err(|e| e.to_string())?;
    note_errors(&mut figures, &warm);
    drain(&setup, &warm, WARMUP, &everyone, drain_budget).await;

    // The measured phases: every receiver healthy, then the last one down.
    let mut phase_published = Vec::new();
    for phase in [HEALTHY, DOWN] {
        if phase == DOWN {
            setup.receivers[dead]
                .set(cli.down.mode())
                .await
                .map_err(|e| e.to_string())?;
        }
        phase_now.store(phase, Ordering::Relaxed);
        let cpu_before = metrics::cpu_ticks(pid).map_err(|e| e.to_string())?;
        let redis_before = redis_pid.and_then(|p| metrics::cpu_ticks(p).ok());
        let published = publish(pace(phase, cli.duration), Arc::clone(&next))
            .await
            .map_err(|e| e.to_string())?;
        note_errors(&mut figures, &published);
        let waited = drain(&setup, &published, phase, &healthy, drain_budget).await;
        let cpu = metrics::ticks_to_secs(cpu_before, metrics::cpu_ticks(pid).unwrap_or(0));
        let redis_cpu = redis_pid.zip(redis_before).and_then(|(p, before)| {
            Some(metrics::ticks_to_secs(before, metrics::cpu_ticks(p).ok()?))
        });
        // One more reading, at the phase's end.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let counts: Vec<Counts> = setup.receivers.iter().map(Receiver::counts).collect();
        let histogram = latency(&counts, &healthy, phase);
        let expected_total: u64 = healthy
            .iter()
            .map(|&r| expected(&setup, &published, r))
            .sum();
        let delivered: u64 = healthy
            .iter()
            .map(|&r| counts[r].phases[phase].accepted)
            .sum();
        let (rss_mib, redis_rss_mib) = rss_of(&samples, phase);
        let ms = |us: u64| us as f64 / 1000.0;
        let out = PhaseFigures {
            published: published.total(),
            expected: expected_total,
            delivered,
            p50_ms: ms(histogram.value_at_quantile(0.5)),
            p99_ms: ms(histogram.value_at_quantile(0.99)),
            max_ms: ms(histogram.max()),
            cpu_us_per_delivery: cpu * 1e6 / delivered.max(1) as f64,
            redis_cpu_us_per_delivery: redis_cpu.map(|cpu| cpu * 1e6 / delivered.max(1) as f64),
            rss_mib,
            redis_rss_mib,
            drained_s: waited.as_secs_f64(),
        };
        eprintln!(
            "[run {round} load {}] {}: {} events published ({} behind schedule at the end), \
             healthy deliveries {}/{}, latency p50 {:.2} ms p99 {:.2} ms max {:.1} ms, \
             demo CPU {:.1} µs/delivery{}, RSS {:.1} → {:.1} → {:.1} MiB, drained {:.2} s after",
            load_average(),
            PHASES[phase],
            out.published,
            format_args!("{:?}", published.behind),
            out.delivered,
            out.expected,
            out.p50_ms,
            out.p99_ms,
            out.max_ms,
            out.cpu_us_per_delivery,
            out.redis_cpu_us_per_delivery
                .map(|cpu| format!(" (redis-server {cpu:.1})"))
                .unwrap_or_default(),
            out.rss_mib.0,
            out.rss_mib.1,
            out.rss_mib.2,
            out.drained_s,
        );
        if phase == HEALTHY {
            figures.healthy = out;
            // The metrics before the receiver goes down, to count what the phase adds.
            let page = metrics_page(&mut scrape).await;
            figures.retried =
                -metric(&page, "a2a_push_deliveries_total{outcome=\"retried\"}").unwrap_or(0.0);
        } else {
            figures.down = out;
        }
        phase_published.push(published);
    }

    // The dead receiver's backlog, as published and as the demo says.
    let page = metrics_page(&mut scrape).await;
    figures.retried +=
        metric(&page, "a2a_push_deliveries_total{outcome=\"retried\"}").unwrap_or(0.0);
    figures.backlog_published = phase_published[1].per_task[0];
    figures.backlog_gauge = backlog(&page, &setup.dead_configs[0]);
    figures.backlog_gauge_max = setup
        .dead_configs
        .iter()
        .filter_map(|config| backlog(&page, config))
        .reduce(f64::max);
    let dead_counts = setup.receivers[dead].counts();
    figures.dead_requests = dead_counts.failed + dead_counts.hung;
    eprintln!(
        "[run {round}] dead receiver: {} requests failed or hung; backlog of {}: {} events \
         published while down, a2a_push_backlog {:?} (largest of a dead config {:?}); \
         retried deliveries {}; demo RSS every 10 s while down, MiB: {}",
        figures.dead_requests,
        setup.dead_configs[0],
        figures.backlog_published,
        figures.backlog_gauge,
        figures.backlog_gauge_max,
        figures.retried,
        rss_series(&samples, DOWN),
    );

    if cli.recover > 0 {
        phase_now.store(RECOVERY, Ordering::Relaxed);
        setup.receivers[dead]
            .set(Mode::Accept)
            .await
            .map_err(|e| e.to_string())?;
        let waited = drain(
            &setup,
            &phase_published[1],
            DOWN,
            &[dead],
            Duration::from_secs(cli.recover),
        )
        .await;
        let got = setup.receivers[dead].accepted(DOWN);
        let due = expected(&setup, &phase_published[1], dead);
        let (rss, _) = rss_of(&samples, RECOVERY);
        eprintln!(
            "[run {round}] recovery: {got}/{due} of the dead receiver's backlog arrived in \
             {:.1} s; RSS {:.1} → {:.1} → {:.1} MiB",
            waited.as_secs_f64(),
            rss.0,
            rss.1,
            rss.2
        );
        figures.recovered_s = Some((waited.as_secs_f64(), got >= due));
    }

    let counts: Vec<Counts> = setup.receivers.iter().map(Receiver::counts).collect();
    for c in &counts {
        figures.faults += c.faults + c.unreadable;
        if figures.first_fault.is_none() {
            figures.first_fault.clone_from(&c.first_fault);
        }
    }
    if figures.faults > 0 {
        eprintln!(
            "[run {round}] FAULTS: {} deliveries out of order, repeated or unreadable; first: {:?}",
            figures.faults, figures.first_fault
        );
    }
    if figures.publish_errors > 0 {
        eprintln!(
            "[run {round}] {} publishes failed; first: {:?}",
            figures.publish_errors, figures.first_publish_error
        );
    }
    sampler.abort();
    drop(setup);
    drop(demo);
    drop(redis);
    Ok(figures)
}
