//! Load shapes: the named scenarios and the knobs of a custom one.

use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::servers::Scheduling;

/// One load shape, applied to each server in turn.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadConfig {
    /// Label printed in the report.
    pub name: String,
    /// Concurrent SSE connections (`N`).
    pub connections: usize,
    /// Plans (`P`): each connection subscribes with one `plan_id=plan-{p}`, dealt as
    /// [`filters`](Self::filters) says; `0` = unfiltered. Events are published round-robin
    /// over `max(P, 1)` plans.
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
    /// How the servers are scheduled: niceness (above 0 the load generator, which stands
    /// in for clients on other machines, is scheduled first when both want a core, so its
    /// own backlog of unread events weighs less in the latency figures) and the CPUs they
    /// may use (with the load generator started on the others, each side has cores of its
    /// own).
    pub server_scheduling: Scheduling,
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
            server_scheduling: Scheduling::default(),
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

    /// The plan each connection subscribes to, in connect order (`None`: unfiltered).
    ///
    /// Every plan gets the same number of connections (± 1), dealt in a shuffled order
    /// with a fixed seed, so that a connection's plan does not follow from the order in
    /// which the server accepted it: actix-web hands accepted connections to its workers
    /// in turn, and with `index % plans` and an even number of plans every plan's streams
    /// would sit on one worker, its fan-out on one core.
    pub fn filters(&self) -> Vec<Option<u32>> {
        if self.plans == 0 {
            return vec![None; self.connections];
        }
        let mut order: Vec<usize> = (0..self.connections).collect();
        // A fixed seed: the same deal for every server and run of one build.
        order.shuffle(&mut StdRng::seed_from_u64(0x2545_F491_4F6C_DD1D));
        order
            .into_iter()
            .map(|slot| Some((slot % self.plans as usize) as u32))
            .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_are_dealt_evenly_and_independently_of_connect_order() {
        let config = LoadConfig::scenario_a();
        let filters = config.filters();
        assert_eq!(filters, config.filters(), "the same deal every time");
        assert_eq!(filters.len(), 2000);
        for plan in 0..10 {
            let positions: Vec<usize> = (0..filters.len())
                .filter(|&i| filters[i] == Some(plan))
                .collect();
            assert_eq!(positions.len(), 200, "plan {plan}");
            // Spread over even and odd accept positions (two actix workers alike).
            let even = positions.iter().filter(|&&i| i % 2 == 0).count();
            assert!(
                (70..=130).contains(&even),
                "plan {plan}: {even} of 200 even"
            );
        }
        let unfiltered = LoadConfig::scenario_b().filters();
        assert!(unfiltered.len() == 10_000 && unfiltered.iter().all(Option::is_none));
    }
}
