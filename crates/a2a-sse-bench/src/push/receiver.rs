//! [`Receiver`]: a webhook receiver for the push load benchmark, an HTTP/1.1 server (hyper)
//! on a loopback address that, for each delivery it accepts, records the publish→arrival
//! latency in the histogram of the event's phase and checks that each config's events come
//! in order, each once. It can be told to fail (`503`), hang, or go down (connection
//! refused).
//!
//! It mirrors the test kit's `webhook::Receiver` but keeps no request: at a thousand
//! deliveries a second for minutes, it keeps counts and histograms only.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::PHASES;
use crate::tracker::unix_micros;

/// How a receiver treats what comes to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Takes every delivery (`204`).
    Accept,
    /// Answers every delivery with this status (a `5xx`: the agent retries).
    Fail(u16),
    /// Reads each delivery and never answers (the agent's response timeout ends it).
    Hang,
    /// Down: not listening, every connection refused.
    Refuse,
}

/// What a receiver saw in one phase.
#[derive(Debug, Clone)]
pub struct PhaseCounts {
    /// Publish→arrival latency of each accepted delivery, µs.
    pub latency_us: Histogram<u64>,
    /// Deliveries accepted.
    pub accepted: u64,
}

impl PhaseCounts {
    fn new() -> Self {
        Self {
            latency_us: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds"),
            accepted: 0,
        }
    }
}

/// What a receiver saw in the whole run.
#[derive(Debug, Clone)]
pub struct Counts {
    /// By the phase that published the event ([`PHASES`]).
    pub phases: Vec<PhaseCounts>,
    /// Requests answered with a failure status.
    pub failed: u64,
    /// Requests left hanging.
    pub hung: u64,
    /// Deliveries out of order, repeated, or with a gap (each config must get its task's
    /// events in order, each once; nothing is dropped while the backlog has room).
    pub faults: u64,
    /// The first of those, for the report.
    pub first_fault: Option<String>,
    /// Accepted deliveries whose body could not be read.
    pub unreadable: u64,
}

impl Counts {
    fn new() -> Self {
        Self {
            phases: PHASES.iter().map(|_| PhaseCounts::new()).collect(),
            failed: 0,
            hung: 0,
            faults: 0,
            first_fault: None,
            unreadable: 0,
        }
    }
}

struct State {
    counts: Counts,
    /// By config (the delivery's path): the next `seq` it should get.
    next: HashMap<String, u64>,
    /// The serving tasks: the accept loop and each connection's.
    tasks: Vec<JoinHandle<()>>,
}

struct Shared {
    /// [`ACCEPT`], [`HANG`], [`REFUSE`], or the status every delivery is failed with.
    mode: AtomicU16,
    state: Mutex<State>,
}

/// A running receiver: see the [module docs](self). Dropping it stops it.
pub struct Receiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

const ACCEPT: u16 = 0;
const HANG: u16 = 1;
const REFUSE: u16 = 2;

impl Receiver {
    /// A receiver listening on `ip` (any port), accepting.
    ///
    /// # Errors
    ///
    /// When the address cannot be bound.
    pub async fn start(ip: std::net::IpAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind((ip, 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            mode: AtomicU16::new(ACCEPT),
            state: Mutex::new(State {
                counts: Counts::new(),
                next: HashMap::new(),
                tasks: Vec::new(),
            }),
        });
        let receiver = Self { addr, shared };
        receiver.serve(listener);
        Ok(receiver)
    }

    /// Its address.
    #[must_use]
    pub const fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://{addr}{path}`.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Treats what comes from now on as `mode` says: [`Mode::Refuse`] stops listening and
    /// closes every connection; leaving it listens again on the same address.
    ///
    /// # Errors
    ///
    /// When the address cannot be bound again.
    pub async fn set(&self, mode: Mode) -> std::io::Result<()> {
        let was_down = self.shared.mode.load(Ordering::Relaxed) == REFUSE;
        let code = match mode {
            Mode::Accept => ACCEPT,
            Mode::Hang => HANG,
            Mode::Refuse => REFUSE,
            Mode::Fail(status) => status.max(REFUSE + 1),
        };
        self.shared.mode.store(code, Ordering::Relaxed);
        if mode == Mode::Refuse {
            self.down();
        } else if was_down {
            let listener = TcpListener::bind(self.addr).await?;
            self.serve(listener);
        }
        Ok(())
    }

    /// What it saw so far.
    #[must_use]
    pub fn counts(&self) -> Counts {
        lock(&self.shared.state).counts.clone()
    }

    /// Deliveries accepted so far of events published in `phase`.
    #[must_use]
    pub fn accepted(&self, phase: usize) -> u64 {
        lock(&self.shared.state).counts.phases[phase].accepted
    }

    fn down(&self) {
        for task in lock(&self.shared.state).tasks.drain(..) {
            task.abort();
        }
    }

    fn serve(&self, listener: TcpListener) {
        let shared = Arc::clone(&self.shared);
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let conn_shared = Arc::clone(&shared);
                let connection = tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let shared = Arc::clone(&conn_shared);
                        async move { Ok::<_, Infallible>(answer(&shared, request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
                let mut state = lock(&shared.state);
                state.tasks.retain(|task| !task.is_finished());
                state.tasks.push(connection);
            }
        });
        lock(&self.shared.state).tasks.push(accept);
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.down();
    }
}

/// The part of a delivery's body the receiver reads: `{"statusUpdate": {"metadata": …}}`.
#[derive(Deserialize)]
struct Body {
    #[serde(rename = "statusUpdate")]
    status_update: Update,
}

#[derive(Deserialize)]
struct Update {
    metadata: Stamp,
}

#[derive(Deserialize)]
struct Stamp {
    seq: u64,
    phase: usize,
    #[serde(rename = "sentUs")]
    sent_us: u64,
}

async fn answer(
    shared: &Shared,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let (head, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    let arrived_us = unix_micros();
    let status = match shared.mode.load(Ordering::Relaxed) {
        ACCEPT => 204,
        HANG => {
            lock(&shared.state).counts.hung += 1;
            return std::future::pending().await;
        }
        // Refusing: a request on a connection that was open when it went down.
        REFUSE => 503,
        fail => fail,
    };
    let mut state = lock(&shared.state);
    if status == 204 {
        record(&mut state, head.uri.path(), &body, arrived_us);
    } else {
        state.counts.failed += 1;
    }
    drop(state);
    let mut response = hyper::Response::new(Full::new(Bytes::new()));
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::SERVICE_UNAVAILABLE);
    response
}

fn record(state: &mut State, config: &str, body: &[u8], arrived_us: u64) {
    let Ok(body) = serde_json::from_slice::<Body>(body) else {
        state.counts.unreadable += 1;
        return;
    };
    let stamp = body.status_update.metadata;
    let next = state.next.entry(config.to_owned()).or_insert(1);
    if stamp.seq != *next {
        state.counts.faults += 1;
        let expected = *next;
        state.counts.first_fault.get_or_insert_with(|| {
            format!("{config}: got event {} where {expected} was due", stamp.seq)
        });
    }
    *next = (*next).max(stamp.seq + 1);
    if let Some(phase) = state.counts.phases.get_mut(stamp.phase) {
        phase.accepted += 1;
        let _ = phase
            .latency_us
            .record(arrived_us.saturating_sub(stamp.sent_us).max(1));
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_are_timed_by_phase_and_checked_in_order() {
        let mut state = State {
            counts: Counts::new(),
            next: HashMap::new(),
            tasks: Vec::new(),
        };
        let body = |seq: u64, phase: usize, sent_us: u64| {
            format!(
                r#"{{"statusUpdate":{{"taskId":"t","metadata":{{"seq":{seq},"phase":{phase},"sentUs":{sent_us}}}}}}}"#
            )
        };
        record(&mut state, "/a", body(1, 1, 1_000).as_bytes(), 1_500);
        record(&mut state, "/a", body(2, 2, 2_000).as_bytes(), 4_000);
        record(&mut state, "/b", body(1, 2, 2_000).as_bytes(), 2_100);
        assert_eq!(state.counts.faults, 0);
        assert_eq!(state.counts.phases[1].accepted, 1);
        assert_eq!(state.counts.phases[2].accepted, 2);
        assert_eq!(state.counts.phases[2].latency_us.max(), 2_000);
        // A repeat and a gap are faults.
        record(&mut state, "/a", body(2, 2, 2_000).as_bytes(), 4_000);
        record(&mut state, "/b", body(3, 2, 2_000).as_bytes(), 4_000);
        assert_eq!(state.counts.faults, 2);
        assert!(
            state
                .counts
                .first_fault
                .as_deref()
                .unwrap()
                .starts_with("/a: got event 2")
        );
        record(&mut state, "/a", b"not json", 0);
        assert_eq!(state.counts.unreadable, 1);
    }
}
