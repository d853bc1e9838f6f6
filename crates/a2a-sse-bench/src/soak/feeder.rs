//! [`Feeder`]: events published at a steady rate from a thread of their own until a count
//! is reached or the feeder is stopped, so that events flow for exactly as long as a check
//! needs them to.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{SendRequest, handshake};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::time::MissedTickBehavior;

use crate::publisher::event_body;
use crate::tracker::{plan_name, unix_micros};

/// What a [`Feeder`] published: `accepted[seq]` is true when the POST of `seq` got its
/// `202`. Sequence `s` went to plan `s % plans`, as the trackers expect.
#[derive(Debug, Clone, Default)]
pub struct Published {
    /// One entry per POST attempted.
    pub accepted: Vec<bool>,
    /// POSTs that failed.
    pub errors: u64,
    /// The first failure.
    pub first_error: Option<String>,
}

impl Published {
    /// Events the server accepted.
    pub fn count(&self) -> u64 {
        self.accepted.iter().filter(|&&ok| ok).count() as u64
    }
}

/// A publisher on its own thread (and runtime): POSTs never queue behind the stream
/// readers of the caller's runtime.
#[derive(Debug)]
pub struct Feeder {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    done: oneshot::Receiver<Published>,
}

impl Feeder {
    /// Starts publishing to `addr`: sequence numbers `0..limit` at `rate` per second over
    /// `plans` plans, on one keep-alive connection (opened again after a failure).
    pub fn start(addr: SocketAddr, plans: u32, rate: f64, limit: u64) -> io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let (tx, done) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop_flag, sent_count) = (stop.clone(), sent.clone());
        std::thread::Builder::new()
            .name("feeder".into())
            .spawn(move || {
                let published = runtime.block_on(feed(
                    addr,
                    plans.max(1),
                    rate,
                    limit,
                    &stop_flag,
                    &sent_count,
                ));
                let _ = tx.send(published);
            })?;
        Ok(Self { stop, sent, done })
    }

    /// POSTs answered so far (accepted or not).
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Stops publishing (the POST in flight completes) and returns what was published.
    pub async fn stop(self) -> io::Result<Published> {
        self.stop.store(true, Ordering::Relaxed);
        self.finish().await
    }

    /// Waits until every sequence number was published.
    pub async fn finish(self) -> io::Result<Published> {
        self.done
            .await
            .map_err(|_| io::Error::other("feeder thread panicked"))
    }
}

async fn feed(
    addr: SocketAddr,
    plans: u32,
    rate: f64,
    limit: u64,
    stop: &AtomicBool,
    sent: &AtomicU64,
) -> Published {
    let mut published = Published::default();
    let mut conn: Option<SendRequest<Full<Bytes>>> = None;
    let mut interval = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(0.001)));
    // A slow answer delays the following POSTs rather than bunching them up.
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    for seq in 0..limit {
        interval.tick().await;
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let plan = plan_name((seq % u64::from(plans)) as u32);
        let result = post(&mut conn, addr, seq, &plan).await;
        if let Err(err) = &result {
            conn = None;
            published.errors += 1;
            published
                .first_error
                .get_or_insert_with(|| format!("seq {seq}: {err}"));
        }
        published.accepted.push(result.is_ok());
        sent.fetch_add(1, Ordering::Relaxed);
    }
    published
}

async fn post(
    conn: &mut Option<SendRequest<Full<Bytes>>>,
    addr: SocketAddr,
    seq: u64,
    plan: &str,
) -> io::Result<()> {
    let sender = match conn {
        Some(sender) => sender,
        None => {
            let socket = TcpStream::connect(addr).await?;
            socket.set_nodelay(true)?;
            let (sender, connection) = handshake(TokioIo::new(socket))
                .await
                .map_err(io::Error::other)?;
            tokio::spawn(connection);
            conn.insert(sender)
        }
    };
    let request = Request::post(format!("/a2a/plans/{plan}/events"))
        .header(HOST, addr.to_string())
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(event_body(seq, plan, unix_micros()))))
        .map_err(io::Error::other)?;
    let exchange = async {
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok::<_, hyper::Error>((status, body))
    };
    let (status, body) = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "POST timed out"))?
        .map_err(io::Error::other)?;
    if status == StatusCode::ACCEPTED {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "answer {status}: {}",
            String::from_utf8_lossy(&body)
        )))
    }
}
