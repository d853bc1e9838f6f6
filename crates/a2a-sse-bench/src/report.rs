//! Summaries across repetitions and the printed (Markdown) tables.
//!
//! Correctness counts are summed over repetitions; performance figures are medians.

use std::fmt::Write as _;

use crate::run::RunResult;
use crate::servers::ServerKind;

/// What happened to one server in one scenario.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Every repetition ran.
    Ran(Vec<RunResult>),
    /// The binary does not exist (yet).
    Pending(String),
    /// Starting or driving the server failed.
    Failed(String),
}

/// One server's row.
#[derive(Debug, Clone)]
pub struct ServerRow {
    /// Which server.
    pub kind: ServerKind,
    /// Its outcome.
    pub outcome: Outcome,
}

/// The median of `values`, NaNs left out (the mean of the middle pair for an even count;
/// NaN when nothing is left).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// Medians of the performance figures of one server.
#[derive(Debug, Clone, Copy)]
pub struct Medians {
    /// Deliveries per second.
    pub deliveries_per_sec: f64,
    /// Latency percentiles, milliseconds.
    pub p50_ms: f64,
    /// See `p50_ms`.
    pub p99_ms: f64,
    /// See `p50_ms`.
    pub max_ms: f64,
    /// Server RSS growth per idle connection, KiB.
    pub rss_kib_per_conn: f64,
    /// Server CPU per delivery, microseconds (`redis-server`'s included, Redis rows).
    pub cpu_us_per_delivery: f64,
    /// Of it, `redis-server`'s, microseconds (0 for the other rows).
    pub redis_cpu_us_per_delivery: f64,
    /// Load generator CPU per delivery, microseconds.
    pub client_cpu_us_per_delivery: f64,
    /// Time to publish all events (M/R when the publisher kept pace), seconds.
    pub publish_secs: f64,
}

impl Medians {
    /// Medians over `runs`.
    pub fn of(runs: &[RunResult]) -> Self {
        let m = |f: &dyn Fn(&RunResult) -> f64| median(runs.iter().map(f).collect());
        Self {
            deliveries_per_sec: m(&|r| r.deliveries_per_sec()),
            p50_ms: m(&|r| r.latency_p50_us as f64 / 1000.0),
            p99_ms: m(&|r| r.latency_p99_us as f64 / 1000.0),
            max_ms: m(&|r| r.latency_max_us as f64 / 1000.0),
            rss_kib_per_conn: m(&|r| r.rss_per_conn_bytes() / 1024.0),
            cpu_us_per_delivery: m(&|r| r.cpu_us_per_delivery()),
            redis_cpu_us_per_delivery: m(&|r| r.redis_cpu_us_per_delivery()),
            client_cpu_us_per_delivery: m(&|r| r.client_cpu_us_per_delivery()),
            publish_secs: m(&|r| r.publish_secs),
        }
    }
}

fn fmt(value: f64, decimals: usize) -> String {
    if value.is_finite() {
        format!("{value:.decimals$}")
    } else {
        "–".to_owned()
    }
}

fn medians_of(rows: &[ServerRow], kind: ServerKind) -> Option<Medians> {
    rows.iter()
        .find(|r| r.kind == kind)
        .and_then(|r| match &r.outcome {
            Outcome::Ran(runs) => Some(Medians::of(runs)),
            _ => None,
        })
}

/// RSS per idle connection above the framework's floor, KiB (adapters and baselines).
fn own_state_kib(rows: &[ServerRow], kind: ServerKind) -> f64 {
    let (Some(floor), false) = (kind.floor(), kind.is_floor()) else {
        return f64::NAN;
    };
    match (medians_of(rows, kind), medians_of(rows, floor)) {
        (Some(m), Some(f)) => m.rss_kib_per_conn - f.rss_kib_per_conn,
        _ => f64::NAN,
    }
}

/// Columns of the per-server table.
const SERVER_COLUMNS: usize = 19;

/// The per-server table.
pub fn server_table(scenario: &str, rows: &[ServerRow]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n### Scenario {scenario}\n");
    let _ = writeln!(
        out,
        "| server | runs | conns | delivered/expected | missing | dup | out-of-order | misrouted | other faults \
         | publish s | deliveries/s | p50 ms | p99 ms | max ms | RSS KiB/conn | own KiB/conn | CPU µs/delivery | of it redis-server µs/delivery | load generator CPU µs/delivery |"
    );
    let _ = writeln!(out, "|{}", "---|".repeat(SERVER_COLUMNS));
    for row in rows {
        let name = row.kind.name();
        let runs = match &row.outcome {
            Outcome::Ran(runs) => runs,
            Outcome::Pending(why) => {
                let _ = writeln!(
                    out,
                    "| {name} | pending: {why} |{}",
                    " |".repeat(SERVER_COLUMNS - 2)
                );
                continue;
            }
            Outcome::Failed(why) => {
                let _ = writeln!(
                    out,
                    "| {name} | FAILED: {why} |{}",
                    " |".repeat(SERVER_COLUMNS - 2)
                );
                continue;
            }
        };
        let sum = |f: &dyn Fn(&RunResult) -> u64| runs.iter().map(f).sum::<u64>();
        let m = Medians::of(runs);
        let conns = runs.iter().map(|r| r.streams.connected).min().unwrap_or(0);
        let faults = sum(&|r| r.streams.other_faults() + r.publish_errors);
        let publishing = !row.kind.is_floor();
        let dash = |s: String| if publishing { s } else { "–".to_owned() };
        let redis = if row.kind.uses_redis() {
            fmt(m.redis_cpu_us_per_delivery, 2)
        } else {
            "–".to_owned()
        };
        let _ = writeln!(
            out,
            "| {name} | {} | {conns} | {} | {} | {} | {} | {} | {faults} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            runs.len(),
            dash(format!(
                "{}/{}",
                sum(&|r| r.streams.delivered),
                sum(&|r| r.streams.expected)
            )),
            dash(sum(&|r| r.streams.missing).to_string()),
            dash(sum(&|r| r.streams.duplicated).to_string()),
            dash(sum(&|r| r.streams.out_of_order).to_string()),
            dash(sum(&|r| r.streams.misrouted).to_string()),
            dash(fmt(m.publish_secs, 2)),
            dash(fmt(m.deliveries_per_sec, 0)),
            dash(fmt(m.p50_ms, 2)),
            dash(fmt(m.p99_ms, 2)),
            dash(fmt(m.max_ms, 1)),
            fmt(m.rss_kib_per_conn, 2),
            fmt(own_state_kib(rows, row.kind), 2),
            dash(fmt(m.cpu_us_per_delivery, 2)),
            dash(redis),
            dash(fmt(m.client_cpu_us_per_delivery, 2)),
        );
    }
    out
}

/// Ratios `left / right` for the pairs the comparison is about.
pub fn ratio_table(rows: &[ServerRow]) -> String {
    use ServerKind::*;
    let pairs = [
        (AxumDemoRedis, AxumDemo),
        (ActixDemoRedis, ActixDemo),
        (AxumDemo, BaselineAxum),
        (ActixDemo, BaselineActix),
        (AxumDemo, Bare),
        (ActixDemo, Bare),
        (BaselineAxum, Bare),
        (BaselineActix, Bare),
    ];
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nRatios of medians left/right (deliveries/s: higher is better, the rest: lower is \
         better; own state: left minus right, KiB per idle connection; the Redis rows' CPU \
         includes their redis-server's)\n"
    );
    let _ = writeln!(
        out,
        "| ratio | deliveries/s | p50 | p99 | RSS/conn | own state/conn Δ KiB | CPU/delivery |\n|---|---|---|---|---|---|---|"
    );
    for (left, right) in pairs {
        let label = format!("{} / {}", left.name(), right.name());
        let present = |kind| rows.iter().any(|row| row.kind == kind);
        if !(present(left) && present(right)) {
            continue;
        }
        let (Some(l), Some(r)) = (medians_of(rows, left), medians_of(rows, right)) else {
            let _ = writeln!(out, "| {label} | pending | | | | | |");
            continue;
        };
        let ratio = |a: f64, b: f64| fmt(a / b, 2);
        let _ = writeln!(
            out,
            "| {label} | {} | {} | {} | {} | {} | {} |",
            ratio(l.deliveries_per_sec, r.deliveries_per_sec),
            ratio(l.p50_ms, r.p50_ms),
            ratio(l.p99_ms, r.p99_ms),
            ratio(l.rss_kib_per_conn, r.rss_kib_per_conn),
            fmt(own_state_kib(rows, left) - own_state_kib(rows, right), 2),
            ratio(l.cpu_us_per_delivery, r.cpu_us_per_delivery),
        );
    }
    out
}

/// One line per run, for progress output.
pub fn run_line(kind: ServerKind, run: &RunResult) -> String {
    let mut line = format!(
        "{:<15} conns {:>5}  delivered {}/{}  missing {} dup {} ooo {} misrouted {} faults {}  \
         published {} in {:.2} s  {:.0}/s  p50 {:.2} ms  p99 {:.2} ms  max {:.1} ms  rss {:.2} KiB/conn  cpu {:.2} µs/delivery{}  load generator cpu {:.2} µs/delivery",
        kind.name(),
        run.streams.connected,
        run.streams.delivered,
        run.streams.expected,
        run.streams.missing,
        run.streams.duplicated,
        run.streams.out_of_order,
        run.streams.misrouted,
        run.streams.other_faults() + run.publish_errors,
        run.published,
        run.publish_secs,
        run.deliveries_per_sec(),
        run.latency_p50_us as f64 / 1000.0,
        run.latency_p99_us as f64 / 1000.0,
        run.latency_max_us as f64 / 1000.0,
        run.rss_per_conn_bytes() / 1024.0,
        run.cpu_us_per_delivery(),
        if kind.uses_redis() {
            format!(
                " (redis-server {:.2} of it)",
                run.redis_cpu_us_per_delivery()
            )
        } else {
            String::new()
        },
        run.client_cpu_us_per_delivery(),
    );
    for err in [&run.streams.first_connect_error, &run.first_publish_error]
        .into_iter()
        .flatten()
    {
        let _ = write!(line, "  [{err}]");
    }
    line
}

/// Rows that are not fully correct: a server that did not run, or a run with any missing,
/// duplicated, out-of-order or misrouted event or other fault. Empty when all is well.
#[must_use]
pub fn faulty(rows: &[ServerRow]) -> Vec<String> {
    rows.iter()
        .filter_map(|row| match &row.outcome {
            Outcome::Ran(runs) if runs.iter().all(RunResult::is_clean) => None,
            Outcome::Ran(_) => Some(format!("{}: correctness faults", row.kind.name())),
            Outcome::Pending(why) => Some(format!("{}: not built ({why})", row.kind.name())),
            Outcome::Failed(why) => Some(format!("{}: failed ({why})", row.kind.name())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracker::Counts;

    #[test]
    fn medians_skip_nan_and_average_the_middle_pair() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, f64::NAN, 2.0, 3.0]), 2.5);
        assert!(median(vec![]).is_nan());
    }

    /// Ten streams that got all of 200 expected deliveries.
    fn delivered_all() -> Counts {
        Counts {
            connected: 10,
            delivered: 200,
            expected: 200,
            ..Counts::default()
        }
    }

    fn cells(line: &str) -> usize {
        line.trim().trim_matches('|').split('|').count()
    }

    #[test]
    fn every_server_row_has_a_cell_per_column() {
        let run = RunResult {
            streams: delivered_all(),
            server_cpu_secs: 0.002,
            client_cpu_secs: 0.001,
            ..RunResult::default()
        };
        let rows = [
            ServerRow {
                kind: ServerKind::Bare,
                outcome: Outcome::Ran(vec![run.clone(), run]),
            },
            ServerRow {
                kind: ServerKind::AxumDemo,
                outcome: Outcome::Pending("not built".into()),
            },
            ServerRow {
                kind: ServerKind::ActixDemo,
                outcome: Outcome::Failed("exited".into()),
            },
        ];
        let table = server_table("T", &rows);
        let lines: Vec<&str> = table.lines().filter(|l| l.starts_with('|')).collect();
        let header = cells(lines[0]);
        assert_eq!(header, 19);
        for line in &lines[2..] {
            assert_eq!(cells(line), header, "{line}");
        }
        // Server and load generator CPU per delivery close the bare row: 10 µs and 5 µs,
        // no redis-server between them.
        assert!(lines[2].ends_with("| 10.00 | – | 5.00 |"), "{}", lines[2]);
    }

    #[test]
    fn a_redis_row_counts_its_redis_server_and_is_compared_with_memory() {
        let memory = RunResult {
            streams: delivered_all(),
            server_cpu_secs: 0.002,
            ..RunResult::default()
        };
        let redis = RunResult {
            server_cpu_secs: 0.002,
            redis_cpu_secs: 0.001,
            ..memory.clone()
        };
        let rows = [
            ServerRow {
                kind: ServerKind::AxumDemo,
                outcome: Outcome::Ran(vec![memory]),
            },
            ServerRow {
                kind: ServerKind::AxumDemoRedis,
                outcome: Outcome::Ran(vec![redis]),
            },
        ];
        let table = server_table("T", &rows);
        let redis_row = table
            .lines()
            .find(|l| l.starts_with("| ours-axum-redis "))
            .unwrap();
        // 3 ms over 200 deliveries, 1 ms of it redis-server's.
        assert!(
            redis_row.ends_with("| 15.00 | 5.00 | 0.00 |"),
            "{redis_row}"
        );
        let ratios = ratio_table(&rows);
        let ratio = ratios
            .lines()
            .find(|l| l.starts_with("| ours-axum-redis / ours-axum "))
            .unwrap();
        assert!(ratio.ends_with("| 1.50 |"), "{ratio}");
        // Pairs with a server that was not asked for are left out.
        assert!(!ratios.contains("baseline"), "{ratios}");
    }
}
