//! Starting a run: the demo as a child process with push on, the receivers, the tasks and
//! their configs; and waiting for a phase's deliveries.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use a2a_sse_testkit::launcher::{Launcher, Process};

use super::WARMUP;
use super::config::PushLoad;
use super::http::Conn;
use super::publish::{Published, event_body};
use super::receiver::Receiver;
use crate::servers::{RedisProcess, Scheduling, launch};
use crate::tracker::unix_micros;

/// The receivers, tasks and configs of a run.
#[derive(Debug)]
pub struct Setup {
    /// The receivers; the last one goes down.
    pub receivers: Vec<Receiver>,
    /// `configs[t][r]`: how many configs of task `t` deliver to receiver `r`.
    pub configs: Vec<Vec<u64>>,
    /// `task/id` of every config on the dead receiver (the first is task 0's).
    pub dead_configs: Vec<String>,
    /// The tasks' ids.
    pub tasks: Arc<Vec<String>>,
}

/// Where receiver `r` listens: `127.0.0.{r+1}`, or `127.0.0.1` with `--one-host`.
#[must_use]
pub fn receiver_ip(cli: &PushLoad, r: usize) -> IpAddr {
    if cli.one_host {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, u8::try_from(r + 1).unwrap_or(254)))
    }
}

/// Starts the demo with push on for the receivers' addresses (over `redis` when given),
/// as `cli` says, and waits until it serves.
///
/// # Errors
///
/// When it does not start.
pub async fn start_demo(cli: &PushLoad, redis: Option<&RedisProcess>) -> Result<Process, String> {
    let demo = match &cli.demo {
        Some(path) => path.clone(),
        None => crate::bin_dir(None)?.join("examples").join("demo"),
    };
    let scheduling = Scheduling {
        nice: 0,
        cpus: cli.server_cpus.clone(),
    };
    let mut args = vec!["--no-simulate".to_owned(), "--push".to_owned()];
    for r in 0..cli.receivers {
        let ip = receiver_ip(cli, r).to_string();
        if !args.contains(&ip) {
            args.extend(["--push-allow-host".to_owned(), ip]);
        }
    }
    if let Some(redis) = redis {
        args.extend(["--redis".to_owned(), redis.url()]);
    }
    args.extend(cli.demo_args.iter().cloned());
    let launcher = Launcher::new(&demo)
        .through(scheduling.prefix())
        .args(args)
        .env(
            "RUST_LOG",
            std::env::var("BENCH_SERVER_RUST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .within(Duration::from_secs(20))
        .echo_stderr(true);
    launch(launcher)
        .await
        .map_err(|e| format!("{}: {e}", demo.display()))
}

/// Starts the receivers, creates the tasks (one event each) and their configs: config
/// `c` of task `t` delivers to receiver `(t + c) % receivers`, at `/{task}/c{c}`.
///
/// # Errors
///
/// When a receiver cannot listen or the demo refuses a publish or a config.
pub async fn set_up(cli: &PushLoad, demo: &Process) -> Result<Setup, String> {
    let mut receivers = Vec::with_capacity(cli.receivers);
    for r in 0..cli.receivers {
        let ip = receiver_ip(cli, r);
        receivers.push(
            Receiver::start(ip)
                .await
                .map_err(|e| format!("receiver on {ip}: {e}"))?,
        );
    }
    let tasks: Arc<Vec<String>> = Arc::new((0..cli.tasks).map(|t| format!("task-{t}")).collect());
    let mut conn = Conn::new(demo.addr());
    for task in tasks.iter() {
        let body = event_body(task, 0, WARMUP, unix_micros());
        let (status, answer) = conn
            .post_json(&format!("/a2a/plans/{task}/events"), body)
            .await
            .map_err(|e| format!("publish to {task}: {e}"))?;
        if status != 202 {
            return Err(format!(
                "publish to {task}: {status} {}",
                String::from_utf8_lossy(&answer)
            ));
        }
    }
    let dead = cli.receivers - 1;
    let mut configs = vec![vec![0; cli.receivers]; cli.tasks];
    let mut dead_configs = Vec::new();
    for (t, task) in tasks.iter().enumerate() {
        for c in 0..cli.configs_per_task {
            let r = (t + c) % cli.receivers;
            let id = format!("c{c}");
            let url = receivers[r].url(&format!("/{task}/{id}"));
            let call = serde_json::json!({"jsonrpc": "2.0", "id": 1,
                "method": "CreateTaskPushNotificationConfig",
                "params": {"taskId": task, "id": id, "url": url}});
            let (status, answer) = conn
                .post_json("/a2a/jsonrpc", call.to_string())
                .await
                .map_err(|e| format!("config {task}/{id}: {e}"))?;
            let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
            if status != 200 || answer.get("result").is_none() {
                return Err(format!("config {task}/{id}: {status} {answer}"));
            }
            configs[t][r] += 1;
            if r == dead {
                dead_configs.push(format!("{task}/{id}"));
            }
        }
    }
    Ok(Setup {
        receivers,
        configs,
        dead_configs,
        tasks,
    })
}

/// Deliveries receiver `r` should get of what `published` published.
#[must_use]
pub fn expected(setup: &Setup, published: &Published, r: usize) -> u64 {
    published
        .per_task
        .iter()
        .zip(&setup.configs)
        .map(|(events, configs)| events * configs[r])
        .sum()
}

/// Waits up to `within` until each receiver in `which` accepted its expected deliveries of
/// `phase`; how long that took.
pub async fn drain(
    setup: &Setup,
    published: &Published,
    phase: usize,
    which: &[usize],
    within: Duration,
) -> Duration {
    let started = Instant::now();
    while started.elapsed() < within {
        let done = which
            .iter()
            .all(|&r| setup.receivers[r].accepted(phase) >= expected(setup, published, r));
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}
