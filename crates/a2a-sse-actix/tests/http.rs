//! The actix adapter over real HTTP on loopback: an `HttpServer` per test, the testkit's
//! SSE client, and the queue's subscriber count as the ground truth for cleanup.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use a2a_events::{
    BufferLimits, ErrorPayload, EventId, EventPayload, NewEvent, PlanId, QueueConfig,
    SubscribeRequest, SubscriptionItem, TaskState, TaskStatusUpdateEvent,
};
use a2a_sse_actix::{
    A2aEventQueue, DisconnectInfo, DisconnectReason, PROBE_INTERVAL, Probe, SseService,
    SseServiceBuilder, TokioTimer,
};
use a2a_sse_testkit::{Event, Next, SseClient, StreamReader};
use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, middleware, web};
use futures_util::StreamExt;

/// Long enough for a loaded machine; the tests wait for conditions, never for time.
const WAIT: Duration = Duration::from_secs(5);
const PREAMBLE: &str = "retry: 3000\n: a2a-sse stream open\n\n";

/// How the server detects closed clients.
#[derive(Clone, Copy, PartialEq)]
enum Detect {
    /// The documented setup: `HttpServer::h1_allow_half_closed(false)` and
    /// `configure_with(.., Probe::Off)`; actix drops the stream itself.
    HalfCloseOff,
    /// actix's default (half-closed connections allowed) and `configure`: the liveness
    /// probe finds closed clients.
    Probe,
    /// Half-closed connections allowed and `Probe::Off`: nothing looks (the control).
    Nothing,
}

impl Detect {
    fn probe(self) -> Probe {
        match self {
            Self::Probe => Probe::On,
            Self::HalfCloseOff | Self::Nothing => Probe::Off,
        }
    }
}

struct Server {
    client: SseClient,
    queue: A2aEventQueue,
    service: SseService<TokioTimer>,
    ended: Arc<Mutex<Vec<DisconnectInfo>>>,
    handle: ServerHandle,
}

type Options = fn(SseServiceBuilder<TokioTimer>) -> SseServiceBuilder<TokioTimer>;

async fn serve(queue: A2aEventQueue, detect: Detect, options: Options) -> Server {
    let ended = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&ended);
    let service = options(SseService::builder(queue.clone()))
        .on_disconnect(move |info| sink.lock().unwrap().push(info.clone()))
        .build();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let probe = detect.probe();
    // The probe fallback is what the plain `configure` and `respond` give.
    let plain = probe == Probe::On;
    let events = a2a_sse_actix::configure_with(service.clone(), probe);
    let default_events = a2a_sse_actix::configure(service.clone());
    let mine = service.clone();
    let server = HttpServer::new(move || {
        let mine = mine.clone();
        App::new()
            .wrap(middleware::Compress::default())
            .configure(|config| {
                if plain {
                    default_events(config);
                } else {
                    events(config);
                }
            })
            // A user's own handler around the core.
            .route(
                "/mine",
                web::get().to(move |request: HttpRequest| {
                    let mine = mine.clone();
                    async move {
                        if plain {
                            return a2a_sse_actix::respond(&mine, &request).await;
                        }
                        let head = a2a_sse_actix::ActixHead(&request);
                        a2a_sse_actix::into_response_with(mine.respond(&head).await, probe)
                    }
                }),
            )
            .route(
                "/text",
                web::get().to(|| async { HttpResponse::Ok().body("x".repeat(4096)) }),
            )
    })
    .workers(1)
    .disable_signals()
    .h1_allow_half_closed(detect != Detect::HalfCloseOff)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    Server {
        client: SseClient::new(addr),
        queue,
        service,
        ended,
        handle,
    }
}

impl Server {
    async fn default(detect: Detect) -> Self {
        serve(A2aEventQueue::new(), detect, |b| b).await
    }

    async fn open(&self, path: &str, headers: &[(&str, &str)]) -> StreamReader {
        let response = self.client.get(path, headers).await;
        assert_eq!(response.status, 200, "{path}");
        response.into_stream()
    }

    fn publish(&self, event: NewEvent) -> EventId {
        self.queue.publish(event).unwrap()
    }

    fn ended(&self) -> Vec<DisconnectInfo> {
        self.ended.lock().unwrap().clone()
    }

    async fn stop(self) {
        self.handle.stop(false).await;
    }
}

fn plan(name: &str) -> PlanId {
    PlanId::new(name).unwrap()
}

fn status(plan_name: &str, state: TaskState) -> NewEvent {
    let update = TaskStatusUpdateEvent {
        task_id: plan_name.into(),
        context_id: "ctx-1".into(),
        status: state.into(),
        metadata: None,
    };
    NewEvent::new(plan(plan_name), EventPayload::StatusUpdate(update))
}

fn error_event(plan_name: &str, size: usize) -> NewEvent {
    let payload = ErrorPayload {
        code: 1,
        message: "x".repeat(size),
        data: None,
    };
    NewEvent::new(plan(plan_name), EventPayload::Error(payload))
}

/// The core's frame of each retained event, in order.
async fn frames(queue: &A2aEventQueue) -> Vec<String> {
    let mut replay = queue
        .subscribe(SubscribeRequest::all().after(EventId::new(0)))
        .unwrap();
    let mut out = Vec::new();
    for _ in 0..queue.last_event_id().map_or(0, EventId::get) {
        let Some(SubscriptionItem::Event(event)) = replay.next().await else {
            panic!("replay ended early");
        };
        out.push(String::from_utf8(a2a_sse_core::event_frame(&event).to_vec()).unwrap());
    }
    out
}

/// `raw` without the probe lines, which only ever stand between whole frames.
fn without_probes(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw)
        .split_inclusive('\n')
        .filter(|line| *line != ":\n")
        .collect()
}

async fn next(stream: &mut StreamReader) -> Event {
    match stream.next_event(WAIT).await {
        Next::Event(event) => event,
        other => panic!("expected an event, got {other:?}"),
    }
}

fn ids(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.id.as_str()).collect()
}

/// Polls `done` until it holds; returns how long that took, or `None` after `limit`.
async fn within(limit: Duration, mut done: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    done().then(|| start.elapsed())
}

async fn streams_exact_frames(detect: Detect) {
    let server = Server::default(detect).await;
    let response = server
        .client
        .get("/a2a/events", &[("accept-encoding", "gzip")])
        .await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("text/event-stream"));
    assert_eq!(response.header("cache-control"), Some("no-cache"));
    assert_eq!(response.header("x-accel-buffering"), Some("no"));
    // Compress wraps the app and the client accepts gzip: the stream stays plain.
    assert_eq!(response.header("content-encoding"), Some("identity"));
    let mut stream = response.into_stream();
    assert!(stream.pump(Duration::from_millis(50)).await > 0 || !stream.raw().is_empty());
    assert!(
        stream.raw().starts_with(PREAMBLE.as_bytes()),
        "{:?}",
        stream.raw()
    );
    assert_eq!(stream.retry(), Some(3000));

    server.publish(status("plan-a", TaskState::Working));
    server.publish(error_event("plan-b", 10));
    let events = stream.events(2, WAIT).await;
    assert_eq!(ids(&events), ["1", "2"]);
    assert_eq!(events[0].event, "status-update");
    assert_eq!(events[1].event, "error");
    let json: serde_json::Value = serde_json::from_str(&events[0].data).unwrap();
    assert_eq!(json["planId"], "plan-a");
    assert_eq!(json["data"]["status"]["state"], "TASK_STATE_WORKING");

    let expected = format!("{PREAMBLE}{}", frames(&server.queue).await.concat());
    assert_eq!(without_probes(stream.raw()), expected);
    server.stop().await;
}

#[actix_web::test]
async fn streams_exact_frames_with_half_close_off() {
    streams_exact_frames(Detect::HalfCloseOff).await;
}

#[actix_web::test]
async fn streams_exact_frames_with_the_probe() {
    streams_exact_frames(Detect::Probe).await;
}

#[actix_web::test]
async fn compress_still_compresses_other_routes() {
    // The control for the test above: the middleware is really active.
    let server = Server::default(Detect::HalfCloseOff).await;
    let response = server
        .client
        .get("/text", &[("accept-encoding", "gzip")])
        .await;
    assert_eq!(response.header("content-encoding"), Some("gzip"));
    server.stop().await;
}

#[actix_web::test]
async fn filters_by_plan() {
    let server = Server::default(Detect::HalfCloseOff).await;
    let mut stream = server.open("/a2a/events?plan_id=plan-a", &[]).await;
    server.publish(status("plan-b", TaskState::Working));
    server.publish(status("plan-a", TaskState::Working));
    server.publish(status("plan-b", TaskState::Completed));
    server.publish(status("plan-a", TaskState::InputRequired));
    let events = stream.events(2, WAIT).await;
    assert_eq!(ids(&events), ["2", "4"]);
    assert!(
        events
            .iter()
            .all(|e| e.data.contains(r#""planId":"plan-a""#))
    );
    server.stop().await;
}

#[actix_web::test]
async fn sends_keep_alive_comments_when_idle() {
    let server = serve(A2aEventQueue::new(), Detect::HalfCloseOff, |b| {
        b.keep_alive(Duration::from_millis(100))
    })
    .await;
    let mut stream = server.open("/a2a/events", &[]).await;
    let pinged = async {
        while !stream.comments().iter().any(|c| c == " ping") {
            stream.pump(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(WAIT, pinged).await.expect("a ping");
    assert!(stream.raw().starts_with(PREAMBLE.as_bytes()));
    assert!(stream.raw()[PREAMBLE.len()..].starts_with(b": ping\n\n"));
    // Comments are not events.
    server.publish(status("plan-a", TaskState::Working));
    assert_eq!(next(&mut stream).await.id, "1");
    server.stop().await;
}

#[actix_web::test]
async fn resumes_after_last_event_id_without_gap_or_duplicate() {
    let server = Server::default(Detect::HalfCloseOff).await;
    for _ in 0..3 {
        server.publish(status("plan-a", TaskState::Working));
    }
    let mut by_header = server.open("/a2a/events", &[("last-event-id", "1")]).await;
    let mut by_query = server.open("/a2a/events?last_event_id=2", &[]).await;
    // The header wins over the parameter.
    let mut both = server
        .open("/a2a/events?last_event_id=3", &[("last-event-id", "1")])
        .await;
    server.publish(status("plan-a", TaskState::Working));
    assert_eq!(ids(&by_header.events(3, WAIT).await), ["2", "3", "4"]);
    assert_eq!(ids(&by_query.events(2, WAIT).await), ["3", "4"]);
    assert_eq!(ids(&both.events(3, WAIT).await), ["2", "3", "4"]);
    server.stop().await;
}

#[actix_web::test]
async fn announces_a_reset_when_history_is_too_short() {
    let config = QueueConfig {
        history_events: 2,
        ..QueueConfig::default()
    };
    let server = serve(
        A2aEventQueue::with_config(config).unwrap(),
        Detect::HalfCloseOff,
        |b| b,
    )
    .await;
    for _ in 0..5 {
        server.publish(status("plan-a", TaskState::Working));
    }
    let mut stream = server.open("/a2a/events", &[("last-event-id", "1")]).await;
    let reset = next(&mut stream).await;
    assert_eq!(reset.event, "reset");
    let data: serde_json::Value = serde_json::from_str(&reset.data).unwrap();
    assert_eq!(data["requestedId"], "1");
    assert_eq!(data["oldestRetainedId"], "4");
    assert_eq!(ids(&stream.events(2, WAIT).await), ["4", "5"]);
    server.stop().await;
}

#[actix_web::test]
async fn a_slow_client_gets_lagged_then_the_end() {
    let server = serve(A2aEventQueue::new(), Detect::HalfCloseOff, |b| {
        b.buffer(BufferLimits {
            events: 2,
            bytes: 1 << 20,
        })
    })
    .await;
    let mut stream = server.open("/a2a/events", &[]).await;
    // The client reads nothing meanwhile, so the sockets fill up and the server stops
    // taking events: far more bytes than any socket buffer overflow the tiny buffer.
    for _ in 0..600 {
        server.publish(error_event("plan-a", 64 * 1024));
    }
    let mut events = Vec::new();
    loop {
        match stream.next_event(WAIT).await {
            Next::Event(event) => events.push(event),
            Next::End => break,
            Next::Timeout => panic!("no end after {} events", events.len()),
        }
    }
    let (lagged, delivered) = events.split_last().unwrap();
    assert_eq!(lagged.event, "lagged");
    assert!(delivered.len() < 600);
    for (expected, event) in (1..).zip(delivered) {
        assert_eq!(event.id, expected.to_string());
    }
    let data: serde_json::Value = serde_json::from_str(&lagged.data).unwrap();
    let last = delivered.last().map(|e| e.id.as_str());
    assert_eq!(data["lastEventId"].as_str(), last);
    within(WAIT, || server.ended().len() == 1).await.unwrap();
    assert_eq!(server.ended()[0].reason, DisconnectReason::Lagged);
    server.stop().await;
}

#[actix_web::test]
async fn a_finished_plan_ends_its_stream_and_then_answers_204() {
    let server = Server::default(Detect::HalfCloseOff).await;
    let mut stream = server.open("/a2a/events?plan_id=plan-a", &[]).await;
    server.publish(status("plan-a", TaskState::Working));
    let done = server.publish(status("plan-a", TaskState::Completed));
    assert_eq!(ids(&stream.events(2, WAIT).await), ["1", "2"]);
    assert!(stream.wait_end(WAIT).await);

    let done = done.to_string();
    let again = server
        .client
        .get("/a2a/events?plan_id=plan-a", &[("last-event-id", &done)])
        .await;
    assert_eq!(again.status, 204);
    assert_eq!(again.text().await, "");
    within(WAIT, || server.ended().len() == 1).await.unwrap();
    assert_eq!(server.ended()[0].reason, DisconnectReason::Finished);
    server.stop().await;
}

/// Opens an idle stream (nothing published, a keep-alive far away) and closes the client.
async fn open_and_close(detect: Detect) -> Server {
    let server = serve(A2aEventQueue::new(), detect, |b| {
        b.keep_alive(Duration::from_secs(60))
    })
    .await;
    let mut stream = server.open("/a2a/events?plan_id=plan-a", &[]).await;
    stream.pump(Duration::from_millis(20)).await;
    assert!(stream.raw().starts_with(PREAMBLE.as_bytes()));
    assert_eq!(server.queue.subscriber_count(), 1);
    assert_eq!(server.service.open_streams(), 1);
    stream.close();
    server
}

/// The stream is gone, reported once as `ClientGone`.
async fn assert_ended_once_as_client_gone(server: &Server) {
    within(WAIT, || !server.ended().is_empty()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let ended = server.ended();
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert_eq!(ended[0].reason, DisconnectReason::ClientGone);
    assert_eq!(ended[0].plan.as_ref().map(PlanId::as_str), Some("plan-a"));
    assert_eq!(server.service.open_streams(), 0);
}

async fn drops_the_stream_when_the_client_goes(detect: Detect) -> Duration {
    let server = open_and_close(detect).await;
    // Nothing is published: only the server can notice.
    let gone = within(WAIT, || server.queue.subscriber_count() == 0).await;
    let gone = gone.expect("the subscription outlived the client");
    assert!(gone < Duration::from_secs(1), "took {gone:?}");
    assert_ended_once_as_client_gone(&server).await;
    server.stop().await;
    gone
}

#[actix_web::test]
async fn half_close_off_drops_a_closed_clients_stream_at_once() {
    let took = drops_the_stream_when_the_client_goes(Detect::HalfCloseOff).await;
    eprintln!("h1_allow_half_closed(false): subscriber count 0 after {took:?}");
}

#[actix_web::test]
async fn the_probe_drops_a_closed_clients_stream_within_a_second() {
    let took = drops_the_stream_when_the_client_goes(Detect::Probe).await;
    eprintln!("probe: subscriber count 0 after {took:?}");
}

#[actix_web::test]
async fn with_half_close_allowed_and_no_probe_only_writes_find_a_closed_client() {
    // The control for the two tests above: the gap they close is real.
    let server = open_and_close(Detect::Nothing).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(server.queue.subscriber_count(), 1);
    assert!(server.ended().is_empty());
    // A write after the close draws a reset; a later one fails and drops the stream.
    let gone = within(WAIT, || {
        server.publish(status("plan-a", TaskState::Working));
        server.queue.subscriber_count() == 0
    })
    .await;
    gone.expect("writes never found the closed client");
    assert_ended_once_as_client_gone(&server).await;
    server.stop().await;
}

#[actix_web::test]
async fn an_idle_stream_without_the_probe_carries_nothing() {
    let server = Server::default(Detect::HalfCloseOff).await;
    let mut stream = server.open("/a2a/events", &[]).await;
    stream.pump(PROBE_INTERVAL * 3).await;
    assert_eq!(stream.raw(), PREAMBLE.as_bytes());
    server.publish(status("plan-a", TaskState::Working));
    assert_eq!(next(&mut stream).await.id, "1");
    server.stop().await;
}

#[actix_web::test]
async fn an_idle_probed_stream_carries_only_comments() {
    let server = Server::default(Detect::Probe).await;
    let mut stream = server.open("/a2a/events", &[]).await;
    let probed = async {
        while !stream.comments().iter().any(String::is_empty) {
            stream.pump(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(WAIT, probed).await.expect("a probe");
    assert!(
        stream
            .raw()
            .starts_with(format!("{PREAMBLE}:\n").as_bytes())
    );
    server.publish(status("plan-a", TaskState::Working));
    assert_eq!(next(&mut stream).await.id, "1");
    server.stop().await;
}

#[actix_web::test]
async fn refuses_bad_requests_with_json_errors_and_keeps_serving() {
    let server = Server::default(Detect::HalfCloseOff).await;
    let cases = [
        (
            "GET",
            "/a2a/events?plan_id=no%20spaces",
            None,
            400,
            "invalid_plan_id",
        ),
        (
            "GET",
            "/a2a/events",
            Some("abc"),
            400,
            "invalid_last_event_id",
        ),
        ("POST", "/a2a/events", None, 405, "method_not_allowed"),
    ];
    for (method, path, last_event_id, status, code) in cases {
        let headers: Vec<(&str, &str)> = last_event_id
            .map(|id| ("last-event-id", id))
            .into_iter()
            .collect();
        let response = server
            .client
            .request(method, path, &headers, Vec::new())
            .await;
        assert_eq!(response.status, status, "{method} {path}");
        assert_eq!(response.header("content-type"), Some("application/json"));
        if status == 405 {
            assert_eq!(response.header("allow"), Some("GET"));
        }
        let body: serde_json::Value = serde_json::from_str(&response.text().await).unwrap();
        assert_eq!(body["error"]["code"], code);
        assert!(body["error"]["message"].is_string());
    }
    assert_eq!(server.queue.subscriber_count(), 0);
    let mut stream = server.open("/a2a/events", &[]).await;
    server.publish(status("plan-a", TaskState::Working));
    assert_eq!(next(&mut stream).await.id, "1");
    server.stop().await;
}

#[actix_web::test]
async fn closing_the_queue_ends_open_streams() {
    let server = Server::default(Detect::HalfCloseOff).await;
    let mut first = server.open("/a2a/events", &[]).await;
    let mut second = server.open("/a2a/events?plan_id=plan-a", &[]).await;
    within(WAIT, || server.queue.subscriber_count() == 2)
        .await
        .unwrap();
    server.queue.close();
    assert!(first.wait_end(WAIT).await);
    assert!(second.wait_end(WAIT).await);
    within(WAIT, || server.ended().len() == 2).await.unwrap();
    assert!(
        server
            .ended()
            .iter()
            .all(|i| i.reason == DisconnectReason::Shutdown)
    );
    let refused = server.client.get("/a2a/events", &[]).await;
    assert_eq!(refused.status, 503);
    server.stop().await;
}

#[actix_web::test]
async fn a_custom_handler_serves_the_same_answers() {
    let server = Server::default(Detect::Probe).await;
    let response = server.client.get("/mine?plan_id=plan-a", &[]).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("text/event-stream"));
    assert_eq!(response.header("content-encoding"), Some("identity"));
    let mut stream = response.into_stream();
    server.publish(status("plan-a", TaskState::Working));
    assert_eq!(next(&mut stream).await.id, "1");

    let refused = server.client.get("/mine?plan_id=a%20b", &[]).await;
    assert_eq!(refused.status, 400);
    let body: serde_json::Value = serde_json::from_str(&refused.text().await).unwrap();
    assert_eq!(body["error"]["code"], "invalid_plan_id");

    // Half-closed connections are allowed here: the handler's probe finds the closed
    // client.
    stream.close();
    let gone = within(WAIT, || server.queue.subscriber_count() == 0).await;
    assert!(gone.expect("the probe dropped the stream") < Duration::from_secs(1));
    server.stop().await;
}
