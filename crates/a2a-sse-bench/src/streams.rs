//! The client side of the soak checks: sockets bound to several loopback source addresses
//! ([`Sources`]), and tracked event streams ([`TrackedStreams`]) whose every event is
//! checked by a [`ConnTracker`] and summed up in [`Totals`].

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use crate::client::{open_stream_on, read_stream, stream_path};
use crate::tracker::{ConnTracker, plan_name};

/// Loopback source addresses the client sockets are bound to in turn (`127.0.0.2`,
/// `127.0.0.3`, …; all of `127.0.0.0/8` is loopback on Linux). Each offers its own
/// ephemeral ports toward the server, about 28,000 with the default port range.
#[derive(Debug)]
pub struct Sources {
    ips: Vec<Ipv4Addr>,
    next: AtomicUsize,
}

impl Sources {
    /// `count` source addresses from `127.0.0.2` on (at most 250); 0 leaves the choice to
    /// the kernel (`127.0.0.1`).
    pub fn new(count: usize) -> Self {
        let ips = (0..count.min(250))
            .map(|i| Ipv4Addr::new(127, 0, 0, 2 + i as u8))
            .collect();
        Self {
            ips,
            next: AtomicUsize::new(0),
        }
    }

    /// The addresses, for the report.
    pub fn describe(&self) -> String {
        match (self.ips.first(), self.ips.last()) {
            (Some(first), Some(last)) => format!("{} ({first}–{last})", self.ips.len()),
            _ => "1 (127.0.0.1)".to_owned(),
        }
    }

    /// A connection to `addr` from the next source address, within ten seconds (three
    /// attempts for refused or reset connects). With `reset_on_close` its linger time is
    /// zero: closing it sends a `RST` instead of a `FIN`, as a client that crashes or loses
    /// its network does.
    pub async fn connect(&self, addr: SocketAddr, reset_on_close: bool) -> io::Result<TcpStream> {
        let mut last = io::Error::other("no attempt made");
        for attempt in 0..3u32 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
            }
            let socket = TcpSocket::new_v4()?;
            if reset_on_close {
                socket.set_zero_linger()?;
            }
            if !self.ips.is_empty() {
                let at = self.next.fetch_add(1, Ordering::Relaxed) % self.ips.len();
                socket.bind(SocketAddr::from((self.ips[at], 0)))?;
            }
            match tokio::time::timeout(Duration::from_secs(10), socket.connect(addr)).await {
                Ok(Ok(stream)) => return Ok(stream),
                Ok(Err(err)) => last = err,
                Err(_) => last = io::Error::new(io::ErrorKind::TimedOut, "connect timed out"),
            }
        }
        Err(last)
    }
}

/// Sends the stream request for `plan` on `socket` and nothing else (the client then never
/// reads, or drops the connection before the answer).
pub async fn send_request(socket: &mut TcpStream, plan: Option<u32>) -> io::Result<()> {
    let path = stream_path(plan.map(plan_name).as_deref());
    let request = format!("GET {path} HTTP/1.1\r\nHost: soak\r\nAccept: text/event-stream\r\n\r\n");
    socket.write_all(request.as_bytes()).await
}

/// What a set of tracked streams saw, summed.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    /// Streams that got their `200 text/event-stream` head.
    pub connected: usize,
    /// Streams that could not be opened.
    pub connect_errors: usize,
    /// The first connect error.
    pub first_connect_error: Option<String>,
    /// Sum over streams of the accepted events each should have received.
    pub expected: u64,
    /// First receptions of expected events.
    pub delivered: u64,
    /// Expected events never received.
    pub missing: u64,
    /// Events received twice on one stream.
    pub duplicated: u64,
    /// Events whose id did not increase.
    pub out_of_order: u64,
    /// Events of another plan.
    pub misrouted: u64,
    /// Unreadable events, or events whose POST had failed.
    pub protocol_errors: u64,
    /// `lagged`, `reset` and other non-data events.
    pub control_events: u64,
    /// Streams the server ended before the client did.
    pub ended_early: u64,
}

impl Totals {
    /// Every stream opened, and every expected event arrived once, in order, on the right
    /// stream, with nothing else.
    pub fn is_clean(&self) -> bool {
        self.connect_errors == 0
            && self.delivered == self.expected
            && self.missing == 0
            && self.duplicated == 0
            && self.out_of_order == 0
            && self.misrouted == 0
            && self.protocol_errors == 0
            && self.control_events == 0
            && self.ended_early == 0
    }

    /// One line for the report.
    pub fn summary(&self) -> String {
        format!(
            "{} streams, {} expected deliveries, {} delivered, missing {}, duplicated {}, \
             out of order {}, misrouted {}, protocol errors {}, control events {}, ended \
             early {}, connect errors {}",
            self.connected,
            self.expected,
            self.delivered,
            self.missing,
            self.duplicated,
            self.out_of_order,
            self.misrouted,
            self.protocol_errors,
            self.control_events,
            self.ended_early,
            self.connect_errors
        )
    }
}

type Task = JoinHandle<(ConnTracker, Result<(), String>)>;

/// Event streams read and checked as they arrive, one task each.
#[derive(Debug)]
pub struct TrackedStreams {
    tasks: Vec<Task>,
    filters: Vec<Option<u32>>,
    plans: u32,
    stop: watch::Sender<bool>,
    delivered: Arc<AtomicU64>,
    settled: Arc<AtomicUsize>,
}

impl TrackedStreams {
    /// Opens one stream per entry of `filters` (`Some(p)`: filtered to plan `p`), at most
    /// `concurrency` connects at once, each checked against sequence numbers `0..capacity`
    /// published over `plans` plans. Returns at once; see [`TrackedStreams::settled`].
    pub fn open(
        addr: SocketAddr,
        sources: &Arc<Sources>,
        filters: Vec<Option<u32>>,
        plans: u32,
        capacity: u64,
        concurrency: usize,
    ) -> Self {
        let delivered = Arc::new(AtomicU64::new(0));
        let settled = Arc::new(AtomicUsize::new(0));
        let permits = Arc::new(Semaphore::new(concurrency.max(1)));
        let (stop, stop_rx) = watch::channel(false);
        let tasks = filters
            .iter()
            .map(|&filter| {
                let mut tracker = ConnTracker::new(filter, plans, capacity, delivered.clone());
                let path = stream_path(filter.map(plan_name).as_deref());
                let (sources, permits, settled, stop) = (
                    sources.clone(),
                    permits.clone(),
                    settled.clone(),
                    stop_rx.clone(),
                );
                tokio::spawn(async move {
                    let opened = {
                        let _permit = permits.acquire().await;
                        match sources.connect(addr, false).await {
                            Ok(socket) => open_stream_on(socket, &path).await,
                            Err(err) => Err(err),
                        }
                    };
                    settled.fetch_add(1, Ordering::AcqRel);
                    match opened {
                        Ok(stream) => {
                            read_stream(stream, &mut tracker, stop).await;
                            (tracker, Ok(()))
                        }
                        Err(err) => (tracker, Err(err.to_string())),
                    }
                })
            })
            .collect();
        Self {
            tasks,
            filters,
            plans,
            stop,
            delivered,
            settled,
        }
    }

    /// How many streams there are.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Streams whose connect finished (opened or failed).
    pub fn settled(&self) -> usize {
        self.settled.load(Ordering::Acquire)
    }

    /// Waits until every connect finished, at most `budget`; true when they all did.
    pub async fn wait_settled(&self, budget: Duration) -> bool {
        let deadline = Instant::now() + budget;
        while self.settled() < self.len() {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }

    /// First receptions so far, all streams together.
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    /// The deliveries `accepted` calls for, all streams together.
    pub fn expected(&self, accepted: &[bool]) -> u64 {
        let plans = u64::from(self.plans.max(1));
        let per_plan = |filter: Option<u32>| {
            accepted
                .iter()
                .enumerate()
                .filter(|&(seq, &ok)| {
                    ok && filter.is_none_or(|p| seq as u64 % plans == u64::from(p))
                })
                .count() as u64
        };
        self.filters.iter().map(|&f| per_plan(f)).sum()
    }

    /// Waits until `expected` deliveries arrived, or none arrived for `idle`.
    pub async fn wait_delivered(&self, expected: u64, idle: Duration) {
        let mut last = self.delivered();
        let mut progress = Instant::now();
        while last < expected && progress.elapsed() < idle {
            tokio::time::sleep(Duration::from_millis(10)).await;
            let now = self.delivered();
            if now != last {
                (last, progress) = (now, Instant::now());
            }
        }
    }

    /// Closes every stream (a normal close) and sums up what they saw of `accepted`.
    pub async fn close(self, accepted: &[bool]) -> Totals {
        let _ = self.stop.send(true);
        let mut totals = Totals::default();
        for task in self.tasks {
            let Ok((mut tracker, outcome)) = task.await else {
                totals.connect_errors += 1;
                continue;
            };
            match outcome {
                Ok(()) => totals.connected += 1,
                Err(err) => {
                    totals.connect_errors += 1;
                    totals.first_connect_error.get_or_insert(err);
                    continue;
                }
            }
            let (expected, missing) = tracker.finish(accepted);
            let s = tracker.stats;
            totals.expected += expected;
            totals.missing += missing;
            totals.delivered += s.delivered;
            totals.duplicated += s.duplicated;
            totals.out_of_order += s.out_of_order;
            totals.misrouted += s.misrouted;
            totals.protocol_errors += s.protocol_errors;
            totals.control_events += s.control_events;
            totals.ended_early += u64::from(s.ended_early);
        }
        totals
    }
}
