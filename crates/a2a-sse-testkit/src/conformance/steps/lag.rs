//! Slow consumers.

use cucumber::{given, then, when};

use crate::conformance::world::{ConformanceWorld, ResumeVia};

#[given(expr = "a client {string} watching plan {string} that stops reading")]
async fn slow_client(world: &mut ConformanceWorld, name: String, plan: String) {
    world.connect(&name, Some(&plan)).await;
    world.client(&name).reads = false;
}

#[when(
    expr = "plan {string} publishes large updates until {string} falls behind, while the others keep up"
)]
async fn until_behind(world: &mut ConformanceWorld, plan: String, slow: String) {
    world.publish_until_behind(&plan, &slow).await;
}

#[then(expr = "{string} reads what it was sent, then a notice that it lagged after the last of it")]
async fn lagged(world: &mut ConformanceWorld, name: String) {
    world.expect_lagged(&name).await;
}

#[when(expr = "{string} reconnects after the event named in its lagged notice")]
async fn reconnect_after_lag(world: &mut ConformanceWorld, name: String) {
    world.expect_lagged(&name).await;
    let after = world.lagged_at(&name);
    world.reconnect(&name, &after, ResumeVia::Header).await;
}
