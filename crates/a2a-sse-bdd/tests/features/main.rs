//! Runs every scenario of the workspace's `features/` once per adapter, with one set of
//! step definitions, and fails (exit code 1) when any step failed, was skipped or matched
//! no definition, or a feature did not parse, under any adapter.
//!
//! `cargo test -p a2a-sse-bdd --test features -- --name "keep-alive"` runs the scenarios
//! whose name matches; `-- --help` lists cucumber's options.

mod client;
mod expect;
mod params;
mod publish;
mod steps;
mod world;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use a2a_sse_bdd::{Actix, Axum, Server};
use cucumber::World as _;
use cucumber::writer::Stats as _;

use crate::world::BddWorld;

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let adapters: [Arc<dyn Server>; 4] = [
        Arc::new(Axum::SERVE),
        Arc::new(Axum::HTTP1),
        Arc::new(Actix::PLAIN),
        Arc::new(Actix::HALF_CLOSE_OFF),
    ];
    let mut total = Steps::default();
    let mut failed = Vec::new();
    for adapter in adapters {
        let name = adapter.name();
        println!("\n=== features against {name} ===");
        let steps = runtime.block_on(run(adapter));
        if steps.failed() {
            failed.push(name);
        }
        total.add(steps);
    }
    if failed.is_empty() {
        println!("\nfeatures passed against every adapter");
    } else {
        println!("\nfeatures FAILED against {}", failed.join(", "));
    }
    // A closing line test reports recognise; a parsing or hook error counts as a failure.
    println!("steps: {} passed, {} failed", total.passed, total.failed);
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Step counts of one or more runs.
#[derive(Debug, Default, Clone, Copy)]
struct Steps {
    passed: usize,
    failed: usize,
}

impl Steps {
    fn failed(self) -> bool {
        self.failed > 0
    }

    fn add(&mut self, other: Self) {
        self.passed += other.passed;
        self.failed += other.failed;
    }
}

/// Runs every feature against `adapter`. With `fail_on_skipped`, a skipped or undefined
/// step counts as failed, as `run_and_exit` would judge it.
async fn run(adapter: Arc<dyn Server>) -> Steps {
    let features = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../features");
    let writer = BddWorld::cucumber()
        .fail_on_skipped()
        .before(move |_, _, _, world| {
            world.use_server(Arc::clone(&adapter));
            Box::pin(async {})
        })
        .after(|_, _, scenario, _, world| {
            Box::pin(async move {
                if let Some(world) = world {
                    world.tear_down(&scenario.name).await;
                }
            })
        })
        .run(features)
        .await;
    let errors = writer.parsing_errors() + writer.hook_errors();
    let steps = Steps {
        passed: writer.passed_steps(),
        failed: writer.failed_steps() + writer.skipped_steps() + errors,
    };
    // The writer's own judgement, in case it counts something the numbers above miss.
    if writer.execution_has_failed() && !steps.failed() {
        return Steps { failed: 1, ..steps };
    }
    steps
}
