//! Push notifications, delivered over real HTTP to a receiver on loopback: the four config
//! methods on both bindings, every event in order with its headers and signature, delete,
//! a receiver that fails, hangs or is down, a config that gives up, and the address guard.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use a2a_events::{A2aEventQueue, QueueConfig};
use a2a_sse_agent::push::{PushFailure, PushOptions, WebhookSecret};
use a2a_sse_agent::{A2aConfig, Agent, AgentCard};
use a2a_sse_core::{SseResponse, SseService};
use a2a_sse_testkit::webhook::{Answer, Delivery, Receiver};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

mod common;
use common::*;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A push options letting loopback `127.0.0.1` through, retrying fast.
fn options() -> PushOptions {
    let mut options = PushOptions::new().allow_host("127.0.0.1");
    options.retry.first = Duration::from_millis(50);
    options.retry.max_delay = Duration::from_millis(400);
    options.retry.max_attempts = 50;
    options
}

fn service_with(queue: &A2aEventQueue, push: Option<PushOptions>) -> SseService {
    let mut config = A2aConfig::with_card(AgentCard::new("t", "d", "1"));
    config.push = push;
    SseService::builder(queue.clone())
        .protocol(Agent::with_executor(config, Script))
        .build()
        .unwrap()
}

/// A JSON-RPC error's code.
fn code(response: SseResponse) -> i64 {
    let (status, body) = json_of(response);
    assert_eq!(status, 200);
    body["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("{body}"))
}

/// `SendMessage` of `text` with the config `push` inline: the answer's result.
async fn send_with(service: &SseService, text: &str, push: Value) -> Value {
    let params = json!({"message": message(text),
        "configuration": {"taskPushNotificationConfig": push}});
    result(rpc(service, "SendMessage", params).await)
}

/// Starts a task that waits for input; its id.
async fn waiting_task(service: &SseService) -> String {
    let task = result(rpc(service, "SendMessage", json!({"message": message("ask")})).await);
    task["task"]["id"].as_str().unwrap().to_owned()
}

/// A follow-up to `task` with `text`.
fn follow_up(task: &str, text: &str) -> Value {
    let mut message = message(text);
    message["taskId"] = json!(task);
    json!({"message": message})
}

/// Whether `delivery` carries a valid Standard Webhooks signature by `secret`, checked
/// here with HMAC-SHA256 directly.
fn signed(delivery: &Delivery, secret: &str) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap();
    let id = delivery.header("webhook-id").unwrap();
    let timestamp = delivery.header("webhook-timestamp").unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(&delivery.body);
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    delivery
        .header("webhook-signature")
        .is_some_and(|sent| sent.split(' ').any(|one| one == expected))
}

/// The deliveries' event ids, in arrival order.
fn ids(deliveries: &[Delivery]) -> Vec<String> {
    deliveries
        .iter()
        .map(|d| d.header("a2a-event-id").unwrap_or_default().to_owned())
        .collect()
}

/// The state or artifact text each delivery carries.
fn what(deliveries: &[Delivery]) -> Vec<String> {
    deliveries
        .iter()
        .map(|d| {
            let body = d.json();
            if let Some(state) = body["statusUpdate"]["status"]["state"].as_str() {
                state.trim_start_matches("TASK_STATE_").to_owned()
            } else {
                body["artifactUpdate"]["artifact"]["parts"][0]["text"]
                    .as_str()
                    .unwrap_or("?")
                    .to_owned()
            }
        })
        .collect()
}

#[tokio::test]
async fn the_four_config_methods_on_both_bindings() {
    let queue = A2aEventQueue::new();
    let service = service_with(&queue, Some(options()));
    let receiver = Receiver::start("127.0.0.1").await;
    let task = waiting_task(&service).await;

    // JSON-RPC.
    let config = json!({"taskId": task, "id": "c1", "url": receiver.url("/one"), "token": "tok",
                        "authentication": {"scheme": "Bearer", "credentials": "secret"}});
    let created = result(rpc(&service, "CreateTaskPushNotificationConfig", config.clone()).await);
    assert_eq!(created, config);
    let ask = json!({"taskId": task, "id": "c1"});
    let got = result(rpc(&service, "GetTaskPushNotificationConfig", ask.clone()).await);
    assert_eq!(got, config);
    let listed = result(
        rpc(
            &service,
            "ListTaskPushNotificationConfigs",
            json!({"task_id": task}),
        )
        .await,
    );
    assert_eq!(listed, json!({"configs": [config], "nextPageToken": ""}));
    let deleted = result(rpc(&service, "DeleteTaskPushNotificationConfig", ask.clone()).await);
    assert_eq!(deleted, json!({}));
    assert_eq!(
        code(rpc(&service, "GetTaskPushNotificationConfig", ask.clone()).await),
        -32001
    );
    // A missing config is TaskNotFound, naming the task and the config.
    let (_, missing) = json_of(rpc(&service, "GetTaskPushNotificationConfig", ask.clone()).await);
    let metadata = &missing["error"]["data"][0]["metadata"];
    assert_eq!(
        (&metadata["taskId"], &metadata["configId"]),
        (&json!(task), &json!("c1"))
    );
    // Delete is idempotent.
    result(rpc(&service, "DeleteTaskPushNotificationConfig", ask).await);

    // Pages, in the order of the ids, on both bindings.
    for id in ["p3", "p1", "p2"] {
        let config = json!({"taskId": task, "id": id, "url": receiver.url("/p")});
        result(rpc(&service, "CreateTaskPushNotificationConfig", config).await);
    }
    let ids = |page: &Value| -> Vec<String> {
        page["configs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let first = result(
        rpc(
            &service,
            "ListTaskPushNotificationConfigs",
            json!({"taskId": task, "pageSize": 2}),
        )
        .await,
    );
    assert_eq!(ids(&first), ["p1", "p2"]);
    let token = first["nextPageToken"].as_str().unwrap();
    let second = result(
        rpc(
            &service,
            "ListTaskPushNotificationConfigs",
            json!({"taskId": task, "pageSize": 2, "pageToken": token}),
        )
        .await,
    );
    assert_eq!(
        (ids(&second), &second["nextPageToken"]),
        (vec!["p3".to_owned()], &json!(""))
    );
    let (status, page) = json_of(
        rest(
            &service,
            "GET",
            &format!("/a2a/tasks/{task}/pushNotificationConfigs?pageSize=1&pageToken={token}"),
            None,
        )
        .await,
    );
    assert_eq!((status, ids(&page)), (200, vec!["p3".to_owned()]));
    let bad = json!({"taskId": task, "pageToken": "not a token!"});
    assert_eq!(
        code(rpc(&service, "ListTaskPushNotificationConfigs", bad).await),
        -32602
    );
    for id in ["p1", "p2", "p3"] {
        result(
            rpc(
                &service,
                "DeleteTaskPushNotificationConfig",
                json!({"taskId": task, "id": id}),
            )
            .await,
        );
    }

    // HTTP+JSON: the task from the path, an id made when none is given.
    let base = format!("/a2a/tasks/{task}/pushNotificationConfigs");
    let (status, created) = json_of(
        rest(
            &service,
            "POST",
            &base,
            Some(json!({"url": receiver.url("/two")})),
        )
        .await,
    );
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["taskId"], json!(task));
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(!id.is_empty());
    let (status, got) = json_of(rest(&service, "GET", &format!("{base}/{id}"), None).await);
    assert_eq!((status, &got), (200, &created));
    let (status, listed) = json_of(rest(&service, "GET", &base, None).await);
    assert_eq!((status, &listed["configs"]), (200, &json!([created])));
    for _ in 0..2 {
        let (status, body) = json_of(rest(&service, "DELETE", &format!("{base}/{id}"), None).await);
        assert_eq!((status, body), (200, json!({})));
    }
    let (status, gone) = json_of(rest(&service, "GET", &format!("{base}/{id}"), None).await);
    assert_eq!(
        (status, gone["error"]["status"].as_str()),
        (404, Some("NOT_FOUND"))
    );

    // Refused: an unknown task, a bad URL, a task id that is not the path's.
    let unknown = json!({"taskId": "no-such-task", "url": receiver.url("/x")});
    assert_eq!(
        code(rpc(&service, "CreateTaskPushNotificationConfig", unknown).await),
        -32001
    );
    for bad in [
        json!({"url": "ftp://127.0.0.1/x"}),
        json!({"token": "no url"}),
    ] {
        let mut bad = bad;
        bad["taskId"] = json!(task);
        assert_eq!(
            code(rpc(&service, "CreateTaskPushNotificationConfig", bad).await),
            -32602
        );
    }
    let other = json!({"taskId": "another", "url": receiver.url("/x")});
    let (status, _) = json_of(rest(&service, "POST", &base, Some(other)).await);
    assert_eq!(status, 400);
    let (status, _) = json_of(
        rest(
            &service,
            "GET",
            "/a2a/tasks/nope/pushNotificationConfigs",
            None,
        )
        .await,
    );
    assert_eq!(status, 404);
    // The card says push is on.
    assert_eq!(
        receiver.requests().len(),
        0,
        "creating a config delivers nothing yet"
    );
}

#[tokio::test]
async fn with_push_off_every_config_method_and_an_inline_config_are_refused() {
    let queue = A2aEventQueue::new();
    let service = service_with(&queue, None);
    let task = waiting_task(&service).await;
    for (method, params) in [
        (
            "CreateTaskPushNotificationConfig",
            json!({"taskId": task, "url": "https://example.com/h"}),
        ),
        (
            "GetTaskPushNotificationConfig",
            json!({"taskId": task, "id": "c"}),
        ),
        ("ListTaskPushNotificationConfigs", json!({"taskId": task})),
        (
            "DeleteTaskPushNotificationConfig",
            json!({"taskId": task, "id": "c"}),
        ),
        // Said before the task is looked up.
        (
            "CreateTaskPushNotificationConfig",
            json!({"taskId": "unknown", "url": "https://example.com/h"}),
        ),
    ] {
        assert_eq!(
            code(rpc(&service, method, params).await),
            -32003,
            "{method}"
        );
    }
    let (status, body) = json_of(
        rest(
            &service,
            "POST",
            "/a2a/tasks/unknown/pushNotificationConfigs",
            Some(json!({"url": "https://example.com/h"})),
        )
        .await,
    );
    assert_eq!((status, body["error"]["code"].as_i64()), (400, Some(400)));
    let inline = json!({"message": message("work"),
        "configuration": {"taskPushNotificationConfig": {"url": "https://example.com/h"}}});
    assert_eq!(code(rpc(&service, "SendMessage", inline).await), -32003);
    let (_, tasks) = json_of(rest(&service, "GET", "/a2a/tasks", None).await);
    assert_eq!(
        tasks["tasks"].as_array().unwrap().len(),
        1,
        "the refused message made no task"
    );
}

#[tokio::test]
async fn every_event_arrives_in_order_signed_with_the_configs_credentials() {
    let queue = A2aEventQueue::new();
    let secret: WebhookSecret = SECRET.parse().unwrap();
    let service = service_with(&queue, Some(options().secret(secret)));
    let receiver = Receiver::start("127.0.0.1").await;
    let push = json!({"url": receiver.url("/hook"), "token": "tok-1",
        "authentication": {"scheme": "Bearer", "credentials": "cred-1"}});
    let task = send_with(&service, "work", push).await["task"].clone();
    assert_eq!(task["status"]["state"], "TASK_STATE_COMPLETED");
    let deliveries = receiver.wait_for(5, Duration::from_secs(10)).await;
    assert_eq!(what(&deliveries), ["WORKING", "a", "b", "c", "COMPLETED"]);
    let ids = ids(&deliveries);
    let mut sorted = ids.clone();
    sorted.sort_by_key(|id| id.split('-').nth(1).and_then(|n| n.parse::<u64>().ok()));
    assert_eq!(ids, sorted, "in publish order");
    for delivery in &deliveries {
        assert_eq!(delivery.method, "POST");
        assert_eq!(delivery.path, "/hook");
        assert_eq!(
            delivery.header("content-type"),
            Some("application/a2a+json")
        );
        assert_eq!(
            delivery.header("content-length"),
            Some(delivery.body.len().to_string().as_str())
        );
        assert_eq!(delivery.header("authorization"), Some("Bearer cred-1"));
        assert_eq!(delivery.header("x-a2a-notification-token"), Some("tok-1"));
        assert!(signed(delivery, SECRET), "{:?}", delivery.headers);
        assert!(
            !signed(delivery, "whsec_c2VjcmV0"),
            "another secret does not verify it"
        );
        let body = delivery.json();
        let update = body
            .get("statusUpdate")
            .or_else(|| body.get("artifactUpdate"))
            .unwrap();
        assert_eq!(update["taskId"], task["id"]);
    }
    // Nothing more comes once the task ended.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.requests().len(), 5);
}

#[tokio::test]
async fn delete_stops_deliveries() {
    let queue = A2aEventQueue::new();
    let service = service_with(&queue, Some(options()));
    let kept = Receiver::start("127.0.0.1").await;
    let dropped = Receiver::start("127.0.0.1").await;
    let task = waiting_task(&service).await;
    for (id, receiver) in [("kept", &kept), ("dropped", &dropped)] {
        let config = json!({"taskId": task, "id": id, "url": receiver.url("/")});
        result(rpc(&service, "CreateTaskPushNotificationConfig", config).await);
    }
    let ask = json!({"taskId": task, "id": "dropped"});
    result(rpc(&service, "DeleteTaskPushNotificationConfig", ask).await);
    result(rpc(&service, "SendMessage", follow_up(&task, "go on")).await);
    let delivered = kept.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(
        what(&delivered),
        ["WORKING", "a", "b", "c", "COMPLETED"][..delivered.len()]
    );
    kept.wait_for(5, Duration::from_secs(10)).await;
    assert_eq!(dropped.requests().len(), 0);
}

#[tokio::test]
async fn a_receiver_that_fails_for_a_while_gets_everything_in_order_once_it_recovers() {
    let queue = A2aEventQueue::new();
    let service = service_with(&queue, Some(options()));
    let receiver = Receiver::start("127.0.0.1").await;
    receiver.answer(Answer::Status(500));
    send_with(&service, "work", json!({"url": receiver.url("/")})).await;
    assert!(
        a2a_sse_testkit::eventually(Duration::from_secs(10), || receiver.requests().len() >= 4)
            .await
    );
    let failed = receiver.requests();
    assert!(failed.iter().all(|d| d.answered == Some(500)));
    // Each retry is the same event, with the same webhook-id.
    assert!(
        failed
            .windows(2)
            .all(|w| w[0].header("webhook-id") == w[1].header("webhook-id")),
        "event n+1 is not sent before event n was taken"
    );
    receiver.answer(Answer::Status(200));
    let delivered = receiver.wait_for(5, Duration::from_secs(10)).await;
    assert_eq!(what(&delivered), ["WORKING", "a", "b", "c", "COMPLETED"]);
}

#[tokio::test]
async fn a_receiver_that_hangs_times_out_and_is_retried() {
    let queue = A2aEventQueue::new();
    let mut options = options();
    options.response_timeout = Duration::from_millis(300);
    let service = service_with(&queue, Some(options));
    let receiver = Receiver::start("127.0.0.1").await;
    receiver.answer(Answer::Hang);
    send_with(&service, "work", json!({"url": receiver.url("/")})).await;
    assert!(
        a2a_sse_testkit::eventually(Duration::from_secs(10), || receiver.requests().len() >= 2)
            .await
    );
    let hung = receiver.requests();
    let gap = hung[1].at - hung[0].at;
    assert!(
        gap >= Duration::from_millis(300),
        "retried only after the timeout: {gap:?}"
    );
    receiver.answer(Answer::Status(200));
    let delivered = receiver.wait_for(5, Duration::from_secs(10)).await;
    assert_eq!(what(&delivered).len(), 5);
}

#[tokio::test]
async fn a_receiver_down_for_30_seconds_gets_everything_when_it_is_back() {
    let queue = A2aEventQueue::new();
    let mut options = options();
    // About the default schedule's first pauses (1, 2, 4 s), then every 4 s.
    options.retry.first = Duration::from_secs(1);
    options.retry.max_delay = Duration::from_secs(4);
    let service = service_with(&queue, Some(options));
    let receiver = Receiver::start("127.0.0.1").await;
    receiver.down();
    let task = send_with(&service, "steps 5", json!({"url": receiver.url("/")})).await;
    assert_eq!(task["task"]["status"]["state"], "TASK_STATE_COMPLETED");
    tokio::time::sleep(Duration::from_secs(30)).await;
    receiver.up().await;
    let delivered = receiver.wait_for(7, Duration::from_secs(10)).await;
    assert_eq!(
        what(&delivered),
        [
            "WORKING",
            "WORKING",
            "WORKING",
            "WORKING",
            "WORKING",
            "WORKING",
            "COMPLETED"
        ]
    );
}

#[tokio::test]
async fn a_config_that_keeps_failing_gives_up_visibly_and_sends_nothing_more() {
    let queue = A2aEventQueue::new();
    let failures = Arc::new(Mutex::new(Vec::<PushFailure>::new()));
    let seen = Arc::clone(&failures);
    let mut options =
        options().on_failure(move |failure| seen.lock().unwrap().push(failure.clone()));
    options.retry.max_attempts = 3;
    let service = service_with(&queue, Some(options));
    let receiver = Receiver::start("127.0.0.1").await;
    receiver.answer(Answer::Status(503));
    let url = receiver.url("/");
    let task = send_with(&service, "work", json!({"id": "gives-up", "url": url})).await;
    let task = task["task"]["id"].clone();
    assert!(
        a2a_sse_testkit::eventually(Duration::from_secs(10), || !failures
            .lock()
            .unwrap()
            .is_empty())
        .await
    );
    let failure = failures.lock().unwrap()[0].clone();
    assert_eq!(
        (failure.task.as_str(), failure.config.as_str()),
        (task.as_str().unwrap(), "gives-up")
    );
    assert_eq!((failure.attempts, failure.url.as_str()), (3, url.as_str()));
    assert!(failure.reason.contains("503"), "{}", failure.reason);
    assert!(failure.event.is_some());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.requests().len(), 3, "nothing after giving up");
}

#[tokio::test]
async fn events_dropped_from_a_full_backlog_make_the_config_give_up() {
    let mut config = QueueConfig::default();
    config.push_backlog = 2;
    let queue = A2aEventQueue::with_config(config).unwrap();
    let failures = Arc::new(Mutex::new(Vec::<PushFailure>::new()));
    let seen = Arc::clone(&failures);
    let options = options().on_failure(move |failure| seen.lock().unwrap().push(failure.clone()));
    let service = service_with(&queue, Some(options));
    let receiver = Receiver::start("127.0.0.1").await;
    receiver.down();
    send_with(&service, "work", json!({"url": receiver.url("/")})).await;
    receiver.up().await;
    assert!(
        a2a_sse_testkit::eventually(Duration::from_secs(10), || !failures
            .lock()
            .unwrap()
            .is_empty())
        .await
    );
    let failure = failures.lock().unwrap()[0].clone();
    assert!(failure.reason.contains("dropped"), "{}", failure.reason);
}

#[tokio::test]
async fn receivers_off_the_allow_list_are_refused_and_never_contacted() {
    let queue = A2aEventQueue::new();
    let service = service_with(&queue, Some(options()));
    let allowed = Receiver::start("127.0.0.1").await;
    let other_v4 = Receiver::start("127.0.0.2").await;
    let v6 = Receiver::start("::1").await;
    let task = waiting_task(&service).await;
    let refused = [
        other_v4.url("/"),
        v6.url("/"),
        format!("http://[::ffff:127.0.0.2]:{}/", other_v4.addr().port()),
        format!("http://localhost:{}/", allowed.addr().port()),
        format!("http://[::ffff:7f00:1]:{}/", allowed.addr().port()),
    ];
    for url in &refused {
        let config = json!({"taskId": task, "url": url});
        let (_, body) = json_of(rpc(&service, "CreateTaskPushNotificationConfig", config).await);
        assert_eq!(body["error"]["code"], -32602, "{url}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("refused"),
            "{body}"
        );
        let inline = follow_up(&task, "go on");
        let mut inline = inline;
        inline["configuration"] = json!({"taskPushNotificationConfig": {"url": url}});
        assert_eq!(
            code(rpc(&service, "SendMessage", inline).await),
            -32602,
            "{url}"
        );
    }
    // The allowed one delivers; the others were never contacted.
    let config = json!({"taskId": task, "url": allowed.url("/")});
    result(rpc(&service, "CreateTaskPushNotificationConfig", config).await);
    result(rpc(&service, "SendMessage", follow_up(&task, "go on")).await);
    allowed.wait_for(5, Duration::from_secs(10)).await;
    assert_eq!((other_v4.connections(), v6.connections()), (0, 0));
}

#[tokio::test]
async fn a_hanging_receiver_delays_only_its_own_configs() {
    let queue = A2aEventQueue::new();
    let mut options = options();
    options.response_timeout = Duration::from_secs(10);
    options.concurrency = 3;
    options.per_host = 2;
    options.allow_hosts.push("::1".into());
    let service = service_with(&queue, Some(options));
    let hanging = Receiver::start("127.0.0.1").await;
    hanging.answer(Answer::Hang);
    let healthy = Receiver::start("::1").await;
    let task = waiting_task(&service).await;
    // Five configs to the hanging host: more than its slots, more than all the slots.
    for n in 0..5 {
        let config = json!({"taskId": task, "id": format!("hang-{n}"), "url": hanging.url("/")});
        result(rpc(&service, "CreateTaskPushNotificationConfig", config).await);
    }
    let config = json!({"taskId": task, "id": "healthy", "url": healthy.url("/")});
    result(rpc(&service, "CreateTaskPushNotificationConfig", config).await);
    result(rpc(&service, "SendMessage", follow_up(&task, "go on")).await);
    let delivered = healthy.wait_for(5, Duration::from_secs(8)).await;
    assert_eq!(what(&delivered), ["WORKING", "a", "b", "c", "COMPLETED"]);
    let first_hang = hanging.requests()[0].at;
    assert!(
        delivered.last().unwrap().at < first_hang + Duration::from_secs(10),
        "the healthy receiver got everything before any hanging delivery timed out"
    );
    assert_eq!(
        hanging.requests().len(),
        2,
        "two at a time to the hanging host"
    );
}

/// The agent with push `options`, over `faulty`.
fn push_over(faulty: &Arc<Faulty>, options: PushOptions) -> SseService {
    let mut config = A2aConfig::default();
    config.push = Some(options);
    service_over(faulty, config)
}

#[tokio::test]
async fn a_config_the_store_cannot_read_for_a_moment_still_delivers_everything() {
    let faulty = Faulty::new();
    let mut options = options();
    options.retry.first = Duration::from_millis(500);
    let service = push_over(&faulty, options);
    let receiver = Receiver::start("127.0.0.1").await;
    receiver.answer(Answer::Status(500));
    // The config cannot be read when its delivery starts, nor during a retry's pause.
    faulty.fail("get", 1);
    send_with(&service, "work", json!({"url": receiver.url("/")})).await;
    assert!(
        a2a_sse_testkit::eventually(Duration::from_secs(10), || !receiver.requests().is_empty())
            .await
    );
    faulty.fail("get", 1);
    assert!(a2a_sse_testkit::eventually(Duration::from_secs(10), || faulty.settled()).await);
    receiver.answer(Answer::Status(200));
    let delivered = receiver.wait_for(5, Duration::from_secs(10)).await;
    assert_eq!(what(&delivered), ["WORKING", "a", "b", "c", "COMPLETED"]);
}

#[tokio::test]
async fn a_backend_that_fails_for_a_while_still_delivers_everything_once_in_order() {
    let faulty = Faulty::new();
    let mut options = options();
    options.claim_idle = Duration::from_millis(300);
    let service = push_over(&faulty, options);
    let receiver = Receiver::start("127.0.0.1").await;
    let task = waiting_task(&service).await;
    // Claiming, renewing, watching the task, reading its events, saving a position and
    // giving the claim up each fail once.
    for operation in [
        "claim",
        "renew",
        "subscribe",
        "pending",
        "delivered",
        "finish",
    ] {
        faulty.fail(operation, 1);
    }
    let config = json!({"taskId": task, "id": "c", "url": receiver.url("/")});
    result(rpc(&service, "CreateTaskPushNotificationConfig", config).await);
    faulty.fail("task", 1);
    assert!(
        a2a_sse_testkit::eventually(Duration::from_secs(10), || faulty.calls("pending") >= 2
            && faulty.calls("task") >= 2)
        .await
    );
    result(rpc(&service, "SendMessage", follow_up(&task, "go on")).await);
    let delivered = receiver.wait_for(5, Duration::from_secs(10)).await;
    assert_eq!(what(&delivered), ["WORKING", "a", "b", "c", "COMPLETED"]);
    assert!(a2a_sse_testkit::eventually(Duration::from_secs(10), || faulty.settled()).await);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(receiver.requests().len(), 5, "each once");
}

#[tokio::test]
async fn a_config_stored_again_while_delivering_is_delivered_once() {
    let faulty = Faulty::new();
    let service = push_over(&faulty, options());
    let receiver = Receiver::start("127.0.0.1").await;
    let task = waiting_task(&service).await;
    let config = json!({"taskId": task, "id": "c", "url": receiver.url("/")});
    result(rpc(&service, "CreateTaskPushNotificationConfig", config.clone()).await);
    assert!(
        a2a_sse_testkit::eventually(Duration::from_secs(10), || faulty.calls("pending") >= 1).await
    );
    // The second claim is given up (the first attempt fails), the first goes on.
    faulty.fail("finish", 1);
    result(rpc(&service, "CreateTaskPushNotificationConfig", config).await);
    assert!(a2a_sse_testkit::eventually(Duration::from_secs(10), || faulty.settled()).await);
    result(rpc(&service, "SendMessage", follow_up(&task, "go on")).await);
    let delivered = receiver.wait_for(5, Duration::from_secs(10)).await;
    assert_eq!(what(&delivered), ["WORKING", "a", "b", "c", "COMPLETED"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.requests().len(), 5, "each once");
}

#[tokio::test]
async fn a_config_on_an_ended_task_is_kept_and_delivers_nothing() {
    let faulty = Faulty::new();
    let service = push_over(&faulty, options());
    let receiver = Receiver::start("127.0.0.1").await;
    let done = result(rpc(&service, "SendMessage", json!({"message": message("work")})).await);
    let task = done["task"]["id"].as_str().unwrap().to_owned();
    let config = json!({"taskId": task, "id": "late", "url": receiver.url("/")});
    result(rpc(&service, "CreateTaskPushNotificationConfig", config.clone()).await);
    // Its delivery ends at once: the claim is given up.
    assert!(
        a2a_sse_testkit::eventually(Duration::from_secs(10), || faulty.calls("finish") >= 1).await
    );
    let ask = json!({"taskId": task, "id": "late"});
    assert_eq!(
        result(rpc(&service, "GetTaskPushNotificationConfig", ask).await),
        config
    );
    assert_eq!(receiver.requests().len(), 0);
}

#[tokio::test]
async fn a_config_deleted_while_its_receiver_fails_sends_nothing_more() {
    let queue = A2aEventQueue::new();
    let mut options = options();
    options.retry.first = Duration::from_millis(100);
    let service = service_with(&queue, Some(options));
    let receiver = Receiver::start("127.0.0.1").await;
    receiver.answer(Answer::Status(500));
    let task = send_with(
        &service,
        "work",
        json!({"id": "gone", "url": receiver.url("/")}),
    )
    .await;
    assert!(
        a2a_sse_testkit::eventually(Duration::from_secs(10), || receiver.requests().len() >= 2)
            .await
    );
    let ask = json!({"taskId": task["task"]["id"], "id": "gone"});
    result(rpc(&service, "DeleteTaskPushNotificationConfig", ask).await);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let tried = receiver.requests().len();
    receiver.answer(Answer::Status(200));
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        receiver.requests().len(),
        tried,
        "not even the retry in progress"
    );
    assert!(receiver.accepted().is_empty());
}

#[tokio::test]
async fn an_allowed_host_name_is_reached_with_a_credential_free_scheme() {
    let queue = A2aEventQueue::new();
    let service = service_with(&queue, Some(options().allow_host("localhost")));
    let receiver = Receiver::start("127.0.0.1").await;
    let url = format!("http://localhost:{}/named", receiver.addr().port());
    let push = json!({"url": url, "authentication": {"scheme": "Anonymous"}});
    send_with(&service, "work", push).await;
    let delivered = receiver.wait_for(5, Duration::from_secs(10)).await;
    assert_eq!(what(&delivered), ["WORKING", "a", "b", "c", "COMPLETED"]);
    assert!(
        delivered
            .iter()
            .all(|d| d.header("authorization") == Some("Anonymous"))
    );
}

#[tokio::test]
async fn the_config_methods_say_when_the_store_is_unavailable() {
    let faulty = Faulty::new();
    let service = push_over(&faulty, options());
    let receiver = Receiver::start("127.0.0.1").await;
    let task = waiting_task(&service).await;
    let config = json!({"taskId": task, "id": "c", "url": receiver.url("/")});
    faulty.fail("put", 1);
    assert_eq!(
        code(rpc(&service, "CreateTaskPushNotificationConfig", config.clone()).await),
        -32603
    );
    result(rpc(&service, "CreateTaskPushNotificationConfig", config).await);
    let ask = json!({"taskId": task, "id": "c"});
    for (operation, method) in [
        ("get", "GetTaskPushNotificationConfig"),
        ("list", "ListTaskPushNotificationConfigs"),
        ("delete", "DeleteTaskPushNotificationConfig"),
    ] {
        faulty.fail(operation, 1);
        let (_, body) = json_of(rpc(&service, method, ask.clone()).await);
        assert_eq!(body["error"]["code"], -32603, "{method}");
        let said = body["error"]["message"].as_str().unwrap();
        assert!(said.contains("push notification configs"), "{said}");
    }
    // Nothing was deleted.
    result(rpc(&service, "GetTaskPushNotificationConfig", ask).await);
}

#[test]
fn a_service_built_outside_a_runtime_delivers_from_its_first_request() {
    let queue = A2aEventQueue::new();
    let service = service_with(&queue, Some(options()));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let receiver = Receiver::start("127.0.0.1").await;
        send_with(&service, "work", json!({"url": receiver.url("/")})).await;
        let delivered = receiver.wait_for(5, Duration::from_secs(10)).await;
        assert_eq!(what(&delivered), ["WORKING", "a", "b", "c", "COMPLETED"]);
    });
}

#[tokio::test(start_paused = true)]
async fn no_config_is_claimed_once_the_service_is_dropped() {
    let faulty = Faulty::new();
    let mut options = options();
    options.claim_idle = Duration::from_millis(300);
    let service = push_over(&faulty, options);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(faulty.calls("claim") >= 5);
    drop(service);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let claimed = faulty.calls("claim");
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(faulty.calls("claim"), claimed);
}
