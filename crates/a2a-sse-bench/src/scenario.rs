//! Load shapes: the named scenarios and the knobs of a custom one.

use std::time::Duration;

/// One load shape, applied to each server in turn.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadConfig {
    /// Label printed in the report.
    pub name: String,
    /// Concurrent SSE connections (`N`).
    pub connections: usize,
    /// Plans (`P`): connection `i` subscribes with `plan_id=plan-{i % P}`; `0` = unfiltered.
    /// Events are published round-robin over `max(P, 1)` plans.
    pub plans: u32,
    /// Events to publish (`M`).
    pub events: u64,
    /// Publish rate, events per second (`R`).
    pub rate: f64,
    /// Keep-alive POST connections.
    pub publishers: usize,
    /// Connects (connect + request + response head) in flight at once; keeps the server's
    /// listen backlog from overflowing.
    pub connect_concurrency: usize,
    /// Pause after the last connect before the idle RSS is read.
    pub settle: Duration,
    /// Stop waiting for deliveries after this long without progress…
    pub drain_idle: Duration,
    /// …or this long after the publish phase ends, whichever is first.
    pub drain_max: Duration,
    /// Publish at all (floors only measure idle connections).
    pub publish: bool,
    /// `--buffer`/`--history` passed to the servers: `None` = `max(M, 1024)`, `Some(0)` =
    /// pass neither (each server's defaults), `Some(n)` = `n`.
    pub server_buffer: Option<u64>,
}

impl LoadConfig {
    /// Scenario A: 2,000 connections over 10 plans, 2,000 events at 500/s.
    pub fn scenario_a() -> Self {
        Self {
            name: "A".into(),
            connections: 2000,
            plans: 10,
            events: 2000,
            rate: 500.0,
            ..Self::base()
        }
    }

    /// Scenario B: 10,000 unfiltered connections, 200 events at 50/s.
    pub fn scenario_b() -> Self {
        Self {
            name: "B".into(),
            connections: 10_000,
            plans: 0,
            events: 200,
            rate: 50.0,
            ..Self::base()
        }
    }

    /// The CI smoke size: 20 connections over 3 plans, 20 events at 200/s.
    pub fn smoke() -> Self {
        Self {
            name: "smoke".into(),
            connections: 20,
            plans: 3,
            events: 20,
            rate: 200.0,
            publishers: 2,
            settle: Duration::from_millis(50),
            drain_idle: Duration::from_secs(5),
            drain_max: Duration::from_secs(15),
            ..Self::base()
        }
    }

    fn base() -> Self {
        Self {
            name: "custom".into(),
            connections: 100,
            plans: 0,
            events: 100,
            rate: 100.0,
            publishers: 4,
            connect_concurrency: 128,
            settle: Duration::from_secs(1),
            drain_idle: Duration::from_secs(5),
            drain_max: Duration::from_secs(60),
            publish: true,
            server_buffer: None,
        }
    }

    /// A custom shape with the default knobs.
    pub fn custom(connections: usize, plans: u32, events: u64, rate: f64) -> Self {
        Self {
            connections,
            plans,
            events,
            rate,
            ..Self::base()
        }
    }

    /// The plan connection `index` subscribes to, if filtered.
    pub fn filter_for(&self, index: usize) -> Option<u32> {
        (self.plans > 0).then(|| (index % self.plans as usize) as u32)
    }

    /// Per-subscriber buffer / history sizes asked of the servers; by default large enough
    /// that a healthy server never drops an event of this run (lag is not what is measured).
    pub fn server_buffer(&self) -> Option<u64> {
        match self.server_buffer {
            None => Some(self.events.max(1024)),
            Some(0) => None,
            Some(n) => Some(n),
        }
    }
}
