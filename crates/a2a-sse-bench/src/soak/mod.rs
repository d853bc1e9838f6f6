//! Soak and scale checks against one demo process, run by the `soak` binary: connections
//! opened and reset in waves ([`churn`]), many streams held at once ([`held`]), clients
//! that never read ([`stalled`]), and the exit on `SIGINT` with many open streams
//! ([`shutdown`]).
//!
//! Each check starts the demo as its own process, drives it over loopback, reads the
//! server from outside (its `/metrics` page, `/proc/<pid>`, `/proc/net`) and returns a
//! [`Report`]: the figures, and the correctness failures (counts that did not return to
//! their baseline, events missing, duplicated or misrouted). Timing is reported, never
//! checked; waits are bounded only so that a check cannot hang.
//!
//! Client sockets are bound to several loopback source addresses ([`Sources`]), since one
//! address offers about 28,000 ephemeral ports toward one server port.
//!
//! [`Sources`]: crate::client::Sources

pub mod churn;
pub mod held;
pub mod shutdown;
pub mod stalled;

mod demo;
mod readings;

pub use demo::{Demo, metric_sum};
pub use readings::{ServerSockets, server_sockets, tcp_memory_pages};

use std::fmt::Display;
use std::sync::Arc;
use std::time::Duration;

use crate::client::Sources;
use crate::publisher::Published;
use crate::tracker::Counts;

/// What one check measured and what it found wrong.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// The check's name.
    pub name: String,
    /// `(label, value)` lines, in order.
    pub figures: Vec<(String, String)>,
    /// Correctness failures; empty when the check passed.
    pub failures: Vec<String>,
}

impl Report {
    /// An empty report for `name`.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ..Self::default()
        }
    }

    /// Records a figure.
    pub fn figure(&mut self, label: &str, value: impl Display) {
        eprintln!("[{}] {label}: {value}", self.name);
        self.figures.push((label.to_owned(), value.to_string()));
    }

    /// Records a failure unless `ok`.
    pub fn check(&mut self, ok: bool, failure: impl FnOnce() -> String) {
        if !ok {
            let failure = failure();
            eprintln!("[{}] FAILED: {failure}", self.name);
            self.failures.push(failure);
        }
    }

    /// Records a failure unless every POST of `published` was accepted.
    pub fn check_published(&mut self, published: &Published) {
        self.check(published.errors == 0, || {
            format!(
                "{} publish errors: {:?}",
                published.errors, published.first_error
            )
        });
    }

    /// Records what the streams called `label` saw, and a failure unless they all opened
    /// and got every expected event (at least one) once, in order, and nothing else.
    pub fn check_streams(&mut self, label: &str, counts: &Counts) {
        self.figure(label, counts.summary());
        self.check(counts.is_clean() && counts.expected > 0, || {
            format!("the {label}: {}", counts.summary())
        });
    }

    /// True when nothing failed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// The report as text: one `label: value` line per figure, then the verdict.
    pub fn render(&self) -> String {
        let mut text = format!("== {}\n", self.name);
        for (label, value) in &self.figures {
            text.push_str(&format!("{label}: {value}\n"));
        }
        if self.passed() {
            text.push_str("result: ok\n");
        } else {
            for failure in &self.failures {
                text.push_str(&format!("FAILED: {failure}\n"));
            }
        }
        text
    }
}

/// `KiB` as MiB with one decimal.
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// A duration in seconds with two decimals.
pub fn secs(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}

/// Whether `needed` connections fit in the open-files limit of this process (after raising
/// it) with `headroom` descriptors to spare; records the limit, and a failure naming it when
/// they do not.
pub fn check_descriptors(report: &mut Report, needed: usize, headroom: usize) -> bool {
    let limit = rlimit::Resource::NOFILE
        .get()
        .map_or(0, |(soft, _)| soft as usize);
    report.figure("open-files limit (client and server)", limit);
    report.check(limit >= needed + headroom, || {
        format!(
            "{needed} connections need {} descriptors in each process, the hard limit is \
             {limit} (raise it with `ulimit -Hn`, which needs CAP_SYS_RESOURCE, or ask for \
             fewer: at most {})",
            needed + headroom,
            limit.saturating_sub(headroom)
        )
    });
    report.passed()
}

/// `count` loopback source addresses for the client sockets, recorded in the report.
pub fn sources(report: &mut Report, count: usize) -> Arc<Sources> {
    let sources = Sources::new(count);
    report.figure("source addresses", sources.describe());
    Arc::new(sources)
}
