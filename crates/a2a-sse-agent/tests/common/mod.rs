//! What the agent's integration tests share: requests through `SseService::handle` on
//! either binding, and reading their answers.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use a2a_events::{
    A2aEventQueue, Artifact, Assignment, BackendError, BackendErrorKind, BoxFuture, EventBackend,
    EventId, EventStream, NewEvent, Part, Pending, PlanId, PublishError, PushStore, SubscribeError,
    SubscribeRequest, TaskPage, TaskQuery, TaskSnapshot,
};
use a2a_sse_agent::{
    A2aConfig, Agent, AgentExecutor, ExecutionError, Outcome, RequestContext, TaskHandle,
};
use a2a_sse_core::{OwnedHead, ResponseBody, Route, SseResponse, SseService, SseStream};
use a2a_sse_testkit::Decoder;
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::{self, Iter};
use serde_json::{Value, json};

/// The tests' executor, scripted by the first text part: `ping` answers a message and no
/// task; `fail` and `panic` fail, `panic-any` panics with a number; `ask` waits for input
/// (a follow-up, any text, goes on as `work`); `auth` waits for its client to sign in;
/// `reject` rejects the task; `context` completes saying the task's context; `late`
/// completes, then answers a message too; `slow` works until canceled; `stubborn` works
/// and ignores a cancel; `steps N` publishes N working updates 30 ms apart, then
/// completes; anything else (`work`): three chunks of `out.txt`, completed.
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
            "panic-any" => {
                task.start_work(None).await?;
                std::panic::panic_any(7_u8);
            }
            "auth" => {
                task.require_auth(Some(task.agent_text("sign in first")))
                    .await?;
            }
            "reject" => {
                task.reject(Some(task.agent_text("not mine to do"))).await?;
            }
            "context" => {
                let context = task.context_id().to_owned();
                task.complete(Some(task.agent_text(context))).await?;
            }
            "late" => {
                task.complete(None).await?;
                return Ok(Outcome::Message(task.agent_text("too late")));
            }
            "stubborn" => {
                task.start_work(None).await?;
                std::future::pending::<()>().await;
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

/// The agent, running `Script`, over `backend` with `config`.
pub fn service_over(backend: &Arc<Faulty>, config: A2aConfig) -> SseService {
    SseService::builder(Arc::clone(backend))
        .protocol(Agent::with_executor(config, Script))
        .build()
        .unwrap()
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

/// The in-memory queue as a shared backend of several replicas, and one that fails: each
/// operation (named as its method: `publish`, `task`, `pending`, …) can be made to fail
/// its next calls; events can be published "by another replica" just before the next
/// publish; `claim_expired` hands out the plans whose lease the test says ran out; and
/// every operation's calls are counted.
pub struct Faulty {
    pub queue: A2aEventQueue,
    failing: Mutex<HashMap<&'static str, u32>>,
    first: Mutex<Vec<NewEvent>>,
    expired: Mutex<Vec<PlanId>>,
    calls: Mutex<HashMap<&'static str, usize>>,
}

impl Faulty {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            queue: A2aEventQueue::new(),
            failing: Mutex::default(),
            first: Mutex::default(),
            expired: Mutex::default(),
            calls: Mutex::default(),
        })
    }

    /// The next `times` calls of `operation` fail (`u32::MAX`: until healed).
    pub fn fail(&self, operation: &'static str, times: u32) {
        self.failing.lock().unwrap().insert(operation, times);
    }

    /// `operation` works again.
    pub fn heal(&self, operation: &'static str) {
        self.failing.lock().unwrap().remove(operation);
    }

    /// Another replica publishes `event` just before the next publish of this one.
    pub fn publish_first(&self, event: NewEvent) {
        self.first.lock().unwrap().push(event);
    }

    /// The lease of `plan` ran out (its replica died): the next `claim_expired` hands it.
    pub fn expire(&self, plan: &str) {
        self.expired
            .lock()
            .unwrap()
            .push(PlanId::new(plan).unwrap());
    }

    /// How many times `operation` was called.
    pub fn calls(&self, operation: &str) -> usize {
        self.calls
            .lock()
            .unwrap()
            .get(operation)
            .copied()
            .unwrap_or(0)
    }

    /// Whether every failure asked for happened, and every expired plan was handed out.
    pub fn settled(&self) -> bool {
        self.failing.lock().unwrap().values().all(|left| *left == 0)
            && self.expired.lock().unwrap().is_empty()
    }

    fn check(&self, operation: &'static str) -> Result<(), BackendError> {
        *self.calls.lock().unwrap().entry(operation).or_default() += 1;
        let mut failing = self.failing.lock().unwrap();
        match failing.get_mut(operation) {
            Some(0) | None => Ok(()),
            Some(left) => {
                *left -= 1;
                let message = format!("{operation} failed (a test fault)");
                Err(BackendError::new(BackendErrorKind::Unavailable, message))
            }
        }
    }

    /// What `then` does, unless `operation` is to fail (then it is not done at all).
    fn or_fail<'a, T: Send + 'a, E: From<BackendError> + Send + 'a, F>(
        &'a self,
        operation: &'static str,
        then: impl FnOnce() -> F,
    ) -> BoxFuture<'a, Result<T, E>>
    where
        F: Future<Output = Result<T, E>> + Send + 'a,
    {
        match self.check(operation) {
            Ok(()) => Box::pin(then()),
            Err(err) => Box::pin(std::future::ready(Err(err.into()))),
        }
    }
}

impl EventBackend for Faulty {
    fn publish(&self, event: NewEvent) -> BoxFuture<'_, Result<EventId, PublishError>> {
        for first in self.first.lock().unwrap().drain(..) {
            self.queue.publish(first).unwrap();
        }
        self.or_fail("publish", move || EventBackend::publish(&self.queue, event))
    }

    fn subscribe(
        &self,
        request: SubscribeRequest,
    ) -> BoxFuture<'_, Result<EventStream, SubscribeError>> {
        self.or_fail("subscribe", move || {
            EventBackend::subscribe(&self.queue, request)
        })
    }

    fn task(
        &self,
        plan: &PlanId,
    ) -> BoxFuture<'_, Result<Option<Arc<TaskSnapshot>>, SubscribeError>> {
        self.or_fail("task", move || EventBackend::task(&self.queue, plan))
    }

    fn subscriber_count(&self) -> usize {
        self.queue.subscriber_count()
    }

    fn close(&self) {
        self.queue.close();
    }

    fn list_tasks(&self, query: TaskQuery) -> BoxFuture<'_, Result<TaskPage, SubscribeError>> {
        self.or_fail("list_tasks", move || {
            EventBackend::list_tasks(&self.queue, query)
        })
    }

    fn hold(&self, _: &PlanId, _: Duration) -> BoxFuture<'_, Result<(), BackendError>> {
        self.or_fail("hold", move || std::future::ready(Ok(())))
    }

    fn release(&self, _: &PlanId) -> BoxFuture<'_, Result<(), BackendError>> {
        self.or_fail("release", move || std::future::ready(Ok(())))
    }

    fn claim_expired(&self) -> BoxFuture<'_, Result<Vec<PlanId>, BackendError>> {
        self.or_fail("claim_expired", || {
            let expired = std::mem::take(&mut *self.expired.lock().unwrap());
            std::future::ready(Ok(expired))
        })
    }

    fn push(&self) -> Option<&dyn PushStore> {
        Some(self)
    }
}

impl PushStore for Faulty {
    fn put(
        &self,
        task: &PlanId,
        id: &str,
        config: Bytes,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.or_fail("put", move || self.queue.put(task, id, config))
    }

    fn get(&self, task: &PlanId, id: &str) -> BoxFuture<'_, Result<Option<Bytes>, BackendError>> {
        self.or_fail("get", move || self.queue.get(task, id))
    }

    fn list(&self, task: &PlanId) -> BoxFuture<'_, Result<Vec<Bytes>, BackendError>> {
        self.or_fail("list", move || self.queue.list(task))
    }

    fn delete(&self, task: &PlanId, id: &str) -> BoxFuture<'_, Result<bool, BackendError>> {
        self.or_fail("delete", move || self.queue.delete(task, id))
    }

    fn claim(
        &self,
        consumer: &str,
        idle: Duration,
    ) -> BoxFuture<'_, Result<Vec<Assignment>, BackendError>> {
        self.or_fail("claim", move || self.queue.claim(consumer, idle))
    }

    fn renew(
        &self,
        consumer: &str,
        assignments: &[Assignment],
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.or_fail("renew", move || self.queue.renew(consumer, assignments))
    }

    fn finish(&self, assignment: &Assignment) -> BoxFuture<'_, Result<(), BackendError>> {
        self.or_fail("finish", move || self.queue.finish(assignment))
    }

    fn pending(
        &self,
        task: &PlanId,
        id: &str,
        max: usize,
    ) -> BoxFuture<'_, Result<Pending, BackendError>> {
        self.or_fail("pending", move || self.queue.pending(task, id, max))
    }

    fn delivered(
        &self,
        task: &PlanId,
        id: &str,
        next: u64,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        self.or_fail("delivered", move || self.queue.delivered(task, id, next))
    }
}
