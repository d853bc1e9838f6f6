//! Starting the scenario's server, with the configuration it needs.

use std::time::Duration;

use cucumber::given;

use crate::conformance::world::{ConformanceWorld, Settings};

/// Starts the server with the default settings changed by `configure`.
async fn start_with(world: &mut ConformanceWorld, configure: impl FnOnce(&mut Settings)) {
    let mut settings = Settings::default();
    configure(&mut settings);
    world.start(settings).await;
}

#[given("an event server")]
async fn default_server(world: &mut ConformanceWorld) {
    world.start(Settings::default()).await;
}

#[given(expr = "an event server that sends keep-alives every {int} milliseconds")]
async fn keep_alive_server(world: &mut ConformanceWorld, millis: u64) {
    start_with(world, |s| {
        s.keep_alive = Some(Duration::from_millis(millis))
    })
    .await;
}

#[given(expr = "an event server that retains only {int} events")]
async fn small_history_server(world: &mut ConformanceWorld, events: usize) {
    start_with(world, |s| s.history_events = Some(events)).await;
}

#[given(expr = "an event server that buffers at most {int} events per client")]
async fn small_buffer_server(world: &mut ConformanceWorld, events: usize) {
    start_with(world, |s| s.buffer_events = Some(events)).await;
}

#[given(expr = "an event server that admits only the bearer token {string}")]
async fn token_server(world: &mut ConformanceWorld, token: String) {
    start_with(world, |s| s.bearer_token = Some(token)).await;
}

#[given(expr = "an event server that serves at most {int} stream(s) at once")]
async fn limited_server(world: &mut ConformanceWorld, streams: usize) {
    start_with(world, |s| s.max_streams = Some(streams)).await;
}
