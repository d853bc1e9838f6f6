//! What a connected client receives.

use cucumber::{given, then};

use crate::conformance::world::ConformanceWorld;

#[then(expr = "{string} is answered with an event stream that is neither cached nor buffered")]
fn stream_headers(world: &mut ConformanceWorld, name: String) {
    world.expect_stream_headers(&name);
}

#[then(expr = "{string} is told to wait {int} milliseconds before reconnecting")]
async fn retry(world: &mut ConformanceWorld, name: String, millis: u64) {
    assert_eq!(world.client(&name).retry().await, Some(millis));
}

#[then(expr = "{string} has received every event exactly once, in order")]
async fn every_event(world: &mut ConformanceWorld, name: String) {
    world.expect_every_event(&name, None).await;
}

#[given(expr = "{string} has received every event of plan {string} exactly once, in order")]
#[then(expr = "{string} has received every event of plan {string} exactly once, in order")]
async fn every_plan_event(world: &mut ConformanceWorld, name: String, plan: String) {
    world.expect_every_event(&name, Some(&plan)).await;
}

#[then(expr = "{string} received a status update of plan {string} in state {string}")]
async fn status_update(world: &mut ConformanceWorld, name: String, plan: String, state: String) {
    let check = |data: &serde_json::Value| data["status"]["state"] == state.as_str();
    world
        .expect_event(&name, "status-update", &plan, check)
        .await;
}

#[then(expr = "{string} received an artifact update of plan {string} named {string}")]
async fn artifact_update(
    world: &mut ConformanceWorld,
    name: String,
    plan: String,
    artifact: String,
) {
    let check = |data: &serde_json::Value| data["artifact"]["name"] == artifact.as_str();
    world
        .expect_event(&name, "artifact-update", &plan, check)
        .await;
}

#[then(expr = "the stream of {string} ends")]
async fn stream_ends(world: &mut ConformanceWorld, name: String) {
    world.expect_end(&name).await;
}

#[then(expr = "{string} is answered {int} with no stream")]
fn answered_without_stream(world: &mut ConformanceWorld, name: String, status: u16) {
    let answer = &world.client(&name).answer;
    assert_eq!(answer.status, status, "{answer:?}");
    assert_eq!(answer.body, "", "{answer:?}");
}
