//! What the agent costs, in process, through `SseService::handle` on a current-thread
//! tokio runtime (the request, the execution, the backend and the reading of the stream on
//! one thread, so wall time is that thread's CPU time; no socket, no HTTP):
//!
//! - `stream/…`: the cost per event of a stream read to its end. `send_streaming`: a
//!   `SendStreamingMessage` whose executor publishes [`CHUNKS`] artifact chunks between
//!   `WORKING` and `COMPLETED` as fast as it can. `subscribe`: a `SubscribeToTask` stream of
//!   a task whose (gated) execution publishes the same events once the stream is open; the
//!   `SendMessage` that started the task is outside the timed part. `subscribe_published`:
//!   the same stream of the same events published straight to the queue, without an
//!   execution (what the executor's handle and its watch add). Per binding; criterion's
//!   time is per stream: divide by [`CHUNKS`] + 2 events.
//! - `first_event/…`: from the call (the whole request available) to the first chunk of
//!   a `SendStreamingMessage` stream with a `data:` frame in it, and to the whole answer of
//!   a blocking `SendMessage`, with an executor that completes the task at once.
//!   After criterion, a percentile pass ([`TRIES`] timed tries each, after a warm-up)
//!   prints p50, p90, p99 and p99.9 of each (skipped with `--list` or a filter that
//!   leaves out `first_event`; outside `cargo bench`, as under `cargo test`, it is a
//!   smoke run of [`SMOKE_TRIES`] tries).
//!
//! ```text
//! cargo bench -p a2a-sse-agent --bench agent
//! ```

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use a2a_events::{
    A2aEventQueue, Artifact, BufferLimits, EventPayload, NewEvent, Part, PartContent, PlanId,
    QueueConfig, TaskArtifactUpdateEvent, TaskState, TaskStatus, TaskStatusUpdateEvent,
};
use a2a_sse_agent::{
    A2aConfig, Agent, AgentCard, AgentExecutor, ExecutionError, Outcome, RequestContext, TaskHandle,
};
use a2a_sse_core::{OwnedHead, ResponseBody, Route, SseResponse, SseService, SseStream};
use bytes::Bytes;
use criterion::{BenchmarkId, Criterion};
use futures_util::StreamExt;
use futures_util::stream::{self, Iter};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// Artifact chunks per streamed task.
const CHUNKS: usize = 1_000;
/// Timed tries per case of the percentile pass.
const TRIES: usize = 20_000;
/// Untimed tries before them.
const WARM_UP_TRIES: usize = 2_000;
/// Tries each of the smoke run, untimed ones included.
const SMOKE_TRIES: usize = 50;

/// The text of a chunk: a line of a report, as the demo's.
fn chunk(n: usize) -> Artifact {
    Artifact {
        artifact_id: "report.md".into(),
        name: Some("report.md".into()),
        description: None,
        parts: vec![Part::text(format!(
            "- finding {n}: the queue never blocks\n"
        ))],
        metadata: None,
    }
}

/// Scripted by the first text part: `burst` publishes the chunks at once, `gated` after
/// its gate opens, `instant` completes the task at once.
#[derive(Clone, Default)]
struct Bench {
    gates: Arc<Mutex<HashMap<String, oneshot::Sender<()>>>>,
}

impl Bench {
    fn open_gate(&self, task: &str) {
        let gate = self.gates.lock().unwrap().remove(task);
        gate.expect("the gated execution waits").send(()).unwrap();
    }
}

impl AgentExecutor for Bench {
    async fn execute(
        &self,
        request: RequestContext,
        task: TaskHandle,
    ) -> Result<Outcome, ExecutionError> {
        let text = match request.message.parts.first().map(|p| &p.content) {
            Some(PartContent::Text(text)) => text.clone(),
            _ => String::new(),
        };
        if text == "instant" {
            task.complete(Some(task.agent_text("done"))).await?;
            return Ok(Outcome::Task);
        }
        task.start_work(None).await?;
        if text == "gated" {
            let (open, opened) = oneshot::channel();
            self.gates
                .lock()
                .unwrap()
                .insert(task.task_id().to_owned(), open);
            opened.await.map_err(|_| "the gate was dropped")?;
        }
        for n in 0..CHUNKS {
            task.artifact(chunk(n), n > 0, n + 1 == CHUNKS).await?;
        }
        task.complete(None).await?;
        Ok(Outcome::Task)
    }
}

struct Setup {
    queue: A2aEventQueue,
    service: SseService,
    executor: Bench,
    jsonrpc: Route,
    rest: Route,
}

fn setup() -> Setup {
    // Every event of a stream fits its subscriber's buffer: the executor publishes them all
    // before the (same-thread) reader runs.
    let mut config = QueueConfig::default();
    config.buffer = BufferLimits::new(4 * CHUNKS, 64 << 20);
    let queue = A2aEventQueue::with_config(config).unwrap();
    let executor = Bench::default();
    let service = SseService::builder(queue.clone())
        .protocol(Agent::with_executor(
            A2aConfig::with_card(AgentCard::new("bench", "bench", "1")),
            executor.clone(),
        ))
        .build()
        .unwrap();
    let route = |path: &str| {
        service
            .routes()
            .iter()
            .find(|route| route.path() == path)
            .cloned()
            .unwrap()
    };
    Setup {
        jsonrpc: route("/a2a/jsonrpc"),
        rest: route("/a2a"),
        queue,
        service,
        executor,
    }
}

#[derive(Clone, Copy, Debug)]
enum Binding {
    JsonRpc,
    Rest,
}

impl Binding {
    const BOTH: [Self; 2] = [Self::JsonRpc, Self::Rest];

    const fn name(self) -> &'static str {
        match self {
            Self::JsonRpc => "jsonrpc",
            Self::Rest => "rest",
        }
    }
}

type Body = Iter<std::vec::IntoIter<Result<Bytes, Infallible>>>;

fn body(bytes: Bytes) -> Body {
    stream::iter(vec![Ok(bytes)])
}

/// A request of `binding`: the method, its params, and (HTTP+JSON) the path and body.
fn request(
    setup: &Setup,
    binding: Binding,
    method: &str,
    params: &Value,
) -> (OwnedHead, Route, Bytes) {
    match binding {
        Binding::JsonRpc => {
            let call = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
            let head = OwnedHead::new("POST", "/a2a/jsonrpc")
                .header("a2a-version", "1.0")
                .header("content-type", "application/json");
            (head, setup.jsonrpc.clone(), Bytes::from(call.to_string()))
        }
        Binding::Rest => {
            let (verb, path, body) = match method {
                "SendMessage" => ("POST", "/a2a/message:send".to_owned(), params.to_string()),
                "SendStreamingMessage" => {
                    ("POST", "/a2a/message:stream".to_owned(), params.to_string())
                }
                "SubscribeToTask" => (
                    "POST",
                    format!("/a2a/tasks/{}:subscribe", params["id"].as_str().unwrap()),
                    String::new(),
                ),
                other => panic!("no HTTP+JSON form for {other}"),
            };
            let head = OwnedHead::new(verb, path)
                .header("a2a-version", "1.0")
                .header("content-type", "application/json");
            (head, setup.rest.clone(), Bytes::from(body))
        }
    }
}

fn message(text: &str, n: u64) -> Value {
    json!({"message": {"messageId": format!("m-{n}"), "role": "ROLE_USER", "parts": [{"text": text}]}})
}

async fn call(setup: &Setup, binding: Binding, method: &str, params: &Value) -> SseResponse {
    let (head, route, bytes) = request(setup, binding, method, params);
    setup.service.handle(&route, &head, body(bytes)).await
}

fn stream_of(response: SseResponse) -> Pin<Box<SseStream>> {
    match response {
        SseResponse::Stream(stream) => Box::pin(stream),
        other => panic!(
            "expected a stream, got {} {:?}",
            other.status(),
            other.into_body()
        ),
    }
}

/// Reads a stream to its end; the number of `data:` frames when `count`.
async fn drain(mut stream: Pin<Box<SseStream>>, count: bool) -> usize {
    let mut frames = 0;
    while let Some(chunk) = stream.next().await {
        if count {
            frames += chunk.windows(6).filter(|w| w == b"data: ").count();
        }
    }
    frames
}

/// The task id of a `SendMessage` answer.
fn task_id(response: SseResponse, binding: Binding) -> String {
    let ResponseBody::Full(bytes) = response.into_body() else {
        panic!("a whole answer");
    };
    let value: Value = serde_json::from_slice(&bytes).unwrap();
    let task = match binding {
        Binding::JsonRpc => &value["result"]["task"],
        Binding::Rest => &value["task"],
    };
    task["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a task: {value}"))
        .to_owned()
}

/// The three ways of streaming the same events.
#[derive(Clone, Copy, Debug)]
enum Way {
    SendStreaming,
    Subscribe,
    SubscribePublished,
}

impl Way {
    const ALL: [Self; 3] = [
        Self::SendStreaming,
        Self::Subscribe,
        Self::SubscribePublished,
    ];

    const fn name(self) -> &'static str {
        match self {
            Self::SendStreaming => "send_streaming",
            Self::Subscribe => "subscribe",
            Self::SubscribePublished => "subscribe_published",
        }
    }
}

fn status(plan: &PlanId, state: TaskState) -> NewEvent {
    NewEvent::new(
        plan.clone(),
        EventPayload::StatusUpdate(TaskStatusUpdateEvent {
            task_id: plan.to_string(),
            context_id: "ctx-bench".into(),
            status: TaskStatus {
                state,
                message: None,
                timestamp: Some(a2a_events::Timestamp::now().to_string()),
            },
            metadata: None,
        }),
    )
}

/// One stream of `way` read to its end; the time of the timed part and the frames read.
async fn one_stream(
    setup: &Setup,
    way: Way,
    binding: Binding,
    n: u64,
    count: bool,
) -> (Duration, usize) {
    match way {
        Way::SendStreaming => {
            let start = Instant::now();
            let response = call(setup, binding, "SendStreamingMessage", &message("burst", n)).await;
            let frames = drain(stream_of(response), count).await;
            (start.elapsed(), frames)
        }
        Way::Subscribe => {
            let params = json!({
                "message": message("gated", n)["message"],
                "configuration": {"returnImmediately": true},
            });
            let task = task_id(call(setup, binding, "SendMessage", &params).await, binding);
            let start = Instant::now();
            let response = call(setup, binding, "SubscribeToTask", &json!({"id": task})).await;
            setup.executor.open_gate(&task);
            let frames = drain(stream_of(response), count).await;
            (start.elapsed(), frames)
        }
        Way::SubscribePublished => {
            let plan = PlanId::new(format!("t-{n}")).unwrap();
            setup
                .queue
                .publish(status(&plan, TaskState::Working))
                .unwrap();
            let start = Instant::now();
            let response = call(
                setup,
                binding,
                "SubscribeToTask",
                &json!({"id": plan.as_str()}),
            )
            .await;
            for n in 0..CHUNKS {
                let update = TaskArtifactUpdateEvent {
                    task_id: plan.to_string(),
                    context_id: "ctx-bench".into(),
                    artifact: chunk(n),
                    append: (n > 0).then_some(true),
                    last_chunk: (n + 1 == CHUNKS).then_some(true),
                    metadata: None,
                };
                let event = NewEvent::new(plan.clone(), EventPayload::ArtifactUpdate(update));
                setup.queue.publish(event).unwrap();
            }
            setup
                .queue
                .publish(status(&plan, TaskState::Completed))
                .unwrap();
            let frames = drain(stream_of(response), count).await;
            (start.elapsed(), frames)
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A fresh number for each message and task.
fn next() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn streams(c: &mut Criterion) {
    let rt = runtime();
    let setup = rt.block_on(async { setup() });
    // Each way delivers every event once: the task, WORKING (send_streaming: SUBMITTED's
    // task, then WORKING), the chunks, COMPLETED.
    for way in Way::ALL {
        for binding in Binding::BOTH {
            let (_, frames) = rt.block_on(one_stream(&setup, way, binding, next(), true));
            let expected = match way {
                Way::SendStreaming => CHUNKS + 3,
                _ => CHUNKS + 2,
            };
            assert_eq!(frames, expected, "{way:?} over {binding:?}");
        }
    }
    let mut group = c.benchmark_group(format!("stream_{CHUNKS}"));
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(6));
    for way in Way::ALL {
        for binding in Binding::BOTH {
            group.bench_function(BenchmarkId::new(way.name(), binding.name()), |b| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            total += one_stream(&setup, way, binding, next(), false).await.0;
                        }
                        total
                    })
                });
            });
        }
    }
    group.finish();
}

/// The first-answer cases.
#[derive(Clone, Copy, Debug)]
enum First {
    /// `SendStreamingMessage`: to the first chunk with a `data:` frame.
    Streaming,
    /// Blocking `SendMessage`: to the whole answer.
    Blocking,
}

impl First {
    const BOTH: [Self; 2] = [Self::Streaming, Self::Blocking];

    const fn name(self) -> &'static str {
        match self {
            Self::Streaming => "send_streaming_first_data",
            Self::Blocking => "send_message_answer",
        }
    }
}

/// One try: the time to the first data (streaming) or the answer (blocking); the rest of
/// a stream is read after, untimed.
async fn first(setup: &Setup, case: First, binding: Binding, n: u64) -> Duration {
    let params = message("instant", n);
    match case {
        First::Streaming => {
            let start = Instant::now();
            let response = call(setup, binding, "SendStreamingMessage", &params).await;
            let mut stream = stream_of(response);
            loop {
                let chunk = stream.next().await.expect("a data frame before the end");
                if chunk.windows(6).any(|w| w == b"data: ") {
                    break;
                }
            }
            let elapsed = start.elapsed();
            drain(stream, false).await;
            elapsed
        }
        First::Blocking => {
            let start = Instant::now();
            let response = call(setup, binding, "SendMessage", &params).await;
            let ResponseBody::Full(answer) = response.into_body() else {
                panic!("a whole answer");
            };
            let elapsed = start.elapsed();
            drop(answer);
            elapsed
        }
    }
}

fn first_event(c: &mut Criterion) {
    let rt = runtime();
    let setup = rt.block_on(async { setup() });
    for binding in Binding::BOTH {
        let answer = rt.block_on(call(
            &setup,
            binding,
            "SendMessage",
            &message("instant", next()),
        ));
        let ResponseBody::Full(answer) = answer.into_body() else {
            panic!("a whole answer");
        };
        let text = String::from_utf8_lossy(&answer);
        assert!(text.contains("TASK_STATE_COMPLETED"), "{text}");
    }
    let mut group = c.benchmark_group("first_event");
    for case in First::BOTH {
        for binding in Binding::BOTH {
            group.bench_function(BenchmarkId::new(case.name(), binding.name()), |b| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            total += first(&setup, case, binding, next()).await;
                        }
                        total
                    })
                });
            });
        }
    }
    group.finish();
}

/// p50, p90, p99 and p99.9 of [`TRIES`] tries of each first-answer case, interleaved
/// (one try of each case in turn), on a fresh service.
fn percentiles(tries: usize, warm_up: usize) {
    let rt = runtime();
    let setup = rt.block_on(async { setup() });
    let cases: Vec<(First, Binding)> = First::BOTH
        .iter()
        .flat_map(|&case| Binding::BOTH.map(|binding| (case, binding)))
        .collect();
    let mut samples = vec![Vec::with_capacity(tries); cases.len()];
    rt.block_on(async {
        for round in 0..warm_up + tries {
            for (index, &(case, binding)) in cases.iter().enumerate() {
                let took = first(&setup, case, binding, next()).await;
                if round >= warm_up {
                    samples[index].push(took);
                }
            }
        }
    });
    println!("\nfirst_event percentiles, {tries} tries each after {warm_up} untimed (µs):");
    println!("| case | binding | p50 | p90 | p99 | p99.9 |");
    println!("|---|---|---|---|---|---|");
    for ((case, binding), mut times) in cases.into_iter().zip(samples) {
        times.sort_unstable();
        let at = |q: f64| {
            let index = ((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1;
            times[index].as_secs_f64() * 1e6
        };
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
            case.name(),
            binding.name(),
            at(0.50),
            at(0.90),
            at(0.99),
            at(0.999)
        );
    }
}

/// Whether the percentile pass runs: not with `--list`, nor with a filter that leaves
/// out `first_event`.
fn percentiles_wanted(args: &[String]) -> bool {
    // Criterion's options that take a value: that value is not a filter.
    const VALUED: [&str; 14] = [
        "--measurement-time",
        "--warm-up-time",
        "--sample-size",
        "--save-baseline",
        "--baseline",
        "--load-baseline",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--output-format",
        "--color",
        "--profile-time",
        "--plotting-backend",
    ];
    if args.iter().any(|arg| arg == "--list") {
        return false;
    }
    let filter = args.iter().enumerate().find(|(index, arg)| {
        !arg.starts_with('-') && (*index == 0 || !VALUED.contains(&args[index - 1].as_str()))
    });
    filter.is_none_or(|(_, filter)| {
        "first_event".contains(filter.as_str()) || filter.contains("first_event")
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut criterion = Criterion::default().configure_from_args();
    streams(&mut criterion);
    first_event(&mut criterion);
    criterion.final_summary();
    if percentiles_wanted(&args) {
        if args.iter().any(|arg| arg == "--bench") {
            percentiles(TRIES, WARM_UP_TRIES);
        } else {
            percentiles(SMOKE_TRIES, SMOKE_TRIES / 10);
        }
    }
}
