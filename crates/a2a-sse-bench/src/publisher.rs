//! The publisher side: `M` events at rate `R` through a small pool of keep-alive
//! connections, each a `POST /a2a/plans/{plan_id}/events` answered by `202 {"id": ...}`.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, mpsc};
use tokio::time::MissedTickBehavior;

use crate::http1::{BodyDecoder, Framing, parse_head};
use crate::tracker::{plan_name, unix_micros};

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
}

/// What the publisher saw.
#[derive(Debug, Clone)]
pub struct PublishOutcome {
    /// `accepted[seq]` is true when the POST for `seq` got a `202`.
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

/// The JSON body published for sequence number `seq`.
pub fn event_body(seq: u64, plan: &str, sent_us: u64) -> String {
    format!(
        r#"{{"kind":"status-update","data":{{"taskId":"{plan}","contextId":"bench","status":{{"state":"TASK_STATE_WORKING"}},"metadata":{{"seq":{seq},"sentUs":{sent_us}}}}}}}"#
    )
}

/// Publishes every event of `plan`, paced by a tokio interval; bounded in time by
/// `3 × M/R + 30 s`.
pub async fn publish_all(plan: &PublishPlan) -> PublishOutcome {
    let started = Instant::now();
    let (tx, rx) = mpsc::channel::<u64>(plan.events.max(1) as usize);
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
    let pace = async {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(MissedTickBehavior::Burst);
        for seq in 0..plan.events {
            interval.tick().await;
            if tx.send(seq).await.is_err() {
                break;
            }
        }
        drop(tx);
    };
    let mut accepted = vec![false; plan.events as usize];
    let mut errors = 0;
    let mut first_error = None;
    let collect = async {
        while let Some((seq, result)) = done_rx.recv().await {
            match result {
                Ok(()) => accepted[seq as usize] = true,
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
    }
    let answered = accepted.iter().filter(|&&ok| ok).count() as u64;
    let errors = errors.max(plan.events - answered);
    PublishOutcome {
        accepted,
        errors,
        first_error,
        started,
        finished: Instant::now(),
    }
}

/// One keep-alive connection with its read buffer.
struct PostConn {
    socket: TcpStream,
    buf: Vec<u8>,
}

async fn post_event(
    conn: &mut Option<PostConn>,
    addr: SocketAddr,
    seq: u64,
    plan: &str,
) -> io::Result<()> {
    if conn.is_none() {
        let socket = TcpStream::connect(addr).await?;
        socket.set_nodelay(true)?;
        *conn = Some(PostConn {
            socket,
            buf: Vec::with_capacity(1024),
        });
    }
    let Some(c) = conn.as_mut() else {
        return Err(io::Error::other("no connection"));
    };
    let body = event_body(seq, plan, unix_micros());
    let request = format!(
        "POST /a2a/plans/{plan}/events HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let exchange = async {
        c.socket.write_all(request.as_bytes()).await?;
        read_response(c).await
    };
    let (status, response) = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "POST timed out"))??;
    let has_id = serde_json::from_slice::<serde_json::Value>(&response)
        .ok()
        .is_some_and(|v| v.get("id").is_some_and(|id| id.is_string()));
    if status != 202 || !has_id {
        return Err(io::Error::other(format!(
            "answer {status}: {}",
            String::from_utf8_lossy(&response)
        )));
    }
    Ok(())
}

/// Reads one response (head and body) from the keep-alive connection.
async fn read_response(c: &mut PostConn) -> io::Result<(u16, Vec<u8>)> {
    let head = loop {
        if let Some(head) = parse_head(&c.buf)? {
            break head;
        }
        read_more(c).await?;
    };
    c.buf.drain(..head.head_len);
    if head.framing == Framing::UntilClose {
        return Err(io::Error::other("POST answer without length"));
    }
    let mut decoder = BodyDecoder::new(head.framing);
    let mut body = Vec::new();
    loop {
        let used = decoder.decode(&c.buf, &mut |bytes| body.extend_from_slice(bytes))?;
        c.buf.drain(..used);
        if decoder.is_done() {
            return Ok((head.status, body));
        }
        read_more(c).await?;
    }
}

async fn read_more(c: &mut PostConn) -> io::Result<()> {
    let mut chunk = [0u8; 2048];
    let n = c.socket.read(&mut chunk).await?;
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "server closed the connection",
        ));
    }
    c.buf.extend_from_slice(&chunk[..n]);
    Ok(())
}
