//! Resuming with the last event id: replay, history reset, finished plans.

use cucumber::{then, when};

use crate::conformance::world::{ConformanceWorld, ResumeVia};

#[when(expr = "{string} reconnects with the last event id it received")]
async fn reconnect(world: &mut ConformanceWorld, name: String) {
    let last = world
        .client(&name)
        .last_id()
        .expect("an event received")
        .to_owned();
    world.reconnect(&name, &last, ResumeVia::Header).await;
}

#[when(expr = "{string} reconnects with the last event id it received in the address")]
async fn reconnect_in_query(world: &mut ConformanceWorld, name: String) {
    let last = world
        .client(&name)
        .last_id()
        .expect("an event received")
        .to_owned();
    world.reconnect(&name, &last, ResumeVia::Query).await;
}

#[when(expr = "a client {string} resumes plan {string} after event {int}")]
async fn resume_after(world: &mut ConformanceWorld, name: String, plan: String, after: u64) {
    let after = world.published.nth(after).await;
    world.connect_after(&name, &plan, &after).await;
}

#[then(
    expr = "{string} is first told that history was reset: event {int} was asked for and event {int} is the oldest kept"
)]
async fn told_reset(world: &mut ConformanceWorld, name: String, requested: u64, oldest: u64) {
    world.expect_reset(&name, requested, oldest).await;
}

#[then(expr = "{string} then receives events {int} to {int}")]
async fn receives_range(world: &mut ConformanceWorld, name: String, from: u64, to: u64) {
    world.expect_range(&name, from, to).await;
}
