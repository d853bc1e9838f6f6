//! The publisher side: `M` events at rate `R` through a small pool of keep-alive
//! connections (hyper's HTTP/1 client), each a `POST /a2a/plans/{plan_id}/events` answered
//! by `202 {"id": ...}`. A [`Publisher`] runs on a thread and runtime of its own, so that
//! pacing and POST round trips never queue behind thousands of busy stream readers (a fast
//! server would otherwise slow its own publisher down), and can be stopped early.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{SendRequest, handshake};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::time::MissedTickBehavior;

use crate::tracker::{plan_name, unix_micros};

/// How the publisher keeps its rate when a POST is slow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pacing {
    /// Events fall due on a fixed schedule, and late ones are sent at once to catch up
    /// (the load benchmark: `M` events in `M / R` seconds).
    CatchUp,
    /// A slow answer delays the following POSTs rather than bunching them up (the soak
    /// checks: a steady trickle for as long as they need it).
    Steady,
}

/// What to publish.
#[derive(Debug, Clone)]
pub struct PublishPlan {
    /// Server address.
    pub addr: SocketAddr,
    /// Number of events (`M`); sequence numbers are `0..events`.
    pub events: u64,
    /// Events per second (`R`).
    pub rate: f64,
    /// Sequence `s` goes to plan `s % plans` (at least 1).
    pub plans: u32,
    /// Keep-alive connections used to POST concurrently.
    pub connections: usize,
    /// What happens when a POST is slow.
    pub pacing: Pacing,
}

impl PublishPlan {
    /// `events` events at `rate` over `plans` plans, one connection, [`Pacing::Steady`].
    pub fn steady(addr: SocketAddr, plans: u32, rate: f64, events: u64) -> Self {
        Self {
            addr,
            events,
            rate,
            plans,
            connections: 1,
            pacing: Pacing::Steady,
        }
    }
}

/// What the publisher saw: `accepted[seq]` is true when the POST of `seq` got its `202`.
/// Sequence `s` went to plan `s % plans`, as the trackers expect.
#[derive(Debug, Clone)]
pub struct Published {
    /// One entry per event due (fewer than planned when stopped early).
    pub accepted: Vec<bool>,
    /// POSTs that failed (error, non-202 answer, or the phase timed out).
    pub errors: u64,
    /// The first failure, for the report.
    pub first_error: Option<String>,
    /// When the first POST was scheduled.
    pub started: Instant,
    /// When the last answer arrived.
    pub finished: Instant,
}

impl Published {
    /// Events the server accepted.
    pub fn count(&self) -> u64 {
        self.accepted.iter().filter(|&&ok| ok).count() as u64
    }
}

/// The JSON body published for sequence number `seq`.
pub fn event_body(seq: u64, plan: &str, sent_us: u64) -> String {
    format!(
        r#"{{"kind":"status-update","data":{{"taskId":"{plan}","contextId":"bench","status":{{"state":"TASK_STATE_WORKING"}},"metadata":{{"seq":{seq},"sentUs":{sent_us}}}}}}}"#
    )
}

/// A [`PublishPlan`] being carried out on a thread of its own.
#[derive(Debug)]
pub struct Publisher {
    stop: Arc<AtomicBool>,
    done: oneshot::Receiver<Published>,
}

impl Publisher {
    /// Starts publishing `plan`.
    ///
    /// # Errors
    ///
    /// When the thread or its runtime cannot be made.
    pub fn start(plan: PublishPlan) -> io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, done) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let stopped = stop.clone();
        std::thread::Builder::new()
            .name("publisher".into())
            .spawn(move || {
                let _ = tx.send(runtime.block_on(publish_all(&plan, &stopped)));
            })?;
        Ok(Self { stop, done })
    }

    /// Stops publishing (the POSTs in flight complete) and returns what was published.
    ///
    /// # Errors
    ///
    /// When the publisher's thread panicked.
    pub async fn stop(self) -> io::Result<Published> {
        self.stop.store(true, Ordering::Relaxed);
        self.finish().await
    }

    /// Waits until every event was published.
    ///
    /// # Errors
    ///
    /// When the publisher's thread panicked.
    pub async fn finish(self) -> io::Result<Published> {
        self.done
            .await
            .map_err(|_| io::Error::other("publisher thread panicked"))
    }
}

/// Publishes every event of `plan` (until `stop`), paced by a tokio interval; bounded in
/// time by `3 × M/R + 30 s`.
async fn publish_all(plan: &PublishPlan, stop: &AtomicBool) -> Published {
    let started = Instant::now();
    // Steady pacing queues at most one event behind a slow POST.
    let queue = match plan.pacing {
        Pacing::CatchUp => plan.events.clamp(1, 1 << 20) as usize,
        Pacing::Steady => 1,
    };
    let (tx, rx) = mpsc::channel::<u64>(queue);
    let rx = Arc::new(Mutex::new(rx));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(u64, Result<(), String>)>();
    let mut workers = Vec::new();
    for _ in 0..plan.connections.max(1) {
        let (rx, done_tx, addr, plans) =
            (rx.clone(), done_tx.clone(), plan.addr, plan.plans.max(1));
        workers.push(tokio::spawn(async move {
            let mut conn: Option<PostConn> = None;
            loop {
                let Some(seq) = rx.lock().await.recv().await else {
                    break;
                };
                let plan_id = plan_name((seq % u64::from(plans)) as u32);
                let result = post_event(&mut conn, addr, seq, &plan_id).await;
                if result.is_err() {
                    conn = None;
                }
                if done_tx
                    .send((seq, result.map_err(|e| e.to_string())))
                    .is_err()
                {
                    break;
                }
            }
        }));
    }
    drop(done_tx);
    let period = Duration::from_secs_f64(1.0 / plan.rate.max(0.001));
    let budget = period.mul_f64(plan.events as f64 * 3.0) + Duration::from_secs(30);
    let mut due = 0;
    let pace = async {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(match plan.pacing {
            Pacing::CatchUp => MissedTickBehavior::Burst,
            Pacing::Steady => MissedTickBehavior::Delay,
        });
        for seq in 0..plan.events {
            interval.tick().await;
            if stop.load(Ordering::Relaxed) || tx.send(seq).await.is_err() {
                break;
            }
            due += 1;
        }
        drop(tx);
    };
    let mut accepted = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    let collect = async {
        while let Some((seq, result)) = done_rx.recv().await {
            let seq = seq as usize;
            if accepted.len() <= seq {
                accepted.resize(seq + 1, false);
            }
            match result {
                Ok(()) => accepted[seq] = true,
                Err(err) => {
                    errors += 1;
                    first_error.get_or_insert(format!("seq {seq}: {err}"));
                }
            }
        }
    };
    let finished_in_time = tokio::time::timeout(budget, async { tokio::join!(pace, collect) })
        .await
        .is_ok();
    for worker in &workers {
        worker.abort();
    }
    if !finished_in_time {
        first_error.get_or_insert_with(|| "publish phase timed out".to_owned());
        due = plan.events;
    }
    accepted.resize(due as usize, false);
    let answered = accepted.iter().filter(|&&ok| ok).count() as u64;
    let errors = errors.max(due - answered);
    Published {
        accepted,
        errors,
        first_error,
        started,
        finished: Instant::now(),
    }
}

/// One keep-alive connection.
struct PostConn {
    sender: SendRequest<Full<Bytes>>,
}

impl PostConn {
    async fn open(addr: SocketAddr) -> io::Result<Self> {
        let socket = TcpStream::connect(addr).await?;
        socket.set_nodelay(true)?;
        let (sender, connection) = handshake(TokioIo::new(socket))
            .await
            .map_err(io::Error::other)?;
        // Ends when the server closes the connection or the sender is dropped.
        tokio::spawn(connection);
        Ok(Self { sender })
    }
}

async fn post_event(
    conn: &mut Option<PostConn>,
    addr: SocketAddr,
    seq: u64,
    plan: &str,
) -> io::Result<()> {
    if conn.is_none() {
        *conn = Some(PostConn::open(addr).await?);
    }
    let Some(c) = conn.as_mut() else {
        return Err(io::Error::other("no connection"));
    };
    let body = event_body(seq, plan, unix_micros());
    let request = Request::post(format!("/a2a/plans/{plan}/events"))
        .header(HOST, addr.to_string())
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(io::Error::other)?;
    let exchange = async {
        c.sender.ready().await?;
        let response = c.sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok::<_, hyper::Error>((status, body))
    };
    let (status, response) = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "POST timed out"))?
        .map_err(io::Error::other)?;
    let has_id = serde_json::from_slice::<serde_json::Value>(&response)
        .ok()
        .is_some_and(|v| v.get("id").is_some_and(|id| id.is_string()));
    if status != StatusCode::ACCEPTED || !has_id {
        return Err(io::Error::other(format!(
            "answer {status}: {}",
            String::from_utf8_lossy(&response)
        )));
    }
    Ok(())
}
