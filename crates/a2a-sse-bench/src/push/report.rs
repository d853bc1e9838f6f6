//! What a push load run measured ([`RunFigures`]), and the Markdown table of the medians
//! over runs ([`print_table`]).

use crate::metrics::load_average;
use crate::report::median;

use super::config::PushLoad;

/// Readings over a phase: at its start, the peak, at its end.
pub type Span = (f64, f64, f64);

/// The figures of one measured phase.
#[derive(Debug, Clone, Default)]
pub struct PhaseFigures {
    /// Events published.
    pub published: u64,
    /// The healthy receivers' deliveries due.
    pub expected: u64,
    /// The healthy receivers' deliveries accepted.
    pub delivered: u64,
    /// Median publish→arrival latency of those, ms.
    pub p50_ms: f64,
    /// Their 99th percentile, ms.
    pub p99_ms: f64,
    /// Their slowest, ms.
    pub max_ms: f64,
    /// The demo's CPU over the phase (publishing and draining), µs per healthy delivery.
    pub cpu_us_per_delivery: f64,
    /// `redis-server`'s, likewise (with `--redis`).
    pub redis_cpu_us_per_delivery: Option<f64>,
    /// The demo's RSS at the phase's start, its peak, and at its end, MiB.
    pub rss_mib: Span,
    /// `redis-server`'s, likewise (with `--redis`).
    pub redis_rss_mib: Option<Span>,
    /// How long after publishing ended the last healthy delivery came, s.
    pub drained_s: f64,
}

/// The figures of one run.
#[derive(Debug, Clone, Default)]
pub struct RunFigures {
    /// Every receiver healthy.
    pub healthy: PhaseFigures,
    /// One receiver down.
    pub down: PhaseFigures,
    /// Events of one dead config's task published while its receiver was down: that
    /// config's backlog at the end.
    pub backlog_published: u64,
    /// What `a2a_push_backlog` said of that config then.
    pub backlog_gauge: Option<f64>,
    /// The largest `a2a_push_backlog` of any of the dead receiver's configs then.
    pub backlog_gauge_max: Option<f64>,
    /// Deliveries the demo counted as retried while the receiver was down.
    pub retried: f64,
    /// Requests the dead receiver got (and failed or left hanging).
    pub dead_requests: u64,
    /// Deliveries out of order, repeated or unreadable, at any receiver.
    pub faults: u64,
    /// The first of those.
    pub first_fault: Option<String>,
    /// Publishes that failed.
    pub publish_errors: u64,
    /// The first of those.
    pub first_publish_error: Option<String>,
    /// Seconds the backlog took to arrive once the receiver came back (with `--recover`),
    /// and whether all of it did.
    pub recovered_s: Option<(f64, bool)>,
}

/// What is wrong with `runs`, for `--check`: every fault, failed publish, missing
/// healthy delivery and incomplete recovery, one line each (empty when nothing is).
#[must_use]
pub fn check(runs: &[RunFigures]) -> Vec<String> {
    let mut wrong = Vec::new();
    for (round, run) in (1..).zip(runs) {
        if run.faults > 0 {
            wrong.push(format!(
                "run {round}: {} faulty deliveries, the first: {}",
                run.faults,
                run.first_fault.as_deref().unwrap_or("?")
            ));
        }
        if run.publish_errors > 0 {
            wrong.push(format!(
                "run {round}: {} failed publishes, the first: {}",
                run.publish_errors,
                run.first_publish_error.as_deref().unwrap_or("?")
            ));
        }
        for (name, phase) in [("all healthy", &run.healthy), ("one down", &run.down)] {
            if phase.delivered < phase.expected {
                wrong.push(format!(
                    "run {round}, {name}: {}/{} healthy deliveries",
                    phase.delivered, phase.expected
                ));
            }
        }
        if let Some((_, false)) = run.recovered_s {
            wrong.push(format!(
                "run {round}: the backlog did not all arrive once back up"
            ));
        }
    }
    wrong
}

/// Prints the Markdown table of `runs`' medians, with the load average `load_before`.
pub fn print_table(cli: &PushLoad, runs: &[RunFigures], load_before: &str) {
    let m = |f: &dyn Fn(&RunFigures) -> f64| median(runs.iter().map(f).collect());
    let backend = if cli.redis { "Redis" } else { "in memory" };
    let hosts = if cli.one_host {
        "all on 127.0.0.1"
    } else {
        "each its own loopback address"
    };
    println!(
        "\n### Push notifications under load ({backend}; {} tasks × {} configs over {} receivers, \
         {hosts}; {} events/s for {} s per phase; receiver down: {}; medians of {} run(s); \
         load average before {load_before}, after {})\n",
        cli.tasks,
        cli.configs_per_task,
        cli.receivers,
        cli.rate,
        cli.duration,
        cli.down.name(),
        runs.len(),
        load_average(),
    );
    println!(
        "| phase | healthy deliveries (due) | p50 ms | p99 ms | max ms | demo CPU µs/delivery | demo RSS MiB start → peak → end |"
    );
    println!("|---|---|---|---|---|---|---|");
    let phase = |name: &str, f: &dyn Fn(&RunFigures) -> &PhaseFigures| {
        println!(
            "| {name} | {:.0} ({:.0}) | {:.2} | {:.2} | {:.1} | {:.1} | {:.1} → {:.1} → {:.1} |",
            m(&|r| f(r).delivered as f64),
            m(&|r| f(r).expected as f64),
            m(&|r| f(r).p50_ms),
            m(&|r| f(r).p99_ms),
            m(&|r| f(r).max_ms),
            m(&|r| f(r).cpu_us_per_delivery),
            m(&|r| f(r).rss_mib.0),
            m(&|r| f(r).rss_mib.1),
            m(&|r| f(r).rss_mib.2),
        );
    };
    phase("all healthy", &|r| &r.healthy);
    phase(&format!("one down ({})", cli.down.name()), &|r| &r.down);
    println!(
        "| one down / all healthy | | {:.2} | {:.2} | | {:.2} | |",
        m(&|r| r.down.p50_ms / r.healthy.p50_ms),
        m(&|r| r.down.p99_ms / r.healthy.p99_ms),
        m(&|r| r.down.cpu_us_per_delivery / r.healthy.cpu_us_per_delivery),
    );
    println!();
    if cli.redis {
        let span = |f: &dyn Fn(&RunFigures) -> Option<Span>| {
            let at = |pick: fn(Span) -> f64| m(&|r| f(r).map_or(f64::NAN, pick));
            format!(
                "{:.1} → {:.1} → {:.1}",
                at(|x| x.0),
                at(|x| x.1),
                at(|x| x.2)
            )
        };
        let cpu = |f: &dyn Fn(&RunFigures) -> Option<f64>| m(&|r| f(r).unwrap_or(f64::NAN));
        println!(
            "redis-server CPU µs/delivery: all healthy {:.1}, one down {:.1}; RSS MiB: all \
             healthy {}, one down {}.",
            cpu(&|r| r.healthy.redis_cpu_us_per_delivery),
            cpu(&|r| r.down.redis_cpu_us_per_delivery),
            span(&|r| r.healthy.redis_rss_mib),
            span(&|r| r.down.redis_rss_mib)
        );
    }
    let each = |f: &dyn Fn(&RunFigures) -> Option<f64>| {
        runs.iter()
            .map(|r| f(r).map_or_else(|| "absent".to_owned(), |g| format!("{g:.0}")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "Backlog of a dead receiver's config at the end: {:.0} events published while it was \
         down; `a2a_push_backlog` {} (largest over the dead receiver's configs {}). Deliveries \
         retried while down: {:.0}; requests the dead receiver got: {:.0}.",
        m(&|r| r.backlog_published as f64),
        each(&|r| r.backlog_gauge),
        each(&|r| r.backlog_gauge_max),
        m(&|r| r.retried),
        m(&|r| r.dead_requests as f64),
    );
    let faults: u64 = runs.iter().map(|r| r.faults).sum();
    let errors: u64 = runs.iter().map(|r| r.publish_errors).sum();
    println!(
        "Deliveries out of order, repeated or unreadable: {faults}; failed publishes: {errors}."
    );
    if runs.iter().any(|r| r.recovered_s.is_some()) {
        println!(
            "Back up: the backlog arrived in {} s.",
            runs.iter()
                .filter_map(|r| r.recovered_s)
                .map(|(s, all)| if all {
                    format!("{s:.1}")
                } else {
                    format!("{s:.1} (not all)")
                })
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}
