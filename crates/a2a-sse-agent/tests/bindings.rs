//! The binding through `SseService::handle`: every error code and shape, the request id's
//! JSON type, the task first, the order of updates, the end of a stream, resume, the card,
//! and the service's hooks and limits on A2A streams.

use std::time::Duration;

use a2a_events::{A2aEventQueue, QueueConfig, TaskState};
use a2a_sse_testkit::events;
use bytes::Bytes;
use serde_json::{Value, json};

use a2a_sse_agent::{A2aConfig, Agent, AgentCard};
use a2a_sse_core::{
    AuthError, DisconnectInfo, DisconnectReason, OwnedHead as Head, ResponseBody, Route,
    SseResponse, SseService, SseStream,
};
use a2a_sse_testkit::{Decoder, Event, Recorder};
use futures_util::StreamExt;

type Disconnects = Recorder<DisconnectInfo>;

/// A stream plus every chunk it yielded, to compare byte counts with the hook's.
struct Tap {
    stream: std::pin::Pin<Box<SseStream>>,
    chunks: Vec<Bytes>,
}

impl Tap {
    async fn next(&mut self) -> Option<Bytes> {
        let chunk = self.stream.next().await?;
        self.chunks.push(chunk.clone());
        Some(chunk)
    }
}

#[track_caller]
fn stream(response: SseResponse) -> Tap {
    match response {
        SseResponse::Stream(stream) => Tap {
            stream: Box::pin(stream),
            chunks: Vec::new(),
        },
        other => panic!("expected a stream, got {other:?}"),
    }
}

fn decode(bytes: &[u8]) -> Vec<Event> {
    Decoder::new().feed(bytes)
}

fn no_body() -> futures_util::stream::Empty<Result<Bytes, std::convert::Infallible>> {
    futures_util::stream::empty()
}

fn body(
    text: &str,
) -> futures_util::stream::Iter<std::vec::IntoIter<Result<Bytes, std::convert::Infallible>>> {
    futures_util::stream::iter(vec![Ok(Bytes::from(text.to_owned()))])
}

const RPC: &str = "/a2a/jsonrpc";

fn service(queue: &A2aEventQueue) -> SseService {
    SseService::builder(queue.clone())
        .protocol(Agent::new(A2aConfig::with_card(AgentCard::new(
            "t", "d", "1",
        ))))
        .build()
        .unwrap()
}

fn route(service: &SseService, path: &str) -> Route {
    service
        .routes()
        .iter()
        .find(|r| r.path() == path)
        .cloned()
        .unwrap_or_else(|| panic!("no route {path}"))
}

fn v1(head: Head) -> Head {
    head.header("a2a-version", "1.0")
}

/// A JSON-RPC call with protocol version 1.0.
async fn rpc(service: &SseService, body: &str) -> SseResponse {
    rpc_with(service, v1(Head::new("POST", RPC)), body).await
}

async fn rpc_with(service: &SseService, head: Head, text: &str) -> SseResponse {
    let route = route(service, RPC);
    service.handle(&route, &head, body(text)).await
}

/// An HTTP+JSON call with protocol version 1.0.
async fn rest(service: &SseService, method: &'static str, path: &'static str) -> SseResponse {
    rest_with(service, v1(Head::new(method, path))).await
}

async fn rest_with(service: &SseService, head: Head) -> SseResponse {
    let route = route(service, "/a2a");
    service.handle(&route, &head, no_body()).await
}

/// A JSON answer's status and document.
#[track_caller]
fn json_of(response: SseResponse) -> (u16, Value) {
    let status = response.status();
    let headers = response.headers();
    match response.into_body() {
        ResponseBody::Full(body) => {
            assert_eq!(headers[0], ("content-type", "application/json".into()));
            (status, serde_json::from_slice(&body).unwrap())
        }
        other => panic!("expected JSON, got {other:?}"),
    }
}

/// The JSON-RPC error code of an HTTP 200 answer, and its id.
#[track_caller]
fn rpc_error(response: SseResponse) -> (i64, Value) {
    let (status, body) = json_of(response);
    assert_eq!(status, 200, "JSON-RPC errors travel as HTTP 200: {body}");
    assert_eq!(body["jsonrpc"], "2.0");
    assert_eq!(body["error"]["data"][0]["domain"], "a2a-protocol.org");
    (body["error"]["code"].as_i64().unwrap(), body["id"].clone())
}

/// The HTTP status and ErrorInfo reason of an HTTP+JSON error.
#[track_caller]
fn rest_error(response: SseResponse) -> (u16, String, String) {
    let (status, body) = json_of(response);
    let error = &body["error"];
    assert_eq!(error["code"], status);
    assert_eq!(
        error["details"][0]["@type"],
        "type.googleapis.com/google.rpc.ErrorInfo"
    );
    (
        status,
        error["status"].as_str().unwrap().to_owned(),
        error["details"][0]["reason"].as_str().unwrap().to_owned(),
    )
}

/// Every `data:` of the next chunk, as JSON.
async fn items(tap: &mut Tap) -> Vec<(String, Value)> {
    let chunk = tap.next().await.expect("a chunk");
    decode(&chunk)
        .into_iter()
        .map(|e| (e.id, serde_json::from_str(&e.data).unwrap()))
        .collect()
}

fn subscribe_body(id: &str, task: &str) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"SubscribeToTask","params":{{"id":"{task}"}}}}"#
    )
}

#[tokio::test]
async fn json_rpc_protocol_errors_have_their_codes_and_http_200() {
    let queue = A2aEventQueue::new();
    let service = service(&queue);
    queue
        .publish(events::status("done", TaskState::Completed))
        .unwrap();
    let cases: [(&str, i64); 9] = [
        ("{not json", -32700),
        ("[1]", -32600),
        (
            r#"{"jsonrpc":"2.0","method":"GetTask","params":{"id":"t"}}"#,
            -32600,
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tasks/resubscribe","params":{"id":"t"}}"#,
            -32601,
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"GetTask","params":{}}"#,
            -32602,
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"GetTask","params":{"id":"nobody"}}"#,
            -32001,
        ),
        (&subscribe_body("1", "nobody"), -32001),
        (&subscribe_body("1", "no spaces allowed"), -32001),
        (&subscribe_body("1", "done"), -32004),
    ];
    for (body, code) in cases {
        assert_eq!(rpc_error(rpc(&service, body).await).0, code, "{body}");
    }
    assert_eq!(service.open_streams(), 0, "no refusal holds a place");
}

#[tokio::test]
async fn the_request_id_is_echoed_with_its_json_type() {
    let queue = A2aEventQueue::new();
    let service = service(&queue);
    queue
        .publish(events::status("t", TaskState::Working))
        .unwrap();
    for (id, expected) in [
        (r#""7f1c-uuid""#, json!("7f1c-uuid")),
        ("42", json!(42)),
        ("-1.5", json!(-1.5)),
        ("null", Value::Null),
    ] {
        // An error, a result and a stream item all carry it.
        let missing =
            format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"GetTask","params":{{"id":"x"}}}}"#);
        assert_eq!(rpc_error(rpc(&service, &missing).await).1, expected, "{id}");
        let get =
            format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"GetTask","params":{{"id":"t"}}}}"#);
        let (status, body) = json_of(rpc(&service, &get).await);
        assert_eq!((status, &body["id"]), (200, &expected));
        assert_eq!(body["result"]["id"], "t");
        let mut tap = stream(rpc(&service, &subscribe_body(id, "t")).await);
        tap.next().await.unwrap();
        let first = items(&mut tap).await;
        assert_eq!(first[0].1["id"], expected, "{id}");
        assert_eq!(first[0].1["result"]["task"]["id"], "t");
    }
}

#[tokio::test]
async fn versions_are_negotiated_on_both_bindings() {
    let queue = A2aEventQueue::new();
    let service = service(&queue);
    queue
        .publish(events::status("t", TaskState::Working))
        .unwrap();
    let get = r#"{"jsonrpc":"2.0","id":"a","method":"GetTask","params":{"id":"t"}}"#;
    for head in [
        Head::new("POST", RPC),
        Head::new("POST", RPC).header("a2a-version", "0.3"),
        Head::new("POST", RPC).header("a2a-version", "2.0"),
    ] {
        assert_eq!(rpc_error(rpc_with(&service, head, get).await).0, -32009);
    }
    let by_query = Head::new("POST", RPC).query("A2A-Version=1.0");
    assert_eq!(json_of(rpc_with(&service, by_query, get).await).0, 200);
    let patch = Head::new("POST", RPC).header("a2a-version", "1.0.7");
    assert_eq!(json_of(rpc_with(&service, patch, get).await).0, 200);

    let unversioned = rest_with(&service, Head::new("GET", "/a2a/tasks/t")).await;
    assert_eq!(
        rest_error(unversioned),
        (400, "UNIMPLEMENTED".into(), "VERSION_NOT_SUPPORTED".into())
    );
}

#[tokio::test]
async fn http_json_errors_are_google_rpc_statuses() {
    let queue = A2aEventQueue::new();
    let service = service(&queue);
    queue
        .publish(events::status("done", TaskState::Failed))
        .unwrap();
    assert_eq!(
        rest_error(rest(&service, "GET", "/a2a/tasks/nobody").await),
        (404, "NOT_FOUND".into(), "TASK_NOT_FOUND".into())
    );
    assert_eq!(
        rest_error(rest(&service, "POST", "/a2a/tasks/nobody:subscribe").await),
        (404, "NOT_FOUND".into(), "TASK_NOT_FOUND".into())
    );
    assert_eq!(
        rest_error(rest(&service, "POST", "/a2a/tasks/done:subscribe").await),
        (400, "UNIMPLEMENTED".into(), "UNSUPPORTED_OPERATION".into())
    );
    assert_eq!(
        rest_error(rest(&service, "POST", "/a2a/tasks/done:cancel").await),
        (
            409,
            "FAILED_PRECONDITION".into(),
            "TASK_NOT_CANCELABLE".into()
        )
    );
    let wrong = rest(&service, "DELETE", "/a2a/tasks/done:subscribe").await;
    assert!(wrong.headers().contains(&("allow", "POST, GET".into())));
    assert_eq!(rest_error(wrong).0, 405);
    let bad_length = v1(Head::new("GET", "/a2a/tasks/done")).query("historyLength=x");
    assert_eq!(
        rest_error(rest_with(&service, bad_length).await).2,
        "INVALID_PARAMS"
    );

    // The JSON-RPC route takes POST only; that is HTTP, before JSON-RPC.
    let get = rpc_with(&service, Head::new("GET", RPC), "").await;
    assert_eq!(get.status(), 405);
    assert!(get.headers().contains(&("allow", "POST".into())));
    let (_, body) = json_of(get);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("POST") && !message.contains("GET"),
        "{message}"
    );
}

#[tokio::test]
async fn get_task_answers_the_snapshot_on_both_bindings() {
    let queue = A2aEventQueue::new();
    let service = service(&queue);
    queue
        .publish(events::status("t", TaskState::Working))
        .unwrap();
    queue
        .publish(events::artifact("t", "report", "part one"))
        .unwrap();
    let (status, rest_task) = json_of(rest(&service, "GET", "/a2a/tasks/t").await);
    assert_eq!(status, 200);
    assert_eq!(
        rest_task,
        json!({
            "id": "t",
            "contextId": "ctx-1",
            "status": {"state": "TASK_STATE_WORKING", "timestamp": "2026-11-24T10:00:00.000Z"},
            "artifacts": [{"artifactId": "report-1", "name": "report", "parts": [{"text": "part one"}]}]
        })
    );
    let get =
        r#"{"jsonrpc":"2.0","id":"g","method":"GetTask","params":{"id":"t","historyLength":0}}"#;
    let (_, rpc_task) = json_of(rpc(&service, get).await);
    assert_eq!(rpc_task["result"], rest_task);
}

#[tokio::test]
async fn a_subscription_sends_the_task_then_updates_in_order_then_ends_at_the_terminal_state() {
    let queue = A2aEventQueue::new();
    let ended = Disconnects::new();
    let service = SseService::builder(queue.clone())
        .protocol(Agent::new(A2aConfig::default()))
        .on_disconnect(ended.hook())
        .build()
        .unwrap();
    queue
        .publish(events::status("t", TaskState::Working))
        .unwrap();
    let mut tap = stream(rest(&service, "POST", "/a2a/tasks/t:subscribe").await);
    assert!(tap.next().await.unwrap().starts_with(b"retry: "));
    let first = items(&mut tap).await;
    assert_eq!(
        first[0].0, "1",
        "the task carries the id of its newest event"
    );
    assert_eq!(first[0].1["task"]["status"]["state"], "TASK_STATE_WORKING");

    queue.publish(events::artifact("t", "report", "x")).unwrap();
    queue.publish(events::sized("t", 10)).unwrap();
    queue
        .publish(events::status("t", TaskState::Completed))
        .unwrap();
    let mut rest_items = Vec::new();
    while let Some(chunk) = tap.next().await {
        for event in decode(&chunk) {
            rest_items.push((
                event.id,
                serde_json::from_str::<Value>(&event.data).unwrap(),
            ));
        }
    }
    let ids: Vec<_> = rest_items.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["2", "4"], "the error event has no A2A item");
    assert_eq!(
        rest_items[0].1["artifactUpdate"]["artifact"]["name"],
        "report"
    );
    assert_eq!(
        rest_items[1].1["statusUpdate"]["status"]["state"],
        "TASK_STATE_COMPLETED"
    );
    let info = ended.only();
    assert_eq!((info.reason, info.events), (DisconnectReason::Finished, 2));
}

#[tokio::test]
async fn a_subscription_ends_when_the_task_waits_for_its_client() {
    let queue = A2aEventQueue::new();
    let service = service(&queue);
    queue
        .publish(events::status("t", TaskState::InputRequired))
        .unwrap();
    let body = subscribe_body("\"s\"", "t");
    // Subscribing to an interrupted task is allowed: the next update may come.
    let mut tap = stream(rpc(&service, &body).await);
    tap.next().await.unwrap();
    assert_eq!(
        items(&mut tap).await[0].1["result"]["task"]["status"]["state"],
        "TASK_STATE_INPUT_REQUIRED"
    );
    queue
        .publish(events::status("t", TaskState::Working))
        .unwrap();
    queue
        .publish(events::status("t", TaskState::AuthRequired))
        .unwrap();
    let mut states = Vec::new();
    while let Some(chunk) = tap.next().await {
        for event in decode(&chunk) {
            let item: Value = serde_json::from_str(&event.data).unwrap();
            states.push(
                item["result"]["statusUpdate"]["status"]["state"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
    }
    assert_eq!(states, ["TASK_STATE_WORKING", "TASK_STATE_AUTH_REQUIRED"]);
}

#[tokio::test]
async fn resume_replays_what_was_missed_or_starts_again_from_the_task() {
    let queue = A2aEventQueue::with_config({
        let mut config = QueueConfig::default();
        config.history_events = 3;
        config
    })
    .unwrap();
    let service = service(&queue);
    for _ in 0..5 {
        queue
            .publish(events::status("t", TaskState::Working))
            .unwrap();
    }
    let covered = v1(Head::new("GET", "/a2a/tasks/t:subscribe")).header("last-event-id", "3");
    let mut tap = stream(rest_with(&service, covered).await);
    tap.next().await.unwrap();
    let replay: Vec<_> = items(&mut tap)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(replay, ["4", "5"], "exactly what was missed, no task first");

    let lost = v1(Head::new("POST", "/a2a/tasks/t:subscribe")).header("last-event-id", "1");
    let mut tap = stream(rest_with(&service, lost).await);
    tap.next().await.unwrap();
    let fresh = items(&mut tap).await;
    assert_eq!(fresh.len(), 1);
    assert_eq!(fresh[0].0, "5");
    assert!(
        fresh[0].1["task"].is_object(),
        "a fresh task instead of a gap"
    );

    let bad = v1(Head::new("POST", "/a2a/tasks/t:subscribe")).header("last-event-id", "x");
    assert_eq!(rest_with(&service, bad).await.status(), 400);
}

#[tokio::test]
async fn a_subscriber_that_falls_behind_gets_an_error_frame_naming_where_to_resume() {
    let queue = A2aEventQueue::new();
    let service = SseService::builder(queue.clone())
        .protocol(Agent::new(A2aConfig::default()))
        .buffer(a2a_events::BufferLimits::events(1))
        .build()
        .unwrap();
    queue
        .publish(events::status("t", TaskState::Working))
        .unwrap();
    let mut tap = stream(rpc(&service, &subscribe_body("9", "t")).await);
    tap.next().await.unwrap();
    items(&mut tap).await;
    for _ in 0..3 {
        queue
            .publish(events::status("t", TaskState::Working))
            .unwrap();
    }
    let chunk = tap.next().await.unwrap();
    let frames = decode(&chunk);
    let error = frames.last().unwrap();
    assert_eq!(error.event, "error");
    let data: Value = serde_json::from_str(&error.data).unwrap();
    assert_eq!(
        (data["id"].clone(), data["error"]["code"].clone()),
        (json!(9), json!(-32603))
    );
    assert!(
        data["error"]["message"]
            .as_str()
            .unwrap()
            .contains("after event 1"),
        "{data}"
    );
    assert_eq!(tap.next().await, None);
}

#[tokio::test(start_paused = true)]
async fn keep_alive_limits_and_authorization_apply_to_a2a_streams() {
    let queue = A2aEventQueue::new();
    let service = SseService::builder(queue.clone())
        .protocol(Agent::new(A2aConfig::default()))
        .keep_alive(Duration::from_secs(2))
        .max_connections(1)
        .authorize(|request| match request.header("authorization") {
            Some(b"Bearer ok") => Ok(()),
            _ => Err(AuthError::Unauthorized(format!(
                "no token for {}",
                request.request.plan.as_ref().unwrap()
            ))),
        })
        .build()
        .unwrap();
    queue
        .publish(events::status("t", TaskState::Working))
        .unwrap();
    let head =
        || v1(Head::new("POST", "/a2a/tasks/t:subscribe")).header("authorization", "Bearer ok");
    let refused = rest_with(&service, v1(Head::new("POST", "/a2a/tasks/t:subscribe"))).await;
    assert_eq!(refused.status(), 401);
    let get = rest_with(&service, v1(Head::new("GET", "/a2a/tasks/t"))).await;
    assert_eq!(get.status(), 401, "GetTask is authorized too");
    let mut tap = stream(rest_with(&service, head()).await);
    let full = rest_with(&service, head()).await;
    assert_eq!(full.status(), 503);
    tap.next().await.unwrap();
    items(&mut tap).await;
    let start = tokio::time::Instant::now();
    assert_eq!(tap.next().await.unwrap(), a2a_sse_core::PING);
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

#[tokio::test]
async fn the_card_is_served_with_both_interfaces() {
    let queue = A2aEventQueue::new();
    let service = service(&queue);
    let card_route = route(&service, "/.well-known/agent-card.json");
    let head = Head::new("GET", "/.well-known/agent-card.json").header("host", "example.test:81");
    let (status, card) = json_of(service.handle(&card_route, &head, no_body()).await);
    assert_eq!(status, 200);
    assert_eq!(
        card["supportedInterfaces"][0]["url"],
        "http://example.test:81/a2a/jsonrpc"
    );
    assert_eq!(
        card["supportedInterfaces"][1]["protocolBinding"],
        "HTTP+JSON"
    );
    let post = Head::new("POST", "/.well-known/agent-card.json");
    assert_eq!(
        service.handle(&card_route, &post, no_body()).await.status(),
        405
    );

    let without = SseService::builder(queue.clone())
        .protocol(Agent::new(A2aConfig::default()))
        .build()
        .unwrap();
    let paths: Vec<_> = without
        .routes()
        .iter()
        .map(|r| (r.path().to_owned(), r.is_prefix()))
        .collect();
    let expected = [
        ("/a2a/events", false),
        ("/a2a/jsonrpc", false),
        ("/a2a", true),
    ];
    assert_eq!(
        paths,
        expected.map(|(path, prefix)| (path.to_owned(), prefix))
    );
}

#[tokio::test]
async fn the_routes_can_be_moved_and_a_route_of_another_service_is_not_found() {
    let queue = A2aEventQueue::new();
    let mut config = A2aConfig::with_card(AgentCard::new("t", "d", "1"));
    config.jsonrpc_path = "/rpc".into();
    config.rest_base = "/api/".into();
    let agent = Agent::new(config.clone());
    assert_eq!(agent.config(), &config);
    let moved = SseService::builder(queue.clone())
        .protocol(agent)
        .build()
        .unwrap();
    let paths: Vec<_> = moved.routes().iter().map(|r| r.path().to_owned()).collect();
    assert_eq!(
        paths,
        [
            "/a2a/events",
            "/rpc",
            "/rpc/",
            "/.well-known/agent-card.json",
            "/api"
        ]
    );
    let get = r#"{"jsonrpc":"2.0","id":1,"method":"GetTask","params":{"id":"t"}}"#;
    for path in ["/rpc", "/rpc/"] {
        let head = v1(Head::new("POST", path));
        let answer = moved.handle(&route(&moved, path), &head, body(get)).await;
        assert_eq!(rpc_error(answer).0, -32001, "{path}");
    }
    let head = v1(Head::new("GET", "/api/tasks/t"));
    let answer = moved.handle(&route(&moved, "/api"), &head, no_body()).await;
    assert_eq!(rest_error(answer).2, "TASK_NOT_FOUND");

    // The moved service's fifth route is one the default agent does not have.
    let other = service(&queue);
    let head = v1(Head::new("GET", "/api/tasks/t"));
    let answer = other.handle(&route(&moved, "/api"), &head, no_body()).await;
    assert_eq!(answer.status(), 404);
}

#[tokio::test]
async fn tasks_without_a_status_time_are_paged_too() {
    let queue = A2aEventQueue::new();
    let service = service(&queue);
    for task in ["x", "y"] {
        queue.publish(events::artifact(task, "notes", "n")).unwrap();
    }
    let page = r#"{"jsonrpc":"2.0","id":1,"method":"ListTasks","params":{"pageSize":1}}"#;
    let (_, first) = json_of(rpc(&service, page).await);
    let token = first["result"]["nextPageToken"].as_str().unwrap();
    assert!(!token.is_empty());
    let next = format!(
        r#"{{"jsonrpc":"2.0","id":2,"method":"ListTasks","params":{{"pageSize":1,"pageToken":"{token}"}}}}"#
    );
    let (_, second) = json_of(rpc(&service, &next).await);
    let ids: Vec<&Value> = [&first, &second]
        .iter()
        .map(|page| &page["result"]["tasks"][0]["id"])
        .collect();
    assert_ne!(ids[0], ids[1], "{first} {second}");
    assert_eq!(second["result"]["nextPageToken"], "");
    assert!(
        first["result"]["tasks"][0]["status"]
            .get("timestamp")
            .is_none(),
        "{first}"
    );
}
