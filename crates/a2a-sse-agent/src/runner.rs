//! Running executions: each on a task of its own, watched for a cancel from any replica,
//! holding a lease while it runs, and ending its task `FAILED` when it errs or panics.
//! The sweeper fails the tasks whose execution's lease ran out (its replica died).

use std::sync::Arc;
use std::time::Duration;

use a2a_events::{
    EventBackend, EventPayload, Message, NewEvent, PlanId, Role, SubscribeRequest,
    SubscriptionItem, TaskState, TaskStatus, TaskStatusUpdateEvent, Timestamp,
};
use futures_util::StreamExt;
use tokio::sync::oneshot;

use crate::executor::{DynExecutor, Outcome, RequestContext};
use crate::handle::TaskHandle;

/// How an execution first answered.
#[derive(Debug)]
pub(crate) enum First {
    /// The task exists (created by the execution, or continued).
    Task,
    /// A message and no task.
    Message(Message),
}

/// What runs executions.
pub(crate) struct Runner {
    pub(crate) executor: Arc<dyn DynExecutor>,
    /// How long a lease lasts; it is renewed every third of it.
    pub(crate) lease: Duration,
    /// How long a canceled execution may take to return before it is dropped.
    pub(crate) cancel_grace: Duration,
}

/// Its durations are the agent config's; the executor is the application's.
impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner").finish_non_exhaustive()
    }
}

impl Runner {
    /// Starts executing `request` on its task `plan`. With `creating`, the task does not
    /// exist yet and `request.message` creates it; else it is in `state`. The answer
    /// tells how the execution first answered.
    pub(crate) fn start(
        self: &Arc<Self>,
        backend: Arc<dyn EventBackend>,
        plan: PlanId,
        request: RequestContext,
        creating: bool,
        state: TaskState,
    ) -> oneshot::Receiver<First> {
        let (first, answer) = oneshot::channel();
        let (created, exists) = oneshot::channel();
        let handle = TaskHandle::new(
            Arc::clone(&backend),
            plan.clone(),
            request.context_id.clone(),
            creating.then(|| request.message.clone()),
            state,
            created,
        );
        let runner = Arc::clone(self);
        tokio::spawn(async move {
            runner
                .supervise(backend, plan, request, handle, creating, exists, first)
                .await;
        });
        answer
    }

    /// Runs one execution to its end.
    #[expect(
        clippy::too_many_arguments,
        reason = "one call site, each argument named"
    )]
    async fn supervise(
        &self,
        backend: Arc<dyn EventBackend>,
        plan: PlanId,
        request: RequestContext,
        handle: TaskHandle,
        creating: bool,
        mut exists: oneshot::Receiver<a2a_events::EventId>,
        first: oneshot::Sender<First>,
    ) {
        // Watches the task for an end published by someone else (a cancel, from any
        // replica): subscribed before the execution starts, so none is missed.
        let watch = backend
            .subscribe(SubscribeRequest::plan(plan.clone()))
            .await;
        let mut first = Some(first);
        if !creating && let Some(first) = first.take() {
            let _ = first.send(First::Task);
        }
        let executor = Arc::clone(&self.executor);
        let execution = {
            let handle = handle.clone();
            tokio::spawn(async move { executor.execute(request, handle).await })
        };
        let mut execution = std::pin::pin!(execution);
        let mut watch = watch.ok();
        let mut renew = tokio::time::interval(self.lease / 3);
        let mut leased = false;
        let mut canceled_at: Option<tokio::time::Instant> = None;
        let mut last_seen = None;
        let mut resubscribed = false;
        let result = loop {
            let grace = async {
                match canceled_at {
                    Some(at) => tokio::time::sleep_until(at + self.cancel_grace).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                result = &mut execution => break Some(result),
                Ok(_) = &mut exists, if first.is_some() => {
                    if let Some(first) = first.take() {
                        let _ = first.send(First::Task);
                    }
                }
                _ = renew.tick(), if first.is_none() => {
                    leased = true;
                    if let Err(err) = backend.hold(&plan, self.lease).await {
                        tracing::warn!(task = %plan, %err, "the execution's lease could not be renewed");
                    }
                }
                item = next(&mut watch) => match item {
                    Some(SubscriptionItem::Event(event)) if event.is_terminal() && canceled_at.is_none() && !handle.ended_by_itself(&event) => {
                        tracing::info!(task = %plan, state = ?event.state(), "the task ended elsewhere: canceling its execution");
                        handle.cancel();
                        canceled_at = Some(tokio::time::Instant::now());
                        let executor = Arc::clone(&self.executor);
                        let handle = handle.clone();
                        tokio::spawn(async move { executor.cancel(handle).await });
                    }
                    Some(SubscriptionItem::Event(event)) => last_seen = Some(event.id()),
                    Some(SubscriptionItem::End(_)) | None => {
                        // Lagged or closed: watch again from where it was, once.
                        watch = match (last_seen, resubscribed) {
                            (Some(after), false) => {
                                resubscribed = true;
                                let again = SubscribeRequest::plan(plan.clone()).after(after);
                                backend.subscribe(again).await.ok()
                            }
                            _ => None,
                        };
                    }
                    Some(_) => {}
                },
                () = grace => {
                    tracing::warn!(task = %plan, "a canceled execution did not return in time: dropped");
                    execution.abort();
                    break None;
                }
            }
        };
        if canceled_at.is_none() && handle.is_canceled() {
            // The execution learned of the cancel from a refused publish and returned
            // before the watch saw the task's end: the application is told all the same.
            let executor = Arc::clone(&self.executor);
            let handle = handle.clone();
            tokio::spawn(async move { executor.cancel(handle).await });
        }
        if leased && let Err(err) = backend.release(&plan).await {
            tracing::debug!(task = %plan, %err, "the execution's lease could not be released");
        }
        let failure = match result {
            Some(Ok(Ok(Outcome::Task))) | None => None,
            Some(Ok(Ok(Outcome::Message(message)))) => {
                // The client is still waiting for the first answer only while the task
                // does not exist.
                if !handle.exists().await
                    && let Some(first) = first.take()
                {
                    let _ = first.send(First::Message(message));
                    return;
                }
                tracing::warn!(task = %plan, "an execution answered with a message after publishing its task: the message is dropped");
                None
            }
            Some(Ok(Err(err))) => Some(err.0),
            // Only the grace period aborts an execution, and it answers `None`: a join
            // error is a panic.
            Some(Err(join)) => join.try_into_panic().ok().map(panic_text),
        };
        // The task exists from here on, whatever happened.
        if let Err(err) = handle.create().await {
            tracing::warn!(task = %plan, %err, "the task of a finished execution could not be created");
        }
        if let Some(first) = first.take() {
            let _ = first.send(First::Task);
        }
        if let Some(text) = failure
            && !handle.is_canceled()
        {
            tracing::info!(task = %plan, reason = %text, "the execution failed");
            let message = handle.agent_text(text);
            if let Err(err) = handle.fail(Some(message)).await {
                tracing::debug!(task = %plan, %err, "a failed execution's task could not be failed");
            }
        }
    }
}

/// The next item of the watch, or never when there is none.
async fn next(watch: &mut Option<a2a_events::EventStream>) -> Option<SubscriptionItem> {
    match watch {
        Some(stream) => stream.next().await,
        None => std::future::pending().await,
    }
}

/// What a panic said, as the task's failure message.
fn panic_text(panic: Box<dyn std::any::Any + Send>) -> String {
    let said = panic
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned());
    match said {
        Some(text) => format!("the agent's execution panicked: {text}"),
        None => "the agent's execution panicked".to_owned(),
    }
}

/// The event that fails `plan` (in `context`) with an agent message saying `text`.
pub(crate) fn failure(plan: &PlanId, context: &str, text: &str) -> NewEvent {
    let message = Message {
        message_id: crate::new_id(),
        context_id: Some(context.to_owned()),
        task_id: Some(plan.to_string()),
        role: Role::Agent,
        parts: vec![a2a_events::Part::text(text)],
        metadata: None,
    };
    let update = TaskStatusUpdateEvent {
        task_id: plan.to_string(),
        context_id: context.to_owned(),
        status: TaskStatus {
            state: TaskState::Failed,
            message: Some(message),
            timestamp: Some(Timestamp::now().to_string()),
        },
        metadata: None,
    };
    NewEvent::new(plan.clone(), EventPayload::StatusUpdate(update))
}

/// Fails the tasks whose execution's lease ran out, every third of `lease`, for as long
/// as `alive` holds (the agent lives).
pub(crate) async fn sweep(
    alive: std::sync::Weak<impl Send + Sync>,
    backend: Arc<dyn EventBackend>,
    lease: Duration,
) {
    let mut tick = tokio::time::interval(lease / 3);
    loop {
        tick.tick().await;
        if alive.strong_count() == 0 {
            return;
        }
        let expired = match backend.claim_expired().await {
            Ok(expired) => expired,
            Err(err) => {
                tracing::debug!(%err, "expired leases could not be read");
                continue;
            }
        };
        for plan in expired {
            let Ok(Some(snapshot)) = backend.task(&plan).await else {
                continue;
            };
            if snapshot.task.status.state.is_terminal() {
                continue;
            }
            let event = failure(
                &plan,
                &snapshot.task.context_id,
                "the replica running this task stopped: its lease ran out",
            )
            .idempotency_key(format!("lease-expired-{plan}"));
            match backend.publish(event).await {
                Ok(_) => tracing::warn!(task = %plan, "a task whose replica stopped was failed"),
                Err(err) => {
                    tracing::debug!(task = %plan, %err, "a task whose lease ran out was not failed")
                }
            }
        }
    }
}
