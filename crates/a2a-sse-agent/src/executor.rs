//! [`AgentExecutor`]: the one trait an application implements to be an A2A agent.
//!
//! The agent layer calls [`execute`](AgentExecutor::execute) for every message that starts
//! a task or continues one (`SendMessage`, `SendStreamingMessage`), on the replica that
//! received it, with a [`TaskHandle`] to publish through. Everything the execution
//! publishes goes into the service's event backend, so the native stream, the A2A
//! streams, `GetTask`, `ListTasks` and metrics all see it, on every replica.
//!
//! # Ending a task
//!
//! - The execution ends the task itself with a terminal status
//!   ([`TaskHandle::complete`], [`fail`](TaskHandle::fail),
//!   [`reject`](TaskHandle::reject)) or pauses it for its client
//!   ([`require_input`](TaskHandle::require_input),
//!   [`require_auth`](TaskHandle::require_auth)); a later message continues it with
//!   another call of `execute`.
//! - An execution that returns an error, or panics, leaves its task `FAILED`, with the
//!   error's text (or the panic's) as the status message.
//! - An execution that returns `Ok` while its task still works may go on through clones of
//!   its handle (a background job, say); when the last handle of a task that is neither
//!   ended nor waiting for its client is dropped, the task fails with a message saying so.
//!   A task is never left working forever by its agent.
//!
//! # Answering without a task
//!
//! An execution that publishes nothing and returns [`Outcome::Message`] answers the
//! client with that message and no task is created: the task exists from the first thing
//! published through its handle.
//!
//! # Canceling
//!
//! `CancelTask`, on any replica, ends the task `CANCELED` at once. The replica running its
//! execution sees that end: the handle reports [`is_canceled`](TaskHandle::is_canceled)
//! (and [`canceled`](TaskHandle::canceled) resolves), [`cancel`](AgentExecutor::cancel) is
//! called there, and an execution that has not returned after the agent's cancel grace
//! period is dropped. Anything it publishes after the end is refused with
//! [`TaskError::Canceled`] (and from then on the handle reports the cancel, even before the
//! task's events told it); what it publishes after ending the task itself is refused with
//! [`TaskError::Finished`].

use std::future::Future;

use a2a_events::{BoxFuture, Message, Metadata, Task};

pub use crate::handle::{TaskError, TaskHandle};

/// What an execution is asked to do.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RequestContext {
    /// The user's message, with its `taskId` and `contextId` filled in.
    pub message: Message,
    /// The task the message starts or continues.
    pub task_id: String,
    /// The task's context.
    pub context_id: String,
    /// The task as it stood before this message, when the message continues one; `None`
    /// for a new task.
    pub task: Option<Task>,
    /// The media types the client accepts in the answer's parts.
    pub accepted_output_modes: Vec<String>,
    /// The request's metadata.
    pub metadata: Option<Metadata>,
}

/// How an execution answered.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Outcome {
    /// The task, as published through the handle.
    Task,
    /// A message and no task; only when nothing was published through the handle
    /// (otherwise the task stands and the message is dropped, with a warning).
    Message(Message),
}

/// Why an execution failed: its text becomes the message of the task's `FAILED` status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ExecutionError(pub String);

impl From<&str> for ExecutionError {
    fn from(text: &str) -> Self {
        Self(text.to_owned())
    }
}

impl From<String> for ExecutionError {
    fn from(text: String) -> Self {
        Self(text)
    }
}

impl From<TaskError> for ExecutionError {
    fn from(err: TaskError) -> Self {
        Self(err.to_string())
    }
}

/// An A2A agent: what it does with a message, and how it stops.
///
/// ```
/// use a2a_sse_agent::{AgentExecutor, ExecutionError, Outcome, RequestContext, TaskHandle};
///
/// struct Echo;
///
/// impl AgentExecutor for Echo {
///     async fn execute(
///         &self,
///         request: RequestContext,
///         task: TaskHandle,
///     ) -> Result<Outcome, ExecutionError> {
///         task.start_work(None).await?;
///         let reply = task.agent_text(format!("you said {} parts", request.message.parts.len()));
///         task.complete(Some(reply)).await?;
///         Ok(Outcome::Task)
///     }
/// }
/// ```
pub trait AgentExecutor: Send + Sync + 'static {
    /// Runs the agent on `request`, publishing through `task`.
    fn execute(
        &self,
        request: RequestContext,
        task: TaskHandle,
    ) -> impl Future<Output = Result<Outcome, ExecutionError>> + Send;

    /// Asks the running execution of `task` to stop: called on the replica running it once
    /// the task was canceled (from any replica). The default does nothing: the execution
    /// sees [`TaskHandle::is_canceled`], and is dropped after the cancel grace period.
    fn cancel(&self, task: TaskHandle) -> impl Future<Output = ()> + Send {
        let _ = task;
        async {}
    }
}

/// [`AgentExecutor`] behind a pointer: its futures boxed.
pub(crate) trait DynExecutor: Send + Sync + 'static {
    fn execute(
        &self,
        request: RequestContext,
        task: TaskHandle,
    ) -> BoxFuture<'_, Result<Outcome, ExecutionError>>;

    fn cancel(&self, task: TaskHandle) -> BoxFuture<'_, ()>;
}

impl<E: AgentExecutor> DynExecutor for E {
    fn execute(
        &self,
        request: RequestContext,
        task: TaskHandle,
    ) -> BoxFuture<'_, Result<Outcome, ExecutionError>> {
        Box::pin(AgentExecutor::execute(self, request, task))
    }

    fn cancel(&self, task: TaskHandle) -> BoxFuture<'_, ()> {
        Box::pin(AgentExecutor::cancel(self, task))
    }
}
