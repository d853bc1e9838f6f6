//! [`TckExecutor`]: the agent the A2A TCK (`a2aproject/a2a-tck`, branch `1.0-dev`) runs
//! against. It follows the TCK's scenarios (`scenarios/*.feature`) by the prefix of the
//! incoming message's `messageId`, for a new task and for a follow-up alike (the longer
//! prefixes are tried first):
//!
//! | prefix | the agent |
//! |---|---|
//! | `tck-complete-task` | completes, saying "Hello from TCK" |
//! | `tck-artifact-text` / `-file-url` / `-file` / `-data` | adds a text, URL, raw or data artifact, completes |
//! | `tck-message-response` | answers the message "Direct message response", no task |
//! | `tck-input-required` | asks for input (again, on a follow-up) |
//! | `tck-reject-task` | rejects the task |
//! | `tck-stream-001`, `-003`, `-ordering-001`, `-artifact-text`, `-artifact-file` | works, adds an artifact, completes |
//! | `tck-stream-002` | completes |
//! | `tck-stream-artifact-chunked` | works, adds an artifact in two chunks, completes |
//! | `test-resubscribe-message-id` | works for twice `TCK_STREAMING_TIMEOUT` (seconds, default 2), completes |
//! | anything else | completes |

use std::time::Duration;

use a2a_events::{Artifact, Part, PartContent};
use a2a_sse_agent::{AgentExecutor, ExecutionError, Outcome, RequestContext, TaskHandle};
use serde_json::json;

/// The TCK's scenario agent.
#[derive(Debug, Clone, Copy)]
pub struct TckExecutor {
    /// `TCK_STREAMING_TIMEOUT`, read when the agent is made.
    streaming_timeout: Duration,
}

impl TckExecutor {
    /// The agent, with `TCK_STREAMING_TIMEOUT` (seconds, default 2.0) from the
    /// environment.
    #[must_use]
    pub fn from_env() -> Self {
        let seconds = std::env::var("TCK_STREAMING_TIMEOUT")
            .ok()
            .and_then(|value| value.parse::<f64>().ok())
            .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
            .unwrap_or(2.0);
        Self {
            streaming_timeout: Duration::from_secs_f64(seconds),
        }
    }
}

/// An artifact of one part.
fn artifact(id: &str, part: Part) -> Artifact {
    Artifact {
        artifact_id: id.into(),
        name: None,
        description: None,
        parts: vec![part],
        metadata: None,
    }
}

/// A file part: `content` (raw bytes or a URL) named `output.txt`, plain text.
fn file(content: PartContent) -> Part {
    let mut part = Part::from(content);
    part.filename = Some("output.txt".into());
    part.media_type = Some("text/plain".into());
    part
}

impl AgentExecutor for TckExecutor {
    async fn execute(
        &self,
        request: RequestContext,
        task: TaskHandle,
    ) -> Result<Outcome, ExecutionError> {
        let id = request.message.message_id.as_str();
        let working_artifact = |text: &'static str| {
            let task = task.clone();
            async move {
                task.start_work(None).await?;
                task.artifact(artifact("artifact-1", Part::text(text)), false, true)
                    .await?;
                task.complete(None).await
            }
        };
        if id.starts_with("tck-message-response") {
            return Ok(Outcome::Message(task.agent_text("Direct message response")));
        }
        if id.starts_with("tck-complete-task") {
            task.complete(Some(task.agent_text("Hello from TCK")))
                .await?;
        } else if id.starts_with("tck-artifact-text") {
            let part = Part::text("Generated text content");
            task.artifact(artifact("artifact-1", part), false, true)
                .await?;
            task.complete(None).await?;
        } else if id.starts_with("tck-artifact-file-url") {
            let part = file(PartContent::Url("https://example.com/output.txt".into()));
            task.artifact(artifact("artifact-1", part), false, true)
                .await?;
            task.complete(None).await?;
        } else if id.starts_with("tck-artifact-file") {
            let part = file(PartContent::Raw(b"tck".to_vec()));
            task.artifact(artifact("artifact-1", part), false, true)
                .await?;
            task.complete(None).await?;
        } else if id.starts_with("tck-artifact-data") {
            let part = Part::data(json!({"key": "value", "count": 42}));
            task.artifact(artifact("artifact-1", part), false, true)
                .await?;
            task.complete(None).await?;
        } else if id.starts_with("tck-input-required") {
            let ask = task.agent_text("Please provide more input");
            task.require_input(Some(ask)).await?;
        } else if id.starts_with("tck-reject-task") {
            task.reject(Some(task.agent_text("rejected"))).await?;
        } else if id.starts_with("tck-stream-artifact-chunked") {
            task.start_work(None).await?;
            let chunk = |text: &str| artifact("chunked-artifact", Part::text(text));
            task.artifact(chunk("chunk-1 "), false, false).await?;
            task.artifact(chunk("chunk-2"), true, true).await?;
            task.complete(None).await?;
        } else if id.starts_with("tck-stream-artifact-file") {
            task.start_work(None).await?;
            let part = file(PartContent::Raw(b"tck".to_vec()));
            task.artifact(artifact("artifact-1", part), false, true)
                .await?;
            task.complete(None).await?;
        } else if id.starts_with("tck-stream-artifact-text") {
            working_artifact("Streamed text content").await?;
        } else if id.starts_with("tck-stream-ordering-001") {
            working_artifact("Ordered output").await?;
        } else if id.starts_with("tck-stream-001") {
            working_artifact("Stream hello from TCK").await?;
        } else if id.starts_with("tck-stream-003") {
            working_artifact("Stream task lifecycle").await?;
        } else if id.starts_with("tck-stream-002") {
            task.complete(None).await?;
        } else if id.starts_with("test-resubscribe-message-id") {
            task.start_work(None).await?;
            tokio::select! {
                () = tokio::time::sleep(self.streaming_timeout * 2) => {
                    task.complete(None).await?;
                }
                () = task.canceled() => {}
            }
        } else {
            task.complete(Some(
                task.agent_text(format!("Unhandled messageId prefix: {id}")),
            ))
            .await?;
        }
        Ok(Outcome::Task)
    }
}
