//! The actix demo as a process: what only a whole server shows.

use std::time::Duration;

use a2a_sse_testkit::demo_process::{DemoProcess, RawStream, example_path};

/// Open streams when the signal comes.
const STREAMS: usize = 500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_500_open_streams_the_server_exits_within_2_s_of_the_signal() {
    let mut demo = DemoProcess::start(&example_path("actix-demo"), &["--no-simulate"]);
    let addr = demo.addr();
    let opening: Vec<_> = (0..STREAMS)
        .map(|i| {
            tokio::spawn(async move {
                RawStream::open(addr, &format!("/a2a/events?plan_id=p{}", i % 7)).await
            })
        })
        .collect();
    let mut streams = Vec::new();
    for stream in opening {
        streams.push(stream.await.unwrap());
    }
    assert!(
        demo.descriptors() >= STREAMS,
        "{} descriptors",
        demo.descriptors()
    );
    demo.interrupt();
    let took = demo.exited_within(Duration::from_secs(2));
    assert!(
        took.is_some(),
        "still running 2 s after SIGINT with {STREAMS} open streams"
    );
    for stream in &mut streams[..10] {
        assert!(
            stream.closed_within(Duration::from_secs(1)).await,
            "a stream outlived its server"
        );
    }
}
