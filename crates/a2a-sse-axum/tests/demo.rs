//! The demo's routes, mounted by this adapter, served over real HTTP: the page, the stream, and publishing
//! with its `202`/`400`/`409` answers.

use std::sync::Arc;
use std::time::Duration;

use a2a_sse_axum::{A2aEventQueue, EventBackend};
use a2a_sse_demo::DemoArgs;
use a2a_sse_testkit::{Next, Response, SseClient};
use clap::Parser;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(10);
const WORKING: &str = r#"{"kind":"status-update","data":{"taskId":"plan-x","contextId":"ctx","status":{"state":"TASK_STATE_WORKING"}}}"#;
const COMPLETED: &str = r#"{"kind":"status-update","data":{"taskId":"plan-x","contextId":"ctx","status":{"state":"TASK_STATE_COMPLETED"}}}"#;

async fn serve_demo(queue: &A2aEventQueue) -> SseClient {
    let args = DemoArgs::parse_from(["demo", "--addr", "127.0.0.1:0", "--no-simulate"]);
    let listener = tokio::net::TcpListener::bind(args.addr).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let backend: Arc<dyn EventBackend> = Arc::new(queue.clone());
    let service = args.service(Arc::clone(&backend)).build().unwrap();
    let app = a2a_sse_axum::routes(service);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    SseClient::new(addr)
}

async fn json(response: Response, status: u16) -> Value {
    assert_eq!(response.status, status);
    assert_eq!(response.header("content-type"), Some("application/json"));
    serde_json::from_str(&response.text().await).unwrap()
}

#[tokio::test]
async fn serves_the_page() {
    let client = serve_demo(&A2aEventQueue::new()).await;
    let page = client.get("/", &[]).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = page.text().await;
    assert_eq!(html, a2a_sse_demo::INDEX_HTML);
    assert!(html.contains("new EventSource("));
    assert_eq!(client.get("/nothing/here", &[]).await.status, 404);
}

#[tokio::test]
async fn publishing_reaches_open_streams() {
    let queue = A2aEventQueue::new();
    let client = serve_demo(&queue).await;
    let response = client.get("/a2a/events?plan_id=plan-x", &[]).await;
    assert_eq!(response.header("content-type"), Some("text/event-stream"));
    let mut stream = response.into_stream();

    let accepted = client.post_json("/a2a/plans/plan-x/events", WORKING).await;
    assert_eq!(json(accepted, 202).await, serde_json::json!({"id": "1"}));
    let Next::Event(event) = stream.next_event(WAIT).await else {
        panic!("no event");
    };
    assert_eq!(
        (event.id.as_str(), event.event.as_str()),
        ("1", "status-update")
    );
    let data: Value = serde_json::from_str(&event.data).unwrap();
    assert_eq!(data["planId"], "plan-x");
    assert_eq!(data["data"]["status"]["state"], "TASK_STATE_WORKING");
}

#[tokio::test]
async fn bad_publishes_get_json_errors() {
    let queue = A2aEventQueue::new();
    let client = serve_demo(&queue).await;
    let cases = [
        ("/a2a/plans/plan-x/events", "{", 400, "invalid_body"),
        (
            "/a2a/plans/plan-x/events",
            r#"{"kind":"nope","data":{}}"#,
            400,
            "invalid_body",
        ),
        ("/a2a/plans/a%20b/events", WORKING, 400, "invalid_plan_id"),
        ("/a2a/plans/%FF/events", WORKING, 400, "invalid_plan_id"),
    ];
    for (path, body, status, code) in cases {
        let answer = json(client.post_json(path, body).await, status).await;
        assert_eq!(answer["error"]["code"], code, "POST {path} {body}");
    }
    assert_eq!(queue.last_event_id(), None);

    let done = client
        .post_json("/a2a/plans/plan-x/events", COMPLETED)
        .await;
    assert_eq!(json(done, 202).await["id"], "1");
    let late = client.post_json("/a2a/plans/plan-x/events", WORKING).await;
    assert_eq!(json(late, 409).await["error"]["code"], "plan_finished");
}
