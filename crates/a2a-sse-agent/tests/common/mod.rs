//! What the agent's integration tests share: requests through `SseService::handle` on
//! either binding, and reading their answers.
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::pin::Pin;
use std::time::Duration;

use a2a_events::{Artifact, Part};
use a2a_sse_agent::{AgentExecutor, ExecutionError, Outcome, RequestContext, TaskHandle};
use a2a_sse_core::{OwnedHead, ResponseBody, Route, SseResponse, SseService, SseStream};
use a2a_sse_testkit::Decoder;
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::{self, Iter};
use serde_json::{Value, json};

/// The tests' executor, scripted by the first text part: `ping` answers a message and no
/// task; `fail` and `panic` fail; `ask` waits for input (a follow-up, any text, goes on
/// as `work`); `slow` works until canceled; `steps N` publishes N working updates 30 ms
/// apart, then completes; anything else (`work`): three chunks of `out.txt`, completed.
pub struct Script;

impl AgentExecutor for Script {
    async fn execute(
        &self,
        request: RequestContext,
        task: TaskHandle,
    ) -> Result<Outcome, ExecutionError> {
        let text = request.message.first_text().to_owned();
        match text.as_str() {
            "ping" => return Ok(Outcome::Message(task.agent_text("pong"))),
            "fail" => {
                task.start_work(None).await?;
                return Err("the tool broke".into());
            }
            "panic" => {
                task.start_work(None).await?;
                panic!("boom");
            }
            "ask" if request.task.is_none() => {
                task.require_input(Some(task.agent_text("which one?")))
                    .await?;
            }
            steps if steps.starts_with("steps ") => {
                task.start_work(None).await?;
                for n in 0..steps[6..].parse::<usize>().unwrap_or(1) {
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    task.start_work(Some(task.agent_text(format!("step {n}"))))
                        .await?;
                }
                task.complete(Some(task.agent_text("done"))).await?;
            }
            "slow" => {
                task.start_work(None).await?;
                task.canceled().await;
                return Ok(Outcome::Task);
            }
            _ => {
                task.start_work(None).await?;
                for (n, chunk) in ["a", "b", "c"].into_iter().enumerate() {
                    let artifact = Artifact {
                        artifact_id: "out".into(),
                        name: Some("out.txt".into()),
                        description: None,
                        parts: vec![Part::text(chunk)],
                        metadata: None,
                    };
                    task.artifact(artifact, n > 0, n == 2).await?;
                }
                task.complete(Some(task.agent_text("done"))).await?;
            }
        }
        Ok(Outcome::Task)
    }
}

pub type Body = Iter<std::vec::IntoIter<Result<Bytes, Infallible>>>;

pub fn body(text: &str) -> Body {
    stream::iter(vec![Ok(Bytes::from(text.to_owned()))])
}

pub fn route(service: &SseService, path: &str) -> Route {
    service
        .routes()
        .iter()
        .find(|route| route.path() == path)
        .cloned()
        .unwrap()
}

/// A JSON-RPC call.
pub async fn rpc(service: &SseService, method: &str, params: Value) -> SseResponse {
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let head = OwnedHead::new("POST", "/a2a/jsonrpc")
        .header("a2a-version", "1.0")
        .header("content-type", "application/json");
    service
        .handle(
            &route(service, "/a2a/jsonrpc"),
            &head,
            body(&request.to_string()),
        )
        .await
}

/// An HTTP+JSON call.
pub async fn rest(
    service: &SseService,
    method: &str,
    path: &str,
    json: Option<Value>,
) -> SseResponse {
    let head = match path.split_once('?') {
        Some((path, query)) => OwnedHead::new(method, path).query(query),
        None => OwnedHead::new(method, path),
    }
    .header("a2a-version", "1.0");
    let text = json.map(|value| value.to_string()).unwrap_or_default();
    service
        .handle(&route(service, "/a2a"), &head, body(&text))
        .await
}

pub fn json_of(response: SseResponse) -> (u16, Value) {
    let status = response.status();
    match response.into_body() {
        ResponseBody::Full(bytes) => (status, serde_json::from_slice(&bytes).unwrap()),
        other => panic!("expected JSON, got {other:?}"),
    }
}

/// A JSON-RPC answer's result.
pub fn result(response: SseResponse) -> Value {
    let (status, body) = json_of(response);
    assert_eq!(status, 200);
    assert!(body.get("error").is_none(), "{body}");
    body["result"].clone()
}

pub fn message(text: &str) -> Value {
    json!({"messageId": uuid(), "role": "ROLE_USER", "parts": [{"text": text}]})
}

pub fn uuid() -> String {
    format!("m-{}", rand_id())
}

pub fn rand_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Every item of a stream to its end, as (SSE id, JSON).
pub async fn drain(stream: SseStream) -> Vec<(String, Value)> {
    let mut stream: Pin<Box<SseStream>> = Box::pin(stream);
    let mut decoder = Decoder::new();
    let mut items = Vec::new();
    while let Ok(Some(chunk)) = tokio::time::timeout(Duration::from_secs(5), stream.next()).await {
        for event in decoder.feed(&chunk) {
            items.push((event.id, serde_json::from_str(&event.data).unwrap()));
        }
    }
    items
}

pub fn state(value: &Value) -> &str {
    value["status"]["state"].as_str().unwrap_or_default()
}
