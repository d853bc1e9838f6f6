//! [`run`] and [`run_with`]: every scenario of the workspace's `features/` against one
//! server, judged as `run_and_exit` would judge it, but with the counts printed last.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use cucumber::World as _;
use cucumber::writer::Stats as _;

use super::backend::{Backend, Memory};
use super::server::Server;
use super::world::{ConformanceWorld, Setup};

/// Runs every feature against `server`, on the in-memory queue ([`Memory`]).
///
/// Builds a multi-threaded tokio runtime for the run: call it from a plain `main` (a
/// `[[test]]` with `harness = false`), whose exit code it returns.
///
/// # Panics
///
/// When the runtime cannot be built.
#[must_use]
pub fn run(server: impl Server) -> ExitCode {
    run_with(server, Memory)
}

/// Runs every feature against `server`, each scenario on a new engine from `backend`.
///
/// Fails (exit code 1) when any step failed, was skipped or matched no definition, when a
/// hook failed, or when a feature did not parse. The last line printed is
/// `steps: N passed, M failed`, which test reports recognise. cucumber reads the test's
/// arguments: `-- --name "keep-alive"` runs the scenarios whose name matches.
///
/// # Panics
///
/// When the runtime cannot be built.
#[must_use]
pub fn run_with(server: impl Server, backend: impl Backend) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let name = server.name();
    println!("\n=== features against {name} ({backend:?}) ===");
    let setup = Setup {
        server: Arc::new(server),
        backend: Arc::new(backend),
    };
    let steps = runtime.block_on(features(setup));
    if steps.failed() {
        println!("\nfeatures FAILED against {name}");
    } else {
        println!("\nfeatures passed against {name}");
    }
    // A closing line test reports recognise; a parsing or hook error counts as a failure.
    println!("steps: {} passed, {} failed", steps.passed, steps.failed);
    if steps.failed() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Step counts of a run.
#[derive(Debug, Default, Clone, Copy)]
struct Steps {
    passed: usize,
    failed: usize,
}

impl Steps {
    const fn failed(self) -> bool {
        self.failed > 0
    }
}

/// Runs every feature with `setup`. With `fail_on_skipped`, a skipped or undefined step
/// counts as failed, as `run_and_exit` would judge it.
async fn features(setup: Setup) -> Steps {
    let features = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../features");
    let writer = ConformanceWorld::cucumber()
        .fail_on_skipped()
        .before(move |_, _, _, world| {
            world.use_setup(setup.clone());
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
