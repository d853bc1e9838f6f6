//! Keep-alive comments on idle streams.

use std::time::Duration;

use cucumber::then;

use crate::conformance::world::ConformanceWorld;

#[then(expr = "{string} receives {int} keep-alive comments, one every {int} milliseconds")]
async fn keep_alives(world: &mut ConformanceWorld, name: String, times: usize, millis: u64) {
    let every = Duration::from_millis(millis);
    world.expect_keep_alives(&name, every, times).await;
}
