//! [`Conn`]: one keep-alive HTTP/1.1 connection to the demo (hyper's client), reopened
//! after a failure, for the benchmark's JSON-RPC calls, publishes and metrics scrapes.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{SendRequest, handshake};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// The longest wait for one answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A keep-alive connection to `addr`, opened on first use.
#[derive(Debug)]
pub struct Conn {
    addr: SocketAddr,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Conn {
    /// A connection to `addr` (opened by the first request).
    #[must_use]
    pub const fn new(addr: SocketAddr) -> Self {
        Self { addr, sender: None }
    }

    /// `POST path` with a JSON `body` (and `A2A-Version: 1.0`): the status and body.
    ///
    /// # Errors
    ///
    /// When the connection fails or no answer comes within ten seconds.
    pub async fn post_json(&mut self, path: &str, body: String) -> io::Result<(u16, Bytes)> {
        self.request(Method::POST, path, Bytes::from(body)).await
    }

    /// `GET path`: the status and body.
    ///
    /// # Errors
    ///
    /// As [`post_json`](Self::post_json).
    pub async fn get(&mut self, path: &str) -> io::Result<(u16, Bytes)> {
        self.request(Method::GET, path, Bytes::new()).await
    }

    async fn request(
        &mut self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> io::Result<(u16, Bytes)> {
        let result = tokio::time::timeout(TIMEOUT, self.exchange(method, path, body))
            .await
            .unwrap_or_else(|_| Err(io::Error::new(io::ErrorKind::TimedOut, "no answer")));
        if result.is_err() {
            self.sender = None;
        }
        result
    }

    async fn exchange(
        &mut self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> io::Result<(u16, Bytes)> {
        let sender = match &mut self.sender {
            Some(sender) => sender,
            None => {
                let socket = TcpStream::connect(self.addr).await?;
                socket.set_nodelay(true)?;
                let (sender, connection) = handshake(TokioIo::new(socket))
                    .await
                    .map_err(io::Error::other)?;
                tokio::spawn(connection);
                self.sender.insert(sender)
            }
        };
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.addr.to_string())
            .header(CONTENT_TYPE, "application/json")
            .header("a2a-version", "1.0")
            .body(Full::new(body))
            .map_err(io::Error::other)?;
        sender.ready().await.map_err(io::Error::other)?;
        let response = sender
            .send_request(request)
            .await
            .map_err(io::Error::other)?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(io::Error::other)?
            .to_bytes();
        Ok((status, body))
    }
}
