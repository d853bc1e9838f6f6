//! Driving whole scenarios: start each server as its own process, measure, stop it.

use std::io;
use std::path::Path;
use std::time::Duration;

use a2a_sse_testkit::launcher::Launcher;

use crate::metrics::load_average;
use crate::report::{Outcome, ServerRow, run_line};
use crate::run::{RunResult, run_load};
use crate::scenario::LoadConfig;
use crate::servers::{
    RedisProcess, ServerKind, launch, redis_server_available, redis_server_binary,
};

/// Starts `binary` as a `kind` server on a free loopback port, runs `config` against it
/// (floors get no events) and kills it. A Redis row first starts a `redis-server` of its
/// own, scheduled as the server is (same CPUs), and passes it to the demo as `--redis`;
/// its CPU counts in the row's CPU per delivery.
pub async fn measure_server(
    binary: &Path,
    kind: ServerKind,
    config: &LoadConfig,
) -> io::Result<RunResult> {
    let scheduling = &config.server_scheduling;
    let redis = if kind.uses_redis() {
        Some(RedisProcess::start(scheduling, Duration::from_secs(10)).await?)
    } else {
        None
    };
    let mut args = kind.args(config);
    if let Some(redis) = &redis {
        args.extend(["--redis".to_owned(), redis.url()]);
    }
    let launcher = Launcher::new(binary)
        .through(scheduling.prefix())
        .args(args)
        // Per-connection INFO logs would be measured as server work; keep warnings.
        .env(
            "RUST_LOG",
            std::env::var("BENCH_SERVER_RUST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .ready(kind.ready())
        .within(Duration::from_secs(20))
        .echo_stderr(true);
    let server = launch(launcher).await?;
    let mut config = config.clone();
    config.publish &= !kind.is_floor();
    let redis_pid = redis.as_ref().map(RedisProcess::pid);
    run_load(server.addr(), Some(server.pid()), redis_pid, &config).await
}

/// Runs `config` against every server in `kinds`, `repeat` times, interleaved (one run of
/// each server per round, the order rotated every round) so slow drifts of a noisy machine
/// spread over all of them.
/// Progress goes to stderr.
pub async fn run_scenario(
    config: &LoadConfig,
    kinds: &[ServerKind],
    bin_dir: &Path,
    repeat: usize,
) -> Vec<ServerRow> {
    let mut rows: Vec<ServerRow> = kinds
        .iter()
        .map(|&kind| {
            let binary = kind.binary(bin_dir);
            let outcome = if !binary.is_file() {
                Outcome::Pending(format!("{} not built", binary.display()))
            } else if kind.uses_redis() && !redis_server_available() {
                Outcome::Pending(format!(
                    "{} not found (apt-get install redis-server, or set BENCH_REDIS_SERVER)",
                    redis_server_binary().display()
                ))
            } else {
                Outcome::Ran(Vec::new())
            };
            ServerRow { kind, outcome }
        })
        .collect();
    let count = rows.len();
    for round in 0..repeat.max(1) {
        // Rotate the order every round so no server always gets the same slot.
        for slot in 0..count {
            let row = &mut rows[(slot + round) % count];
            let Outcome::Ran(runs) = &mut row.outcome else {
                continue;
            };
            let binary = row.kind.binary(bin_dir);
            match measure_server(&binary, row.kind, config).await {
                Ok(run) => {
                    let load = load_average();
                    let line = run_line(row.kind, &run);
                    eprintln!("[{} round {} load {load}] {line}", config.name, round + 1);
                    runs.push(run);
                }
                Err(err) => {
                    eprintln!(
                        "[{} round {}] {}: FAILED {err}",
                        config.name,
                        round + 1,
                        row.kind.name()
                    );
                    row.outcome = Outcome::Failed(err.to_string());
                }
            }
            // Let sockets of the killed server drain out of the kernel before the next one.
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    rows
}
