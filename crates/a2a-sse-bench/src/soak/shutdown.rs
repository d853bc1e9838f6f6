//! Shutdown: how long a demo with many open streams takes to exit after `SIGINT`, over a
//! few rounds (a fresh process each); it must exit, and with status 0.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use a2a_sse_testkit::eventually::Waited;

use super::{Demo, Report, check_descriptors, secs, sources};
use crate::client::{OpenStream, Sources};

/// The shape of a shutdown run.
#[derive(Debug, Clone)]
pub struct ShutdownConfig {
    /// Streams open when the signal arrives.
    pub streams: usize,
    /// Rounds; the report gives the median.
    pub rounds: usize,
    /// Connects in flight at once.
    pub concurrency: usize,
    /// Loopback source addresses (see [`Sources`]).
    pub sources: usize,
    /// Arguments for the demo besides `--addr` and `--no-simulate`.
    pub server_args: Vec<String>,
}

/// Longest wait for the exit.
const EXIT_BUDGET: Duration = Duration::from_secs(60);

/// Runs `config` against the demo at `binary`.
pub async fn run(binary: &Path, config: &ShutdownConfig) -> io::Result<Report> {
    let mut report = Report::new("shutdown");
    if !check_descriptors(&mut report, config.streams, 256) {
        return Ok(report);
    }
    let sources = sources(&mut report, config.sources);
    let mut times = Vec::new();
    for round in 1..=config.rounds.max(1) {
        let mut demo = Demo::start(binary, &config.server_args).await?;
        let streams = open_streams(&demo, &sources, config).await?;
        let n = config.streams as u64;
        let Waited { last: open, .. } = demo
            .wait_open_streams(Duration::from_secs(30), |open| open == n)
            .await;
        report.check(open == Some(n), || {
            format!("round {round}: the server counts {open:?} open streams, {n} were opened")
        });
        demo.interrupt()?;
        let exit = demo.exited_within(EXIT_BUDGET)?;
        match exit {
            Some((took, status)) => {
                report.figure(
                    &format!("round {round}"),
                    format!(
                        "{} streams, exited in {} with status {status}",
                        streams.len(),
                        secs(took)
                    ),
                );
                report.check(status == 0, || {
                    format!("round {round}: exit status {status} after SIGINT")
                });
                times.push(took);
            }
            None => report.check(false, || {
                format!("round {round}: still running {EXIT_BUDGET:?} after SIGINT")
            }),
        }
        drop(streams);
        demo.stop()?;
    }
    times.sort();
    if let Some(median) = times.get(times.len() / 2) {
        report.figure(
            "exit after SIGINT, median",
            format!(
                "{} with {} open streams ({} rounds)",
                secs(*median),
                config.streams,
                times.len()
            ),
        );
    }
    Ok(report)
}

async fn open_streams(
    demo: &Demo,
    sources: &Arc<Sources>,
    config: &ShutdownConfig,
) -> io::Result<Vec<OpenStream>> {
    let permits = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let addr = demo.addr();
    let tasks: Vec<_> = (0..config.streams)
        .map(|i| {
            let (sources, permits) = (sources.clone(), permits.clone());
            tokio::spawn(async move {
                let _permit = permits.acquire().await;
                sources.open_stream(addr, Some(i as u32 % 7), false).await
            })
        })
        .collect();
    let mut streams = Vec::with_capacity(config.streams);
    for task in tasks {
        streams.push(task.await.map_err(io::Error::other)??);
    }
    Ok(streams)
}
