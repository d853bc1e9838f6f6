//! Clients connecting to the stream.

use cucumber::{given, when};

use crate::conformance::world::ConformanceWorld;

#[given(expr = "a client {string} watching all plans")]
#[when(expr = "a client {string} watches all plans")]
async fn watch_all(world: &mut ConformanceWorld, name: String) {
    world.connect(&name, None).await;
}

#[given(expr = "a client {string} watching plan {string}")]
#[when(expr = "a client {string} watches plan {string}")]
async fn watch_plan(world: &mut ConformanceWorld, name: String, plan: String) {
    world.connect(&name, Some(&plan)).await;
}

#[given(expr = "a client {string} with the bearer token {string} watching plan {string}")]
async fn watch_plan_with_token(
    world: &mut ConformanceWorld,
    name: String,
    token: String,
    plan: String,
) {
    world.connect_with_token(&name, &plan, &token).await;
}
