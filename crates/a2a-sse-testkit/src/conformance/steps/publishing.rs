//! Publishing plan events to the scenario's event engine.

use cucumber::{given, when};

use crate::conformance::params::State;
use crate::conformance::world::ConformanceWorld;

#[given(expr = "plan {string} reports that it is {state}")]
#[when(expr = "plan {string} reports that it is {state}")]
async fn status(world: &mut ConformanceWorld, plan: String, state: State) {
    world.published.status(&plan, state.0).await;
}

#[given(expr = "plan {string} publishes an artifact named {string}")]
#[when(expr = "plan {string} publishes an artifact named {string}")]
async fn artifact(world: &mut ConformanceWorld, plan: String, name: String) {
    let text = format!("contents of {name}");
    world.published.artifact(&plan, &name, &text).await;
}

#[given(expr = "plan {string} publishes {int} progress update(s)")]
#[when(expr = "plan {string} publishes {int} progress update(s)")]
async fn progress(world: &mut ConformanceWorld, plan: String, count: usize) {
    world.published.progress(&plan, count).await;
}

#[when(expr = "plan {string} keeps publishing {int} progress updates meanwhile")]
fn progress_meanwhile(world: &mut ConformanceWorld, plan: String, count: usize) {
    world.published.progress_in_background(&plan, count);
}
