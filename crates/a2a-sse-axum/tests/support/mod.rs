//! Helpers of the HTTP tests: servers on loopback, events with known JSON, their exact
//! frames, stream reading with generous deadlines, and a disconnect-hook recorder.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use a2a_events::{NewEvent, PlanId};
use a2a_sse_axum::{A2aEventQueue, DisconnectInfo, SseServiceBuilder, TokioTimer, router};
use a2a_sse_testkit::{Response, SseClient, StreamReader};
use axum::Router;
use serde_json::Value;

/// Long enough for a loaded machine; only reached when a test fails.
pub(crate) const WAIT: Duration = Duration::from_secs(10);
pub(crate) const TIMESTAMP: &str = "2026-11-24T10:00:00.000Z";
pub(crate) const PREAMBLE: &str = "retry: 3000\n: a2a-sse stream open\n\n";

pub(crate) async fn serve(app: Router) -> SseClient {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    SseClient::new(addr)
}

/// Serves `router(service)` alone.
pub(crate) async fn serve_service(builder: SseServiceBuilder<TokioTimer>) -> SseClient {
    serve(router(builder.build())).await
}

pub(crate) fn status(plan: &str, state: &str) -> NewEvent {
    let body = format!(
        r#"{{"kind":"status-update","timestamp":"{TIMESTAMP}","data":{{"taskId":"{plan}","contextId":"ctx-1","status":{{"state":"TASK_STATE_{state}"}}}}}}"#
    );
    NewEvent::from_publish_body(PlanId::new(plan).unwrap(), body.as_bytes()).unwrap()
}

pub(crate) fn publish(queue: &A2aEventQueue, plan: &str, state: &str) -> u64 {
    queue.publish(status(plan, state)).unwrap().get()
}

/// The exact frame of event `id` made by [`status`].
pub(crate) fn frame(id: u64, plan: &str, state: &str) -> String {
    format!(
        "id: {id}\nevent: status-update\ndata: {{\"id\":\"{id}\",\"planId\":\"{plan}\",\"kind\":\"status-update\",\"timestamp\":\"{TIMESTAMP}\",\"data\":{{\"taskId\":\"{plan}\",\"contextId\":\"ctx-1\",\"status\":{{\"state\":\"TASK_STATE_{state}\"}}}}}}\n\n"
    )
}

pub(crate) async fn open(client: &SseClient, path: &str, headers: &[(&str, &str)]) -> StreamReader {
    let response = client.get(path, headers).await;
    assert_eq!(response.status, 200, "GET {path}");
    response.into_stream()
}

/// Ids of the next `count` events, failing if they do not come.
pub(crate) async fn ids(stream: &mut StreamReader, count: usize) -> Vec<u64> {
    let events = stream.events(count, WAIT).await;
    assert_eq!(events.len(), count, "events in time: {events:?}");
    events.iter().map(|e| e.id.parse().unwrap()).collect()
}

pub(crate) async fn assert_error(response: Response, status: u16, code: &str) {
    assert_eq!(response.status, status);
    assert_eq!(response.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_str(&response.text().await).unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
}

pub(crate) type Ended = Arc<Mutex<Vec<DisconnectInfo>>>;

pub(crate) fn recording(
    builder: SseServiceBuilder<TokioTimer>,
) -> (SseServiceBuilder<TokioTimer>, Ended) {
    let ended = Ended::default();
    let sink = Arc::clone(&ended);
    let builder = builder.on_disconnect(move |info| sink.lock().unwrap().push(info.clone()));
    (builder, ended)
}

pub(crate) async fn wait_until(
    what: &str,
    limit: Duration,
    mut done: impl FnMut() -> bool,
) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    start.elapsed()
}
