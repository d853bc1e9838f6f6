//! `SseStream`: the preamble, event frames, coalescing, control frames and how it ends.

use a2a_events::{
    A2aEventQueue, BufferLimits, EventId, LagNotice, QueueConfig, ResetNotice, SharedEvent,
    SubscribeRequest, Subscription, TaskState,
};
use futures_util::{FutureExt, StreamExt};
use serde_json::json;

use super::*;
use crate::config::DEFAULT_RETRY;
use crate::framing::{event_frame, lagged_frame, reset_frame};
use crate::test_support::{Disconnects, Tap, decode, open, open_all, plan, publish, sized};

/// The next shared event of a plain subscription (to compare against what streams send).
async fn stored(sub: &mut Subscription) -> SharedEvent {
    match sub.next().await {
        Some(SubscriptionItem::Event(event)) => event,
        other => panic!("expected an event, got {other:?}"),
    }
}

/// Asserts the stream ended and the hook fired once, with counts matching what was sent.
#[track_caller]
fn assert_ended(tap: &Tap, hook: &Disconnects, reason: DisconnectReason, events: u64) {
    let info = hook.only();
    assert_eq!(info.reason, reason);
    assert_eq!(info.events, events);
    assert_eq!(info.bytes, tap.bytes());
    assert!(tap.stream.is_terminated());
}

#[tokio::test]
async fn preamble_then_each_event_as_its_exact_frame() {
    let queue = A2aEventQueue::new();
    let hook = Disconnects::new();
    let mut raw = queue.subscribe(SubscribeRequest::all()).unwrap();
    let mut tap = open_all(&queue, &hook);

    let first = tap.next().await.unwrap();
    assert_eq!(&first[..], b"retry: 3000\n: a2a-sse stream open\n\n");
    assert_eq!(first, preamble(DEFAULT_RETRY));

    let p = plan("plan-7");
    publish(&queue, &p, TaskState::Working);
    let event = stored(&mut raw).await;
    let json = std::str::from_utf8(event.json()).unwrap();
    let chunk = tap.next().await.unwrap();
    assert_eq!(
        std::str::from_utf8(&chunk).unwrap(),
        format!("id: 1\nevent: status-update\ndata: {json}\n\n")
    );
    let decoded = decode(&chunk);
    assert_eq!(decoded.len(), 1);
    assert_eq!(
        (&*decoded[0].id, &*decoded[0].event),
        ("1", "status-update")
    );
    assert_eq!(decoded[0].data, json);
}

#[tokio::test]
async fn one_event_frame_is_shared_by_every_subscriber() {
    let queue = A2aEventQueue::new();
    let hook = Disconnects::new();
    let mut raw = queue.subscribe(SubscribeRequest::all()).unwrap();
    let mut taps = [open_all(&queue, &hook), open_all(&queue, &hook)];
    for tap in &mut taps {
        tap.next().await.unwrap();
    }
    publish(&queue, &plan("p"), TaskState::Working);
    let frame = event_frame(&*stored(&mut raw).await);
    for tap in &mut taps {
        let chunk = tap.next().await.unwrap();
        assert_eq!(chunk, frame);
        assert_eq!(
            chunk.as_ptr(),
            frame.as_ptr(),
            "the frame bytes are shared, not copied"
        );
    }
}

#[tokio::test]
async fn ready_events_are_coalesced_into_one_chunk_of_whole_frames() {
    let queue = A2aEventQueue::new();
    let hook = Disconnects::new();
    let mut raw = queue.subscribe(SubscribeRequest::all()).unwrap();
    let mut tap = open_all(&queue, &hook);
    tap.next().await.unwrap();
    let p = plan("p");
    for _ in 0..3 {
        publish(&queue, &p, TaskState::Working);
    }
    let mut frames = Vec::new();
    for _ in 0..3 {
        frames.extend_from_slice(&event_frame(&*stored(&mut raw).await));
    }
    let chunk = tap.next().await.unwrap();
    assert_eq!(chunk[..], frames[..]);
    let ids: Vec<_> = decode(&chunk).into_iter().map(|e| e.id).collect();
    assert_eq!(ids, ["1", "2", "3"]);

    drop(tap);
    assert_eq!(hook.only().events, 3);
}

#[tokio::test]
async fn a_chunk_holds_at_most_max_batch_frames() {
    let queue = A2aEventQueue::new();
    let hook = Disconnects::new();
    let mut tap = open_all(&queue, &hook);
    tap.next().await.unwrap();
    let p = plan("p");
    for _ in 0..MAX_BATCH_FRAMES + 6 {
        publish(&queue, &p, TaskState::Working);
    }
    assert_eq!(decode(&tap.next().await.unwrap()).len(), MAX_BATCH_FRAMES);
    assert_eq!(decode(&tap.next().await.unwrap()).len(), 6);
}

#[tokio::test]
async fn a_chunk_stops_at_the_frame_that_reaches_max_batch_bytes() {
    let queue = A2aEventQueue::new();
    let hook = Disconnects::new();
    let mut tap = open_all(&queue, &hook);
    tap.next().await.unwrap();
    let p = plan("p");
    for _ in 0..20 {
        queue.publish(sized(&p, 4000)).unwrap();
    }
    let first = tap.next().await.unwrap();
    let frames = decode(&first).len();
    let frame_len = first.len() / frames;
    assert!(frames < 20, "{frames} frames in the first chunk");
    assert!(first.len() >= MAX_BATCH_BYTES);
    assert!(
        first.len() - frame_len < MAX_BATCH_BYTES,
        "one frame too many"
    );
    assert_eq!(decode(&tap.next().await.unwrap()).len(), 20 - frames);
}

#[tokio::test]
async fn reset_frame_then_the_replay() {
    let config = {
        let mut config = QueueConfig::default();
        config.history_events = 2;
        config
    };
    let queue = A2aEventQueue::with_config(config).unwrap();
    let hook = Disconnects::new();
    let p = plan("p");
    for _ in 0..4 {
        publish(&queue, &p, TaskState::Working);
    }
    let sub = queue
        .subscribe(SubscribeRequest::all().after(EventId::new(1)))
        .unwrap();
    let mut raw = queue
        .subscribe(SubscribeRequest::all().after(EventId::new(2)))
        .unwrap();
    let mut tap = open(sub, Duration::from_secs(15), &hook);
    tap.next().await.unwrap();

    let chunk = tap.next().await.unwrap();
    let notice = ResetNotice::new(EventId::new(1), Some(EventId::new(3)));
    let expected = [
        reset_frame(&notice),
        event_frame(&*stored(&mut raw).await),
        event_frame(&*stored(&mut raw).await),
    ]
    .concat();
    assert_eq!(chunk[..], expected[..]);

    let events = decode(&chunk);
    assert_eq!(events.len(), 3);
    assert_eq!((&*events[0].event, &*events[0].id), ("reset", ""));
    let data: serde_json::Value = serde_json::from_str(&events[0].data).unwrap();
    assert_eq!(data, json!({"requestedId": "1", "oldestRetainedId": "3"}));
    assert_eq!((&*events[1].id, &*events[2].id), ("3", "4"));

    drop(tap);
    let info = hook.only();
    assert_eq!(
        (info.reason, info.events),
        (DisconnectReason::ClientGone, 2)
    );
}

#[test]
fn control_frames_carry_null_for_missing_ids() {
    let reset = decode(&reset_frame(&ResetNotice::new(EventId::new(9), None)));
    let data: serde_json::Value = serde_json::from_str(&reset[0].data).unwrap();
    assert_eq!(data, json!({"requestedId": "9", "oldestRetainedId": null}));

    let lagged = decode(&lagged_frame(&LagNotice::new(None)));
    assert_eq!(lagged[0].event, "lagged");
    let data: serde_json::Value = serde_json::from_str(&lagged[0].data).unwrap();
    assert_eq!(data, json!({"lastEventId": null}));
}

#[tokio::test]
async fn lagged_frame_then_the_end() {
    let queue = A2aEventQueue::new();
    let hook = Disconnects::new();
    let tiny = BufferLimits::new(2, 1 << 20);
    let sub = queue
        .subscribe(SubscribeRequest::all().buffer(tiny))
        .unwrap();
    let mut tap = open(sub, Duration::from_secs(15), &hook);
    tap.next().await.unwrap();
    let p = plan("p");
    publish(&queue, &p, TaskState::Working);
    assert_eq!(decode(&tap.next().await.unwrap())[0].id, "1");
    for _ in 0..3 {
        publish(&queue, &p, TaskState::Working);
    }

    let chunk = tap.next().await.unwrap();
    assert_eq!(chunk, lagged_frame(&LagNotice::new(Some(EventId::new(1)))));
    let events = decode(&chunk);
    assert_eq!((&*events[0].event, events.len()), ("lagged", 1));
    let data: serde_json::Value = serde_json::from_str(&events[0].data).unwrap();
    assert_eq!(data, json!({"lastEventId": "1"}));

    assert_eq!(tap.next().await, None);
    assert_ended(&tap, &hook, DisconnectReason::Lagged, 1);
    assert_eq!(tap.next().await, None, "a fused stream stays ended");
    drop(tap);
    assert_eq!(hook.calls().len(), 1);
}

#[tokio::test]
async fn a_filtered_stream_ends_after_the_terminal_event() {
    let queue = A2aEventQueue::new();
    let hook = Disconnects::new();
    let (p, other) = (plan("p"), plan("other"));
    let sub = queue.subscribe(SubscribeRequest::plan(p.clone())).unwrap();
    let mut tap = open(sub, Duration::from_secs(15), &hook);
    tap.next().await.unwrap();
    publish(&queue, &p, TaskState::Working);
    publish(&queue, &other, TaskState::Working);
    publish(&queue, &p, TaskState::Completed);

    let ids: Vec<_> = decode(&tap.next().await.unwrap())
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, ["1", "3"]);
    assert_eq!(tap.next().await, None);
    assert_ended(&tap, &hook, DisconnectReason::Finished, 2);
    assert_eq!(hook.only().plan, Some(p));
    drop(tap);
    assert_eq!(hook.calls().len(), 1);
}

#[tokio::test]
async fn an_unfiltered_stream_goes_on_past_a_terminal_event() {
    let queue = A2aEventQueue::new();
    let hook = Disconnects::new();
    let mut tap = open_all(&queue, &hook);
    tap.next().await.unwrap();
    publish(&queue, &plan("p"), TaskState::Completed);
    assert_eq!(decode(&tap.next().await.unwrap()).len(), 1);
    publish(&queue, &plan("q"), TaskState::Working);
    assert_eq!(decode(&tap.next().await.unwrap())[0].id, "2");
    assert!(hook.calls().is_empty());
}

#[tokio::test]
async fn closing_the_queue_ends_a_waiting_stream_with_shutdown() {
    let queue = A2aEventQueue::new();
    let hook = Disconnects::new();
    let sub = queue.subscribe(SubscribeRequest::plan(plan("p"))).unwrap();
    let mut tap = open(sub, Duration::from_secs(15), &hook);
    tap.next().await.unwrap();
    assert!(tap.next().now_or_never().is_none(), "nothing to send yet");
    // The stream waits first, then the queue closes: the close must wake it.
    let (end, ()) = tokio::join!(tap.next(), async {
        tokio::task::yield_now().await;
        queue.close();
    });
    assert_eq!(end, None);
    assert_ended(&tap, &hook, DisconnectReason::Shutdown, 0);
    drop(tap);
    assert_eq!(hook.calls().len(), 1);
}

#[tokio::test]
async fn dropping_the_stream_is_client_gone_and_unsubscribes() {
    let queue = A2aEventQueue::new();
    let hook = Disconnects::new();
    let mut tap = open_all(&queue, &hook);
    tap.next().await.unwrap();
    publish(&queue, &plan("p"), TaskState::Working);
    tap.next().await.unwrap();
    assert_eq!(queue.subscriber_count(), 1);
    assert!(hook.calls().is_empty());

    let bytes = tap.bytes();
    drop(tap);
    assert_eq!(queue.subscriber_count(), 0);
    let info = hook.only();
    assert_eq!(
        (info.reason, info.events, info.bytes),
        (DisconnectReason::ClientGone, 1, bytes)
    );
}

#[tokio::test]
async fn a_stream_dropped_unpolled_reports_nothing_sent() {
    let queue = A2aEventQueue::new();
    let hook = Disconnects::new();
    drop(open_all(&queue, &hook));
    let info = hook.only();
    assert_eq!(
        (info.reason, info.events, info.bytes),
        (DisconnectReason::ClientGone, 0, 0)
    );
}

#[test]
fn what_every_poll_touches_fits_in_the_first_three_cache_lines() {
    use std::mem::offset_of;
    type S = SseStream;
    // Everything up to the guard's counters (two u64 at its start) is read or written on
    // every poll; the lifetime and the sleep must come after it.
    let per_poll_end = offset_of!(S, guard) + 2 * std::mem::size_of::<u64>();
    assert!(
        per_poll_end <= 3 * 64,
        "per-poll fields end at {per_poll_end}"
    );
    for (name, cold) in [
        ("sleep", offset_of!(S, sleep)),
        ("end_at", offset_of!(S, end_at)),
    ] {
        assert!(
            cold >= per_poll_end,
            "{name} at {cold}, before {per_poll_end}"
        );
    }
}

#[test]
fn an_open_stream_holds_little_beside_its_subscription_and_its_sleep() {
    use std::mem::size_of;
    // Paid once per open stream: with 10,000 of them each 16 bytes is 160 kB. The
    // framing is a pointer, the preamble rebuilt when sent, the end's details built at the
    // end; this budget keeps new fields from creeping in unnoticed.
    let own = size_of::<SseStream>() - size_of::<EventStream>() - size_of::<tokio::time::Sleep>();
    assert!(own <= 224, "{own} bytes of the stream's own state");
}
