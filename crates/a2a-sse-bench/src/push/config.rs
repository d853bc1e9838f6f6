//! [`PushLoad`]: what a push load run does, as the `push-load` command line gives it.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use super::receiver::Mode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
/// How the dead receiver is down in the second phase.
pub enum Down {
    /// Not listening: every connection refused.
    Refused,
    /// Answers every delivery `503`.
    #[value(name = "503")]
    Unavailable,
    /// Reads every delivery and never answers.
    Hang,
}

impl Down {
    /// The receiver's mode.
    #[must_use]
    pub const fn mode(self) -> Mode {
        match self {
            Self::Refused => Mode::Refuse,
            Self::Unavailable => Mode::Fail(503),
            Self::Hang => Mode::Hang,
        }
    }

    /// As the command line and the report name it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Refused => "refused",
            Self::Unavailable => "503",
            Self::Hang => "hang",
        }
    }
}

/// A run's parameters: the `push-load` command line.
#[derive(Debug, Clone, Parser)]
#[command(about = "Push notifications under load, one receiver down")]
pub struct PushLoad {
    /// The demo server binary (default: `examples/demo` beside this binary, what
    /// `cargo build -p a2a-sse-axum --example demo` makes).
    #[arg(long)]
    pub demo: Option<PathBuf>,
    /// Running tasks.
    #[arg(long, default_value_t = 100)]
    pub tasks: usize,
    /// Push configs per task, spread over the receivers.
    #[arg(long, default_value_t = 10)]
    pub configs_per_task: usize,
    /// Webhook receivers; the last one goes down in the second phase.
    #[arg(long, default_value_t = 10)]
    pub receivers: usize,
    /// Events published per second, over all tasks (round-robin).
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    /// Seconds each measured phase publishes.
    #[arg(long, default_value_t = 60)]
    pub duration: u64,
    /// Seconds of warm-up publishing before the first phase (not reported).
    #[arg(long, default_value_t = 5)]
    pub warmup: u64,
    /// How the receiver is down in the second phase.
    #[arg(long, value_enum, default_value_t = Down::Refused)]
    pub down: Down,
    /// Every receiver on 127.0.0.1 (one host to the agent, whose per-host limit they
    /// then share); by default receiver `r` is on 127.0.0.{r+1}.
    #[arg(long)]
    pub one_host: bool,
    /// Run the demo over Redis, with a `redis-server` of the run's own.
    #[arg(long)]
    pub redis: bool,
    /// After the second phase, bring the receiver back and wait up to this many seconds
    /// for its backlog (0: skip).
    #[arg(long, default_value_t = 0)]
    pub recover: u64,
    /// Runs (a fresh demo each); the table has their medians.
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// CPUs for the demo (and `redis-server`), in `taskset -c` syntax; without it, this
    /// process's own.
    #[arg(long)]
    pub server_cpus: Option<String>,
    /// Publishing connections.
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Longest wait, after a phase's publishing, for its healthy deliveries, seconds.
    #[arg(long, default_value_t = 120)]
    pub drain: u64,
    /// One more argument for the demo (repeatable), e.g. `--demo-arg=--history
    /// --demo-arg=64`.
    #[arg(long = "demo-arg", allow_hyphen_values = true)]
    pub demo_args: Vec<String>,
    /// Exit with an error when a run has a fault: a delivery out of order, repeated or
    /// unreadable, a failed publish, a healthy delivery missing, or (with `--recover`) a
    /// backlog that did not all arrive. CI's smoke run uses it.
    #[arg(long)]
    pub check: bool,
}

impl PushLoad {
    /// Checks the sizes.
    ///
    /// # Errors
    ///
    /// What is wrong with them.
    pub fn validate(&self) -> Result<(), String> {
        if self.tasks == 0 || self.configs_per_task == 0 || self.repeat == 0 {
            return Err("--tasks, --configs-per-task and --repeat must be at least 1".into());
        }
        if self.receivers < 2 || self.receivers > 250 {
            return Err("--receivers must be 2 to 250".into());
        }
        if !self.rate.is_finite() || self.rate <= 0.0 {
            return Err("--rate must be positive".into());
        }
        Ok(())
    }
}
