//! Publish rate of one Redis through the library's backend: `K` concurrent publishers call
//! `RedisBackend::publish` (crates/a2a-events-redis) as fast as they can, each awaiting its
//! answer before the next, over the backend's one command connection; the bodies are the
//! load generator's (a status update over 10 plans), parsed as the demos' publish route
//! parses them. Each measurement gets a fresh `redis-server` (no persistence), pinned with
//! `--server-cpus` like the load benchmark's servers; run this binary on the other CPUs.
//!
//! ```text
//! taskset -c 0 redis-publish --server-cpus 1 --publishers 1,4,16,64 --events 20000 --repeat 3
//! ```
//!
//! Prints a Markdown table: events/s, publish latency p50/p99, and CPU per event of
//! `redis-server` and of this process (the backend's client side: script call, reply, and
//! its reader reading every event back).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use a2a_events::{NewEvent, PlanId};
use a2a_events_redis::{RedisBackend, RedisConfig};
use a2a_sse_bench::metrics::{self, load_average};
use a2a_sse_bench::publisher::event_body;
use a2a_sse_bench::report::median;
use a2a_sse_bench::servers::{RedisProcess, Scheduling};
use clap::Parser;
use hdrhistogram::Histogram;

#[derive(Debug, Parser)]
#[command(about = "Events per second one Redis takes through RedisBackend::publish")]
struct Cli {
    /// Concurrent publishers to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,4,16,64")]
    publishers: Vec<usize>,
    /// Events per measurement.
    #[arg(long, default_value_t = 20_000)]
    events: u64,
    /// Measurements per publisher count (figures are medians).
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// CPUs for `redis-server` (`taskset -c` syntax); without it, the load generator's own.
    #[arg(long)]
    server_cpus: Option<String>,
    /// Plans the events are spread over, round-robin.
    #[arg(long, default_value_t = 10)]
    plans: u64,
}

/// One measurement.
struct Sample {
    events_per_sec: f64,
    p50_us: u64,
    p99_us: u64,
    redis_cpu_us_per_event: f64,
    own_cpu_us_per_event: f64,
}

async fn measure(cli: &Cli, publishers: usize) -> Result<Sample, String> {
    let scheduling = Scheduling {
        nice: 0,
        cpus: cli.server_cpus.clone(),
    };
    let redis = RedisProcess::start(&scheduling, Duration::from_secs(10))
        .await
        .map_err(|e| format!("redis-server: {e}"))?;
    let backend = RedisBackend::connect(RedisConfig::new(redis.url()))
        .await
        .map_err(|e| e.to_string())?;
    let plans: Vec<PlanId> = (0..cli.plans.max(1))
        .map(|p| PlanId::new(format!("plan-{p}")).expect("a plan id"))
        .collect();
    let plans = Arc::new(plans);
    // A short warm-up: the script loaded, the connection open.
    for seq in 0..100 {
        publish_one(&backend, &plans, seq).await?;
    }
    let next = Arc::new(AtomicU64::new(100));
    let end = 100 + cli.events;
    let redis_before = metrics::cpu_ticks(redis.pid()).map_err(|e| e.to_string())?;
    let own_before = metrics::cpu_ticks(std::process::id()).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(publishers);
    for _ in 0..publishers {
        let (backend, plans, next) = (backend.clone(), plans.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let seq = next.fetch_add(1, Ordering::Relaxed);
                if seq >= end {
                    return Ok::<_, String>(latencies);
                }
                let sent = Instant::now();
                publish_one(&backend, &plans, seq).await?;
                latencies.push(sent.elapsed().as_micros() as u64);
            }
        }));
    }
    let mut histogram = Histogram::<u64>::new(3).map_err(|e| e.to_string())?;
    for task in tasks {
        for us in task.await.map_err(|e| e.to_string())?? {
            histogram.record(us).map_err(|e| e.to_string())?;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let redis_after = metrics::cpu_ticks(redis.pid()).map_err(|e| e.to_string())?;
    let own_after = metrics::cpu_ticks(std::process::id()).map_err(|e| e.to_string())?;
    backend.close();
    drop(backend);
    drop(redis);
    let per_event = |before, after| metrics::ticks_to_secs(before, after) * 1e6 / cli.events as f64;
    Ok(Sample {
        events_per_sec: cli.events as f64 / secs,
        p50_us: histogram.value_at_quantile(0.5),
        p99_us: histogram.value_at_quantile(0.99),
        redis_cpu_us_per_event: per_event(redis_before, redis_after),
        own_cpu_us_per_event: per_event(own_before, own_after),
    })
}

async fn publish_one(backend: &RedisBackend, plans: &[PlanId], seq: u64) -> Result<(), String> {
    let plan = &plans[(seq % plans.len() as u64) as usize];
    let sent_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let body = event_body(seq, plan.as_str(), sent_us);
    let event = NewEvent::from_publish_body(plan.clone(), body.as_bytes())
        .map_err(|e| format!("seq {seq}: {e}"))?;
    backend
        .publish(event)
        .await
        .map(|_| ())
        .map_err(|e| format!("seq {seq}: {e}"))
}

fn main() -> Result<(), String> {
    let cli = Cli::parse();
    if cli.publishers.is_empty() || cli.repeat == 0 || cli.events == 0 {
        return Err("--publishers, --repeat and --events must not be empty or zero".into());
    }
    let runtime = a2a_sse_bench::runtime(1).map_err(|e| e.to_string())?;
    let own_cpus = metrics::allowed_cpus(std::process::id()).unwrap_or_else(|_| "?".into());
    eprintln!(
        "{} events per measurement over {} plans, {} round(s), redis-server on CPUs {}, \
         publishers on CPUs {own_cpus}",
        cli.events,
        cli.plans,
        cli.repeat,
        cli.server_cpus.as_deref().unwrap_or("(any)"),
    );
    let load_before = load_average();
    let mut samples: Vec<Vec<Sample>> = cli.publishers.iter().map(|_| Vec::new()).collect();
    runtime.block_on(async {
        for round in 0..cli.repeat {
            for (i, &k) in cli.publishers.iter().enumerate() {
                let s = measure(&cli, k).await?;
                eprintln!(
                    "[round {} load {}] K={k}: {:.0} events/s  p50 {} µs  p99 {} µs  \
                     redis-server {:.2} µs/event  publisher process {:.2} µs/event",
                    round + 1,
                    load_average(),
                    s.events_per_sec,
                    s.p50_us,
                    s.p99_us,
                    s.redis_cpu_us_per_event,
                    s.own_cpu_us_per_event
                );
                samples[i].push(s);
            }
        }
        Ok::<_, String>(())
    })?;
    println!(
        "\n### Redis publish rate ({} events per run, medians of {}; load average before: \
         {load_before}, after: {})\n",
        cli.events,
        cli.repeat,
        load_average()
    );
    println!(
        "| publishers | events/s | publish p50 µs | publish p99 µs | redis-server CPU µs/event | publisher process CPU µs/event |\n|---|---|---|---|---|---|"
    );
    for (k, runs) in cli.publishers.iter().zip(&samples) {
        let m = |f: &dyn Fn(&Sample) -> f64| median(runs.iter().map(f).collect());
        println!(
            "| {k} | {:.0} | {:.0} | {:.0} | {:.2} | {:.2} |",
            m(&|s| s.events_per_sec),
            m(&|s| s.p50_us as f64),
            m(&|s| s.p99_us as f64),
            m(&|s| s.redis_cpu_us_per_event),
            m(&|s| s.own_cpu_us_per_event),
        );
    }
    Ok(())
}
