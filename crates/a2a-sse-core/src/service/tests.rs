//! `SseService::respond`: status codes, limits, `204`, resume and backend failures.

use a2a_events::{
    A2aEventQueue, BoxFuture, EventId, EventStream, NewEvent, PublishError, SubscribeRequest,
    TaskState,
};
use futures_util::StreamExt;

use super::*;
use crate::AuthError;
use crate::hook::DisconnectReason;
use crate::request::OwnedHead;
use crate::response::SseResponse;
use crate::test_support::{
    Connects, Disconnects, error, get, next_ids, plan, publish, status, stream,
};

#[tokio::test]
async fn only_get_is_allowed() {
    let queue = A2aEventQueue::new();
    let service = SseService::builder(queue.clone()).build().unwrap();
    for method in ["POST", "HEAD", "get"] {
        let head = OwnedHead::new(method, "/a2a/events");
        let response = service.respond(&head).await;
        assert_eq!(response.status(), 405, "{method}");
        assert_eq!(
            error(response),
            RequestError::MethodNotAllowed { allow: "GET" }
        );
    }
    assert_eq!(queue.subscriber_count(), 0);
}

#[tokio::test]
async fn bad_parameters_are_400s_and_subscribe_nothing() {
    let queue = A2aEventQueue::new();
    let service = SseService::builder(queue.clone())
        .max_connections(1)
        .build()
        .unwrap();
    let cases = [
        (get("plan_id=a%20b"), "invalid_plan_id"),
        (get("last_event_id=x"), "invalid_last_event_id"),
        (
            get("").header("last-event-id", "-3"),
            "invalid_last_event_id",
        ),
        (get("plan_id=a&plan_id=a"), "repeated_parameter"),
    ];
    for (head, code) in cases {
        let err = error(service.respond(&head).await);
        assert_eq!((err.status(), err.code()), (400, code));
    }
    assert_eq!(queue.subscriber_count(), 0);
    assert_eq!(service.open_streams(), 0);
}

#[tokio::test]
async fn the_authorization_hook_reads_headers_and_refuses_with_401_or_403() {
    let queue = A2aEventQueue::new();
    let service = SseService::builder(queue.clone())
        .authorize(|req| {
            assert_eq!(req.request.plan, Some(plan("p")));
            match req.header("authorization") {
                None => Err(AuthError::Unauthorized("credentials required".into())),
                Some(b"Bearer good") => Ok(()),
                Some(_) => Err(AuthError::Forbidden("not your plan".into())),
            }
        })
        .build()
        .unwrap();

    let err = error(service.respond(&get("plan_id=p")).await);
    assert_eq!(
        (err.status(), err.to_string()),
        (401, "credentials required".into())
    );
    let bad = get("plan_id=p").header("authorization", "Bearer bad");
    let err = error(service.respond(&bad).await);
    assert_eq!((err.status(), err.code()), (403, "forbidden"));
    assert_eq!(queue.subscriber_count(), 0, "refused before subscribing");

    let good = get("plan_id=p").header("authorization", "Bearer good");
    let _tap = stream(service.respond(&good).await);
    assert_eq!(queue.subscriber_count(), 1);
}

#[tokio::test]
async fn the_connection_limit_answers_503_until_a_stream_is_dropped() {
    let queue = A2aEventQueue::new();
    let service = SseService::builder(queue.clone())
        .max_connections(1)
        .build()
        .unwrap();
    let first = stream(service.respond(&get("")).await);
    assert_eq!(service.open_streams(), 1);

    let err = error(service.respond(&get("")).await);
    assert_eq!(err, RequestError::TooManyConnections);
    assert_eq!(err.status(), 503);
    assert!(err.headers().contains(&("retry-after", "1".into())));
    assert_eq!(service.open_streams(), 1);
    assert_eq!(queue.subscriber_count(), 1);

    drop(first);
    assert_eq!(service.open_streams(), 0);
    let _again = stream(service.clone().respond(&get("")).await);
    assert_eq!(service.open_streams(), 1, "clones share the count");
}

#[tokio::test]
async fn a_stream_that_ends_by_itself_frees_its_place_when_dropped() {
    let queue = A2aEventQueue::new();
    let service = SseService::builder(queue.clone())
        .max_connections(1)
        .build()
        .unwrap();
    let mut tap = stream(service.respond(&get("")).await);
    tap.next().await.unwrap();
    queue.close();
    assert_eq!(tap.next().await, None);
    drop(tap);
    assert_eq!(service.open_streams(), 0);
}

#[tokio::test]
async fn a_closed_queue_is_503_shutting_down() {
    let queue = A2aEventQueue::new();
    let service = SseService::builder(queue.clone())
        .max_connections(1)
        .build()
        .unwrap();
    queue.close();
    let err = error(service.respond(&get("")).await);
    assert_eq!((err.status(), err.code()), (503, "shutting_down"));
    assert_eq!(
        service.open_streams(),
        0,
        "the refused request gave its place back"
    );
}

#[tokio::test]
async fn a_finished_plan_is_204_at_or_after_its_terminal_event() {
    let queue = A2aEventQueue::new();
    let connects = Connects::new();
    let service = SseService::builder(queue.clone())
        .max_connections(1)
        .on_connect(connects.hook())
        .build()
        .unwrap();
    let p = plan("p");
    publish(&queue, &p, TaskState::Working);
    let terminal = publish(&queue, &p, TaskState::Completed);
    publish(&queue, &plan("q"), TaskState::Working);
    assert_eq!(terminal.sequence(), 2);

    let heads = [
        get("plan_id=p"),
        get("plan_id=p").header("last-event-id", "2"),
        get("plan_id=p").header("last-event-id", "3"),
        get("plan_id=p&last_event_id=2"),
    ];
    for head in heads {
        let response = service.respond(&head).await;
        assert!(matches!(response, SseResponse::NoContent), "{head:?}");
        assert_eq!(response.status(), 204);
    }
    assert!(connects.calls().is_empty(), "no stream, no connect hook");
    assert_eq!(service.open_streams(), 0);

    // Resuming before the terminal event replays up to it, then ends.
    let disconnects = Disconnects::new();
    let service = SseService::builder(queue.clone())
        .on_disconnect(disconnects.hook())
        .build()
        .unwrap();
    let resume = get("plan_id=p").header("last-event-id", "1");
    let mut tap = stream(service.respond(&resume).await);
    tap.next().await.unwrap();
    assert_eq!(next_ids(&mut tap).await, ["2"]);
    assert_eq!(tap.next().await, None);
    let info = disconnects.only();
    assert_eq!((info.reason, info.events), (DisconnectReason::Finished, 1));
}

#[tokio::test]
async fn the_last_event_id_header_wins_over_the_parameter() {
    let queue = A2aEventQueue::new();
    let connects = Connects::new();
    let service = SseService::builder(queue.clone())
        .on_connect(connects.hook())
        .build()
        .unwrap();
    let p = plan("p");
    for _ in 0..3 {
        publish(&queue, &p, TaskState::Working);
    }
    let head = get("last_event_id=0").header("last-event-id", "2");
    let mut tap = stream(service.respond(&head).await);
    tap.next().await.unwrap();
    assert_eq!(next_ids(&mut tap).await, ["3"]);
    assert_eq!(connects.only().last_event_id, Some(EventId::new(2)));

    let mut tap = stream(service.respond(&get("last_event_id=1")).await);
    tap.next().await.unwrap();
    assert_eq!(next_ids(&mut tap).await, ["2", "3"]);
}

/// A backend that can only fail: the one path the in-memory queue never takes.
struct Unavailable;

fn down(message: &str) -> a2a_events::BackendError {
    a2a_events::BackendError::new(a2a_events::BackendErrorKind::Unavailable, message)
}

impl EventBackend for Unavailable {
    fn publish(&self, _: NewEvent) -> BoxFuture<'_, Result<EventId, PublishError>> {
        Box::pin(async { Err(PublishError::Backend(down("down"))) })
    }

    fn subscribe(&self, _: SubscribeRequest) -> BoxFuture<'_, Result<EventStream, SubscribeError>> {
        Box::pin(async { Err(SubscribeError::Backend(down("connection refused"))) })
    }

    fn task(
        &self,
        _: &a2a_events::PlanId,
    ) -> BoxFuture<'_, Result<Option<std::sync::Arc<a2a_events::TaskSnapshot>>, SubscribeError>>
    {
        Box::pin(async { Err(SubscribeError::Backend(down("connection refused"))) })
    }

    fn subscriber_count(&self) -> usize {
        0
    }

    fn close(&self) {}
}

#[tokio::test]
async fn a_failing_backend_is_503_backend_unavailable() {
    let service: SseService = SseService::builder(Unavailable)
        .max_connections(1)
        .build()
        .unwrap();
    let err = error(service.respond(&get("")).await);
    assert_eq!((err.status(), err.code()), (503, "backend_unavailable"));
    let body: serde_json::Value = serde_json::from_slice(&err.body()).unwrap();
    assert_eq!(
        body["error"]["message"],
        "the event backend is unavailable: connection refused"
    );
    assert_eq!(service.open_streams(), 0);

    let backend = service.backend();
    let published = backend
        .publish(status(&plan("p"), TaskState::Working))
        .await;
    assert_eq!(published, Err(PublishError::Backend(down("down"))));
    backend.close();
    assert_eq!(backend.subscriber_count(), 0);
}

/// A request type that cannot be shared between threads, as actix-web's is not.
struct NotSync(OwnedHead, std::cell::Cell<()>);

impl RequestHead for NotSync {
    fn method(&self) -> &str {
        self.0.method()
    }

    fn path(&self) -> &str {
        self.0.path()
    }

    fn query(&self) -> Option<&str> {
        RequestHead::query(&self.0)
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        RequestHead::header(&self.0, name)
    }

    fn for_each_header(&self, each: &mut dyn FnMut(&str, &[u8])) {
        self.0.for_each_header(each);
    }
}

#[tokio::test]
async fn the_respond_future_and_the_stream_are_send_for_any_request_type() {
    fn send<T: Send>(value: T) -> T {
        value
    }
    let service = SseService::builder(A2aEventQueue::new()).build().unwrap();
    let head = NotSync(get(""), std::cell::Cell::new(()));
    let response = send(service.respond(&head));
    drop(head);
    let SseResponse::Stream(stream) = response.await else {
        panic!("expected a stream");
    };
    let mut stream = Box::pin(send(stream));
    assert!(stream.next().await.is_some());
}
