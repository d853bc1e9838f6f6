//! The A2A binding's `SubscribeToTask`, over JSON-RPC and HTTP+JSON.

use cucumber::{then, when};

use a2a_events::EventId;

use crate::conformance::a2a::{A2aClient, Binding};
use crate::conformance::world::ConformanceWorld;

#[when(expr = "an A2A client {string} subscribes to task {string} over {word}")]
async fn subscribe(world: &mut ConformanceWorld, name: String, task: String, binding: String) {
    let binding: Binding = binding.parse().unwrap_or_else(|e| panic!("{e}"));
    let client = A2aClient::subscribe(world.addr(), binding, &task, None).await;
    world.a2a_clients.insert(name, client);
}

fn a2a<'w>(world: &'w mut ConformanceWorld, name: &str) -> &'w mut A2aClient {
    world
        .a2a_clients
        .get_mut(name)
        .unwrap_or_else(|| panic!("no A2A client {name:?}"))
}

#[then(expr = "{string} first receives task {string} in state {string}")]
async fn first_task(world: &mut ConformanceWorld, name: String, task: String, state: String) {
    let client = a2a(world, &name);
    assert_eq!(client.status, 200, "{:?}", client.body);
    let items = client.receive(1).await;
    let (_, first) = items.first().expect("a first item");
    assert_eq!(first["task"]["id"], task.as_str(), "{first}");
    assert_eq!(first["task"]["status"]["state"], state.as_str(), "{first}");
}

#[then(expr = "the task {string} received holds the artifact {string} with {int} part(s)")]
async fn first_task_artifact(
    world: &mut ConformanceWorld,
    name: String,
    artifact: String,
    parts: usize,
) {
    let client = a2a(world, &name);
    let (_, first) = &client.receive(1).await[0];
    let artifacts = first["task"]["artifacts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let found = artifacts
        .iter()
        .find(|a| a["name"] == artifact.as_str())
        .unwrap_or_else(|| panic!("no artifact {artifact:?} in {first}"));
    assert_eq!(
        found["parts"].as_array().map(Vec::len),
        Some(parts),
        "{found}"
    );
}

/// Checks that the items after the first `skip` of the latest subscription are exactly
/// the events of `plan` published after event `after`, in order, as A2A updates.
async fn expect_updates(
    world: &mut ConformanceWorld,
    name: &str,
    plan: &str,
    after: EventId,
    skip: usize,
) {
    let expected: Vec<String> = world
        .published
        .ids(Some(plan))
        .await
        .into_iter()
        .filter(|id| id.parse::<EventId>().is_ok_and(|id| id > after))
        .collect();
    let client = a2a(world, name);
    let items = client.receive(skip + expected.len()).await.to_vec();
    let ids: Vec<&str> = items[skip..].iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, expected, "{items:?}");
    for (_, item) in &items[skip..] {
        assert!(
            item.get("statusUpdate").is_some() || item.get("artifactUpdate").is_some(),
            "an update, not {item}"
        );
    }
}

#[then(expr = "{string} then receives every update of plan {string} after the task, in order")]
async fn updates_after_task(world: &mut ConformanceWorld, name: String, plan: String) {
    let client = a2a(world, &name);
    let first = client.receive(1).await[0].0.clone();
    let after = first
        .parse()
        .unwrap_or_else(|e| panic!("task id {first:?}: {e}"));
    expect_updates(world, &name, &plan, after, 1).await;
}

#[then(expr = "the A2A stream of {string} ends")]
async fn stream_ends(world: &mut ConformanceWorld, name: String) {
    assert!(a2a(world, &name).ends().await, "the stream goes on");
}

#[when(expr = "{string} disconnects from its A2A stream")]
fn disconnect(world: &mut ConformanceWorld, name: String) {
    a2a(world, &name).disconnect();
}

#[when(expr = "{string} subscribes again with the last event id it received")]
async fn resubscribe(world: &mut ConformanceWorld, name: String) {
    let addr = world.addr();
    let client = a2a(world, &name);
    let last = client.last_id();
    client.resubscribe(addr, Some(&last)).await;
}

#[then(expr = "{string} receives exactly the updates of plan {string} it missed, in order")]
async fn missed(world: &mut ConformanceWorld, name: String, plan: String) {
    let client = a2a(world, &name);
    assert_eq!(client.status, 200, "{:?}", client.body);
    let last = client.items[..client.mark]
        .last()
        .map(|(id, _)| id.clone())
        .unwrap_or_default();
    let after = last
        .parse()
        .unwrap_or_else(|e| panic!("last id {last:?}: {e}"));
    expect_updates(world, &name, &plan, after, 0).await;
}

#[then(expr = "{string} is refused because the task {word}")]
fn refused(world: &mut ConformanceWorld, name: String, why: String) {
    let client = a2a(world, &name);
    let expected = match (why.as_str(), client_binding(client)) {
        ("finished", Binding::JsonRpc) => "-32004",
        ("finished", Binding::HttpJson) => "UNSUPPORTED_OPERATION",
        ("is_unknown", Binding::JsonRpc) => "-32001",
        ("is_unknown", Binding::HttpJson) => "TASK_NOT_FOUND",
        (other, _) => panic!("unknown reason {other:?}"),
    };
    assert_eq!(client.refusal(), expected, "{:?}", client.body);
}

fn client_binding(client: &A2aClient) -> Binding {
    client.binding()
}
