//! Soak and scale checks against the library's demos, each started as its own process:
//! `churn` (connections opened and reset in waves), `held` (many streams at once),
//! `stalled` (clients that never read), `shutdown` (exit on `SIGINT` with many streams),
//! or `all` of them. Prints a report per demo and check; exits with an error when a
//! correctness check failed (timings are reported, never checked).
//!
//! ```text
//! soak --demos axum,actix held -n 50000
//! soak --small all        # the CI sizes
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use a2a_sse_bench::servers::ServerKind;
use a2a_sse_bench::servers::support::raise_nofile_limit;
use a2a_sse_bench::soak::Report;
use a2a_sse_bench::soak::churn::{self, ChurnConfig};
use a2a_sse_bench::soak::held::{self, HeldConfig};
use a2a_sse_bench::soak::shutdown::{self, ShutdownConfig};
use a2a_sse_bench::soak::stalled::{self, StalledConfig};
use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(about = "Soak and scale checks against the a2a-sse demos")]
struct Cli {
    /// Demos to run against, comma-separated: axum, actix.
    #[arg(long, value_delimiter = ',', default_value = "axum,actix")]
    demos: Vec<String>,
    /// Directory holding `bench-bins/demo-axum` and `bench-bins/demo-actix` (default: this
    /// binary's directory).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Directory of the demos the churn check runs (default: `--bin-dir`).
    /// `scripts/soak.sh` gives it the demos built with jemalloc (feature
    /// `a2a-sse-demo/jemalloc`), which hand the memory of a burst back to the system.
    #[arg(long)]
    churn_bin_dir: Option<PathBuf>,
    /// The CI sizes (churn 2,000, held 1,000, stalled 50, shutdown 1,000) for every size
    /// not given.
    #[arg(long)]
    small: bool,
    /// Loopback source addresses for the client sockets (127.0.0.2, 127.0.0.3, …).
    #[arg(long, default_value_t = 4)]
    sources: usize,
    /// Connects in flight at once.
    #[arg(long, default_value_t = 256)]
    concurrency: usize,
    /// The demos' write deadline (`--write-timeout-ms`; default: the library's 30 s, 2 s
    /// with `--small`).
    #[arg(long)]
    write_timeout_ms: Option<u64>,
    /// One more argument for the demos, e.g. `--demo-arg=--history --demo-arg=32`
    /// (repeatable).
    #[arg(long = "demo-arg", allow_hyphen_values = true)]
    demo_args: Vec<String>,
    #[command(subcommand)]
    check: Check,
}

#[derive(Debug, Subcommand)]
enum Check {
    /// Connections opened and reset (RST) in waves while events flow.
    Churn(ChurnArgs),
    /// Many streams held open at once while events flow.
    Held(HeldArgs),
    /// Clients that never read beside fast readers.
    Stalled(StalledArgs),
    /// Exit on SIGINT with many open streams.
    Shutdown(ShutdownArgs),
    /// Every check, each in its default (or `--small`) size.
    All,
}

#[derive(Debug, Args, Default)]
struct ChurnArgs {
    /// Connections in all (default 50,000; small 2,000).
    #[arg(short = 'n', long)]
    connections: Option<usize>,
    /// Connections per wave (default 5,000; small 500).
    #[arg(long)]
    wave: Option<usize>,
    /// How long each wave stays open, milliseconds (default 300).
    #[arg(long)]
    hold_ms: Option<u64>,
    /// Events per second throughout (default 200).
    #[arg(short = 'r', long)]
    rate: Option<f64>,
    /// Plans (default 10).
    #[arg(short = 'p', long)]
    plans: Option<u32>,
    /// How far above its baseline the server's RSS may end, percent (default 10; with
    /// `--small` reported only).
    #[arg(long)]
    rss_tolerance_pct: Option<f64>,
}

#[derive(Debug, Args, Default)]
struct HeldArgs {
    /// Streams held at once (default 50,000; small 1,000).
    #[arg(short = 'n', long)]
    connections: Option<usize>,
    /// Plans (default 100; small 10).
    #[arg(short = 'p', long)]
    plans: Option<u32>,
    /// Events published once all are open (default 2,000; small 200).
    #[arg(short = 'm', long)]
    events: Option<u64>,
    /// Events per second (default 200).
    #[arg(short = 'r', long)]
    rate: Option<f64>,
}

#[derive(Debug, Args, Default)]
struct StalledArgs {
    /// Clients that never read (default 1,000; small 50).
    #[arg(short = 'n', long)]
    stalled: Option<usize>,
    /// Fast readers (default 100; small 10).
    #[arg(long)]
    fast: Option<usize>,
    /// Events (default 3,000; small 1,500).
    #[arg(short = 'm', long)]
    events: Option<u64>,
    /// Events per second (default 500).
    #[arg(short = 'r', long)]
    rate: Option<f64>,
    /// The send buffer the demos set, KiB (default 256, the library's).
    #[arg(long)]
    send_buffer_kib: Option<u64>,
}

#[derive(Debug, Args, Default)]
struct ShutdownArgs {
    /// Open streams (default 10,000; small 1,000).
    #[arg(short = 'n', long)]
    streams: Option<usize>,
    /// Rounds, the median is reported (default 3).
    #[arg(long)]
    rounds: Option<usize>,
}

/// Descriptors kept free besides the streams, in each process.
const DESCRIPTOR_HEADROOM: usize = 256;

impl Cli {
    fn size<T>(&self, given: Option<T>, full: T, small: T) -> T {
        given.unwrap_or(if self.small { small } else { full })
    }

    fn write_timeout(&self) -> Duration {
        let default = if self.small { 2_000 } else { 30_000 };
        Duration::from_millis(self.write_timeout_ms.unwrap_or(default))
    }

    fn server_args(&self) -> Vec<String> {
        let mut args = vec!["--keep-alive-ms".to_owned(), "15000".to_owned()];
        if self.small || self.write_timeout_ms.is_some() {
            let ms = self.write_timeout().as_millis().to_string();
            args.extend(["--write-timeout-ms".to_owned(), ms]);
        }
        args.extend(self.demo_args.iter().cloned());
        args
    }

    fn churn(&self, args: &ChurnArgs) -> ChurnConfig {
        ChurnConfig {
            connections: self.size(args.connections, 50_000, 2_000),
            wave: self.size(args.wave, 5_000, 500),
            hold: Duration::from_millis(args.hold_ms.unwrap_or(300)),
            plans: args.plans.unwrap_or(10),
            rate: args.rate.unwrap_or(200.0),
            concurrency: self.concurrency,
            early_reset: 4,
            rss_tolerance: match args.rss_tolerance_pct {
                Some(pct) => Some(pct / 100.0),
                None => (!self.small).then_some(0.10),
            },
            rss_quiet: Duration::from_secs(if self.small { 1 } else { 12 }),
            sources: self.sources,
            server_args: self.server_args(),
        }
    }

    fn held(&self, args: &HeldArgs) -> HeldConfig {
        let wanted = self.size(args.connections, 50_000, 1_000);
        // Unless asked for a number, as many as the open-files limit allows (each stream is
        // a descriptor in this process and one in the server's).
        let fit = rlimit::Resource::NOFILE.get().map_or(wanted, |(soft, _)| {
            (soft as usize).saturating_sub(DESCRIPTOR_HEADROOM)
        });
        let connections = match args.connections {
            Some(n) => n,
            None => wanted.min(fit),
        };
        HeldConfig {
            wanted,
            connections,
            plans: self.size(args.plans, 100, 10),
            events: self.size(args.events, 2_000, 200),
            rate: args.rate.unwrap_or(200.0),
            concurrency: self.concurrency,
            sources: self.sources,
            server_args: self.server_args(),
        }
    }

    fn stalled(&self, args: &StalledArgs) -> StalledConfig {
        StalledConfig {
            stalled: self.size(args.stalled, 1_000, 50),
            fast: self.size(args.fast, 100, 10),
            events: self.size(args.events, 3_000, 1_500),
            rate: args.rate.unwrap_or(500.0),
            write_timeout: self.write_timeout(),
            send_buffer: args.send_buffer_kib.unwrap_or(256) * 1024,
            sources: self.sources,
            server_args: self.server_args(),
        }
    }

    fn shutdown(&self, args: &ShutdownArgs) -> ShutdownConfig {
        ShutdownConfig {
            streams: self.size(args.streams, 10_000, 1_000),
            rounds: args.rounds.unwrap_or(3),
            concurrency: self.concurrency,
            sources: self.sources,
            server_args: self.server_args(),
        }
    }
}

/// Where one demo's binaries are: the one most checks run, and the churn check's.
struct Binaries {
    main: PathBuf,
    churn: PathBuf,
}

async fn run_check(cli: &Cli, check: &Check, binaries: &Binaries) -> Vec<Report> {
    let binary = binaries.main.as_path();
    let result = match check {
        Check::Churn(args) => churn::run(&binaries.churn, &cli.churn(args)).await,
        Check::Held(args) => held::run(binary, &cli.held(args)).await,
        Check::Stalled(args) => stalled::run(binary, &cli.stalled(args)).await,
        Check::Shutdown(args) => shutdown::run(binary, &cli.shutdown(args)).await,
        Check::All => {
            let mut reports = Vec::new();
            let all = [
                Check::Churn(ChurnArgs::default()),
                Check::Held(HeldArgs::default()),
                Check::Stalled(StalledArgs::default()),
                Check::Shutdown(ShutdownArgs::default()),
            ];
            for check in &all {
                reports.extend(Box::pin(run_check(cli, check, binaries)).await);
            }
            return reports;
        }
    };
    let name = match check {
        Check::Churn(_) => "churn",
        Check::Held(_) => "held",
        Check::Stalled(_) => "stalled",
        Check::Shutdown(_) => "shutdown",
        Check::All => "all",
    };
    vec![result.unwrap_or_else(|err| {
        let mut report = Report::new(name);
        report.check(false, || format!("could not run: {err}"));
        report
    })]
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let bin_dir = match a2a_sse_bench::bin_dir(cli.bin_dir.clone()) {
        Ok(dir) => dir,
        Err(err) => {
            eprintln!("soak: {err}");
            return ExitCode::FAILURE;
        }
    };
    // The demos inherit the raised limit (and raise their own soft limit too).
    match raise_nofile_limit() {
        Ok(limit) => eprintln!("open-files limit: {limit}"),
        Err(err) => eprintln!("warning: open-files limit not raised: {err}"),
    }
    let runtime = match a2a_sse_bench::runtime(1) {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("soak: {err}");
            return ExitCode::FAILURE;
        }
    };
    let mut failed = false;
    for demo in &cli.demos {
        let kind = match demo.as_str() {
            "axum" | "ours-axum" => ServerKind::AxumDemo,
            "actix" | "ours-actix" => ServerKind::ActixDemo,
            other => {
                eprintln!("soak: unknown demo {other:?} (axum, actix)");
                return ExitCode::FAILURE;
            }
        };
        let binaries = Binaries {
            main: kind.binary(&bin_dir),
            churn: kind.binary(cli.churn_bin_dir.as_deref().unwrap_or(&bin_dir)),
        };
        for mut report in runtime.block_on(run_check(&cli, &cli.check, &binaries)) {
            report.name = format!("{} {}", kind.name(), report.name);
            print!("{}", report.render());
            failed |= !report.passed();
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
