//! Graceful shutdown.

use std::time::Duration;

use cucumber::{then, when};

use crate::conformance::world::ConformanceWorld;

#[when("the event queue closes and the server shuts down gracefully")]
fn shut_down(world: &mut ConformanceWorld) {
    world.shut_down();
}

#[then("the stream of every client ends")]
async fn every_stream_ends(world: &mut ConformanceWorld) {
    let names: Vec<String> = world.clients.keys().cloned().collect();
    for name in names {
        world.expect_end(&name).await;
    }
}

#[then(expr = "the server has stopped within {int} seconds")]
async fn stopped(world: &mut ConformanceWorld, seconds: u64) {
    let limit = Duration::from_secs(seconds);
    let took = world.stopped_within(limit).await;
    assert!(took.is_some(), "the server did not stop within {limit:?}");
}
