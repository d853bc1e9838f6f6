//! Push notifications under load, one receiver down: the demo (a child process, push on)
//! runs `--tasks` tasks with `--configs-per-task` push configs each, spread over
//! `--receivers` webhook receivers in this process (receiver `r` on `127.0.0.{r+1}`, each
//! its own host as the agent sees it; `--one-host` puts all on `127.0.0.1`). Status
//! updates are published at `--rate` through the demo's publish route, each carrying its
//! publish time, in two phases of one run: every receiver healthy, then the last receiver
//! down (`--down refused|503|hang`) with its configs' events waiting in the backlog.
//!
//! Reported per phase: the publish→arrival latency of the healthy receivers' deliveries
//! (the same receivers in both phases), whether each config got its events in order and
//! each once, the demo's CPU per healthy delivery and its RSS (sampled every second), and
//! at the end of the second phase the backlog of a dead receiver's config (as published,
//! and as `a2a_push_backlog` says). With `--recover S` the receiver then comes back and
//! the time its backlog takes to arrive is measured. The pieces are in the crate's
//! `push` module.
//!
//! ```text
//! cargo build --release -p a2a-sse-axum --example demo -p a2a-sse-bench --bin push-load
//! target/release/push-load --repeat 3 --recover 300
//! ```
//!
//! With `--check` it exits with an error on any fault (CI's smoke run, tiny sizes).

use a2a_sse_bench::metrics::{self, load_average};
use a2a_sse_bench::push::config::PushLoad;
use a2a_sse_bench::push::report::{check, print_table};
use a2a_sse_bench::push::run::run_once;
use clap::Parser;

fn main() -> Result<(), String> {
    let cli = PushLoad::parse();
    cli.validate()?;
    if let Err(err) = a2a_sse_bench::servers::support::raise_nofile_limit() {
        eprintln!("warning: open-files limit not raised: {err}");
    }
    let runtime = a2a_sse_bench::runtime(1).map_err(|e| e.to_string())?;
    let own_cpus = metrics::allowed_cpus(std::process::id()).unwrap_or_else(|_| "?".into());
    eprintln!(
        "{} tasks × {} configs over {} receivers, {} events/s, {} s per phase, receiver down: \
         {}, {}; demo on CPUs {}, this process on CPUs {own_cpus}",
        cli.tasks,
        cli.configs_per_task,
        cli.receivers,
        cli.rate,
        cli.duration,
        cli.down.name(),
        if cli.redis { "Redis" } else { "in memory" },
        cli.server_cpus.as_deref().unwrap_or("(any)"),
    );
    let load_before = load_average();
    let runs = runtime.block_on(async {
        let mut runs = Vec::with_capacity(cli.repeat);
        for round in 1..=cli.repeat {
            runs.push(run_once(&cli, round).await?);
        }
        Ok::<_, String>(runs)
    })?;
    print_table(&cli, &runs, &load_before);
    let wrong = check(&runs);
    if cli.check && !wrong.is_empty() {
        return Err(wrong.join("\n"));
    }
    Ok(())
}
