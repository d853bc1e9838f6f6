//! Publishing plan events to the scenario's queue.

use cucumber::{given, when};

use crate::params::State;
use crate::world::BddWorld;

#[given(expr = "plan {string} reports that it is {state}")]
#[when(expr = "plan {string} reports that it is {state}")]
fn status(world: &mut BddWorld, plan: String, state: State) {
    world.published.status(&plan, state.0);
}

#[given(expr = "plan {string} publishes an artifact named {string}")]
#[when(expr = "plan {string} publishes an artifact named {string}")]
fn artifact(world: &mut BddWorld, plan: String, name: String) {
    world
        .published
        .artifact(&plan, &name, format!("contents of {name}"));
}

#[given(expr = "plan {string} publishes {int} progress update(s)")]
#[when(expr = "plan {string} publishes {int} progress update(s)")]
fn progress(world: &mut BddWorld, plan: String, count: usize) {
    world.published.progress(&plan, count);
}

#[when(expr = "plan {string} keeps publishing {int} progress updates meanwhile")]
fn progress_meanwhile(world: &mut BddWorld, plan: String, count: usize) {
    world.published.progress_in_background(&plan, count);
}
