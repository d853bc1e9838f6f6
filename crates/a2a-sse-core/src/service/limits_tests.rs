//! The hostile-client and tenancy options: per-plan stream limits, plan-only service,
//! head size limits, the async authorization hook and the maximum stream lifetime.

use std::time::Duration;

use a2a_events::{A2aEventQueue, TaskState};

use super::*;
use crate::AuthError;
use crate::hook::DisconnectReason;
use crate::test_support::{Disconnects, error, get, no_body, plan, publish, stream};

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

#[tokio::test]
async fn each_plan_has_its_own_stream_limit() {
    let queue = A2aEventQueue::new();
    let service = SseService::builder(queue.clone())
        .max_streams_per_plan(1)
        .build()
        .unwrap();
    let first = stream(service.respond(&get("plan_id=a")).await);
    let refused = service.respond(&get("plan_id=a")).await;
    assert!(refused.headers().contains(&("retry-after", "1".into())));
    assert_eq!(error(refused), RequestError::TooManyPlanStreams);
    let _other = stream(service.respond(&get("plan_id=b")).await);
    let _all = stream(service.respond(&get("")).await);
    assert_eq!(service.open_streams(), 3);
    drop(first);
    let _again = stream(service.respond(&get("plan_id=a")).await);
}

#[tokio::test]
async fn a_plan_only_service_refuses_streams_of_every_plan() {
    let queue = A2aEventQueue::new();
    let service = SseService::builder(queue.clone())
        .require_plan()
        .build()
        .unwrap();
    let refused = error(service.respond(&get("")).await);
    assert_eq!(
        (refused.status(), refused.code()),
        (400, "plan_id_required")
    );
    let empty = error(service.respond(&get("plan_id=")).await);
    assert_eq!(empty, RequestError::PlanRequired);
    let _one = stream(service.respond(&get("plan_id=p")).await);
    assert_eq!(queue.subscriber_count(), 1);
}

#[tokio::test]
async fn oversized_heads_are_refused_before_anything_else() {
    let queue = A2aEventQueue::new();
    let service = SseService::builder(queue.clone()).build().unwrap();
    let long = leak(format!(
        "plan_id=p&pad={}",
        "x".repeat(DEFAULT_MAX_QUERY_BYTES_FOR_TEST)
    ));
    let err = error(service.respond(&get(long)).await);
    assert_eq!((err.status(), err.code()), (414, "query_too_long"));
    let big = leak("v".repeat(20 * 1024));
    let err = error(service.respond(&get("").header("x-big", big)).await);
    assert_eq!((err.status(), err.code()), (431, "headers_too_large"));
    let mut many = get("");
    for _ in 0..100 {
        many = many.header("x-one", "1");
    }
    let route = &service.routes()[0];
    let err = error(service.handle(route, &many, no_body()).await);
    assert_eq!(err.status(), 431);
    assert_eq!(service.open_streams(), 0);
    assert_eq!(queue.subscriber_count(), 0);
}

const DEFAULT_MAX_QUERY_BYTES_FOR_TEST: usize = crate::DEFAULT_MAX_QUERY_BYTES;

#[tokio::test]
async fn an_async_hook_decides_and_a_refusal_holds_no_place() {
    let queue = A2aEventQueue::new();
    let service = SseService::builder(queue.clone())
        .max_connections(1)
        .authorize_async(|request: AuthRequest| async move {
            tokio::time::sleep(Duration::from_millis(1)).await;
            match (request.bearer_token(), request.plan().map(PlanId::as_str)) {
                (Some("t"), Some("mine")) => Ok(()),
                (Some("t"), _) => Err(AuthError::Forbidden("not your plan".into())),
                _ => Err(AuthError::Unauthorized("a bearer token is required".into())),
            }
        })
        .build()
        .unwrap();
    let none = error(service.respond(&get("plan_id=mine")).await);
    assert_eq!(none.status(), 401);
    let other = get("plan_id=yours").header("authorization", "Bearer t");
    assert_eq!(error(service.respond(&other).await).status(), 403);
    let mine = get("plan_id=mine").header("authorization", "Bearer t");
    let _stream = stream(service.respond(&mine).await);
    assert_eq!(service.open_streams(), 1, "the refusals took no place");
    assert_eq!(queue.subscriber_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_stream_ends_cleanly_at_its_lifetime_and_resumes_without_loss() {
    let queue = A2aEventQueue::new();
    let ended = Disconnects::new();
    let service = SseService::builder(queue.clone())
        .max_lifetime(Duration::from_secs(60), Duration::ZERO)
        .on_disconnect(ended.hook())
        .build()
        .unwrap();
    let start = tokio::time::Instant::now();
    let mut tap = stream(service.respond(&get("plan_id=p")).await);
    tap.next().await.unwrap();
    tokio::time::sleep(Duration::from_secs(30)).await;
    let id = publish(&queue, &plan("p"), TaskState::Working);
    assert!(tap.next().await.unwrap().starts_with(b"id: 1\n"));
    // Keep-alives come as usual until the lifetime, then the stream ends.
    let mut pings = 0;
    while let Some(chunk) = tap.next().await {
        assert_eq!(chunk, crate::PING);
        pings += 1;
    }
    assert_eq!(start.elapsed(), Duration::from_secs(60));
    assert_eq!(
        pings, 1,
        "one ping at 45 s, between the event at 30 s and the end"
    );
    assert_eq!(ended.only().reason, DisconnectReason::MaxLifetime);
    // Something published meanwhile is replayed on resume.
    publish(&queue, &plan("p"), TaskState::Working);
    let resume = get("plan_id=p").header("last-event-id", "1");
    let mut again = stream(service.respond(&resume).await);
    again.next().await.unwrap();
    assert!(again.next().await.unwrap().starts_with(b"id: 2\n"));
    assert_eq!(id.sequence(), 1);
}

#[test]
fn lifetimes_spread_over_the_jitter() {
    let jitter = Duration::from_secs(100);
    let spreads: Vec<Duration> = (1..=50).map(|c| spread(c, jitter)).collect();
    assert!(spreads.iter().all(|s| *s <= jitter));
    let early = spreads.iter().filter(|s| **s < jitter / 2).count();
    assert!(
        (15..=35).contains(&early),
        "{early} of 50 in the first half"
    );
    assert_eq!(spread(7, Duration::ZERO), Duration::ZERO);
}
