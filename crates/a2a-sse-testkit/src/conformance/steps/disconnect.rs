//! Clients going away, and what the server sees of it.

use cucumber::{given, then, when};

use crate::conformance::params::Reason;
use crate::conformance::world::ConformanceWorld;

#[when(expr = "{string} disconnects")]
fn disconnect(world: &mut ConformanceWorld, name: String) {
    world.client(&name).disconnect();
}

#[given(expr = "the server counts {int} open stream(s)")]
#[then(expr = "the server counts {int} open stream(s)")]
async fn open_streams(world: &mut ConformanceWorld, count: usize) {
    world.expect_open_streams(count).await;
}

#[then(expr = "the server reports {int} stream(s) closed because {reason}")]
async fn closed_because(world: &mut ConformanceWorld, count: usize, reason: Reason) {
    world.expect_disconnects(count, reason.0).await;
}
