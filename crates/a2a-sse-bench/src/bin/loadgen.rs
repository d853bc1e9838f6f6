//! Load generator: runs the fan-out scenarios against every server kind, each started as
//! its own process, and prints Markdown tables with ratios ours/baseline.
//!
//! ```text
//! taskset -c 0 loadgen --scenario a,b --server-cpus 1   # the main configuration
//! loadgen --scenario a,b                                # shared cores
//! loadgen --scenario smoke --skip-ours
//! loadgen --scenario custom -n 500 -p 5 -m 300 -r 100 --repeat 3
//! ```
//!
//! `bench.sh` builds the servers and runs the main configuration (one core each).

use std::path::PathBuf;
use std::time::Duration;

use a2a_sse_bench::metrics::{self, load_average};
use a2a_sse_bench::report::{faulty, ratio_table, server_table};
use a2a_sse_bench::scenario::LoadConfig;
use a2a_sse_bench::servers::support::raise_nofile_limit;
use a2a_sse_bench::servers::{Scheduling, ServerKind};
use a2a_sse_bench::session::run_scenario;
use clap::Parser;

#[derive(Debug, Parser)]
#[command(about = "SSE fan-out load benchmark: ours vs hand-written baselines")]
struct Cli {
    /// Scenarios to run, comma-separated: a, b, smoke, custom.
    #[arg(long, value_delimiter = ',', default_value = "a")]
    scenario: Vec<String>,
    /// Servers to run, comma-separated (default: all): ours-axum, ours-actix,
    /// ours-axum-redis, ours-actix-redis (the demos over Redis, each run with a
    /// `redis-server` of its own on the servers' CPUs), baseline-axum, baseline-actix, bare,
    /// floor-axum, floor-actix.
    #[arg(long, value_delimiter = ',')]
    servers: Vec<String>,
    /// Leave out the library's demos (ours-axum, ours-actix and their Redis rows).
    #[arg(long)]
    skip_ours: bool,
    /// Directory holding the server binaries (default: the load generator's own directory);
    /// the demos are looked up as `bench-bins/demo-axum` and `bench-bins/demo-actix` in it.
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Repetitions per server (performance figures are medians over them).
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// Override N, the number of SSE connections.
    #[arg(short = 'n', long)]
    connections: Option<usize>,
    /// Override M, the number of events.
    #[arg(short = 'm', long)]
    events: Option<u64>,
    /// Override R, events per second.
    #[arg(short = 'r', long)]
    rate: Option<f64>,
    /// Override P, the number of plans (0 = unfiltered connections).
    #[arg(short = 'p', long)]
    plans: Option<u32>,
    /// Unfiltered connections (same as `-p 0`).
    #[arg(long)]
    no_filter: bool,
    /// Keep-alive POST connections.
    #[arg(long)]
    publishers: Option<usize>,
    /// Connects in flight at once.
    #[arg(long)]
    connect_concurrency: Option<usize>,
    /// Pause before the idle RSS is read, milliseconds.
    #[arg(long)]
    settle_ms: Option<u64>,
    /// `--buffer`/`--history` for the servers (default `max(M, 1024)`; 0 = server defaults).
    #[arg(long)]
    server_buffer: Option<u64>,
    /// Niceness for the servers (`nice -n`; 0 = none): above 0 the load generator, standing
    /// in for clients on other machines, gets a core first when both want one.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    server_nice: i32,
    /// CPUs the servers may run on, in `taskset -c` syntax (e.g. `1`); start the load
    /// generator itself on the others (`taskset -c 0 loadgen …`, as `bench.sh` does) to
    /// give each side cores of its own: the benchmark's main configuration. Runtimes size
    /// their worker pools from it (one CPU: one worker). Without it, both share all cores.
    #[arg(long)]
    server_cpus: Option<String>,
    /// Load generator worker threads: 1 = current-thread runtime (leaves a core to the server).
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// Exit with an error when any server did not run or any run was not fully correct
    /// (what CI's smoke run checks).
    #[arg(long)]
    check: bool,
}

impl Cli {
    fn configs(&self) -> Result<Vec<LoadConfig>, String> {
        let mut configs = Vec::new();
        for name in &self.scenario {
            let mut config = match name.to_ascii_lowercase().as_str() {
                "a" => LoadConfig::scenario_a(),
                "b" => LoadConfig::scenario_b(),
                "smoke" => LoadConfig::smoke(),
                "custom" => LoadConfig::custom(100, 0, 100, 100.0),
                other => return Err(format!("unknown scenario {other:?} (a, b, smoke, custom)")),
            };
            config.connections = self.connections.unwrap_or(config.connections);
            config.events = self.events.unwrap_or(config.events);
            config.rate = self.rate.unwrap_or(config.rate);
            config.plans = if self.no_filter {
                0
            } else {
                self.plans.unwrap_or(config.plans)
            };
            config.publishers = self.publishers.unwrap_or(config.publishers);
            config.connect_concurrency = self
                .connect_concurrency
                .unwrap_or(config.connect_concurrency);
            config.settle = self.settle_ms.map_or(config.settle, Duration::from_millis);
            config.server_buffer = self.server_buffer.or(config.server_buffer);
            config.server_scheduling = Scheduling {
                nice: self.server_nice,
                cpus: self.server_cpus.clone(),
            };
            configs.push(config);
        }
        Ok(configs)
    }

    fn kinds(&self) -> Result<Vec<ServerKind>, String> {
        let mut kinds = if self.servers.is_empty() {
            ServerKind::ALL.to_vec()
        } else {
            let parse = |n: &String| {
                ServerKind::from_name(n).ok_or_else(|| format!("unknown server {n:?}"))
            };
            self.servers.iter().map(parse).collect::<Result<_, _>>()?
        };
        if self.skip_ours {
            kinds.retain(|k| !k.is_ours());
        }
        Ok(kinds)
    }
}

fn main() -> Result<(), String> {
    let cli = Cli::parse();
    let configs = cli.configs()?;
    let kinds = cli.kinds()?;
    let bin_dir = a2a_sse_bench::bin_dir(cli.bin_dir.clone())?;
    // Server processes inherit the raised limit.
    let limit = raise_nofile_limit().map_err(|e| format!("raising RLIMIT_NOFILE: {e}"))?;
    let largest = configs.iter().map(|c| c.connections).max().unwrap_or(0) as u64;
    if limit < largest + 256 {
        eprintln!(
            "warning: open-files limit {limit} is below {} connections + headroom",
            largest
        );
    }
    let runtime = a2a_sse_bench::runtime(cli.client_threads).map_err(|e| e.to_string())?;
    let mut faults = Vec::new();
    runtime.block_on(async {
        for config in &configs {
            let mut shape = format!(
                "N={}, P={}, M={}, R={}/s",
                config.connections, config.plans, config.events, config.rate
            );
            if cli.client_threads > 1 {
                shape.push_str(&format!(", {} client threads", cli.client_threads));
            }
            let scheduling = &config.server_scheduling;
            if scheduling.nice != 0 {
                shape.push_str(&format!(", servers at nice {}", scheduling.nice));
            }
            if let Some(cpus) = &scheduling.cpus {
                shape.push_str(&format!(
                    ", servers on CPUs {cpus}, load generator on CPUs {}",
                    metrics::allowed_cpus(std::process::id()).unwrap_or_else(|_| "?".into())
                ));
            }
            eprintln!(
                "scenario {}: {shape}, {} round(s), servers from {}",
                config.name,
                cli.repeat,
                bin_dir.display()
            );
            let load_before = load_average();
            let rows = run_scenario(config, &kinds, &bin_dir, cli.repeat).await;
            let title = format!(
                "{} ({shape}, medians of {}; load average before: {}, after: {})",
                config.name,
                cli.repeat,
                load_before,
                load_average()
            );
            println!("{}{}", server_table(&title, &rows), ratio_table(&rows));
            faults.extend(faulty(&rows));
        }
    });
    if cli.check && !faults.is_empty() {
        return Err(format!("not fully correct: {}", faults.join("; ")));
    }
    Ok(())
}
