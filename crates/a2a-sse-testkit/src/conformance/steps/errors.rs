//! Requests refused before any stream starts.

use cucumber::{then, when};

use crate::conformance::world::{ConformanceWorld, bearer};

#[when(expr = "a client opens the stream with the query {string}")]
async fn bad_query(world: &mut ConformanceWorld, query: String) {
    world.ask("GET", &query, &[]).await;
}

#[when(expr = "a client opens the stream with the Last-Event-ID {string}")]
async fn bad_header(world: &mut ConformanceWorld, last_event_id: String) {
    world
        .ask("GET", "", &[("last-event-id", &last_event_id)])
        .await;
}

#[when("a client opens the stream without credentials")]
#[when("another client opens the stream")]
async fn no_credentials(world: &mut ConformanceWorld) {
    world.ask("GET", "", &[]).await;
}

#[when(expr = "a client opens the stream with the bearer token {string}")]
async fn with_token(world: &mut ConformanceWorld, token: String) {
    let authorization = bearer(&token);
    world
        .ask("GET", "", &[("authorization", &authorization)])
        .await;
}

#[when(expr = "a client sends a {word} request to the stream")]
async fn other_method(world: &mut ConformanceWorld, method: String) {
    world.ask(&method, "", &[]).await;
}

#[then(expr = "the server answers {int} with the error code {string}")]
fn error_answer(world: &mut ConformanceWorld, status: u16, code: String) {
    world.expect_error(status, &code);
}

#[then(expr = "the answer says that only {word} is allowed")]
fn allow(world: &mut ConformanceWorld, method: String) {
    let answer = world.answer.as_ref().expect("an answer");
    assert_eq!(answer.header("allow"), Some(method.as_str()), "{answer:?}");
}

#[then(expr = "the answer says to retry after {int} second(s)")]
fn retry_after(world: &mut ConformanceWorld, seconds: u32) {
    let answer = world.answer.as_ref().expect("an answer");
    let expected = seconds.to_string();
    assert_eq!(
        answer.header("retry-after"),
        Some(expected.as_str()),
        "{answer:?}"
    );
}
