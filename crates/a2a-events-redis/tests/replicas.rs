//! Two replicas on one Redis, as real processes: the axum demo (replica A) and the
//! actix-web demo (replica B), each started with `--redis` on the test's own
//! `redis-server`. What one replica accepts, the other serves; a client that drops from
//! one resumes on the other; two replicas publishing at once give every subscriber on
//! either the same order; a task reads the same from both.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use a2a_sse_testkit::demo_process::{DemoProcess, build_example};
use a2a_sse_testkit::{Event, SseClient, StreamReader};

use crate::support::RedisServer;

const WAIT: Duration = Duration::from_secs(10);

/// Both demos' executables, built as this test's cargo would build them.
fn demos() -> (PathBuf, PathBuf) {
    (
        build_example("a2a-sse-axum", "demo"),
        build_example("a2a-sse-actix", "actix-demo"),
    )
}

/// Replica A (axum) and replica B (actix-web) on `redis`, without the simulator.
fn replicas(redis: &RedisServer) -> (DemoProcess, DemoProcess) {
    let (axum, actix) = demos();
    let url = redis.url();
    let args = ["--no-simulate", "--redis", url.as_str()];
    (
        DemoProcess::start(&axum, &args),
        DemoProcess::start(&actix, &args),
    )
}

/// A status update of `plan` whose message carries `text`, in the publish route's body.
fn status(plan: &str, text: &str, state: &str) -> String {
    serde_json::json!({
        "kind": "status-update",
        "data": {
            "taskId": plan,
            "contextId": "ctx",
            "status": {
                "state": state,
                "message": {
                    "messageId": text,
                    "role": "ROLE_AGENT",
                    "parts": [{"text": text}],
                },
            },
        },
    })
    .to_string()
}

async fn publish(client: &SseClient, plan: &str, text: &str) {
    let response = client
        .post_json(
            &format!("/a2a/plans/{plan}/events"),
            &status(plan, text, "TASK_STATE_WORKING"),
        )
        .await;
    assert_eq!(response.status, 202, "publish {text} on {plan}");
}

/// The text each event carries (the message id of its status), in arrival order.
fn texts(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|event| {
            let value: serde_json::Value = serde_json::from_str(&event.data)
                .unwrap_or_else(|e| panic!("event data is not JSON ({e}): {}", event.data));
            value["data"]["status"]["message"]["messageId"]
                .as_str()
                .unwrap_or_else(|| panic!("no message id in {value}"))
                .to_owned()
        })
        .collect()
}

async fn subscribe(client: &SseClient, path: &str, headers: &[(&str, &str)]) -> StreamReader {
    let response = client.get(path, headers).await;
    assert_eq!(response.status, 200, "GET {path}");
    response.into_stream()
}

/// Only the events that carry data (no keep-alives, no notices), `count` of them.
async fn events(stream: &mut StreamReader, count: usize) -> Vec<Event> {
    let events = stream.events(count, WAIT).await;
    assert_eq!(events.len(), count, "got {events:?}");
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_published_through_one_replica_reaches_the_clients_of_the_other() {
    let Some(redis) = RedisServer::start(&[]) else {
        return;
    };
    let (a, b) = replicas(&redis);
    let (on_a, on_b) = (SseClient::new(a.addr()), SseClient::new(b.addr()));
    let mut watching_b = subscribe(&on_b, "/a2a/events?plan_id=p", &[]).await;
    let mut watching_a = subscribe(&on_a, "/a2a/events?plan_id=p", &[]).await;

    publish(&on_a, "p", "from-a").await;
    publish(&on_b, "p", "from-b").await;

    let seen_b = events(&mut watching_b, 2).await;
    let seen_a = events(&mut watching_a, 2).await;
    assert_eq!(texts(&seen_b), ["from-a", "from-b"]);
    assert_eq!(texts(&seen_a), ["from-a", "from-b"]);
    // The same event has the same id on both replicas.
    let ids = |events: &[Event]| events.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&seen_a), ids(&seen_b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_drops_from_one_replica_resumes_on_the_other_with_nothing_lost_or_repeated() {
    let Some(redis) = RedisServer::start(&[]) else {
        return;
    };
    let (a, b) = replicas(&redis);
    let (on_a, on_b) = (SseClient::new(a.addr()), SseClient::new(b.addr()));

    let mut stream = subscribe(&on_a, "/a2a/events?plan_id=p", &[]).await;
    for n in 0..3 {
        publish(&on_a, "p", &format!("e{n}")).await;
    }
    let before = events(&mut stream, 3).await;
    assert_eq!(texts(&before), ["e0", "e1", "e2"]);
    let last_id = before[2].id.clone();
    drop(stream);

    // Missed while away, published through both replicas and for another plan.
    for n in 3..6 {
        let through = if n % 2 == 0 { &on_a } else { &on_b };
        publish(through, "p", &format!("e{n}")).await;
        publish(through, "other", &format!("x{n}")).await;
    }
    let mut resumed = subscribe(
        &on_b,
        "/a2a/events?plan_id=p",
        &[("last-event-id", last_id.as_str())],
    )
    .await;
    publish(&on_a, "p", "e6").await;
    let after = events(&mut resumed, 4).await;
    assert_eq!(texts(&after), ["e3", "e4", "e5", "e6"]);
    // Nothing more: no duplicate of what was replayed, no other plan's event.
    assert!(
        resumed
            .events(1, Duration::from_millis(500))
            .await
            .is_empty(),
        "an event beyond e6"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_publishing_at_once_give_every_subscriber_one_and_the_same_order() {
    let Some(redis) = RedisServer::start(&[]) else {
        return;
    };
    let (a, b) = replicas(&redis);
    let (on_a, on_b) = (SseClient::new(a.addr()), SseClient::new(b.addr()));
    let mut subscribers = Vec::new();
    for client in [&on_a, &on_b, &on_a, &on_b] {
        subscribers.push(subscribe(client, "/a2a/events?plan_id=p", &[]).await);
    }

    const EACH: usize = 100;
    let publisher = |client: SseClient, name: &'static str| {
        tokio::spawn(async move {
            for n in 0..EACH {
                publish(&client, "p", &format!("{name}{n}")).await;
            }
        })
    };
    let (from_a, from_b) = (publisher(on_a, "a"), publisher(on_b, "b"));
    from_a.await.expect("publisher on A");
    from_b.await.expect("publisher on B");

    let mut orders = Vec::new();
    for stream in &mut subscribers {
        orders.push(texts(&events(stream, 2 * EACH).await));
    }
    // Each publisher's events in its own order, and every subscriber sees one interleaving.
    for name in ["a", "b"] {
        let own: Vec<_> = orders[0].iter().filter(|t| t.starts_with(name)).collect();
        let expected: Vec<_> = (0..EACH).map(|n| format!("{name}{n}")).collect();
        assert_eq!(own, expected.iter().collect::<Vec<_>>());
    }
    for order in &orders[1..] {
        assert_eq!(order, &orders[0]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_replicas_answer_the_same_task_snapshot() {
    let Some(redis) = RedisServer::start(&[]) else {
        return;
    };
    let (a, b) = replicas(&redis);
    let (on_a, on_b) = (SseClient::new(a.addr()), SseClient::new(b.addr()));
    publish(&on_a, "t", "first").await;
    let artifact = serde_json::json!({
        "kind": "artifact-update",
        "data": {
            "taskId": "t",
            "contextId": "ctx",
            "artifact": {"artifactId": "out", "parts": [{"text": "half"}]},
            "append": false,
            "lastChunk": false,
        },
    });
    let response = on_b
        .post_json("/a2a/plans/t/events", &artifact.to_string())
        .await;
    assert_eq!(response.status, 202);
    publish(&on_b, "t", "second").await;

    let get = |client: SseClient| async move {
        let response = client.get("/a2a/tasks/t", &[("a2a-version", "1.0")]).await;
        assert_eq!(response.status, 200);
        serde_json::from_str::<serde_json::Value>(&response.text().await).expect("task JSON")
    };
    let (task_a, task_b) = (get(on_a).await, get(on_b).await);
    assert_eq!(task_a, task_b);
    assert_eq!(task_a["id"], "t");
    assert_eq!(task_a["status"]["message"]["messageId"], "second");
    assert_eq!(task_a["artifacts"][0]["parts"][0]["text"], "half");
}
