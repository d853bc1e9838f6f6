//! A client that stops reading, served with the recommended setup and the service's socket
//! options applied in `HttpServer::on_connect`: its subscription lags and is cut, and the
//! write deadline closes its connection, while a client that reads gets every event.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use a2a_sse_actix::{A2aEventQueue, BufferLimits, DisconnectInfo, SseService};
use a2a_sse_testkit::events::sized;
use a2a_sse_testkit::{Recorder, SseClient};
use actix_web::{App, HttpServer};

const DEADLINE: Duration = Duration::from_secs(2);

#[actix_web::test]
async fn a_client_that_never_reads_is_cut_within_the_write_deadline() {
    let queue = A2aEventQueue::new();
    let ended = Recorder::<DisconnectInfo>::new();
    let service = SseService::builder(queue.clone())
        .write_timeout(DEADLINE)
        .buffer(BufferLimits::new(1024, 4 << 20))
        .on_disconnect(ended.hook())
        .build()
        .unwrap();
    let options = service.socket_options();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let routes = a2a_sse_actix::routes(service.clone());
    let server = HttpServer::new(move || App::new().configure(routes.clone()))
        .on_connect(move |connection, _| {
            if let Some(tcp) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() {
                options.apply(tcp).unwrap();
            }
        })
        .h1_allow_half_closed(false)
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);

    // The stalled client: a small receive window, a request, then never a read.
    let stalled = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    stalled.set_recv_buffer_size(4096).unwrap();
    stalled.connect(&addr.into()).unwrap();
    let mut stalled = std::net::TcpStream::from(stalled);
    stalled
        .write_all(b"GET /a2a/events?plan_id=p HTTP/1.1\r\nhost: test\r\n\r\n")
        .unwrap();
    let mut reader = SseClient::new(addr)
        .get("/a2a/events?plan_id=p", &[])
        .await
        .into_stream();
    assert!(wait_for(|| service.open_streams() == 2, Duration::from_secs(10)).await);

    const EVENTS: usize = 200;
    let publisher = queue.clone();
    let publishing = std::thread::spawn(move || {
        for _ in 0..EVENTS {
            publisher.publish(sized("p", 32 * 1024)).unwrap();
            std::thread::sleep(Duration::from_millis(2));
        }
    });
    let got = reader.events(EVENTS, Duration::from_secs(20)).await;
    publishing.join().unwrap();
    assert_eq!(got.len(), EVENTS, "the reading client got every event");
    assert_eq!(
        queue.subscriber_count(),
        1,
        "the stalled subscription lagged and was cut"
    );
    let last_publish = Instant::now();
    assert!(
        wait_for(|| service.open_streams() == 1, DEADLINE * 6).await,
        "the stalled stream is still open"
    );
    assert_eq!(ended.len(), 1);

    std::thread::sleep(DEADLINE * 2);
    let after = last_publish.elapsed();
    assert!(
        drained_to_reset(&mut stalled),
        "the stalled connection was still open {after:?} after the last event"
    );
    drop(reader);
    handle.stop(false).await;
}

async fn wait_for(mut done: impl FnMut() -> bool, limit: Duration) -> bool {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > limit {
            return false;
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

/// Reads what is waiting on `socket` without blocking; `true` when the connection turns
/// out reset or closed, `false` when it is still open with nothing more to read.
fn drained_to_reset(socket: &mut std::net::TcpStream) -> bool {
    socket.set_nonblocking(true).unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match socket.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}
