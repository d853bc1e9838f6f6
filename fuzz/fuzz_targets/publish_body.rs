//! What a publish route does with a request (`POST /a2a/plans/{plan_id}/events`, as both
//! demos serve it): `PlanId::new(plan_id)`, `NewEvent::from_publish_body(plan, body)`, then
//! `publish` on a fresh in-memory queue. Never panics; a refusal's message makes a JSON
//! error body; an accepted body publishes, and the event it became is there, whole, for a
//! subscriber replaying from the start (and in the JSON form a JSON-keeping backend reads
//! back).
//!
//! The demo crate's route is these calls and a status per outcome; it is not linked here,
//! so the fuzz build does not compile the demos' HTTP stack, Redis client and CLI.
//!
//! Input: the plan id, `\n`, the body. Without `\n` the whole input is the body of a
//! publish to `plan-1`.
#![no_main]

use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use a2a_events::{
    A2aEventQueue, EventId, NewEvent, PlanId, StoredEvent, SubscribeRequest, SubscriptionItem,
};
use a2a_sse_core::error_body;
use futures_core::Stream;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let (plan, body) = match input.iter().position(|&b| b == b'\n') {
        Some(at) => (String::from_utf8_lossy(&input[..at]), &input[at + 1..]),
        None => ("plan-1".into(), input),
    };
    let plan = match PlanId::new(&plan) {
        Ok(plan) => plan,
        Err(err) => return refusal_is_json("invalid_plan_id", &err),
    };
    let event = match NewEvent::from_publish_body(plan, body) {
        Ok(event) => event,
        Err(err) => return refusal_is_json("invalid_body", &err),
    };
    let queue = A2aEventQueue::new();
    let id = queue
        .publish(event.clone())
        .expect("a fresh queue takes any valid event");
    accepted_is_kept(&queue, &event, id);
});

/// The route answers a refusal with `error_body(code, message)`: JSON naming both.
fn refusal_is_json(code: &str, err: &dyn std::fmt::Display) {
    let message = err.to_string();
    assert!(!message.is_empty(), "{code}: an empty message");
    let body: serde_json::Value =
        serde_json::from_slice(&error_body(code, &message)).expect("the error body is JSON");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert_eq!(body["error"]["message"], message.as_str(), "{body}");
}

/// The accepted event is in the queue: replayed to a new subscriber with its id, its
/// payload and its timestamp, and its stored JSON reads back.
fn accepted_is_kept(queue: &A2aEventQueue, event: &NewEvent, id: EventId) {
    assert!(
        queue.task(&event.plan_id).is_some(),
        "no task after a publish"
    );
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
