//! The agent surface through `SseService::handle`, with executors of the test's own:
//! SendMessage (blocking, returning at once, a message-only answer), SendStreamingMessage
//! (the task first, every update in order, the end), follow-ups to an interrupted task,
//! CancelTask of a running execution, ListTasks, and what an execution's failure or panic
//! leaves behind.

use std::time::Duration;

use a2a_events::{A2aEventQueue, TaskState};
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
    // Over JSON-RPC, that item is the result of an answer to the request.
    let response = rpc(
        &service,
        "SendStreamingMessage",
        json!({"message": message("ping")}),
    )
    .await;
    let ResponseBody::Full(bytes) = response.into_body() else {
        panic!("a whole body");
    };
    let events = Decoder::new().feed(&bytes);
    let item: Value = serde_json::from_str(&events[0].data).unwrap();
    assert_eq!((&item["jsonrpc"], &item["id"]), (&json!("2.0"), &json!(1)));
    assert_eq!(item["result"]["message"]["parts"][0]["text"], "pong");
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
    for (text, said) in [
        ("fail", "the tool broke"),
        ("panic", "boom"),
        ("panic-any", "the agent's execution panicked"),
    ] {
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

/// A JSON-RPC answer's error code and message.
fn error_of(response: SseResponse) -> (i64, String) {
    let (_, body) = json_of(response);
    let error = &body["error"];
    (
        error["code"].as_i64().unwrap_or_default(),
        error["message"].as_str().unwrap_or_default().to_owned(),
    )
}

/// Starts `text` and answers at once: the task's id.
async fn started(service: &SseService, text: &str) -> String {
    let params = json!({"message": message(text), "configuration": {"returnImmediately": true}});
    let task = result(rpc(service, "SendMessage", params).await)["task"].clone();
    task["id"].as_str().unwrap().to_owned()
}

async fn task_state(service: &SseService, id: &str) -> String {
    let task = result(rpc(service, "GetTask", json!({"id": id})).await);
    state(&task).to_owned()
}

#[tokio::test]
async fn the_handle_ends_or_pauses_the_task_in_every_way() {
    let queue = A2aEventQueue::new();
    let service = service(&queue);
    let send = |text: &'static str| {
        let service = &service;
        async move {
            result(rpc(service, "SendMessage", json!({"message": message(text)})).await)["task"]
                .clone()
        }
    };
    let rejected = send("reject").await;
    assert_eq!(state(&rejected), "TASK_STATE_REJECTED");
    assert_eq!(
        rejected["status"]["message"]["parts"][0]["text"],
        "not mine to do"
    );
    let waiting = send("auth").await;
    assert_eq!(state(&waiting), "TASK_STATE_AUTH_REQUIRED");
    let context = send("context").await;
    assert_eq!(state(&context), "TASK_STATE_COMPLETED");
    assert_eq!(
        context["status"]["message"]["parts"][0]["text"],
        context["contextId"]
    );
    // A message answered after the task was published is dropped: the task stands.
    let late = result(rpc(&service, "SendMessage", json!({"message": message("late")})).await);
    assert!(late.get("message").is_none(), "{late}");
    assert_eq!(state(&late["task"]), "TASK_STATE_COMPLETED");
}

#[tokio::test]
async fn a_message_to_a_working_task_or_in_another_context_is_refused() {
    let queue = A2aEventQueue::new();
    let service = service(&queue);
    let working = started(&service, "slow").await;
    let mut busy = message("more");
    busy["taskId"] = json!(working);
    let (code, said) = error_of(rpc(&service, "SendMessage", json!({"message": busy})).await);
    assert_eq!(code, -32004);
    assert!(said.contains("still working"), "{said}");
    let asked =
        result(rpc(&service, "SendMessage", json!({"message": message("ask")})).await)["task"]
            .clone();
    let mut elsewhere = message("work");
    elsewhere["taskId"] = asked["id"].clone();
    elsewhere["contextId"] = json!("another-context");
    let (code, said) = error_of(rpc(&service, "SendMessage", json!({"message": elsewhere})).await);
    assert_eq!(code, -32602);
    assert!(said.contains("another-context"), "{said}");
    let id = asked["id"].as_str().unwrap();
    assert_eq!(task_state(&service, id).await, "TASK_STATE_INPUT_REQUIRED");
}

#[tokio::test]
async fn http_json_bodies_are_checked_before_anything_runs() {
    let queue = A2aEventQueue::new();
    let service = service(&queue);
    let post = |path: &str, content_type: &str, text: &str| {
        let head = OwnedHead::new("POST", path)
            .header("a2a-version", "1.0")
            .header("content-type", content_type);
        let service = &service;
        let text = text.to_owned();
        async move {
            let (status, body) = json_of(
                service
                    .handle(&route(service, "/a2a"), &head, body(&text))
                    .await,
            );
            (status, body["error"]["details"][0]["reason"].clone())
        }
    };
    let valid = json!({"message": message("work")}).to_string();
    assert_eq!(
        post("/a2a/message:send", "text/plain", &valid).await,
        (415, json!("CONTENT_TYPE_NOT_SUPPORTED"))
    );
    assert_eq!(
        post("/a2a/message:stream", "application/json", "{nope").await,
        (400, json!("JSON_PARSE_ERROR"))
    );
    let from_agent = json!({"message": {"messageId": "m", "role": "ROLE_AGENT",
        "parts": [{"text": "x"}]}});
    assert_eq!(
        post(
            "/a2a/message:send",
            "application/json",
            &from_agent.to_string()
        )
        .await,
        (400, json!("INVALID_PARAMS"))
    );
    assert_eq!(
        post(
            "/a2a/tasks/t/pushNotificationConfigs",
            "application/json",
            "{nope"
        )
        .await,
        (400, json!("JSON_PARSE_ERROR"))
    );
    let listed = result(rpc(&service, "ListTasks", json!({})).await);
    assert_eq!(listed["totalSize"], 0, "no refused message made a task");
}

#[tokio::test]
async fn a_backend_that_cannot_answer_is_unavailable_not_a_missing_task() {
    let faulty = Faulty::new();
    let service = service_over(&faulty, A2aConfig::default());
    faulty
        .queue
        .publish(a2a_sse_testkit::events::status("t", TaskState::Working))
        .unwrap();
    faulty.fail("task", 1);
    let (code, said) = error_of(rpc(&service, "GetTask", json!({"id": "t"})).await);
    assert_eq!(code, -32603);
    assert!(said.contains("unavailable"), "{said}");
    faulty.fail("task", 1);
    let (status, body) = json_of(rest(&service, "GET", "/a2a/tasks/t", None).await);
    assert_eq!(
        (status, &body["error"]["status"]),
        (503, &json!("UNAVAILABLE"))
    );
    faulty.fail("list_tasks", 1);
    assert_eq!(
        error_of(rpc(&service, "ListTasks", json!({})).await).0,
        -32603
    );
    faulty.fail("subscribe", 1);
    assert_eq!(
        error_of(rpc(&service, "SubscribeToTask", json!({"id": "t"})).await).0,
        -32603
    );
    // A message whose task cannot be watched is refused before anything runs.
    for method in ["SendMessage", "SendStreamingMessage"] {
        faulty.fail("subscribe", 1);
        let params = json!({"message": message("work")});
        assert_eq!(error_of(rpc(&service, method, params).await).0, -32603);
    }
    let listed = result(rpc(&service, "ListTasks", json!({})).await);
    assert_eq!(listed["totalSize"], 1, "only the task published here");
    // The task of a message answered at once, which cannot be read back.
    faulty.fail("task", 1);
    let params = json!({"message": message("work"), "configuration": {"returnImmediately": true}});
    assert_eq!(
        error_of(rpc(&service, "SendMessage", params).await).0,
        -32603
    );
    assert!(faulty.settled());
}

#[tokio::test]
async fn a_publish_the_backend_refuses_is_unavailable_and_changes_nothing() {
    let faulty = Faulty::new();
    let service = service_over(&faulty, A2aConfig::default());
    let working = started(&service, "slow").await;
    faulty.fail("publish", 1);
    let (code, said) = error_of(rpc(&service, "CancelTask", json!({"id": working})).await);
    assert_eq!(code, -32603);
    assert!(said.contains("could not be stored"), "{said}");
    assert_eq!(task_state(&service, &working).await, "TASK_STATE_WORKING");
    let canceled = result(rpc(&service, "CancelTask", json!({"id": working})).await);
    assert_eq!(state(&canceled), "TASK_STATE_CANCELED");

    let asked =
        result(rpc(&service, "SendMessage", json!({"message": message("ask")})).await)["task"]
            .clone();
    let id = asked["id"].as_str().unwrap();
    let mut follow = message("work");
    follow["taskId"] = json!(id);
    faulty.fail("publish", 1);
    let (code, _) = error_of(rpc(&service, "SendMessage", json!({"message": follow})).await);
    assert_eq!(code, -32603);
    assert_eq!(task_state(&service, id).await, "TASK_STATE_INPUT_REQUIRED");

    // Nothing of a new task can be stored: the execution's publishes are refused, and the
    // client is told the task was not stored.
    faulty.fail("publish", u32::MAX);
    let params = json!({"message": message("work"), "configuration": {"returnImmediately": true}});
    let (code, said) = error_of(rpc(&service, "SendMessage", params).await);
    assert_eq!(code, -32603);
    assert!(said.contains("was not stored"), "{said}");
    faulty.heal("publish");
    let listed = result(rpc(&service, "ListTasks", json!({})).await);
    assert_eq!(listed["totalSize"], 2);
}

#[tokio::test]
async fn a_task_another_replica_ended_first_takes_no_cancel_and_no_message() {
    let faulty = Faulty::new();
    let service = service_over(&faulty, A2aConfig::default());
    let working = started(&service, "slow").await;
    faulty.publish_first(a2a_sse_testkit::events::status(
        &working,
        TaskState::Completed,
    ));
    let (status, body) = json_of(
        rest(
            &service,
            "POST",
            &format!("/a2a/tasks/{working}:cancel"),
            None,
        )
        .await,
    );
    assert_eq!(
        (status, &body["error"]["status"]),
        (409, &json!("FAILED_PRECONDITION"))
    );
    assert_eq!(task_state(&service, &working).await, "TASK_STATE_COMPLETED");

    let asked =
        result(rpc(&service, "SendMessage", json!({"message": message("ask")})).await)["task"]
            .clone();
    let id = asked["id"].as_str().unwrap();
    faulty.publish_first(a2a_sse_testkit::events::status(id, TaskState::Failed));
    let mut follow = message("work");
    follow["taskId"] = json!(id);
    let (code, said) = error_of(rpc(&service, "SendMessage", json!({"message": follow})).await);
    assert_eq!(code, -32004);
    assert!(said.contains("already ended"), "{said}");
    assert_eq!(task_state(&service, id).await, "TASK_STATE_FAILED");
}

/// A config whose leases are short: renewed every 100 ms, swept every 100 ms.
fn short_leases() -> A2aConfig {
    let mut config = A2aConfig::default();
    config.lease = Duration::from_millis(300);
    config
}

#[tokio::test]
async fn an_execution_holds_its_lease_while_it_runs_and_gives_it_up_when_canceled() {
    let faulty = Faulty::new();
    let service = service_over(&faulty, short_leases());
    // The first renewal fails: the execution goes on, and renews again.
    faulty.fail("hold", 1);
    faulty.fail("release", 1);
    let working = started(&service, "slow").await;
    assert!(
        a2a_sse_testkit::eventually(Duration::from_secs(5), || faulty.calls("hold") >= 2).await
    );
    assert_eq!(faulty.calls("release"), 0, "held while it runs");
    assert_eq!(task_state(&service, &working).await, "TASK_STATE_WORKING");
    // Canceled, it sees the cancel, returns, and gives the lease up.
    result(rpc(&service, "CancelTask", json!({"id": working})).await);
    assert!(
        a2a_sse_testkit::eventually(Duration::from_secs(5), || faulty.calls("release") == 1).await
    );
    assert_eq!(task_state(&service, &working).await, "TASK_STATE_CANCELED");
}

#[tokio::test]
async fn an_execution_that_ignores_the_cancel_is_dropped_after_the_grace_period() {
    let faulty = Faulty::new();
    let mut config = short_leases();
    config.cancel_grace = Duration::from_millis(50);
    let service = service_over(&faulty, config);
    let stubborn = started(&service, "stubborn").await;
    assert!(
        a2a_sse_testkit::eventually(Duration::from_secs(5), || faulty.calls("hold") >= 1).await
    );
    result(rpc(&service, "CancelTask", json!({"id": stubborn})).await);
    // It never returns by itself: only being dropped gives its lease up.
    assert!(
        a2a_sse_testkit::eventually(Duration::from_secs(5), || faulty.calls("release") == 1).await
    );
    assert_eq!(task_state(&service, &stubborn).await, "TASK_STATE_CANCELED");
}

#[tokio::test]
async fn a_task_whose_replica_died_is_failed_once_its_lease_ran_out() {
    let faulty = Faulty::new();
    let _service = service_over(&faulty, short_leases());
    for (task, state) in [
        ("orphan", TaskState::Working),
        ("done", TaskState::Completed),
    ] {
        faulty
            .queue
            .publish(a2a_sse_testkit::events::status(task, state))
            .unwrap();
    }
    // The first sweep cannot read the expired leases, the second cannot fail the task:
    // each is tried again.
    faulty.fail("claim_expired", 1);
    faulty.fail("publish", 1);
    for task in ["orphan", "done", "forgotten"] {
        faulty.expire(task);
    }
    assert!(a2a_sse_testkit::eventually(Duration::from_secs(5), || faulty.settled()).await);
    let state_of = |task: &str| {
        let plan = a2a_sse_testkit::events::plan(task);
        faulty
            .queue
            .task(&plan)
            .map(|snapshot| snapshot.task.clone())
    };
    assert_eq!(state_of("orphan").unwrap().status.state, TaskState::Working);
    faulty.expire("orphan");
    assert!(
        a2a_sse_testkit::eventually(Duration::from_secs(5), || {
            state_of("orphan").unwrap().status.state == TaskState::Failed
        })
        .await
    );
    let failed = state_of("orphan").unwrap();
    let said = failed.status.message.unwrap().parts[0].clone();
    assert_eq!(
        said,
        a2a_events::Part::text("the replica running this task stopped: its lease ran out")
    );
    assert_eq!(state_of("done").unwrap().status.state, TaskState::Completed);
    assert!(state_of("forgotten").is_none());
}

#[tokio::test(start_paused = true)]
async fn the_sweeper_stops_with_the_agent() {
    let faulty = Faulty::new();
    let service = service_over(&faulty, short_leases());
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(faulty.calls("claim_expired") >= 5);
    drop(service);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let swept = faulty.calls("claim_expired");
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(faulty.calls("claim_expired"), swept);
}

#[tokio::test]
async fn a_stream_that_falls_behind_before_its_first_item_ends_with_an_error_to_start_again() {
    let queue = A2aEventQueue::new();
    let service = SseService::builder(queue.clone())
        .protocol(Agent::with_executor(A2aConfig::default(), Script))
        .buffer(a2a_events::BufferLimits::events(1))
        .build()
        .unwrap();
    let response = rest(
        &service,
        "POST",
        "/a2a/message:stream",
        Some(json!({"message": message("work")})),
    )
    .await;
    let SseResponse::Stream(stream) = response else {
        panic!("a stream, got {response:?}");
    };
    // The whole task runs before the client reads anything.
    let done = || async {
        let listed = result(rpc(&service, "ListTasks", json!({})).await);
        state(&listed["tasks"][0]).to_owned()
    };
    while done().await != "TASK_STATE_COMPLETED" {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut stream = Box::pin(stream);
    let mut bytes = Vec::new();
    while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
        bytes.extend_from_slice(&chunk);
    }
    let events = Decoder::new().feed(&bytes);
    let last = events.last().unwrap();
    assert_eq!(last.event, "error", "{events:?}");
    let status: Value = serde_json::from_str(&last.data).unwrap();
    assert_eq!(status["error"]["status"], "INTERNAL");
    let said = status["error"]["message"].as_str().unwrap();
    assert!(said.contains("resume from the start"), "{said}");
    assert_eq!(events.len(), 1, "nothing else could be sent: {events:?}");
}

#[tokio::test]
async fn a_blocking_send_waiting_when_the_backend_closes_answers_the_task_as_it_stands() {
    let queue = A2aEventQueue::new();
    let service = service(&queue);
    let close = async {
        while queue.list_tasks(&a2a_events::TaskQuery::all(1)).total == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        queue.close();
    };
    let (answer, ()) = tokio::join!(
        rpc(&service, "SendMessage", json!({"message": message("slow")})),
        close
    );
    let task = result(answer)["task"].clone();
    assert!(
        ["TASK_STATE_SUBMITTED", "TASK_STATE_WORKING"].contains(&state(&task)),
        "{task}"
    );
}
