//! Kernel readings about TCP: the memory of every TCP socket (`/proc/net/sockstat`) and the
//! queues of one server port's connections (`/proc/net/tcp`).

use std::io;

use procfs::net::TcpState;

/// Pages of memory the kernel holds for TCP sockets now, all processes together (the
/// `mem` field of the `TCP:` line of `/proc/net/sockstat`; pages of
/// [`procfs::page_size`] bytes). On loopback this counts both ends of every connection.
pub fn tcp_memory_pages() -> io::Result<u64> {
    let text = std::fs::read_to_string("/proc/net/sockstat")?;
    parse_sockstat(&text)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no TCP mem in sockstat"))
}

fn parse_sockstat(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("TCP:"))?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    let at = fields.iter().position(|&f| f == "mem")?;
    fields.get(at + 1)?.parse().ok()
}

/// The connections of one server port, both ends, as `/proc/net/tcp` shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerSockets {
    /// Server-side sockets not yet closed (any state but listening, `TIME_WAIT` and
    /// `CLOSE`).
    pub server_open: usize,
    /// Bytes written by the server and not yet acknowledged, summed over them
    /// (`tx_queue`).
    pub server_unacked_bytes: u64,
    /// The largest of those per connection.
    pub server_unacked_max: u64,
    /// Bytes received by the clients and not yet read by them (`rx_queue` of the client
    /// ends), summed.
    pub client_unread_bytes: u64,
}

/// Reads the connections of the server listening on `port`.
pub fn server_sockets(port: u16) -> io::Result<ServerSockets> {
    let mut sockets = ServerSockets::default();
    for entry in procfs::net::tcp().map_err(io::Error::other)? {
        if entry.local_address.port() == port {
            if matches!(
                entry.state,
                TcpState::Listen | TcpState::TimeWait | TcpState::Close
            ) {
                continue;
            }
            sockets.server_open += 1;
            let unacked = u64::from(entry.tx_queue);
            sockets.server_unacked_bytes += unacked;
            sockets.server_unacked_max = sockets.server_unacked_max.max(unacked);
        } else if entry.remote_address.port() == port {
            sockets.client_unread_bytes += u64::from(entry.rx_queue);
        }
    }
    Ok(sockets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockstat_tcp_memory_is_read() {
        let text = "sockets: used 26\nTCP: inuse 7 orphan 0 tw 2 alloc 9 mem 31\n\
                    UDP: inuse 0 mem 4\n";
        assert_eq!(parse_sockstat(text), Some(31));
        assert_eq!(parse_sockstat("UDP: inuse 0 mem 4\n"), None);
        assert!(tcp_memory_pages().is_ok());
    }

    #[test]
    fn a_connection_shows_at_both_ends() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        std::io::Write::write_all(&mut server, &[7u8; 1000]).unwrap();
        // The client reads nothing: the bytes wait in its receive queue.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut seen = server_sockets(port).unwrap();
        while seen.client_unread_bytes < 1000 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
            seen = server_sockets(port).unwrap();
        }
        assert_eq!(seen.server_open, 1);
        assert_eq!(seen.client_unread_bytes, 1000);
        drop(client);
    }
}
