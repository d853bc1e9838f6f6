//! The demo's routes, mounted by this adapter, over real HTTP: the page, the publish
//! endpoint (202 with the id, 400 with the JSON error shape) and the stream they feed.

use std::sync::Arc;
use std::time::Duration;

use a2a_sse_actix::{A2aEventQueue, EventBackend};
use a2a_sse_demo::DemoArgs;
use a2a_sse_testkit::{Next, SseClient};
use actix_web::{App, HttpServer};
use clap::Parser;

const WAIT: Duration = Duration::from_secs(5);
const WORKING: &str = r#"{"kind":"status-update","data":{"taskId":"plan-x","contextId":"ctx","status":{"state":"TASK_STATE_WORKING"}}}"#;

#[actix_web::test]
async fn serves_the_page_publishes_and_streams() {
    let queue = A2aEventQueue::new();
    let args = DemoArgs::parse_from(["demo", "--no-simulate"]);
    let backend: Arc<dyn EventBackend> = Arc::new(queue.clone());
    let app = a2a_sse_actix::routes(args.service(backend).build().unwrap());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let client = SseClient::new(listener.local_addr().unwrap());
    let server = HttpServer::new(move || App::new().configure(app.clone()))
        .workers(1)
        .disable_signals()
        .h1_allow_half_closed(false)
        .listen(listener)
        .unwrap()
        .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);

    let page = client.get("/", &[]).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.text().await, a2a_sse_demo::INDEX_HTML);

    let mut stream = client
        .get("/a2a/events?plan_id=plan-x", &[])
        .await
        .into_stream();
    let accepted = client.post_json("/a2a/plans/plan-x/events", WORKING).await;
    assert_eq!(accepted.status, 202);
    assert_eq!(accepted.header("content-type"), Some("application/json"));
    assert_eq!(accepted.text().await, r#"{"id":"1"}"#);
    let Next::Event(event) = stream.next_event(WAIT).await else {
        panic!("the published event did not arrive");
    };
    assert_eq!(
        (event.id.as_str(), event.event.as_str()),
        ("1", "status-update")
    );

    for (path, body, code) in [
        ("/a2a/plans/plan-x/events", "{not json", "invalid_body"),
        (
            "/a2a/plans/plan-x/events",
            r#"{"kind":"nonsense","data":{}}"#,
            "invalid_body",
        ),
        ("/a2a/plans/bad%20plan/events", WORKING, "invalid_plan_id"),
    ] {
        let refused = client.post_json(path, body).await;
        assert_eq!(refused.status, 400, "{path} {body}");
        let json: serde_json::Value = serde_json::from_str(&refused.text().await).unwrap();
        assert_eq!(json["error"]["code"], code, "{path} {body}");
    }
    assert_eq!(queue.last_event_id().map(|id| id.sequence()), Some(1));
    handle.stop(false).await;
}
