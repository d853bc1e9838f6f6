//! A loopback TCP proxy in front of Redis that can black-hole chosen connections: their
//! sockets stay open, and what either side sends is held, never delivered. That is a
//! half-open connection, which only the reader's liveness probe can find in time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One proxied connection: whether it named itself with the marker, whether it is frozen.
#[derive(Default)]
struct Link {
    marked: AtomicBool,
    frozen: AtomicBool,
}

pub struct Proxy {
    port: u16,
    links: Arc<Mutex<Vec<Arc<Link>>>>,
}

impl Proxy {
    /// A proxy to `127.0.0.1:target`.
    pub async fn start(target: u16, marker: &'static [u8]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let links: Arc<Mutex<Vec<Arc<Link>>>> = Arc::default();
        let all = Arc::clone(&links);
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let link = Arc::new(Link::default());
                all.lock().push(Arc::clone(&link));
                tokio::spawn(async move {
                    let Ok(outbound) = TcpStream::connect(("127.0.0.1", target)).await else {
                        return;
                    };
                    let (from_client, to_client) = inbound.into_split();
                    let (from_server, to_server) = outbound.into_split();
                    let up = pump(from_client, to_server, Arc::clone(&link), Some(marker));
                    let down = pump(from_server, to_client, link, None);
                    let _ = tokio::join!(up, down);
                });
            }
        });
        Self { port, links }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Black-holes every connection open now that sent the marker; returns how many.
    pub fn freeze_marked(&self) -> usize {
        let links = self.links.lock();
        let marked = links.iter().filter(|l| l.marked.load(Ordering::SeqCst));
        marked
            .map(|l| l.frozen.store(true, Ordering::SeqCst))
            .count()
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    link: Arc<Link>,
    marker: Option<&'static [u8]>,
) {
    let mut buf = vec![0_u8; 64 << 10];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if marker.is_some_and(|m| buf[..n].windows(m.len()).any(|w| w == m)) {
            link.marked.store(true, Ordering::SeqCst);
        }
        if link.frozen.load(Ordering::SeqCst) {
            // Held for good: the socket stays open, nothing more passes.
            std::future::pending::<()>().await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
