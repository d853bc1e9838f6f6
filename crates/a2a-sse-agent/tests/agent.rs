//! The agent surface through `SseService::handle`, with executors of the test's own:
//! SendMessage (blocking, returning at once, a message-only answer), SendStreamingMessage
//! (the task first, every update in order, the end), follow-ups to an interrupted task,
//! CancelTask of a running execution, ListTasks, and what an execution's failure or panic
//! leaves behind.

use std::time::Duration;

use a2a_events::A2aEventQueue;
use a2a_sse_agent::{A2aConfig, Agent, AgentCard};
use a2a_sse_core::{OwnedHead, ResponseBody, SseResponse, SseService};
use a2a_sse_testkit::Decoder;
use serde_json::{Value, json};

mod common;
use common::*;

fn service(queue: &A2aEventQueue) -> SseService {
    let config = A2aConfig::with_card(AgentCard::new("t", "d", "1"));
    SseService::builder(queue.clone())
        .protocol(Agent::with_executor(config, Script))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_blocking_send_answers_the_finished_task_with_its_history_and_artifacts() {
    let queue = A2aEventQueue::new();
    let service = service(&queue);
    let task =
        result(rpc(&service, "SendMessage", json!({"message": message("work")})).await)["task"]
            .clone();
    assert_eq!(state(&task), "TASK_STATE_COMPLETED");
    assert_eq!(
        task["artifacts"][0]["parts"],
        json!([{"text": "a"}, {"text": "b"}, {"text": "c"}])
    );
    assert_eq!(task["history"][0]["role"], "ROLE_USER");
    assert_eq!(task["history"][0]["parts"][0]["text"], "work");
    assert_eq!(task["status"]["message"]["parts"][0]["text"], "done");
    assert!(task["status"]["timestamp"].as_str().unwrap().ends_with('Z'));
    let context = task["contextId"].as_str().unwrap();
    assert!(!context.is_empty(), "a context was made for the message");
    // GetTask cuts the history.
    let id = task["id"].as_str().unwrap();
    let cut = result(rpc(&service, "GetTask", json!({"id": id, "history_length": 0})).await);
    assert!(cut.get("history").is_none(), "{cut}");
}

#[tokio::test]
async fn return_immediately_answers_the_task_as_it_starts() {
    let queue = A2aEventQueue::new();
    let service = service(&queue);
    let params = json!({"message": message("slow"), "configuration": {"returnImmediately": true}});
    let task = result(rpc(&service, "SendMessage", params).await)["task"].clone();
    assert!(
        ["TASK_STATE_SUBMITTED", "TASK_STATE_WORKING"].contains(&state(&task)),
        "{task}"
    );
    // Cancel ends it, and the execution sees the cancel.
    let id = task["id"].as_str().unwrap().to_owned();
    let canceled = result(rpc(&service, "CancelTask", json!({"id": id})).await);
    assert_eq!(state(&canceled), "TASK_STATE_CANCELED");
    let again = json_of(rpc(&service, "CancelTask", json!({"id": id})).await).1;
    assert_eq!(again["error"]["code"], -32002, "{again}");
}

#[tokio::test]
async fn a_message_only_answer_creates_no_task() {
    let queue = A2aEventQueue::new();
    let service = service(&queue);
    let answer = result(rpc(&service, "SendMessage", json!({"message": message("ping")})).await);
    assert_eq!(answer["message"]["parts"][0]["text"], "pong");
    assert_eq!(answer["message"]["role"], "ROLE_AGENT");
    let listed = result(rpc(&service, "ListTasks", json!({})).await);
    assert_eq!(listed["totalSize"], 0);
    // Streaming: one item, then the end.
    let response = rest(
        &service,
        "POST",
        "/a2a/message:stream",
        Some(json!({"message": message("ping")})),
    )
    .await;
    assert_eq!(response.status(), 200);
    let ResponseBody::Full(bytes) = response.into_body() else {
        panic!("a whole body");
    };
    let events = Decoder::new().feed(&bytes);
    assert_eq!(events.len(), 1);
    let item: Value = serde_json::from_str(&events[0].data).unwrap();
    assert_eq!(item["message"]["parts"][0]["text"], "pong");
}

#[tokio::test]
async fn a_streaming_send_starts_with_the_task_and_ends_at_its_end_every_frame_a_resume_point() {
    let queue = A2aEventQueue::new();
    let service = service(&queue);
    for binding in ["rpc", "rest"] {
        let response = match binding {
            "rpc" => {
                rpc(
                    &service,
                    "SendStreamingMessage",
                    json!({"message": message("work")}),
                )
                .await
            }
            _ => {
                rest(
                    &service,
                    "POST",
                    "/a2a/message:stream",
                    Some(json!({"message": message("work")})),
                )
                .await
            }
        };
        let SseResponse::Stream(stream) = response else {
            panic!("a stream, got {response:?}");
        };
        let items: Vec<(String, Value)> = drain(stream)
            .await
            .into_iter()
            .map(|(id, value)| {
                (
                    id,
                    if binding == "rpc" {
                        value["result"].clone()
                    } else {
                        value
                    },
                )
            })
            .collect();
        assert!(
            items.iter().all(|(id, _)| !id.is_empty()),
            "every frame has an id"
        );
        assert_eq!(
            state(&items[0].1["task"]),
            "TASK_STATE_SUBMITTED",
            "{items:?}"
        );
        assert_eq!(items[0].1["task"]["history"][0]["parts"][0]["text"], "work");
        let kinds: Vec<&str> = items[1..]
            .iter()
            .map(|(_, item)| item.as_object().unwrap().keys().next().unwrap().as_str())
            .collect();
        assert_eq!(
            kinds,
            [
                "statusUpdate",
                "artifactUpdate",
                "artifactUpdate",
                "artifactUpdate",
                "statusUpdate"
            ]
        );
        assert_eq!(
            items.last().unwrap().1["statusUpdate"]["status"]["state"],
            "TASK_STATE_COMPLETED"
        );
        // Resuming after the task frame replays the rest, gapless.
        let task = items[0].1["task"]["id"].as_str().unwrap();
        let head = OwnedHead::new("POST", format!("/a2a/tasks/{task}:subscribe"))
            .header("a2a-version", "1.0")
            .header("last-event-id", items[0].0.as_str());
        let response = service
            .handle(&route(&service, "/a2a"), &head, body(""))
            .await;
        let SseResponse::Stream(stream) = response else {
            // The task ended and its history still holds it: the replay is served.
            panic!("a replay, got {response:?}");
        };
        let replay = drain(stream).await;
        assert_eq!(replay.len(), items.len() - 1);
        assert_eq!(replay[0].0, items[1].0);
    }
}

#[tokio::test]
async fn a_follow_up_continues_an_interrupted_task_in_its_context() {
    let queue = A2aEventQueue::new();
    let service = service(&queue);
    let asked =
        result(rpc(&service, "SendMessage", json!({"message": message("ask")})).await)["task"]
            .clone();
    assert_eq!(state(&asked), "TASK_STATE_INPUT_REQUIRED");
    let id = asked["id"].as_str().unwrap();
    let mut follow = message("work");
    follow["taskId"] = json!(id);
    let done =
        result(rpc(&service, "SendMessage", json!({"message": follow})).await)["task"].clone();
    assert_eq!(state(&done), "TASK_STATE_COMPLETED");
    assert_eq!(done["contextId"], asked["contextId"]);
    let texts: Vec<&str> = done["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["parts"][0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["ask", "which one?", "work"]);
    // A message to the ended task, or with another context, is refused.
    let mut late = message("work");
    late["taskId"] = json!(id);
    let err = json_of(rpc(&service, "SendMessage", json!({"message": late})).await).1;
    assert_eq!(err["error"]["code"], -32004);
    let mut unknown = message("work");
    unknown["taskId"] = json!("nope");
    let err = json_of(rpc(&service, "SendMessage", json!({"message": unknown})).await).1;
    assert_eq!(err["error"]["code"], -32001);
}

#[tokio::test]
async fn an_execution_that_fails_or_panics_leaves_its_task_failed() {
    let queue = A2aEventQueue::new();
    let service = service(&queue);
    for (text, said) in [("fail", "the tool broke"), ("panic", "boom")] {
        let task =
            result(rpc(&service, "SendMessage", json!({"message": message(text)})).await)["task"]
                .clone();
        assert_eq!(state(&task), "TASK_STATE_FAILED", "{task}");
        let reason = task["status"]["message"]["parts"][0]["text"]
            .as_str()
            .unwrap();
        assert!(reason.contains(said), "{reason}");
    }
}

#[tokio::test]
async fn list_tasks_pages_newest_first_and_filters() {
    let queue = A2aEventQueue::new();
    let service = service(&queue);
    let mut context = None;
    for _ in 0..3 {
        let mut message = message("work");
        if let Some(context) = &context {
            message["contextId"] = json!(context);
        }
        let task =
            result(rpc(&service, "SendMessage", json!({"message": message})).await)["task"].clone();
        context = task["contextId"].as_str().map(str::to_owned);
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    result(rpc(&service, "SendMessage", json!({"message": message("work")})).await);
    let first = result(
        rpc(
            &service,
            "ListTasks",
            json!({"context_id": context, "page_size": 2}),
        )
        .await,
    );
    assert_eq!(first["totalSize"], 3);
    assert_eq!(first["pageSize"], 2);
    assert_eq!(first["tasks"].as_array().unwrap().len(), 2);
    assert!(
        first["tasks"][0].get("artifacts").is_none(),
        "artifacts only when asked"
    );
    let token = first["nextPageToken"].as_str().unwrap();
    assert!(!token.is_empty());
    let second = result(
        rpc(
            &service,
            "ListTasks",
            json!({"contextId": context, "pageToken": token, "includeArtifacts": true}),
        )
        .await,
    );
    assert_eq!(second["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(second["nextPageToken"], "");
    assert!(second["tasks"][0]["artifacts"].is_array());
    let query = format!("/a2a/tasks?contextId={}&pageSize=5", context.unwrap());
    let (status, rest_page) = json_of(rest(&service, "GET", &query, None).await);
    assert_eq!((status, rest_page["totalSize"].clone()), (200, json!(3)));
    let bad = json_of(rpc(&service, "ListTasks", json!({"pageToken": "garbage!"})).await).1;
    assert_eq!(bad["error"]["code"], -32602);
}

#[tokio::test]
async fn protocol_details() {
    let queue = A2aEventQueue::new();
    let service = service(&queue);
    // The version is checked before the method is looked up.
    let head = OwnedHead::new("POST", "/a2a/jsonrpc").header("a2a-version", "99.0");
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {}});
    let answer = json_of(
        service
            .handle(
                &route(&service, "/a2a/jsonrpc"),
                &head,
                body(&request.to_string()),
            )
            .await,
    )
    .1;
    assert_eq!(answer["error"]["code"], -32009);
    // A body that is not JSON, declared as text: ContentTypeNotSupported.
    let head = OwnedHead::new("POST", "/a2a/jsonrpc")
        .header("a2a-version", "1.0")
        .header("content-type", "text/plain");
    let answer = json_of(
        service
            .handle(&route(&service, "/a2a/jsonrpc"), &head, body("{'a': 1}"))
            .await,
    )
    .1;
    assert_eq!(answer["error"]["code"], -32005);
    // The trailing slash form of the JSON-RPC route, below the HTTP+JSON base.
    let head = OwnedHead::new("POST", "/a2a/jsonrpc/").header("a2a-version", "1.0");
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": "x"}});
    let answer = json_of(
        service
            .handle(&route(&service, "/a2a"), &head, body(&request.to_string()))
            .await,
    )
    .1;
    assert_eq!(answer["error"]["code"], -32001);
    // Every path under the base answers in the binding's error shape.
    let (status, answer) = json_of(rest(&service, "GET", "/a2a/nothing/here", None).await);
    assert_eq!(status, 404);
    assert_eq!(answer["error"]["status"], "NOT_FOUND");
    // Push configs and the extended card: not served, with their errors.
    let push = json_of(
        rpc(
            &service,
            "CreateTaskPushNotificationConfig",
            json!({"task_id": "t", "url": "https://example.com"}),
        )
        .await,
    )
    .1;
    assert_eq!(push["error"]["code"], -32003);
    let (status, _) = json_of(
        rest(
            &service,
            "POST",
            "/a2a/tasks/t/pushNotificationConfigs",
            Some(json!({})),
        )
        .await,
    );
    assert_eq!(status, 400);
    let card = json_of(rpc(&service, "GetExtendedAgentCard", Value::Null).await).1;
    assert_eq!(card["error"]["code"], -32007);
    // The card: caching headers, and 304 for a matching tag.
    let head = OwnedHead::new("GET", "/.well-known/agent-card.json");
    let card = service
        .handle(
            &route(&service, "/.well-known/agent-card.json"),
            &head,
            body(""),
        )
        .await;
    let headers = card.headers();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    };
    assert!(header("cache-control").unwrap().contains("max-age="));
    assert!(header("last-modified").unwrap().ends_with("GMT"));
    let etag = header("etag").unwrap();
    let (_, card) = json_of(card);
    assert_eq!(
        card["capabilities"],
        json!({"streaming": true, "pushNotifications": false, "extendedAgentCard": false})
    );
    let head = OwnedHead::new("GET", "/.well-known/agent-card.json").header("if-none-match", &etag);
    let again = service
        .handle(
            &route(&service, "/.well-known/agent-card.json"),
            &head,
            body(""),
        )
        .await;
    assert_eq!(again.status(), 304);
}

#[tokio::test]
async fn without_an_executor_messages_are_unsupported() {
    let queue = A2aEventQueue::new();
    let service = SseService::builder(queue.clone())
        .protocol(Agent::new(A2aConfig::default()))
        .build()
        .unwrap();
    let err = json_of(rpc(&service, "SendMessage", json!({"message": message("work")})).await).1;
    assert_eq!(err["error"]["code"], -32004);
}
