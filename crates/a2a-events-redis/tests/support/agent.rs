//! Agent replicas as real processes: the demos on a test's `redis-server`, and JSON calls
//! to their A2A routes.

use a2a_sse_testkit::SseClient;
use a2a_sse_testkit::demo_process::{DemoProcess, build_example};
use serde_json::Value;

use super::RedisServer;

/// The header every A2A request carries.
pub const V1: (&str, &str) = ("a2a-version", "1.0");

/// A demo replica on `redis` (the actix-web demo when `actix`, else the axum one), without
/// the simulator, with `extra` flags.
pub fn replica(redis: &RedisServer, actix: bool, extra: &[&str]) -> DemoProcess {
    let path = if actix {
        build_example("a2a-sse-actix", "actix-demo")
    } else {
        build_example("a2a-sse-axum", "demo")
    };
    let url = redis.url();
    let mut args = vec!["--no-simulate", "--redis", url.as_str()];
    args.extend_from_slice(extra);
    DemoProcess::start(&path, &args)
}

/// A JSON request to `path`, answered as JSON (any status below 500).
pub async fn call(client: &SseClient, method: &str, path: &str, body: Option<Value>) -> Value {
    let headers = [V1, ("content-type", "application/json")];
    let body = body
        .map(|body| body.to_string().into_bytes())
        .unwrap_or_default();
    let response = client.request(method, path, &headers, body).await;
    let status = response.status;
    let text = response.text().await;
    assert!(status < 500, "{method} {path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: {e}: {text}"))
}
