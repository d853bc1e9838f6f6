//! Push notifications from agent replicas on one Redis, as real processes (the axum demo
//! and the actix-web demo, `--push` on), to a webhook receiver in this test: one replica
//! delivers a config; when it is killed mid-run, the other takes the delivery over, and
//! every event arrives at least once, in order; when every replica is gone, a replica
//! started later delivers what was left.

mod support;

use std::time::{Duration, Instant};

use a2a_sse_testkit::demo_process::DemoProcess;
use a2a_sse_testkit::webhook::{Delivery, Receiver};
use a2a_sse_testkit::{SseClient, eventually_with};
use serde_json::json;

use crate::support::RedisServer;
use crate::support::agent::{call, replica};

const WAIT: Duration = Duration::from_secs(20);
/// How long a replica's claim on a config may go unrenewed before another takes it.
const CLAIM_MS: &str = "1500";

/// A demo replica (the actix-web one when `actix`) on `redis` with push on, plans stepping
/// every `step_ms`.
fn push_replica(redis: &RedisServer, actix: bool, step_ms: u64) -> DemoProcess {
    let step = step_ms.to_string();
    let flags = [
        "--plan-step-ms",
        step.as_str(),
        "--lease-ms",
        "1500",
        "--push",
        "--push-allow-host",
        "127.0.0.1",
        "--push-claim-ms",
        CLAIM_MS,
    ];
    replica(redis, actix, &flags)
}

/// Sends `text` as a new task with a push config to `url`, answered at once: its id.
async fn send_with_push(client: &SseClient, text: &str, url: &str) -> String {
    let body = json!({
        "message": {"messageId": format!("m-{text}"), "role": "ROLE_USER", "parts": [{"text": text}]},
        "configuration": {"returnImmediately": true, "taskPushNotificationConfig": {"url": url}},
    });
    let task = call(client, "POST", "/a2a/message:send", Some(body)).await;
    task["task"]["id"].as_str().unwrap().to_owned()
}

/// How many deliveries the replica at `client` made, from its metrics.
async fn delivered_by(client: &SseClient) -> u64 {
    let text = client.get("/metrics", &[]).await.text().await;
    text.lines()
        .filter(|line| line.starts_with("a2a_push_deliveries_total") && line.contains("delivered"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|n| n as u64)
        .sum()
}

/// The task's state, as `client`'s replica reads it.
async fn state(client: &SseClient, task: &str) -> String {
    let got = call(client, "GET", &format!("/a2a/tasks/{task}"), None).await;
    got["status"]["state"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The event sequence number a delivery carries (`<epoch>-<n>`).
fn seq(delivery: &Delivery) -> u64 {
    let id = delivery.header("a2a-event-id").expect("an event id");
    id.rsplit('-').next().unwrap().parse().unwrap()
}

fn terminal(delivery: &Delivery) -> bool {
    let body = delivery.json();
    matches!(
        body["statusUpdate"]["status"]["state"].as_str(),
        Some("TASK_STATE_COMPLETED" | "TASK_STATE_FAILED" | "TASK_STATE_CANCELED")
    )
}

/// Checks that `accepted` holds every event of the task from its first delivery to its
/// terminal one, each first arriving after the one before: the duplicates' count.
fn every_event_in_order(accepted: &[Delivery]) -> usize {
    let mut firsts = Vec::new();
    for delivery in accepted {
        let n = seq(delivery);
        if !firsts.contains(&n) {
            firsts.push(n);
        }
    }
    let (first, last) = (firsts[0], *firsts.last().unwrap());
    assert_eq!(
        firsts,
        (first..=last).collect::<Vec<_>>(),
        "each event first arrives after the one before, none missing"
    );
    assert!(terminal(accepted.last().unwrap()), "the last is the end");
    accepted.len() - firsts.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_delivering_replica_dies_the_other_takes_its_deliveries_over() {
    let redis = redis_server!();
    let receiver = Receiver::start("127.0.0.1").await;
    let a = push_replica(&redis, false, 100);
    let mut b = push_replica(&redis, true, 100);
    let (on_a, on_b) = (SseClient::new(a.addr()), SseClient::new(b.addr()));
    // The execution runs on A: 62 events over about 6 s (working, 60 chunks, completed).
    let body = json!({
        "message": {"messageId": "m-slow", "role": "ROLE_USER", "parts": [{"text": "slow"}]},
        "configuration": {"returnImmediately": true},
    });
    let task = call(&on_a, "POST", "/a2a/message:send", Some(body)).await;
    let task = task["task"]["id"].as_str().unwrap().to_owned();
    // The config is stored through B, which claims it at once.
    let config = json!({"url": receiver.url("/hook")});
    let path = format!("/a2a/tasks/{task}/pushNotificationConfigs");
    call(&on_b, "POST", &path, Some(config)).await;
    let started = receiver.wait_for(10, WAIT).await;
    assert!(started.len() >= 10, "deliveries started: {}", started.len());
    let (from_a, from_b) = (delivered_by(&on_a).await, delivered_by(&on_b).await);
    assert!(
        from_a == 0 && from_b > 0,
        "B delivers: A {from_a}, B {from_b}"
    );
    b.kill();
    let ended = eventually_with(
        WAIT,
        || async { Some(state(&on_a, &task).await) },
        |state| state == "TASK_STATE_COMPLETED",
    )
    .await;
    assert!(
        ended.after.is_some(),
        "the execution on A went on: {:?}",
        ended.last
    );
    let done = eventually_with(
        WAIT,
        || async { Some(receiver.accepted()) },
        |accepted| accepted.last().is_some_and(terminal),
    )
    .await;
    let accepted = done.last.unwrap_or_default();
    let duplicates = every_event_in_order(&accepted);
    let events = accepted.len() - duplicates;
    println!("B killed after {from_b} deliveries: {events} events, {duplicates} delivered twice");
    assert!(
        duplicates <= 1,
        "at most the event in flight is delivered twice"
    );
    assert!(delivered_by(&on_a).await > 0, "A took over");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_every_replica_stopped_a_new_one_delivers_what_was_left() {
    let redis = redis_server!();
    let receiver = Receiver::start("127.0.0.1").await;
    receiver.down();
    let mut a = push_replica(&redis, false, 50);
    let on_a = SseClient::new(a.addr());
    // Working, 3 chunks, completed: none delivered while the receiver is down.
    let task = send_with_push(&on_a, "report", &receiver.url("/hook")).await;
    let ended = eventually_with(
        WAIT,
        || async { Some(state(&on_a, &task).await) },
        |state| state == "TASK_STATE_COMPLETED",
    )
    .await;
    assert!(ended.after.is_some(), "{:?}", ended.last);
    a.kill();
    receiver.up().await;
    let b = push_replica(&redis, true, 50);
    let restarted = Instant::now();
    let accepted = receiver.wait_for(5, WAIT).await;
    assert_eq!(
        accepted.len(),
        5,
        "{:?}",
        accepted.iter().map(seq).collect::<Vec<_>>()
    );
    assert_eq!(every_event_in_order(&accepted), 0);
    println!(
        "delivered {:?} after the new replica was ready",
        accepted.last().unwrap().at.duration_since(restarted)
    );
    drop(b);
}
