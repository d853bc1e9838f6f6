//! What the core logs when a stream opens, is refused, or closes.
//!
//! This is its own test binary on purpose: tracing caches each call site's interest for the
//! whole process, so a thread-local subscriber can miss events when other tests run the
//! same call sites concurrently without one.

use std::io;
use std::sync::{Arc, Mutex};

use a2a_events::{A2aEventQueue, TaskState};
use a2a_sse_core::{RequestHead, SseResponse, SseService};
use a2a_sse_testkit::events::status;
use futures_util::StreamExt;

struct Get(&'static str, Option<&'static str>);

impl RequestHead for Get {
    fn method(&self) -> &str {
        "GET"
    }

    fn path(&self) -> &str {
        "/a2a/events"
    }

    fn query(&self) -> Option<&str> {
        Some(self.0)
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        self.1
            .filter(|_| name == "last-event-id")
            .map(str::as_bytes)
    }

    fn for_each_header(&self, each: &mut dyn FnMut(&str, &[u8])) {
        if let Some(value) = self.1 {
            each("last-event-id", value.as_bytes());
        }
    }
}

fn publish(queue: &A2aEventQueue, state: TaskState) {
    queue.publish(status("p", state)).unwrap();
}

/// Captured log output.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn opening_refusing_and_closing_are_logged_with_their_details() {
    let logs = Logs::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let queue = A2aEventQueue::new();
    let service = SseService::builder(queue.clone()).build().unwrap();
    publish(&queue, TaskState::Working);
    let SseResponse::Stream(stream) = service.respond(&Get("plan_id=p", Some("0"))).await else {
        panic!("expected a stream");
    };
    let mut stream = Box::pin(stream);
    stream.next().await.unwrap();
    stream.next().await.unwrap();
    drop(stream);
    publish(&queue, TaskState::Completed);
    let finished = service.respond(&Get("plan_id=p", None)).await;
    assert_eq!(finished.status(), 204);
    let refused = service.respond(&Get("plan_id=%20", None)).await;
    assert_eq!(refused.status(), 400);

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in {text}"))
            .to_owned()
    };
    let opened = line("sse stream opened");
    assert!(
        opened.contains("connection=1 binding=\"native\" plan=\"p\" last_event_id=0"),
        "{opened}"
    );
    let closed = line("sse stream closed");
    assert!(
        closed.contains("plan=\"p\" reason=client_gone events=1"),
        "{closed}"
    );
    assert!(closed.contains("duration_ms="), "{closed}");
    assert!(line("plan finished: 204").contains("terminal=2"));
    assert!(line("sse request refused").contains("code=\"invalid_plan_id\""));
}
