//! [`Published`]: what a scenario publishes to its event engine, and the log of it the
//! expectations compare against.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use a2a_events::{EventBackend, EventId, NewEvent, PlanId, TaskState};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use super::world::PATIENCE;
use crate::events::{artifact, status};

/// Size of the text of a "large" update: a few of them fill a socket's buffers.
const LARGE_TEXT: usize = 256 << 10;

/// Every id published, with its plan, in publish order.
type Log = Arc<Mutex<Vec<(EventId, PlanId)>>>;

/// Publishes to the scenario's engine and remembers every id with its plan.
#[derive(Default)]
pub(crate) struct Published {
    backend: Option<Arc<dyn EventBackend>>,
    log: Log,
    background: Option<JoinHandle<()>>,
}

impl Published {
    /// Publishes to `backend` from now on.
    pub(crate) fn attach(&mut self, backend: Arc<dyn EventBackend>) {
        self.backend = Some(backend);
    }

    fn backend(&self) -> &Arc<dyn EventBackend> {
        self.backend.as_ref().expect("a server was started")
    }

    /// Publishes a status update of `plan`.
    pub(crate) async fn status(&self, plan: &str, state: TaskState) -> EventId {
        publish(self.backend().as_ref(), &self.log, status(plan, state)).await
    }

    /// Publishes an artifact of `plan` called `name`, holding `text`.
    pub(crate) async fn artifact(&self, plan: &str, name: &str, text: &str) -> EventId {
        let event = artifact(plan, name, text);
        publish(self.backend().as_ref(), &self.log, event).await
    }

    /// Publishes `count` small progress updates of `plan`.
    pub(crate) async fn progress(&self, plan: &str, count: usize) {
        for step in 0..count {
            self.artifact(plan, "progress", &format!("step {step}"))
                .await;
        }
    }

    /// Publishes one large progress update of `plan`.
    pub(crate) async fn large(&self, plan: &str) -> EventId {
        self.artifact(plan, "progress", &"x".repeat(LARGE_TEXT))
            .await
    }

    /// Starts publishing `count` progress updates of `plan` from another task, one every
    /// millisecond or so, so that they interleave with what the scenario does next.
    pub(crate) fn progress_in_background(&mut self, plan: &str, count: usize) {
        let backend = Arc::clone(self.backend());
        let log = Arc::clone(&self.log);
        let plan = plan.to_owned();
        self.background = Some(tokio::spawn(async move {
            for step in 0..count {
                let event = artifact(&plan, "progress", &format!("tick {step}"));
                publish(backend.as_ref(), &log, event).await;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }));
    }

    /// Waits until background publishing is over.
    pub(crate) async fn settle(&mut self) {
        if let Some(task) = self.background.take() {
            tokio::time::timeout(PATIENCE, task)
                .await
                .expect("background publishing finishes")
                .expect("background publishing succeeds");
        }
    }

    /// Stops background publishing.
    pub(crate) async fn stop(&mut self) {
        if let Some(task) = self.background.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// The id of the `n`th event published in this scenario (1 is the first), whatever
    /// the backend's ids look like: the features say "event 4" for the fourth event.
    pub(crate) async fn nth(&self, n: u64) -> String {
        let index = usize::try_from(n).ok().and_then(|n| n.checked_sub(1));
        let log = self.log.lock().await;
        index
            .and_then(|i| log.get(i))
            .map(|(id, _)| id.to_string())
            .unwrap_or_else(|| panic!("event {n} was not published ({} were)", log.len()))
    }

    /// Ids of the events published so far, of `plan` or of every plan, in publish order.
    pub(crate) async fn ids(&self, plan: Option<&str>) -> Vec<String> {
        self.log
            .lock()
            .await
            .iter()
            .filter(|(_, p)| plan.is_none_or(|plan| p.as_str() == plan))
            .map(|(id, _)| id.to_string())
            .collect()
    }
}

impl fmt::Debug for Published {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Published")
            .field("log", &self.log)
            .field("background", &self.background.is_some())
            .finish_non_exhaustive()
    }
}

async fn publish(backend: &dyn EventBackend, log: &Log, event: NewEvent) -> EventId {
    let plan = event.plan_id.clone();
    // The lock spans the publish so that the log keeps publish order.
    let mut log = log.lock().await;
    let id = backend
        .publish(event)
        .await
        .unwrap_or_else(|e| panic!("publish to {plan}: {e}"));
    log.push((id, plan));
    id
}
