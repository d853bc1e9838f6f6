//! [`Client`]: one named client of a scenario, over real HTTP, and everything it received.

use std::net::SocketAddr;
use std::time::Duration;

use crate::{Event, Next, SseClient, StreamReader};
use a2a_sse_core::DEFAULT_PATH;
use serde_json::Value;
use tokio::time::Instant;

use super::world::PATIENCE;

/// Event names the stream generates itself; every other event came from the queue.
const CONTROL_EVENTS: [&str; 2] = ["reset", "lagged"];

/// The head and, unless it is a stream, the body of a response.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl Answer {
    /// The first value of header `name` (lower case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.body))
    }
}

/// Sends one request to `addr` and reads the whole body unless a stream is answered.
pub(crate) async fn request(
    addr: SocketAddr,
    method: &str,
    query: &str,
    headers: &[(&str, &str)],
) -> (Answer, Option<StreamReader>) {
    let path = if query.is_empty() {
        DEFAULT_PATH.to_owned()
    } else {
        format!("{DEFAULT_PATH}?{query}")
    };
    let client = SseClient::new(addr);
    let send = client.request(method, &path, headers, Vec::new());
    let response = tokio::time::timeout(PATIENCE, send)
        .await
        .unwrap_or_else(|_| panic!("no answer to {method} {path} in {PATIENCE:?}"));
    let mut answer = Answer {
        status: response.status,
        headers: response.headers.clone(),
        body: String::new(),
    };
    let streams = answer
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/event-stream"));
    if streams {
        return (answer, Some(response.into_stream()));
    }
    answer.body = response.text().await;
    (answer, None)
}

/// A client of the event stream, across reconnects.
#[derive(Debug)]
pub(crate) struct Client {
    /// The plan it watches; `None` for every plan.
    pub(crate) plan: Option<String>,
    /// The answer to its latest request.
    pub(crate) answer: Answer,
    reader: Option<StreamReader>,
    /// Every event received, over every connection, in arrival order.
    pub(crate) received: Vec<Event>,
    /// Whether it reads its stream when asked to keep up.
    pub(crate) reads: bool,
    ended: bool,
    opened: Instant,
}

impl Client {
    /// Opens the stream with `query` and `headers`.
    pub(crate) async fn open(
        addr: SocketAddr,
        plan: Option<String>,
        query: &str,
        headers: &[(&str, &str)],
    ) -> Self {
        let mut client = Self {
            plan,
            answer: Answer {
                status: 0,
                headers: Vec::new(),
                body: String::new(),
            },
            reader: None,
            received: Vec::new(),
            reads: true,
            ended: false,
            opened: Instant::now(),
        };
        client.reopen(addr, query, headers).await;
        client
    }

    /// Opens a new connection (the previous one, if any, is closed first), keeping what
    /// was received before.
    pub(crate) async fn reopen(&mut self, addr: SocketAddr, query: &str, headers: &[(&str, &str)]) {
        self.reader = None;
        // Taken before the request, so nothing the server sends can predate it.
        self.opened = Instant::now();
        let (answer, reader) = request(addr, "GET", query, headers).await;
        self.answer = answer;
        self.reader = reader;
        self.ended = false;
    }

    /// Closes the connection.
    pub(crate) fn disconnect(&mut self) {
        self.reader = None;
    }

    /// The id of the last event received that carried one.
    pub(crate) fn last_id(&self) -> Option<&str> {
        self.received
            .iter()
            .rev()
            .map(|e| e.id.as_str())
            .find(|id| !id.is_empty())
    }

    /// Events that came from the queue, without the stream's control events.
    pub(crate) fn queue_events(&self) -> impl Iterator<Item = &Event> {
        self.received
            .iter()
            .filter(|e| !CONTROL_EVENTS.contains(&e.event.as_str()))
    }

    /// Reads events until `done` holds, the stream ends, or [`PATIENCE`] runs out.
    pub(crate) async fn read_until(&mut self, done: impl Fn(&Self) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !done(self) && !self.ended {
            let reader = self
                .reader
                .as_mut()
                .unwrap_or_else(|| panic!("no open stream (answered {})", self.answer.status));
            match reader
                .next_event(deadline.saturating_duration_since(Instant::now()))
                .await
            {
                Next::Event(event) => self.received.push(event),
                Next::End => self.ended = true,
                Next::Timeout => return,
            }
            if Instant::now() >= deadline {
                return;
            }
        }
    }

    /// Reads until the server ends the stream; `false` if it did not within [`PATIENCE`].
    pub(crate) async fn read_to_end(&mut self) -> bool {
        self.read_until(|_| false).await;
        self.ended
    }

    /// Reads whatever arrives for `wait` and returns the keep-alive comments so far.
    pub(crate) async fn pings_after(&mut self, wait: Duration) -> usize {
        let reader = self.reader.as_mut().expect("an open stream");
        reader.pump(wait).await;
        reader
            .comments()
            .iter()
            .filter(|c| c.trim() == "ping")
            .count()
    }

    /// Time since the latest connection was requested.
    pub(crate) fn connected_for(&self) -> Duration {
        self.opened.elapsed()
    }

    /// The `retry:` delay the stream announced, once it did (or `None` after [`PATIENCE`]).
    pub(crate) async fn retry(&mut self) -> Option<u64> {
        let deadline = Instant::now() + PATIENCE;
        let reader = self.reader.as_mut().expect("an open stream");
        while reader.retry().is_none() && Instant::now() < deadline {
            reader.pump(Duration::from_millis(10)).await;
        }
        reader.retry()
    }
}
