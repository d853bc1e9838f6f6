//! A webhook receiver for push notification tests: a real HTTP/1.1 server on a loopback
//! address that records every request it gets, and can be told to fail, hang, or go down.
//!
//! ```no_run
//! # async fn demo() {
//! use a2a_sse_testkit::webhook::{Answer, Receiver};
//!
//! let receiver = Receiver::start("127.0.0.1").await;
//! let url = receiver.url("/hook");
//! receiver.answer(Answer::Status(500)); // every request fails from now on
//! receiver.answer(Answer::Status(200)); // and succeeds again
//! let taken = receiver.wait_for(3, std::time::Duration::from_secs(10)).await;
//! assert_eq!(taken.len(), 3);
//! # let _ = url;
//! # }
//! ```

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// How the receiver answers the requests it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// With this status (`200` by default) and an empty body.
    Status(u16),
    /// Never: the request is read, then the connection waits until it is closed.
    Hang,
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The request's method.
    pub method: String,
    /// The request's path.
    pub path: String,
    /// Its headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// Its body.
    pub body: Bytes,
    /// The status it was answered with (`None`: it was left hanging).
    pub answered: Option<u16>,
    /// When it arrived.
    pub at: Instant,
}

impl Delivery {
    /// The value of header `name` (lower case), if it was sent.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    ///
    /// # Panics
    ///
    /// When it is not JSON (this is a test helper).
    #[must_use]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    /// Whether it was answered with a `2xx`.
    #[must_use]
    pub fn accepted(&self) -> bool {
        self.answered
            .is_some_and(|status| (200..300).contains(&status))
    }
}

#[derive(Debug)]
struct State {
    answer: Answer,
    requests: Vec<Delivery>,
    connections: usize,
    /// The serving tasks: the accept loop and each connection's.
    tasks: Vec<JoinHandle<()>>,
}

/// A running receiver: see the [module docs](self). Dropping it stops it.
#[derive(Debug)]
pub struct Receiver {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl Receiver {
    /// A receiver on `ip` (a loopback address such as `127.0.0.1` or `::1`), on a port of
    /// its own, answering `200`.
    ///
    /// # Panics
    ///
    /// When `ip` is no IP address or cannot be bound (this is a test helper).
    pub async fn start(ip: &str) -> Self {
        let ip: IpAddr = ip.parse().expect("an IP address");
        let listener = TcpListener::bind((ip, 0)).await.expect("bind a receiver");
        let addr = listener.local_addr().expect("the receiver's address");
        let state = Arc::new(Mutex::new(State {
            answer: Answer::Status(200),
            requests: Vec::new(),
            connections: 0,
            tasks: Vec::new(),
        }));
        let receiver = Self { addr, state };
        receiver.serve(listener);
        receiver
    }

    /// Its address.
    #[must_use]
    pub const fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://{addr}{path}`, with the IPv6 address in brackets.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Answers every request from now on with `answer`.
    pub fn answer(&self, answer: Answer) {
        lock(&self.state).answer = answer;
    }

    /// Every request so far, in arrival order.
    #[must_use]
    pub fn requests(&self) -> Vec<Delivery> {
        lock(&self.state).requests.clone()
    }

    /// The requests answered with a `2xx`, in arrival order.
    #[must_use]
    pub fn accepted(&self) -> Vec<Delivery> {
        lock(&self.state)
            .requests
            .iter()
            .filter(|delivery| delivery.accepted())
            .cloned()
            .collect()
    }

    /// How many connections were opened to it.
    #[must_use]
    pub fn connections(&self) -> usize {
        lock(&self.state).connections
    }

    /// Waits until at least `count` requests were accepted, for at most `within`; the
    /// accepted requests then (fewer when the time ran out).
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Delivery> {
        let deadline = Instant::now() + within;
        loop {
            let accepted = self.accepted();
            if accepted.len() >= count || Instant::now() >= deadline {
                return accepted;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Goes down: stops listening and closes every open connection, so connecting is
    /// refused until [`up`](Self::up).
    pub fn down(&self) {
        for task in lock(&self.state).tasks.drain(..) {
            task.abort();
        }
    }

    /// Comes back on the same address.
    ///
    /// # Panics
    ///
    /// When the address cannot be bound again (this is a test helper).
    pub async fn up(&self) {
        let listener = TcpListener::bind(self.addr)
            .await
            .expect("bind the receiver again");
        self.serve(listener);
    }

    fn serve(&self, listener: TcpListener) {
        let state = Arc::clone(&self.state);
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = Arc::clone(&state);
                let conn_state = Arc::clone(&state);
                let connection = tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let state = Arc::clone(&conn_state);
                        async move { Ok::<_, Infallible>(answer(&state, request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
                let mut state = lock(&state);
                state.connections += 1;
                state.tasks.retain(|task| !task.is_finished());
                state.tasks.push(connection);
            }
        });
        lock(&self.state).tasks.push(accept);
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.down();
    }
}

async fn answer(
    state: &Mutex<State>,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let (head, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    let answer = lock(state).answer;
    let answered = match answer {
        Answer::Status(status) => Some(status),
        Answer::Hang => None,
    };
    lock(state).requests.push(Delivery {
        method: head.method.to_string(),
        path: head.uri.path().to_owned(),
        headers: head
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
        answered,
        at: Instant::now(),
    });
    match answered {
        Some(status) => {
            let mut response = hyper::Response::new(Full::new(Bytes::new()));
            *response.status_mut() =
                hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
            response
        }
        None => std::future::pending().await,
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
