//! The push metrics as a Prometheus page shows them (the exporter the demos use, installed
//! for this test binary alone): a config whose receiver fails has a backlog that grows
//! with every event published meanwhile, retries are counted, and once the receiver is
//! back the deliveries and their latency are recorded and the backlog goes to 0; a config
//! that gives up is counted as failing.

use std::sync::OnceLock;
use std::time::Duration;

use a2a_events::A2aEventQueue;
use a2a_sse_agent::push::{BACKLOG, DELIVERIES, FAILING, LATENCY, PushOptions};
use a2a_sse_agent::{A2aConfig, Agent, AgentCard};
use a2a_sse_core::SseService;
use a2a_sse_testkit::eventually;
use a2a_sse_testkit::webhook::{Answer, Receiver};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::json;

mod common;
use common::*;

/// The metrics page of this process.
fn page() -> String {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| PrometheusBuilder::new().install_recorder().unwrap())
        .render()
}

/// The value of the sample `name{labels}` (`labels` as the page writes them, or empty).
fn sample(name: &str, labels: &str) -> Option<f64> {
    let series = if labels.is_empty() {
        name.to_owned()
    } else {
        format!("{name}{{{labels}}}")
    };
    page().lines().find_map(|line| {
        let (key, value) = line.rsplit_once(' ')?;
        (key == series).then(|| value.parse().ok())?
    })
}

fn service(max_attempts: u32) -> SseService {
    let mut push = PushOptions::new().allow_host("127.0.0.1");
    push.retry.first = Duration::from_millis(50);
    push.retry.max_delay = Duration::from_millis(200);
    push.retry.max_attempts = max_attempts;
    let mut config = A2aConfig::with_card(AgentCard::new("t", "d", "1"));
    config.push = Some(push);
    SseService::builder(A2aEventQueue::new())
        .protocol(Agent::with_executor(config, Script))
        .build()
        .unwrap()
}

/// Starts a task running `text` with the config `id` aimed at `receiver`; the task's id.
async fn start(service: &SseService, text: &str, id: &str, receiver: &Receiver) -> String {
    let push = json!({"id": id, "url": receiver.url("/")});
    let params = json!({"message": message(text),
        "configuration": {"taskPushNotificationConfig": push, "returnImmediately": true}});
    let task = result(rpc(service, "SendMessage", params).await);
    task["task"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_backlog_retries_deliveries_latency_and_failing_configs_are_on_the_page() {
    let service = service(1_000);
    let receiver = Receiver::start("127.0.0.1").await;
    receiver.answer(Answer::Status(500));
    let delivered_before = sample(DELIVERIES, r#"outcome="delivered""#).unwrap_or(0.0);
    // Five working updates 30 ms apart, then COMPLETED: seven events, the first of them
    // (WORKING) retried while the rest pile up behind it.
    let task = start(&service, "steps 5", "metered", &receiver).await;
    let backlog = format!(r#"config="{task}/metered""#);
    assert!(
        eventually(Duration::from_secs(10), || sample(BACKLOG, &backlog)
            == Some(7.0))
        .await,
        "the backlog counts every event waiting behind the failing one: {:?}",
        sample(BACKLOG, &backlog)
    );
    assert!(sample(DELIVERIES, r#"outcome="retried""#).unwrap_or(0.0) >= 1.0);

    receiver.answer(Answer::Status(200));
    receiver.wait_for(7, Duration::from_secs(10)).await;
    assert!(
        eventually(Duration::from_secs(10), || sample(BACKLOG, &backlog)
            == Some(0.0))
        .await,
        "a config done has no backlog"
    );
    let delivered = sample(DELIVERIES, r#"outcome="delivered""#).unwrap();
    assert!(
        delivered - delivered_before >= 7.0,
        "{delivered} - {delivered_before}"
    );
    assert!(sample(&format!("{LATENCY}_count"), "").unwrap() >= 7.0);

    // A config that gives up after two attempts is counted.
    let failing = service_failing().await;
    assert!(failing >= 1.0);
}

/// Starts a config that gives up; the failing configs then reported.
async fn service_failing() -> f64 {
    let service = service(2);
    let receiver = Receiver::start("127.0.0.1").await;
    receiver.answer(Answer::Status(503));
    let given_up = sample(DELIVERIES, r#"outcome="given_up""#).unwrap_or(0.0);
    start(&service, "work", "doomed", &receiver).await;
    assert!(
        eventually(Duration::from_secs(10), || {
            sample(DELIVERIES, r#"outcome="given_up""#).unwrap_or(0.0) > given_up
        })
        .await
    );
    sample(FAILING, "").unwrap()
}
