//! [`Published`]: what a scenario publishes to its queue, and the log of it the
//! expectations compare against.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use a2a_events::{
    A2aEventQueue, Artifact, EventId, EventPayload, NewEvent, Part, PlanId,
    TaskArtifactUpdateEvent, TaskState, TaskStatusUpdateEvent,
};
use tokio::task::JoinHandle;

use crate::world::PATIENCE;

/// Size of the text of a "large" update: a few of them fill a socket's buffers.
const LARGE_TEXT: usize = 256 << 10;

/// Publishes to the scenario's queue and remembers every id with its plan.
#[derive(Debug, Default)]
pub(crate) struct Published {
    queue: Option<A2aEventQueue>,
    log: Arc<Mutex<Vec<(EventId, PlanId)>>>,
    background: Option<JoinHandle<()>>,
}

impl Published {
    /// Publishes to `queue` from now on.
    pub(crate) fn attach(&mut self, queue: A2aEventQueue) {
        self.queue = Some(queue);
    }

    fn queue(&self) -> &A2aEventQueue {
        self.queue.as_ref().expect("a server was started")
    }

    /// Publishes a status update of `plan`.
    pub(crate) fn status(&self, plan: &str, state: TaskState) -> EventId {
        publish(self.queue(), &self.log, status(&plan_id(plan), state))
    }

    /// Publishes an artifact of `plan` called `name`, holding `text`.
    pub(crate) fn artifact(&self, plan: &str, name: &str, text: String) -> EventId {
        publish(
            self.queue(),
            &self.log,
            artifact(&plan_id(plan), name, text),
        )
    }

    /// Publishes `count` small progress updates of `plan`.
    pub(crate) fn progress(&self, plan: &str, count: usize) {
        for step in 0..count {
            self.artifact(plan, "progress", format!("step {step}"));
        }
    }

    /// Publishes one large progress update of `plan`.
    pub(crate) fn large(&self, plan: &str) -> EventId {
        self.artifact(plan, "progress", "x".repeat(LARGE_TEXT))
    }

    /// Starts publishing `count` progress updates of `plan` from another task, one every
    /// millisecond or so, so that they interleave with what the scenario does next.
    pub(crate) fn progress_in_background(&mut self, plan: &str, count: usize) {
        let queue = self.queue().clone();
        let log = Arc::clone(&self.log);
        let plan = plan_id(plan);
        self.background = Some(tokio::spawn(async move {
            for step in 0..count {
                publish(
                    &queue,
                    &log,
                    artifact(&plan, "progress", format!("tick {step}")),
                );
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

    /// Ids of the events published so far, of `plan` or of every plan, in publish order.
    pub(crate) fn ids(&self, plan: Option<&str>) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, p)| plan.is_none_or(|plan| p.as_str() == plan))
            .map(|(id, _)| id.to_string())
            .collect()
    }
}

fn plan_id(plan: &str) -> PlanId {
    PlanId::new(plan).unwrap_or_else(|e| panic!("plan id {plan:?}: {e}"))
}

fn publish(queue: &A2aEventQueue, log: &Mutex<Vec<(EventId, PlanId)>>, event: NewEvent) -> EventId {
    let plan = event.plan_id.clone();
    // The lock spans the publish so that the log keeps publish order.
    let mut log = log.lock().unwrap();
    let id = queue
        .publish(event)
        .unwrap_or_else(|e| panic!("publish to {plan}: {e}"));
    log.push((id, plan));
    id
}

fn status(plan: &PlanId, state: TaskState) -> NewEvent {
    let update = TaskStatusUpdateEvent {
        task_id: plan.to_string(),
        context_id: "ctx-1".into(),
        status: state.into(),
        metadata: None,
    };
    NewEvent::new(plan.clone(), EventPayload::StatusUpdate(update))
}

fn artifact(plan: &PlanId, name: &str, text: String) -> NewEvent {
    let update = TaskArtifactUpdateEvent {
        task_id: plan.to_string(),
        context_id: "ctx-1".into(),
        artifact: Artifact {
            artifact_id: format!("{name}-1"),
            name: Some(name.to_owned()),
            description: None,
            parts: vec![Part::text(text)],
            metadata: None,
        },
        append: None,
        last_chunk: None,
        metadata: None,
    };
    NewEvent::new(plan.clone(), EventPayload::ArtifactUpdate(update))
}
