//! The load generator's cost of reading one event off a chunked SSE response, with its own
//! reader (`http1::BodyDecoder` on the socket's bytes) against hyper's HTTP/1 client (a
//! connection task that de-frames and hands each chunk to the response body), both feeding
//! the same `SseDecoder`. The response comes through an in-memory pipe one write at a time,
//! three frames per chunk as in scenario B (about 3.3 frames per write); `pipe` reads the
//! same bytes and drops them, the cost both readers share. Throughput is per event.
//! `cargo bench -p a2a-sse-bench --bench stream_read`.

use std::hint::black_box;

use a2a_sse_bench::decoder::SseDecoder;
use a2a_sse_bench::http1::{BodyDecoder, Framing, parse_head};
use bytes::Bytes;
use criterion::{Criterion, Throughput};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

const WRITES: usize = 1000;
const FRAMES_PER_WRITE: usize = 3;
const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n";

/// One chunk per write: three frames shaped like the demos' status updates.
fn chunks() -> Vec<Vec<u8>> {
    (0..WRITES)
        .map(|write| {
            let mut frames = String::new();
            for i in 0..FRAMES_PER_WRITE {
                let seq = write * FRAMES_PER_WRITE + i;
                frames.push_str(&format!(
                    "id: {}\nevent: status-update\ndata: {{\"id\":\"{}\",\"planId\":\"plan-0\",\"kind\":\"status-update\",\"timestamp\":\"2026-12-01T10:00:00.000Z\",\"data\":{{\"taskId\":\"plan-0\",\"contextId\":\"bench\",\"status\":{{\"state\":\"TASK_STATE_WORKING\"}},\"metadata\":{{\"seq\":{seq},\"sentUs\":1764583200000000}}}}}}\n\n",
                    seq + 1,
                    seq + 1
                ));
            }
            let mut chunk = format!("{:x}\r\n", frames.len()).into_bytes();
            chunk.extend_from_slice(frames.as_bytes());
            chunk.extend_from_slice(b"\r\n");
            chunk
        })
        .collect()
}

/// The server side: waits for the request, then writes the head and every chunk, each
/// write on its own (the pipe holds one chunk, so every read sees at most one write).
async fn serve(mut io: DuplexStream, chunks: &[Vec<u8>]) {
    let mut request = [0u8; 1024];
    let _ = io.read(&mut request).await.unwrap();
    io.write_all(HEAD).await.unwrap();
    for chunk in chunks {
        io.write_all(chunk).await.unwrap();
    }
    io.write_all(b"0\r\n\r\n").await.unwrap();
}

fn pipe(chunks: &[Vec<u8>]) -> (DuplexStream, DuplexStream) {
    tokio::io::duplex(chunks.iter().map(Vec::len).max().unwrap_or(1024))
}

/// Reads and drops every byte up to the end: the pipe's and the writer's share of the
/// other two.
async fn read_nothing(mut io: DuplexStream) -> u64 {
    io.write_all(b"GET /a2a/events HTTP/1.1\r\nhost: bench\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    while io.read(&mut buf).await.unwrap() > 0 {
        black_box(&buf);
    }
    (WRITES * FRAMES_PER_WRITE) as u64
}

/// What `client::open_stream` and `client::read_stream` do per connection.
async fn read_own(mut io: DuplexStream) -> u64 {
    io.write_all(b"GET /a2a/events HTTP/1.1\r\nhost: bench\r\naccept: text/event-stream\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let mut head = Vec::new();
    let (framing, leftover) = loop {
        let n = io.read(&mut buf).await.unwrap();
        head.extend_from_slice(&buf[..n]);
        if let Some(parsed) = parse_head(&head).unwrap() {
            break (parsed.framing, head.split_off(parsed.head_len));
        }
    };
    let mut body = BodyDecoder::new(framing);
    let mut decoder = SseDecoder::new();
    let mut events = 0;
    let mut feed = |body: &mut BodyDecoder, bytes: &[u8]| {
        body.decode(bytes, &mut |piece| {
            decoder.feed(piece, &mut |event| {
                black_box(event);
                events += 1;
            });
        })
        .unwrap();
    };
    feed(&mut body, &leftover);
    while !body.is_done() {
        let n = io.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        feed(&mut body, &buf[..n]);
    }
    assert_eq!(framing, Framing::Chunked);
    events
}

/// The same stream through hyper's client connection.
async fn read_hyper(io: DuplexStream) -> u64 {
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .unwrap();
    let connection = tokio::spawn(connection);
    let request = hyper::Request::get("/a2a/events")
        .header("host", "bench")
        .header("accept", "text/event-stream")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let mut body = sender.send_request(request).await.unwrap().into_body();
    let mut decoder = SseDecoder::new();
    let mut events = 0;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            decoder.feed(&data, &mut |event| {
                black_box(event);
                events += 1;
            });
        }
    }
    drop(sender);
    connection.await.unwrap().unwrap();
    events
}

fn stream_read(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let chunks = chunks();
    let events = (WRITES * FRAMES_PER_WRITE) as u64;
    let mut group = c.benchmark_group("stream_read");
    group.throughput(Throughput::Elements(events));
    macro_rules! reader {
        ($name:literal, $read:path) => {
            group.bench_function($name, |b| {
                b.iter(|| {
                    runtime.block_on(async {
                        let (client, server) = pipe(&chunks);
                        let (read, ()) = tokio::join!($read(client), serve(server, &chunks));
                        assert_eq!(read, events);
                    });
                });
            });
        };
    }
    reader!("pipe", read_nothing);
    reader!("own", read_own);
    reader!("hyper", read_hyper);
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    stream_read(&mut criterion);
    criterion.final_summary();
}
