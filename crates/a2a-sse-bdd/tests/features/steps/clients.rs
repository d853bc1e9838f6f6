//! Clients connecting to the stream.

use cucumber::{given, when};

use crate::world::BddWorld;

#[given(expr = "a client {string} watching all plans")]
#[when(expr = "a client {string} watches all plans")]
async fn watch_all(world: &mut BddWorld, name: String) {
    world.connect(&name, None).await;
}

#[given(expr = "a client {string} watching plan {string}")]
#[when(expr = "a client {string} watches plan {string}")]
async fn watch_plan(world: &mut BddWorld, name: String, plan: String) {
    world.connect(&name, Some(&plan)).await;
}

#[given(expr = "a client {string} with the bearer token {string} watching plan {string}")]
async fn watch_plan_with_token(world: &mut BddWorld, name: String, token: String, plan: String) {
    world.connect_with_token(&name, &plan, &token).await;
}
