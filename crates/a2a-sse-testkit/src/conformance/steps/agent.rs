//! The agent surface: SendMessage, SendStreamingMessage, CancelTask and ListTasks, over
//! either binding, to the scenario's scripted agent.

use cucumber::gherkin::Step;
use cucumber::{given, then, when};
use serde_json::json;

use crate::conformance::a2a::Binding;
use crate::conformance::agent::state_name;
use crate::conformance::params::{A2aError, List, State};
use crate::conformance::world::ConformanceWorld;

#[given(expr = "an agent answering over {binding}")]
async fn agent(world: &mut ConformanceWorld, binding: Binding) {
    world.serve_agent(binding).await;
}

// Sending.

#[when(expr = "the client sends the message {string}")]
async fn send(world: &mut ConformanceWorld, text: String) {
    world.send_message(&text, None, None, false).await;
}

#[when(expr = "the client sends the message {string} with returnImmediately")]
async fn send_immediately(world: &mut ConformanceWorld, text: String) {
    world.send_message(&text, None, None, true).await;
}

#[when(expr = "the client answers {string} to that task, naming only the task")]
async fn answer_that(world: &mut ConformanceWorld, text: String) {
    let task = world.current_task();
    world.send_message(&text, Some(&task), None, false).await;
}

#[when(expr = "the client sends {string} to the task {string}")]
async fn send_to(world: &mut ConformanceWorld, text: String, task: String) {
    world.send_message(&text, Some(&task), None, false).await;
}

#[given(expr = "the client had these tasks made, one after another:")]
async fn tasks_made(world: &mut ConformanceWorld, step: &Step) {
    let table = step.table.as_ref().expect("a table of tasks");
    for row in table.rows.iter().skip(1) {
        let [name, text, context] = row.as_slice() else {
            panic!("a row is | task | message | context |, not {row:?}");
        };
        let context = (!context.is_empty()).then_some(context.as_str());
        world.make_task(name, text, context).await;
    }
}

#[given(expr = "the client answered {string} to task {string}")]
async fn answered(world: &mut ConformanceWorld, text: String, name: String) {
    world.answer_task(&name, &text).await;
}

#[when("the agent is let finish")]
async fn let_finish(world: &mut ConformanceWorld) {
    world.script.let_through(usize::from(u16::MAX));
}

#[when(expr = "the agent is let through {int} update(s)")]
async fn let_through(world: &mut ConformanceWorld, count: usize) {
    let target = world.script.paced() + count;
    world.script.let_through(count);
    let script = world.script.clone();
    let done = crate::eventually(crate::conformance::world::PATIENCE, || {
        script.paced() >= target
    })
    .await;
    assert!(
        done,
        "the agent published {} of {target} updates",
        script.paced()
    );
}

// Answers.

#[then(expr = "the answer is a task in state {state}")]
fn task_state(world: &mut ConformanceWorld, state: State) {
    world.expect_task_state(state.0);
}

#[then("the answer is a task that has not ended")]
fn task_running(world: &mut ConformanceWorld) {
    world.expect_task_running();
}

#[then(expr = "the answer is the same task, in the same context, in state {state}")]
fn same_task(world: &mut ConformanceWorld, state: State) {
    world.expect_same_task();
    world.expect_task_state(state.0);
}

#[then(expr = "the answer is the error {error}")]
fn error(world: &mut ConformanceWorld, err: A2aError) {
    world.expect_a2a_error(err);
}

#[then(expr = "the answer is the agent's message {string}")]
fn agent_message(world: &mut ConformanceWorld, text: String) {
    world.expect_agent_message(&text);
}

#[then(expr = "the task holds the artifact {string} made of the parts {list}")]
fn artifact(world: &mut ConformanceWorld, name: String, parts: List) {
    world.expect_artifact(&name, &parts.0);
}

#[then("the task's history starts with the message the client sent")]
fn history_starts(world: &mut ConformanceWorld) {
    world.expect_history_starts_with_sent();
}

#[then(expr = "the task's history reads {list}")]
fn history(world: &mut ConformanceWorld, texts: List) {
    world.expect_history(&texts.0);
}

#[then("the task's context was made by the server")]
fn server_context(world: &mut ConformanceWorld) {
    world.expect_server_context();
}

#[then(expr = "the task's status says {string}")]
fn status_says(world: &mut ConformanceWorld, text: String) {
    world.expect_status_says(&text);
}

#[then(expr = "the task is eventually {state}")]
async fn eventually_state(world: &mut ConformanceWorld, state: State) {
    let task = world.current_task();
    world.eventually_in_state(&task, state.0).await;
}

// Streams.

#[when(expr = "the client streams the message {string}")]
async fn stream(world: &mut ConformanceWorld, text: String) {
    world.stream_message(&text, None).await;
}

#[when(expr = "the client streams the answer {string} to that task")]
async fn stream_answer(world: &mut ConformanceWorld, text: String) {
    let task = world.current_task();
    world.stream_message(&text, Some(&task)).await;
}

#[then(
    expr = "the stream starts with the task in state {state}, the client's message first in its history"
)]
async fn stream_starts(world: &mut ConformanceWorld, state: State) {
    world.expect_stream_start(state.0, false).await;
}

#[then(
    expr = "the stream starts with the task in state {state}, the client's answer last in its history"
)]
async fn stream_starts_answered(world: &mut ConformanceWorld, state: State) {
    world.expect_stream_start(state.0, true).await;
}

#[then(expr = "the stream carries an update in state {state}")]
async fn stream_update(world: &mut ConformanceWorld, state: State) {
    world.expect_stream_update(state.0).await;
}

#[then(expr = "the stream ends after the task is {state}")]
async fn stream_ends(world: &mut ConformanceWorld, state: State) {
    world.expect_stream_end(state.0).await;
}

#[then("the stream carried every update of the task after its first frame, in order")]
async fn every_update(world: &mut ConformanceWorld) {
    world.expect_updates_after_item(0).await;
}

#[then("the stream carried exactly the updates the client missed, in order, none twice")]
async fn missed(world: &mut ConformanceWorld) {
    let mark = world.agent_stream().mark;
    assert!(mark > 0, "the client received something before it dropped");
    world.expect_updates_after_item(mark - 1).await;
}

#[then("every frame of the stream had an SSE id of its own")]
fn own_ids(world: &mut ConformanceWorld) {
    world.expect_own_ids();
}

#[when("the client drops its stream")]
fn drop_stream(world: &mut ConformanceWorld) {
    world.agent_stream().disconnect();
}

#[when("the client resubscribes to the task with the last event id it got")]
async fn resubscribe(world: &mut ConformanceWorld) {
    let addr = world.addr();
    let stream = world.agent_stream();
    let last = stream.last_id();
    stream.resubscribe(addr, Some(&last)).await;
    assert_eq!(stream.status, 200, "{:?}", stream.body);
}

// Canceling.

#[when("the client cancels the task")]
async fn cancel(world: &mut ConformanceWorld) {
    let task = world.current_task();
    world.cancel_task(&task).await;
}

#[when(expr = "the client cancels the task {string}")]
async fn cancel_named(world: &mut ConformanceWorld, task: String) {
    world.cancel_task(&task).await;
}

#[then("the execution stops, its handle reporting the cancel")]
async fn execution_canceled(world: &mut ConformanceWorld) {
    world.expect_execution_canceled().await;
}

#[then("the task is still canceled, holding the last heartbeat the execution published")]
async fn still_canceled(world: &mut ConformanceWorld) {
    world.expect_canceled_with_last_heartbeat().await;
}

// Listing.

#[when("the client lists the tasks")]
async fn list(world: &mut ConformanceWorld) {
    world.list_tasks(json!({})).await;
}

#[when(expr = "the client lists the tasks of context {string}")]
async fn list_context(world: &mut ConformanceWorld, context: String) {
    world.list_tasks(json!({ "contextId": context })).await;
}

#[when(expr = "the client lists the tasks in state {state}")]
async fn list_state(world: &mut ConformanceWorld, state: State) {
    world
        .list_tasks(json!({ "status": state_name(state.0) }))
        .await;
}

#[when(expr = "the client lists the tasks of context {string} in state {state}")]
async fn list_context_state(world: &mut ConformanceWorld, context: String, state: State) {
    let params = json!({ "contextId": context, "status": state_name(state.0) });
    world.list_tasks(params).await;
}

#[when(expr = "the client lists the tasks, {int} per page")]
async fn list_paged(world: &mut ConformanceWorld, size: u32) {
    world.list_tasks(json!({ "pageSize": size })).await;
}

#[when("the client lists the tasks with their artifacts")]
async fn list_artifacts(world: &mut ConformanceWorld) {
    world.list_tasks(json!({ "includeArtifacts": true })).await;
}

#[when(expr = "the client lists the tasks with at most {int} history message(s)")]
async fn list_history(world: &mut ConformanceWorld, length: u32) {
    world.list_tasks(json!({ "historyLength": length })).await;
}

#[when("the client asks for the next page")]
async fn next_page(world: &mut ConformanceWorld) {
    world.list_next_page().await;
}

#[then(expr = "the page holds the tasks {list}, out of {int}, with a next page token")]
fn page_more(world: &mut ConformanceWorld, names: List, total: u64) {
    world.expect_page(&names.0, total, true);
}

#[then(expr = "the page holds the tasks {list}, out of {int}, on the last page")]
fn page_last(world: &mut ConformanceWorld, names: List, total: u64) {
    world.expect_page(&names.0, total, false);
}

#[then(expr = "the listed task {word} has {int} artifact(s) and the history {list}")]
fn listed(world: &mut ConformanceWorld, name: String, artifacts: usize, history: List) {
    world.expect_listed(&name, artifacts, &history.0);
}
