//! [`DemoExecutor`]: the demos' agent. A message starts a scripted plan run, the script
//! chosen by keyword in the message's first text part (case-insensitively):
//!
//! | keyword | the plan |
//! |---|---|
//! | `ping` | no task: the answer is a message, `pong` |
//! | `fail`, `deploy` | working ("building"), an `error` event, failed ("deployment failed") |
//! | `review`, `approve` | working, input required ("approve the plan?"); the next message to the task: working ("approved"), completed |
//! | `slow`, `long` | working, 60 chunks of `report.md`, completed (for cancel and resume) |
//! | anything else | working ("collecting sources"), 3 chunks of `report.md`, completed ("report ready") |
//!
//! Each step waits the demo's step time (`--plan-step-ms`); a canceled plan stops at its
//! next step.

use std::time::Duration;

use a2a_events::{Artifact, ErrorPayload, EventPayload, Part};
use a2a_sse_agent::{
    AgentExecutor, ExecutionError, Outcome, RequestContext, TaskError, TaskHandle,
};

/// The demos' scripted agent.
#[derive(Debug, Clone, Copy)]
pub struct DemoExecutor {
    step: Duration,
}

impl DemoExecutor {
    /// An agent that waits `step` between the steps of a plan.
    #[must_use]
    pub const fn new(step: Duration) -> Self {
        Self { step }
    }

    /// Waits one step; `Canceled` when the task is canceled meanwhile.
    async fn step(&self, task: &TaskHandle) -> Result<(), TaskError> {
        tokio::select! {
            () = tokio::time::sleep(self.step) => Ok(()),
            () = task.canceled() => Err(TaskError::Canceled),
        }
    }

    /// A chunk of `report.md`.
    fn chunk(text: String) -> Artifact {
        Artifact {
            artifact_id: "report.md".into(),
            name: Some("report.md".into()),
            description: None,
            parts: vec![Part::text(text)],
            metadata: None,
        }
    }

    /// Working, `chunks` chunks of the report, completed.
    async fn report(
        &self,
        task: &TaskHandle,
        opening: &str,
        chunks: &[String],
    ) -> Result<(), TaskError> {
        task.start_work(Some(task.agent_text(opening))).await?;
        for (n, text) in chunks.iter().enumerate() {
            self.step(task).await?;
            let last = n + 1 == chunks.len();
            task.artifact(Self::chunk(text.clone()), true, last).await?;
        }
        self.step(task).await?;
        task.complete(Some(task.agent_text("report ready"))).await?;
        Ok(())
    }
}

/// The first text part of a message, lower-cased.
fn keyword(request: &RequestContext) -> String {
    request.message.first_text().to_lowercase()
}

impl AgentExecutor for DemoExecutor {
    async fn execute(
        &self,
        request: RequestContext,
        task: TaskHandle,
    ) -> Result<Outcome, ExecutionError> {
        let text = keyword(&request);
        let has = |words: &[&str]| words.iter().any(|word| text.contains(word));
        let outcome = if request.task.is_some() {
            // A reply to a plan waiting for approval.
            task.start_work(Some(task.agent_text("approved"))).await?;
            self.step(&task).await?;
            task.complete(None).await.map(drop)
        } else if has(&["ping"]) {
            return Ok(Outcome::Message(task.agent_text("pong")));
        } else if has(&["fail", "deploy"]) {
            task.start_work(Some(task.agent_text("building"))).await?;
            self.step(&task).await?;
            let error = ErrorPayload {
                code: -32000,
                message: "tool `deploy` exited with status 1".into(),
                data: None,
            };
            task.publish(EventPayload::Error(error)).await?;
            self.step(&task).await?;
            task.fail(Some(task.agent_text("deployment failed")))
                .await
                .map(drop)
        } else if has(&["review", "approve"]) {
            task.start_work(None).await?;
            self.step(&task).await?;
            task.require_input(Some(task.agent_text("approve the plan?")))
                .await
                .map(drop)
        } else if has(&["slow", "long"]) {
            let chunks: Vec<String> = (1..=60).map(|n| format!("- finding {n}\n")).collect();
            self.report(&task, "collecting sources", &chunks).await
        } else {
            let chunks = [
                "# Findings\n".to_owned(),
                "- the queue never blocks\n".to_owned(),
                "- resume is gapless\n".to_owned(),
            ];
            self.report(&task, "collecting sources", &chunks).await
        };
        match outcome {
            // A canceled plan just stops: the cancel ended it.
            Ok(()) | Err(TaskError::Canceled) => Ok(Outcome::Task),
            Err(err) => Err(err.into()),
        }
    }
}
