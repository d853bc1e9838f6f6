//! Starting the scenario's server, with the configuration it needs.

use std::time::Duration;

use cucumber::given;

use crate::world::{BddWorld, Settings};

#[given("an event server")]
async fn default_server(world: &mut BddWorld) {
    world.start(Settings::default()).await;
}

#[given(expr = "an event server that sends keep-alives every {int} milliseconds")]
async fn keep_alive_server(world: &mut BddWorld, millis: u64) {
    let keep_alive = Some(Duration::from_millis(millis));
    world
        .start(Settings {
            keep_alive,
            ..Settings::default()
        })
        .await;
}

#[given(expr = "an event server that retains only {int} events")]
async fn small_history_server(world: &mut BddWorld, events: usize) {
    let history_events = Some(events);
    world
        .start(Settings {
            history_events,
            ..Settings::default()
        })
        .await;
}

#[given(expr = "an event server that buffers at most {int} events per client")]
async fn small_buffer_server(world: &mut BddWorld, events: usize) {
    let buffer_events = Some(events);
    world
        .start(Settings {
            buffer_events,
            ..Settings::default()
        })
        .await;
}

#[given(expr = "an event server that admits only the bearer token {string}")]
async fn token_server(world: &mut BddWorld, token: String) {
    let bearer_token = Some(token);
    world
        .start(Settings {
            bearer_token,
            ..Settings::default()
        })
        .await;
}

#[given(expr = "an event server that serves at most {int} stream(s) at once")]
async fn limited_server(world: &mut BddWorld, streams: usize) {
    let max_streams = Some(streams);
    world
        .start(Settings {
            max_streams,
            ..Settings::default()
        })
        .await;
}
