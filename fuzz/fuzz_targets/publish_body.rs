//! The demo's publish route, `a2a_sse_demo::publish(backend, plan_id, body)`, over a fresh
//! in-memory queue: never panics; a bad plan id or body is a 400 with the JSON error body;
//! a 202 names the id the event got, and that event is there, whole, for a subscriber
//! replaying from the start (and in the JSON form a JSON-keeping backend reads back).
//!
//! Input: the plan id, `\n`, the body. Without `\n` the whole input is the body of a
//! publish to `plan-1`.
#![no_main]

use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

use a2a_events::{
    A2aEventQueue, EventId, NewEvent, PlanId, StoredEvent, SubscribeRequest, SubscriptionItem,
};
use futures_core::Stream;
use libfuzzer_sys::fuzz_target;
use tokio::runtime::Runtime;

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime")
    })
}

fuzz_target!(|input: &[u8]| {
    let (plan, body) = match input.iter().position(|&b| b == b'\n') {
        Some(at) => (String::from_utf8_lossy(&input[..at]), &input[at + 1..]),
        None => ("plan-1".into(), input),
    };
    let queue = A2aEventQueue::new();
    let outcome = runtime().block_on(a2a_sse_demo::publish(&queue, &plan, body));
    let json: serde_json::Value =
        serde_json::from_slice(&outcome.body).expect("every answer's body is JSON");

    // What the route should have made of it, read independently.
    let parsed = PlanId::new(&plan).map(|plan| NewEvent::from_publish_body(plan, body));
    match parsed {
        Err(_) => {
            assert_eq!(outcome.status, 400, "{json}");
            assert_eq!(json["error"]["code"], "invalid_plan_id", "{json}");
            assert!(json["error"]["message"].is_string(), "{json}");
        }
        Ok(Err(_)) => {
            assert_eq!(outcome.status, 400, "{json}");
            assert_eq!(json["error"]["code"], "invalid_body", "{json}");
            assert!(json["error"]["message"].is_string(), "{json}");
        }
        Ok(Ok(event)) => {
            assert_eq!(outcome.status, 202, "{json}");
            let id: EventId = json["id"]
                .as_str()
                .expect("a 202 names the id")
                .parse()
                .expect("the id parses");
            accepted_is_kept(&queue, &event, id);
        }
    }
});

/// The accepted event is in the queue: replayed to a new subscriber with its id, its
/// payload and its timestamp, and its stored JSON reads back.
fn accepted_is_kept(queue: &A2aEventQueue, event: &NewEvent, id: EventId) {
    assert!(queue.task(&event.plan_id).is_some(), "no task after a 202");
    let request = SubscribeRequest::plan(event.plan_id.clone()).after(EventId::new(0));
    let mut subscription = queue.subscribe(request).expect("subscribe");
    let mut cx = Context::from_waker(Waker::noop());
    let stored = loop {
        match Pin::new(&mut subscription).poll_next(&mut cx) {
            Poll::Ready(Some(SubscriptionItem::Event(stored))) => break stored,
            Poll::Ready(Some(SubscriptionItem::Reset(_) | SubscriptionItem::Snapshot(_))) => {}
            other => panic!("accepted event {id} not replayed: {other:?}"),
        }
    };
    assert_eq!(stored.id(), id);
    let delivered = stored.to_event().expect("the stored JSON reads back");
    assert_eq!(delivered.id, id);
    assert_eq!(delivered.plan_id, event.plan_id);
    assert_eq!(
        delivered.payload, event.payload,
        "payload changed on the way"
    );
    if let Some(at) = event.timestamp {
        assert_eq!(delivered.timestamp, at, "timestamp changed on the way");
    }
    let again = StoredEvent::from_json(stored.json().clone()).expect("from_json");
    assert_eq!(again.id(), id);
    assert_eq!(again.kind(), stored.kind());
    assert_eq!(again.is_terminal(), stored.is_terminal());
}
