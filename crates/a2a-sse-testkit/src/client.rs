//! A minimal HTTP/1.1 client for tests over real loopback sockets: one connection per
//! request, so dropping a [`StreamReader`] really closes the socket.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use crate::decoder::{Decoder, Event};

/// Talks to one server.
#[derive(Debug, Clone, Copy)]
pub struct SseClient {
    addr: SocketAddr,
}

/// A response whose body has not been read yet.
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    body: Incoming,
    conn: JoinHandle<()>,
}

impl SseClient {
    /// A client for the server at `addr`.
    #[must_use]
    pub const fn new(addr: SocketAddr) -> Self {
        Self { addr }
    }

    /// `GET path` with extra headers.
    ///
    /// # Panics
    ///
    /// When the server cannot be reached (this is a test helper).
    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        self.request("GET", path, headers, Vec::new()).await
    }

    /// `POST path` with a JSON body.
    ///
    /// # Panics
    ///
    /// When the server cannot be reached.
    pub async fn post_json(&self, path: &str, body: &str) -> Response {
        let headers = [("content-type", "application/json")];
        self.request("POST", path, &headers, body.as_bytes().to_vec())
            .await
    }

    /// Any request.
    ///
    /// # Panics
    ///
    /// When the server cannot be reached or the request cannot be built.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Response {
        let stream = TcpStream::connect(self.addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("handshake");
        let conn = tokio::spawn(async move {
            let _ = connection.await;
        });
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.addr.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(Bytes::from(body))).expect("request");
        let response = sender.send_request(request).await.expect("response");
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        Response {
            status,
            headers,
            body: response.into_body(),
            conn,
        }
    }
}

impl Response {
    /// The first value of header `name` (lower case).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The headers the application set, sorted: all but those an HTTP server adds on its
    /// own (`date`, and the framing headers `transfer-encoding`, `content-length`,
    /// `connection`).
    #[must_use]
    pub fn app_headers(&self) -> Vec<(&str, &str)> {
        const SERVER_OWN: [&str; 4] = ["date", "transfer-encoding", "content-length", "connection"];
        let mut headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .filter(|(name, _)| !SERVER_OWN.contains(&name.as_str()))
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        headers.sort_unstable();
        headers
    }

    /// Reads the body as the JSON error every refusal carries
    /// (`{"error": {"code": "...", "message": "..."}}`) and returns its code.
    ///
    /// # Panics
    ///
    /// When the answer is not `application/json`, or not that shape with a message.
    pub async fn error_code(self) -> String {
        let content_type = self.header("content-type").map(str::to_owned);
        assert_eq!(content_type.as_deref(), Some("application/json"));
        let body = self.text().await;
        let json: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("error body is not JSON ({e}): {body:?}"));
        let message = json["error"]["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "an error message: {json}");
        json["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("an error code: {json}"))
            .to_owned()
    }

    /// Reads the whole body (use for finite responses).
    ///
    /// # Panics
    ///
    /// When the body fails or takes more than five seconds.
    pub async fn text(self) -> String {
        let body = tokio::time::timeout(Duration::from_secs(5), self.body.collect())
            .await
            .expect("body in time")
            .expect("body")
            .to_bytes();
        self.conn.abort();
        String::from_utf8_lossy(&body).into_owned()
    }

    /// Reads the body as an event stream.
    #[must_use]
    pub fn into_stream(self) -> StreamReader {
        StreamReader {
            body: Some(self.body),
            conn: self.conn,
            decoder: Decoder::new(),
            events: VecDeque::new(),
            raw: Vec::new(),
            chunks: 0,
        }
    }
}

/// An open event stream. Dropping it closes the socket.
#[derive(Debug)]
pub struct StreamReader {
    body: Option<Incoming>,
    conn: JoinHandle<()>,
    decoder: Decoder,
    events: VecDeque<Event>,
    raw: Vec<u8>,
    chunks: usize,
}

/// What [`StreamReader::next_event`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// An event.
    Event(Event),
    /// The server ended the body.
    End,
    /// Nothing within the time given.
    Timeout,
}

impl StreamReader {
    /// Reads one more body chunk into the decoder; `false` at the end of the body.
    async fn fill(&mut self) -> bool {
        let Some(body) = &mut self.body else {
            return false;
        };
        loop {
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.chunks += 1;
                        self.raw.extend_from_slice(&data);
                        self.events.extend(self.decoder.feed(&data));
                        return true;
                    }
                }
                Some(Err(_)) | None => {
                    self.body = None;
                    return false;
                }
            }
        }
    }

    /// The next event, waiting at most `wait`.
    pub async fn next_event(&mut self, wait: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(event) = self.events.pop_front() {
                return Next::Event(event);
            }
            match tokio::time::timeout_at(deadline, self.fill()).await {
                Ok(true) => {}
                Ok(false) => return Next::End,
                Err(_) => return Next::Timeout,
            }
        }
    }

    /// Reads until `count` events arrived, the body ended, or `wait` passed.
    pub async fn events(&mut self, count: usize, wait: Duration) -> Vec<Event> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut out = Vec::new();
        while out.len() < count {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_event(left).await {
                Next::Event(event) => out.push(event),
                Next::End | Next::Timeout => break,
            }
        }
        out
    }

    /// Waits until the server ends the body (`true`) or `wait` passes (`false`); events
    /// read meanwhile stay queued for [`next_event`](Self::next_event).
    pub async fn wait_end(&mut self, wait: Duration) -> bool {
        tokio::time::timeout(wait, async { while self.fill().await {} })
            .await
            .is_ok()
    }

    /// Reads whatever arrives within `wait`; returns how many chunks came.
    pub async fn pump(&mut self, wait: Duration) -> usize {
        let before = self.chunks;
        let _ = tokio::time::timeout(wait, async { while self.fill().await {} }).await;
        self.chunks - before
    }

    /// Every byte received so far.
    #[must_use]
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// Comment lines received so far (without the colon).
    #[must_use]
    pub fn comments(&self) -> &[String] {
        &self.decoder.comments
    }

    /// The last `retry:` value received.
    #[must_use]
    pub const fn retry(&self) -> Option<u64> {
        self.decoder.retry
    }

    /// Closes the connection now.
    pub fn close(self) {
        drop(self);
    }
}

impl Drop for StreamReader {
    fn drop(&mut self) {
        self.conn.abort();
    }
}
