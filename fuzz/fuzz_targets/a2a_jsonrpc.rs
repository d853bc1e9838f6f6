//! The A2A JSON-RPC binding, through the public `SseService::handle` on its route
//! (`POST /a2a/jsonrpc`, `A2A-Version: 1.0`), with the body from the fuzzer.
//!
//! One service is built once, over a queue holding a working task `t`, a finished task
//! `done` and an artifact on `art`. Every answer must be HTTP 200 and JSON-RPC 2.0: a JSON
//! document with exactly one of `result` and `error` (an integer `code`, a string
//! `message`), whose `id` is the request's or null; or, for `SubscribeToTask` on a live
//! task, an event stream whose first event is such a result. Never a panic.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use a2a_events::{A2aEventQueue, TaskState};
use a2a_sse_agent::{A2aConfig, Agent};
use a2a_sse_core::{OwnedHead, ResponseBody, Route, SseResponse, SseService};
use a2a_sse_testkit::{Decoder, events};
use bytes::Bytes;
use futures_core::Stream;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tokio::runtime::Runtime;

const JSONRPC_PATH: &str = "/a2a/jsonrpc";

struct Fixture {
    runtime: Runtime,
    head: OwnedHead,
    service: SseService,
    route: Route,
    // Keeps the queue open.
    _queue: A2aEventQueue,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        let queue = A2aEventQueue::new();
        for event in [
            events::status("t", TaskState::Working),
            events::status("done", TaskState::Working),
            events::status("done", TaskState::Completed),
            events::artifact("art", "notes", "some text"),
        ] {
            queue.publish(event).expect("publish");
        }
        let service = {
            let _guard = runtime.enter();
            SseService::builder(queue.clone())
                .protocol(Agent::new(A2aConfig::default()))
                .build()
                .expect("service")
        };
        let route = service
            .routes()
            .iter()
            .find(|route| route.path() == JSONRPC_PATH)
            .cloned()
            .expect("the JSON-RPC route");
        Fixture {
            runtime,
            head: OwnedHead::new("POST", JSONRPC_PATH).header("a2a-version", "1.0"),
            service,
            route,
            _queue: queue,
        }
    })
}

/// Checks one JSON-RPC response object against the request's id.
fn check_response(response: &Value, request_id: Option<&Value>) {
    assert_eq!(response["jsonrpc"], "2.0", "{response}");
    let object = response.as_object().expect("a response is an object");
    match (object.get("result"), object.get("error")) {
        (Some(_), None) => {
            assert_eq!(object.get("id"), request_id, "{response}");
        }
        (None, Some(error)) => {
            assert!(error["code"].is_i64(), "{response}");
            assert!(error["message"].is_string(), "{response}");
            let id = object.get("id").expect("an error response has an id");
            assert!(id.is_null() || Some(id) == request_id, "{response}");
        }
        _ => panic!("neither result nor error, or both: {response}"),
    }
}

/// A request body of one chunk.
struct Body(Option<Bytes>);

impl Stream for Body {
    type Item = Result<Bytes, std::convert::Infallible>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(self.0.take().map(Ok))
    }
}

fuzz_target!(|body: &[u8]| {
    let fixture = fixture();
    // The request's id as a JSON value, when the body is an object with one.
    let request_id = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|value| value.get("id").cloned());
    fixture.runtime.block_on(async {
        let response = fixture
            .service
            .handle(&fixture.route, &fixture.head, Body(Some(Bytes::copy_from_slice(body))))
            .await;
        assert_eq!(response.status(), 200, "{response:?}");
        let is_stream = matches!(response, SseResponse::Stream(_));
        match response.into_body() {
            ResponseBody::Full(bytes) => {
                assert!(!is_stream);
                let value: Value =
                    serde_json::from_slice(&bytes).expect("a JSON-RPC answer is JSON");
                check_response(&value, request_id.as_ref());
            }
            ResponseBody::Stream(stream) => {
                let mut stream = Box::pin(stream);
                let mut decoder = Decoder::new();
                let first = loop {
                    let next = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx));
                    let chunk = tokio::time::timeout(Duration::from_secs(5), next)
                        .await
                        .expect("the stream's first event comes at once")
                        .expect("the stream does not end before its first event");
                    if let Some(event) = decoder.feed(&chunk).into_iter().next() {
                        break event;
                    }
                };
                let value: Value =
                    serde_json::from_str(&first.data).expect("a stream item is JSON");
                check_response(&value, request_id.as_ref());
                assert!(value.get("result").is_some(), "{value}");
            }
            ResponseBody::Empty => panic!("an empty answer"),
            _ => panic!("an unknown body"),
        }
    });
});
