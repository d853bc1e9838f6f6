//! Driving whole scenarios: start each server as its own process, measure, stop it.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use crate::metrics::load_average;
use crate::report::{Outcome, ServerRow, run_line};
use crate::run::{RunResult, run_load};
use crate::scenario::LoadConfig;
use crate::servers::{ServerKind, ServerProcess, free_port};

/// Starts `binary` as a `kind` server on a free loopback port, runs `config` against it
/// (floors get no events) and kills it.
pub async fn measure_server(
    binary: &Path,
    kind: ServerKind,
    config: &LoadConfig,
) -> io::Result<RunResult> {
    // A port can be taken between the probe and the server's bind: try a few.
    let mut attempt = 0;
    let server = loop {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()?));
        let args = kind.args(config);
        let ready_within = Duration::from_secs(20);
        match ServerProcess::start(binary, addr, &args, &config.server_scheduling, ready_within)
            .await
        {
            Ok(server) => break server,
            Err(err) if attempt >= 2 => return Err(err),
            Err(_) => attempt += 1,
        }
    };
    let addr = server.addr();
    let mut config = config.clone();
    config.publish &= !kind.is_floor();
    let result = run_load(addr, Some(server.pid()), &config).await;
    server.stop().await?;
    result
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
            let outcome = if binary.is_file() {
                Outcome::Ran(Vec::new())
            } else {
                Outcome::Pending(format!("{} not built", binary.display()))
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
