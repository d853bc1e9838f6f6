//! [`TaskHandle`]: what an execution publishes through (what the SDKs call a task
//! updater).

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use a2a_events::{
    Artifact, EventBackend, EventId, EventPayload, Message, NewEvent, Part, PlanId, PublishError,
    Role, TaskArtifactUpdateEvent, TaskState, TaskStatus, TaskStatusUpdateEvent, Timestamp,
};
use tokio::sync::{oneshot, watch};

/// Why a publish through a [`TaskHandle`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    /// The task was canceled, or ended by another publisher; the execution should stop.
    #[error("the task was canceled")]
    Canceled,
    /// The task already ended, through this handle.
    #[error("the task already ended")]
    Finished,
    /// The backend could not take the event.
    #[error("the event could not be published: {0}")]
    Backend(PublishError),
}

/// Publishes a task's updates, in order, into the service's event backend, and tells the
/// execution when the task was canceled. Cloning is cheap: clones publish for the same
/// task.
///
/// Status updates get the task's ids and the time of the update; an agent message made
/// with [`agent_message`](Self::agent_message) or [`agent_text`](Self::agent_text) gets
/// the task's ids and a fresh message id.
#[derive(Clone)]
pub struct TaskHandle {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Arc<dyn EventBackend>,
    plan: PlanId,
    context_id: String,
    /// The message that creates the task, until the first publish puts it first.
    creating: tokio::sync::Mutex<Option<Message>>,
    /// Told once the task exists.
    created: Mutex<Option<oneshot::Sender<EventId>>>,
    /// The state this handle last published (or the task's when it started).
    state: Mutex<TaskState>,
    /// Set once a cancel was seen.
    canceled: watch::Sender<bool>,
    /// The task ended; nothing more is published.
    ended: AtomicBool,
    /// The terminal state this handle publishes or published, set before it is sent.
    finishing: Mutex<Option<TaskState>>,
    /// This handle's terminal publishes under way or accepted (one failing is taken off).
    ending: AtomicUsize,
}

impl TaskHandle {
    /// A handle of the task `plan` in `context_id`. With `creating`, the task does not
    /// exist yet: that message is published first, with the first update. `state` is the
    /// task's state now; `created` is told once the task exists.
    pub(crate) fn new(
        backend: Arc<dyn EventBackend>,
        plan: PlanId,
        context_id: String,
        creating: Option<Message>,
        state: TaskState,
        created: oneshot::Sender<EventId>,
    ) -> Self {
        let created = if creating.is_some() {
            Some(created)
        } else {
            // An existing task: nothing to wait for.
            drop(created);
            None
        };
        Self {
            inner: Arc::new(Inner {
                backend,
                plan,
                context_id,
                creating: tokio::sync::Mutex::new(creating),
                created: Mutex::new(created),
                state: Mutex::new(state),
                canceled: watch::channel(false).0,
                ended: AtomicBool::new(false),
                finishing: Mutex::new(None),
                ending: AtomicUsize::new(0),
            }),
        }
    }

    /// The task's id.
    #[must_use]
    pub fn task_id(&self) -> &str {
        self.inner.plan.as_str()
    }

    /// The task's context.
    #[must_use]
    pub fn context_id(&self) -> &str {
        &self.inner.context_id
    }

    /// Whether the task was canceled (from any replica).
    #[must_use]
    pub fn is_canceled(&self) -> bool {
        *self.inner.canceled.borrow()
    }

    /// Resolves once the task is canceled.
    pub async fn canceled(&self) {
        let mut seen = self.inner.canceled.subscribe();
        // The sender lives as long as this handle, so this only ends with a cancel.
        let _ = seen.wait_for(|canceled| *canceled).await;
    }

    /// Whether the task exists yet (something was published through the handle, or it
    /// continued an existing task).
    pub(crate) async fn exists(&self) -> bool {
        self.inner.creating.lock().await.is_none()
    }

    /// Marks the task canceled (seen by the runner).
    pub(crate) fn cancel(&self) {
        self.inner.ended.store(true, Ordering::Release);
        self.inner.canceled.send_replace(true);
    }

    /// An agent message with `parts`, for this task.
    #[must_use]
    pub fn agent_message(&self, parts: Vec<Part>) -> Message {
        Message {
            message_id: crate::new_id(),
            context_id: Some(self.inner.context_id.clone()),
            task_id: Some(self.task_id().to_owned()),
            role: Role::Agent,
            parts,
            metadata: None,
        }
    }

    /// An agent message with one text part, for this task.
    #[must_use]
    pub fn agent_text(&self, text: impl Into<String>) -> Message {
        self.agent_message(vec![Part::text(text)])
    }

    /// Publishes a status update to `state`, with `message`.
    ///
    /// # Errors
    ///
    /// [`TaskError`]: canceled, already ended, or the backend refused.
    pub async fn status(
        &self,
        state: TaskState,
        message: Option<Message>,
    ) -> Result<EventId, TaskError> {
        let update = TaskStatusUpdateEvent {
            task_id: self.task_id().to_owned(),
            context_id: self.inner.context_id.clone(),
            status: TaskStatus {
                state,
                message,
                timestamp: Some(Timestamp::now().to_string()),
            },
            metadata: None,
        };
        self.publish(EventPayload::StatusUpdate(update)).await
    }

    /// `WORKING`.
    ///
    /// # Errors
    ///
    /// As [`status`](Self::status).
    pub async fn start_work(&self, message: Option<Message>) -> Result<EventId, TaskError> {
        self.status(TaskState::Working, message).await
    }

    /// `COMPLETED`: the task ends.
    ///
    /// # Errors
    ///
    /// As [`status`](Self::status).
    pub async fn complete(&self, message: Option<Message>) -> Result<EventId, TaskError> {
        self.status(TaskState::Completed, message).await
    }

    /// `FAILED`: the task ends.
    ///
    /// # Errors
    ///
    /// As [`status`](Self::status).
    pub async fn fail(&self, message: Option<Message>) -> Result<EventId, TaskError> {
        self.status(TaskState::Failed, message).await
    }

    /// `REJECTED`: the task ends; the agent will not do it.
    ///
    /// # Errors
    ///
    /// As [`status`](Self::status).
    pub async fn reject(&self, message: Option<Message>) -> Result<EventId, TaskError> {
        self.status(TaskState::Rejected, message).await
    }

    /// `INPUT_REQUIRED`: the task waits for its client's next message.
    ///
    /// # Errors
    ///
    /// As [`status`](Self::status).
    pub async fn require_input(&self, message: Option<Message>) -> Result<EventId, TaskError> {
        self.status(TaskState::InputRequired, message).await
    }

    /// `AUTH_REQUIRED`: the task waits for its client to authenticate.
    ///
    /// # Errors
    ///
    /// As [`status`](Self::status).
    pub async fn require_auth(&self, message: Option<Message>) -> Result<EventId, TaskError> {
        self.status(TaskState::AuthRequired, message).await
    }

    /// Publishes an artifact, or a chunk of one: with `append`, its parts are added to the
    /// artifact with the same id; `last_chunk` marks the artifact's last chunk.
    ///
    /// # Errors
    ///
    /// As [`status`](Self::status).
    pub async fn artifact(
        &self,
        artifact: Artifact,
        append: bool,
        last_chunk: bool,
    ) -> Result<EventId, TaskError> {
        let update = TaskArtifactUpdateEvent {
            task_id: self.task_id().to_owned(),
            context_id: self.inner.context_id.clone(),
            artifact,
            append: append.then_some(true),
            last_chunk: last_chunk.then_some(true),
            metadata: None,
        };
        self.publish(EventPayload::ArtifactUpdate(update)).await
    }

    /// Publishes `payload` for the task, after the message that creates it if the task
    /// does not exist yet.
    ///
    /// # Errors
    ///
    /// As [`status`](Self::status).
    pub async fn publish(&self, payload: EventPayload) -> Result<EventId, TaskError> {
        if self.is_canceled() {
            return Err(TaskError::Canceled);
        }
        if self.inner.ended.load(Ordering::Acquire) {
            return Err(TaskError::Finished);
        }
        self.create().await?;
        let state = payload.state();
        let ends = state.is_some_and(TaskState::is_terminal);
        if ends {
            *lock(&self.inner.finishing) = state;
            self.inner.ending.fetch_add(1, Ordering::AcqRel);
        }
        let sent = self.send(payload, ends).await;
        if ends && sent.is_err() {
            self.inner.ending.fetch_sub(1, Ordering::AcqRel);
        }
        let id = sent?;
        if let Some(state) = state {
            *self.state() = state;
            if state.is_terminal() {
                self.inner.ended.store(true, Ordering::Release);
            }
        }
        Ok(id)
    }

    /// Publishes the creating message, if the task does not exist yet.
    pub(crate) async fn create(&self) -> Result<(), TaskError> {
        let mut creating = self.inner.creating.lock().await;
        if let Some(message) = creating.as_ref() {
            let id = self
                .send(EventPayload::Message(message.clone()), false)
                .await?;
            *creating = None;
            let created = lock(&self.inner.created).take();
            if let Some(created) = created {
                let _ = created.send(id);
            }
        }
        Ok(())
    }

    /// Publishes `payload`, which `ends` the task or not.
    async fn send(&self, payload: EventPayload, ends: bool) -> Result<EventId, TaskError> {
        let event = NewEvent::new(self.inner.plan.clone(), payload);
        match self.inner.backend.publish(event).await {
            Ok(id) => Ok(id),
            Err(PublishError::PlanFinished { .. }) => {
                self.inner.ended.store(true, Ordering::Release);
                let others = self.inner.ending.load(Ordering::Acquire) - usize::from(ends);
                if others > 0 {
                    // This handle ended it (through another clone, at the same time).
                    Err(TaskError::Finished)
                } else {
                    // Someone else ended it (a cancel, from any replica): as a cancel, even
                    // if the watch of the task has not seen that end yet.
                    self.inner.canceled.send_replace(true);
                    Err(TaskError::Canceled)
                }
            }
            Err(err) => Err(TaskError::Backend(err)),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, TaskState> {
        lock(&self.inner.state)
    }

    /// Whether `event`, a terminal event of the task, is the one this handle published.
    pub(crate) fn ended_by_itself(&self, event: &a2a_events::StoredEvent) -> bool {
        let finishing = *lock(&self.inner.finishing);
        finishing.is_some() && finishing == event.state()
    }
}

/// Locks `mutex`, whose holders never leave it half-changed, even if one panicked.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Drop for Inner {
    fn drop(&mut self) {
        let state = *self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        let created = self.creating.get_mut().is_none();
        let working =
            !self.ended.load(Ordering::Acquire) && !state.is_terminal() && !state.is_interrupted();
        if !(created && working) {
            return;
        }
        // The last handle of a working task is gone: nobody can end it any more.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(task = %self.plan, "a working task's last handle was dropped outside a runtime; it is left as it is");
            return;
        };
        let backend = Arc::clone(&self.backend);
        let event = crate::runner::failure(
            &self.plan,
            &self.context_id,
            "the agent dropped this task without finishing it",
        );
        runtime.spawn(async move {
            if let Err(err) = backend.publish(event).await {
                tracing::debug!(%err, "an abandoned task could not be failed");
            }
        });
    }
}

impl fmt::Debug for TaskHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskHandle")
            .field("task_id", &self.task_id())
            .field("context_id", &self.inner.context_id)
            .field("canceled", &self.is_canceled())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use a2a_events::A2aEventQueue;
    use a2a_sse_testkit::events;

    use super::*;

    /// A handle of a new task `t`, created by its first publish.
    fn handle(queue: &A2aEventQueue) -> TaskHandle {
        handle_of(queue, "t")
    }

    /// A handle of a new task `task`, created by its first publish.
    fn handle_of(queue: &A2aEventQueue, task: &str) -> TaskHandle {
        let message = Message {
            message_id: "m-1".into(),
            context_id: Some("ctx-1".into()),
            task_id: Some(task.into()),
            role: Role::User,
            parts: vec![Part::text("go")],
            metadata: None,
        };
        let plan = PlanId::new(task).unwrap();
        let (created, _) = oneshot::channel();
        let backend = Arc::new(queue.clone());
        TaskHandle::new(
            backend,
            plan,
            "ctx-1".into(),
            Some(message),
            TaskState::Submitted,
            created,
        )
    }

    #[tokio::test]
    async fn ending_a_task_canceled_elsewhere_is_refused_as_a_cancel() {
        let queue = A2aEventQueue::new();
        let handle = handle(&queue);
        handle.start_work(None).await.unwrap();
        // Another replica cancels the task; this handle has not heard of it yet.
        queue
            .publish(events::status("t", TaskState::Canceled))
            .unwrap();
        assert!(!handle.is_canceled());
        assert_eq!(handle.complete(None).await, Err(TaskError::Canceled));
        assert!(
            handle.is_canceled(),
            "from then on the handle reports the cancel"
        );
        assert_eq!(handle.start_work(None).await, Err(TaskError::Canceled));
    }

    #[tokio::test]
    async fn a_clone_publishing_while_another_ends_the_task_is_told_it_finished() {
        let queue = A2aEventQueue::new();
        let handle = handle(&queue);
        handle.start_work(None).await.unwrap();
        let clone = handle.clone();
        // Another clone's end is accepted, and its publish has not returned yet.
        handle.inner.ending.fetch_add(1, Ordering::AcqRel);
        *lock(&handle.inner.finishing) = Some(TaskState::Completed);
        queue
            .publish(events::status("t", TaskState::Completed))
            .unwrap();
        assert_eq!(clone.start_work(None).await, Err(TaskError::Finished));
        assert_eq!(clone.fail(None).await, Err(TaskError::Finished));
        assert!(!handle.is_canceled());
    }

    #[tokio::test]
    async fn publishing_after_ending_the_task_itself_is_refused_as_finished() {
        let queue = A2aEventQueue::new();
        let handle = handle(&queue);
        handle
            .reject(Some(handle.agent_text("not mine")))
            .await
            .unwrap();
        let clone = handle.clone();
        assert_eq!(clone.start_work(None).await, Err(TaskError::Finished));
        assert_eq!(clone.complete(None).await, Err(TaskError::Finished));
        assert!(!handle.is_canceled());
        let task = queue.task(&PlanId::new("t").unwrap()).unwrap().task.clone();
        assert_eq!(task.status.state, TaskState::Rejected);
        assert_eq!(task.context_id, handle.context_id());
    }

    #[test]
    fn the_last_handle_of_a_working_task_fails_it_when_dropped_on_a_runtime() {
        let queue = A2aEventQueue::new();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let [dropped, outside, ended] = runtime.block_on(async {
            let handles = ["dropped", "outside", "ended"].map(|task| handle_of(&queue, task));
            for handle in &handles {
                handle.start_work(None).await.unwrap();
            }
            handles
        });
        // Ended elsewhere, unknown to its handle: the end stands.
        queue
            .publish(events::status("ended", TaskState::Canceled))
            .unwrap();
        // No runtime to fail it on: it is left as it is.
        drop(outside);
        runtime.block_on(async {
            drop(dropped);
            drop(ended);
            tokio::task::yield_now().await;
        });
        let task = |name: &str| {
            queue
                .task(&PlanId::new(name).unwrap())
                .unwrap()
                .task
                .clone()
        };
        let failed = task("dropped");
        assert_eq!(failed.status.state, TaskState::Failed);
        let said = failed.status.message.unwrap().parts[0].clone();
        assert_eq!(
            said,
            Part::text("the agent dropped this task without finishing it")
        );
        assert_eq!(task("outside").status.state, TaskState::Working);
        assert_eq!(task("ended").status.state, TaskState::Canceled);
    }
}
