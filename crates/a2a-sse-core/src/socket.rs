//! [`SocketOptions`]: what to set on each accepted connection of a server of event
//! streams, with the library's defaults, applied by the serving setup of either framework.
//!
//! - `TCP_NODELAY`: small frames leave at once instead of waiting for the previous one's
//!   acknowledgement.
//! - A write deadline (`TCP_USER_TIMEOUT`, Linux): when a client stops reading, its window
//!   closes and the server's writes wait; past the deadline the kernel aborts the
//!   connection, the pending write fails, the framework drops the stream (reason
//!   `client_gone`), and the descriptor and buffers are freed. The SSE layer cannot do
//!   this itself: a framework stops polling a response body while the socket is full, so
//!   the stream never learns that it is stuck. A client that reads, however slowly,
//!   acknowledges data and is not affected.
//! - A send buffer bound (`SO_SNDBUF`): what the kernel may hold per connection, so the
//!   memory of many stalled clients stays bounded while they wait for the deadline.

use std::io;
use std::time::Duration;

/// Default write deadline: how long written data may stay unacknowledged.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Default bound of the kernel's send buffer per connection.
pub const DEFAULT_SEND_BUFFER: usize = 256 * 1024;

/// Options for accepted connections; [`SseService::socket_options`](crate::SseService::socket_options)
/// gives the service's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SocketOptions {
    /// Set `TCP_NODELAY` (default on).
    pub nodelay: bool,
    /// The write deadline (default [`DEFAULT_WRITE_TIMEOUT`]); `None` leaves the kernel's.
    pub write_timeout: Option<Duration>,
    /// The send buffer bound (default [`DEFAULT_SEND_BUFFER`]); `None` leaves the kernel's
    /// own sizing, which grows to megabytes per connection.
    pub send_buffer: Option<usize>,
}

impl Default for SocketOptions {
    fn default() -> Self {
        Self {
            nodelay: true,
            write_timeout: Some(DEFAULT_WRITE_TIMEOUT),
            send_buffer: Some(DEFAULT_SEND_BUFFER),
        }
    }
}

impl SocketOptions {
    /// Sets the options on an accepted TCP connection. The write deadline is set on Linux
    /// and Android only (elsewhere it is left alone).
    ///
    /// ```no_run
    /// # async fn run() -> std::io::Result<()> {
    /// let options = a2a_sse_core::SocketOptions::default();
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    /// let (socket, _) = listener.accept().await?;
    /// options.apply(&socket)?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// The OS error of the first option that could not be set.
    #[cfg(unix)]
    pub fn apply(&self, socket: &impl std::os::fd::AsFd) -> io::Result<()> {
        let socket = socket2::SockRef::from(socket);
        if self.nodelay {
            socket.set_nodelay(true)?;
        }
        if let Some(bytes) = self.send_buffer {
            socket.set_send_buffer_size(bytes)?;
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(timeout) = self.write_timeout {
            socket.set_tcp_user_timeout(Some(timeout))?;
        }
        Ok(())
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn the_options_reach_the_socket() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        SocketOptions::default().apply(&server).unwrap();
        let socket = socket2::SockRef::from(&server);
        assert!(socket.nodelay().unwrap());
        assert_eq!(
            socket.tcp_user_timeout().unwrap(),
            Some(DEFAULT_WRITE_TIMEOUT)
        );
        // Linux doubles the value for its own bookkeeping.
        assert_eq!(socket.send_buffer_size().unwrap(), 2 * DEFAULT_SEND_BUFFER);
        let untouched = SocketOptions {
            nodelay: false,
            write_timeout: None,
            send_buffer: None,
        };
        untouched.apply(&client).unwrap();
        assert!(!socket2::SockRef::from(&client).nodelay().unwrap());
    }
}
