//! Two agent replicas on one Redis, as real processes: the axum demo (replica A) and the
//! actix-web demo (replica B), each started with `--redis` on the test's own
//! `redis-server`. A task sent to A is seen on B at once (get, list, subscribe with
//! resume, the native stream); a cancel sent to B stops the execution running on A; a
//! task whose replica is killed mid-execution fails within its lease.

mod support;

use std::time::{Duration, Instant};

use a2a_sse_testkit::demo_process::DemoProcess;
use a2a_sse_testkit::{Event, Next, SseClient, StreamReader, eventually_with};
use serde_json::{Value, json};

use crate::support::RedisServer;
use crate::support::agent::{V1, call, replica};

const WAIT: Duration = Duration::from_secs(15);
/// The replicas' lease in this test: a dead replica's task fails within about 1.5 times
/// this.
const LEASE_MS: u64 = 1500;

/// Replica A (axum) and replica B (actix-web) on `redis`, without the simulator, plans
/// stepping every `step_ms`.
fn replicas(redis: &RedisServer, step_ms: u64) -> (DemoProcess, DemoProcess) {
    let step = step_ms.to_string();
    let lease = LEASE_MS.to_string();
    let args = [
        "--plan-step-ms",
        step.as_str(),
        "--lease-ms",
        lease.as_str(),
        "--keep-alive-ms",
        "1000",
    ];
    (replica(redis, false, &args), replica(redis, true, &args))
}

/// Sends `text` as a new task, answered at once.
async fn send(client: &SseClient, text: &str) -> Value {
    let body = json!({
        "message": {"messageId": format!("m-{text}"), "role": "ROLE_USER", "parts": [{"text": text}]},
        "configuration": {"returnImmediately": true},
    });
    call(client, "POST", "/a2a/message:send", Some(body)).await["task"].clone()
}

/// `SubscribeToTask` over HTTP+JSON, from `after` when given.
async fn subscribe(client: &SseClient, task: &str, after: Option<&str>) -> StreamReader {
    let mut headers = vec![V1];
    if let Some(after) = after {
        headers.push(("last-event-id", after));
    }
    let path = format!("/a2a/tasks/{task}:subscribe");
    let response = client.request("POST", &path, &headers, Vec::new()).await;
    assert_eq!(response.status, 200, "subscribe {task}");
    response.into_stream()
}

fn item(event: &Event) -> Value {
    serde_json::from_str(&event.data).unwrap_or_else(|e| panic!("{e}: {}", event.data))
}

/// Every event until the stream ends (or `WAIT` passes).
async fn to_the_end(stream: &mut StreamReader) -> Vec<Event> {
    let mut events = Vec::new();
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        match stream.next_event(WAIT).await {
            Next::Event(event) => events.push(event),
            _ => break,
        }
    }
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_sent_to_one_replica_is_seen_subscribed_resumed_and_canceled_on_the_other() {
    let redis = redis_server!();
    let (a, b) = replicas(&redis, 100);
    let (on_a, on_b) = (SseClient::new(a.addr()), SseClient::new(b.addr()));
    let mut native = on_b.get("/a2a/events", &[]).await.into_stream();

    let task = send(&on_a, "slow").await;
    let id = task["id"].as_str().unwrap().to_owned();
    let context = task["contextId"].as_str().unwrap().to_owned();
    // At once on B: GetTask and ListTasks.
    let got = call(&on_b, "GET", &format!("/a2a/tasks/{id}"), None).await;
    assert_eq!(got["id"], id.as_str(), "{got}");
    let listed = call(
        &on_b,
        "GET",
        &format!("/a2a/tasks?contextId={context}"),
        None,
    )
    .await;
    assert_eq!(listed["tasks"][0]["id"], id.as_str(), "{listed}");
    // The native stream of B carries the task's events, with the same ids as A's.
    let Next::Event(first) = native.next_event(WAIT).await else {
        panic!("B's native stream got nothing of the task");
    };
    assert_eq!(first.event, "message");

    // Subscribe on B, drop after a few updates, resume on B with Last-Event-ID.
    let mut stream = subscribe(&on_b, &id, None).await;
    let seen = stream.events(3, WAIT).await;
    assert!(item(&seen[0]).get("task").is_some(), "the task comes first");
    let last = seen.last().unwrap().id.clone();
    stream.close();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let mut resumed = subscribe(&on_b, &id, Some(&last)).await;
    let more = resumed.events(3, WAIT).await;
    let ids: Vec<u64> = seen[1..]
        .iter()
        .chain(&more)
        .map(|event| event.id.split('-').next_back().unwrap().parse().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|pair| pair[1] == pair[0] + 1),
        "gapless and no repeat across the resume: {ids:?}"
    );

    // Cancel on B: the task ends CANCELED, and A's execution stops publishing.
    let canceled = call(&on_b, "POST", &format!("/a2a/tasks/{id}:cancel"), None).await;
    assert_eq!(
        canceled["status"]["state"], "TASK_STATE_CANCELED",
        "{canceled}"
    );
    let tail = to_the_end(&mut resumed).await;
    let last = item(tail.last().expect("the stream ends with the cancel"));
    assert_eq!(
        last["statusUpdate"]["status"]["state"],
        "TASK_STATE_CANCELED"
    );
    let artifacts = |task: &Value| task["artifacts"][0]["parts"].as_array().map_or(0, Vec::len);
    let after_cancel = artifacts(&call(&on_a, "GET", &format!("/a2a/tasks/{id}"), None).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let later = call(&on_a, "GET", &format!("/a2a/tasks/{id}"), None).await;
    assert_eq!(later["status"]["state"], "TASK_STATE_CANCELED");
    assert_eq!(
        artifacts(&later),
        after_cancel,
        "A published nothing after the cancel"
    );
    drop((a, b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_of_a_replica_killed_mid_execution_fails_within_its_lease() {
    let redis = redis_server!();
    let (mut a, b) = replicas(&redis, 200);
    let (on_a, on_b) = (SseClient::new(a.addr()), SseClient::new(b.addr()));
    let task = send(&on_a, "slow").await;
    let id = task["id"].as_str().unwrap().to_owned();
    let path = format!("/a2a/tasks/{id}");
    // Running, its lease held by A.
    let running = eventually_with(
        WAIT,
        || async { Some(call(&on_b, "GET", &path, None).await["status"]["state"].clone()) },
        |state| state == "TASK_STATE_WORKING",
    )
    .await;
    assert!(running.after.is_some(), "never working: {:?}", running.last);
    a.kill();
    let killed = Instant::now();
    let mut state = Value::Null;
    while killed.elapsed() < WAIT {
        let got = call(&on_b, "GET", &path, None).await;
        state = got["status"].clone();
        if state["state"] == "TASK_STATE_FAILED" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state["state"], "TASK_STATE_FAILED", "{state}");
    let reason = state["message"]["parts"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("lease"), "{reason}");
    let bound = Duration::from_millis(LEASE_MS * 3);
    assert!(
        killed.elapsed() < bound,
        "failed after {:?}",
        killed.elapsed()
    );
    drop(b);
}
