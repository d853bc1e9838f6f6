//! A built-in simulator: rounds of plans started by messages to the demo's own agent
//! (through the service, in process, as a client's `SendMessage` would): a report, a
//! review that asks for approval and gets it, and a deployment that fails.

use std::convert::Infallible;
use std::time::Duration;

use a2a_sse_core::{OwnedHead, ResponseBody, SseService};
use bytes::Bytes;
use serde_json::{Value, json};

/// Sends `body` to the agent's `message:send` and reads the task it answers.
async fn send(service: &SseService, message: Value) -> Option<Value> {
    let route = service
        .routes()
        .iter()
        .find(|route| route.path() == "/a2a")?
        .clone();
    let head = OwnedHead::new("POST", "/a2a/message:send")
        .header("a2a-version", "1.0")
        .header("content-type", "application/json");
    let body = json!({"message": message, "configuration": {"returnImmediately": true}});
    let body = futures_util::stream::iter([Ok::<_, Infallible>(Bytes::from(body.to_string()))]);
    let response = service.handle(&route, &head, body).await;
    let status = response.status();
    match response.into_body() {
        ResponseBody::Full(bytes) if status == 200 => serde_json::from_slice::<Value>(&bytes)
            .ok()?
            .get("task")
            .cloned(),
        _ => {
            tracing::warn!(status, "the simulator's message was refused");
            None
        }
    }
}

fn message(text: &str, task: Option<&str>) -> Value {
    let mut message = json!({
        "messageId": uuid::Uuid::new_v4().to_string(),
        "role": "ROLE_USER",
        "parts": [{"text": text}],
    });
    if let Some(task) = task {
        message["taskId"] = json!(task);
    }
    message
}

/// Runs rounds of plans, one every few `step`s, until the service's backend closes: a
/// report, a review (approved a few steps after it asks), and a failing deployment.
pub async fn simulate(service: SseService, step: Duration) {
    loop {
        for text in ["write the report", "review the plan", "deploy the fix"] {
            let Some(task) = send(&service, message(text, None)).await else {
                if service.backend().subscriber_count() == 0 && is_closed(&service).await {
                    return;
                }
                continue;
            };
            if text.starts_with("review") {
                let id = task["id"].as_str().unwrap_or_default().to_owned();
                let service = service.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(step * 5).await;
                    send(&service, message("approve", Some(&id))).await;
                });
            }
            tokio::time::sleep(step * 3).await;
        }
        tokio::time::sleep(step * 4).await;
    }
}

/// Whether the backend refuses everything now (the server is shutting down).
async fn is_closed(service: &SseService) -> bool {
    let probe = a2a_events::PlanId::new("simulator-probe");
    match probe {
        Ok(plan) => matches!(
            service.backend().task(&plan).await,
            Err(a2a_events::SubscribeError::Closed)
        ),
        Err(_) => false,
    }
}
