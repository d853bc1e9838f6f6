//! [`Script`]: the agent of the features, an [`AgentExecutor`] that does what the first
//! word of a message's first text part says, and tells the scenario what its executions
//! did ([`Execution`]).
//!
//! - `work`: works, publishes the artifact `result.txt` in three chunks (`a`, `b`, `c`),
//!   completes saying `done`;
//! - `ask`: asks for input (`which one?`); a message continuing any task is its answer:
//!   the execution works, publishes `answer.txt` holding the answer, and completes;
//! - `fail`: works, then returns the error `the tool broke`;
//! - `slow`: works, then publishes a heartbeat every [`HEARTBEAT`] until it is canceled;
//!   a heartbeat refused because the task ended makes it wait until its handle reports
//!   the cancel (the agent may learn of it after the backend refused the publish);
//! - `paced`: works, then publishes the chunks of `result.txt` and the completion one at
//!   a time, each when the scenario lets it ([`Script::let_through`]);
//! - `ping`: answers the message `pong`, with no task;
//! - anything else: rejects the task.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use a2a_events::{Artifact, Part};
use a2a_sse_agent::{
    AgentExecutor, ExecutionError, Outcome, RequestContext, TaskError, TaskHandle,
};
use tokio::sync::Semaphore;

/// How often a `slow` execution publishes its heartbeat.
pub(crate) const HEARTBEAT: Duration = Duration::from_millis(5);

/// How long a `slow` execution whose publish was refused waits to learn that its task
/// was canceled.
const CANCEL_NEWS: Duration = Duration::from_secs(10);

/// The artifact chunks of `work` and `paced`.
const CHUNKS: [&str; 3] = ["a", "b", "c"];

/// The scripted executor; clones share what the executions report.
#[derive(Debug, Clone, Default)]
pub(crate) struct Script {
    state: Arc<State>,
}

#[derive(Debug)]
struct State {
    /// Permits for `paced` executions' updates.
    gate: Semaphore,
    /// Updates `paced` executions published after passing the gate.
    paced: AtomicUsize,
    /// What each execution did, by task id.
    executions: Mutex<BTreeMap<String, Execution>>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            gate: Semaphore::new(0),
            paced: AtomicUsize::new(0),
            executions: Mutex::default(),
        }
    }
}

/// What one execution did, as far as the scenario asks.
#[derive(Debug, Clone, Default)]
pub(crate) struct Execution {
    /// The handle it published through.
    pub(crate) handle: Option<TaskHandle>,
    /// The last heartbeat the backend took (`slow`).
    pub(crate) last_heartbeat: Option<usize>,
    /// Why its last publish was refused, if one was.
    pub(crate) refused: Option<String>,
    /// The agent called the executor's `cancel` for its task.
    pub(crate) cancel_called: bool,
    /// `execute` returned.
    pub(crate) returned: bool,
}

impl Script {
    /// Lets `paced` executions publish `count` more updates.
    pub(crate) fn let_through(&self, count: usize) {
        self.state.gate.add_permits(count);
    }

    /// How many updates `paced` executions published after passing the gate.
    pub(crate) fn paced(&self) -> usize {
        self.state.paced.load(Ordering::Acquire)
    }

    /// What the execution of `task` did so far.
    pub(crate) fn execution(&self, task: &str) -> Option<Execution> {
        self.executions().get(task).cloned()
    }

    /// Ends every waiting execution and forgets them all (the scenario is over).
    pub(crate) fn close(&self) {
        self.state.gate.close();
        self.executions().clear();
    }

    fn executions(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Execution>> {
        self.state
            .executions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn record(&self, task: &TaskHandle, change: impl FnOnce(&mut Execution)) {
        let mut executions = self.executions();
        let execution = executions.entry(task.task_id().to_owned()).or_default();
        if execution.handle.is_none() {
            execution.handle = Some(task.clone());
        }
        change(execution);
    }

    /// Waits for the gate; `false` once it is closed.
    async fn pass(&self) -> bool {
        match self.state.gate.acquire().await {
            Ok(permit) => {
                permit.forget();
                true
            }
            Err(_) => false,
        }
    }

    /// `work`: three chunks, then the completion.
    async fn work(&self, task: &TaskHandle) -> Result<(), ExecutionError> {
        task.start_work(None).await?;
        for (n, chunk) in CHUNKS.into_iter().enumerate() {
            task.artifact(result_chunk(chunk), n > 0, n + 1 == CHUNKS.len())
                .await?;
        }
        task.complete(Some(task.agent_text("done"))).await?;
        Ok(())
    }

    /// `paced`: as `work`, each update after the first once the gate lets it through.
    async fn paced_work(&self, task: &TaskHandle) -> Result<(), ExecutionError> {
        task.start_work(None).await?;
        for (n, chunk) in CHUNKS.into_iter().enumerate() {
            if !self.pass().await {
                return Ok(());
            }
            task.artifact(result_chunk(chunk), n > 0, n + 1 == CHUNKS.len())
                .await?;
            self.state.paced.fetch_add(1, Ordering::AcqRel);
        }
        if self.pass().await {
            task.complete(Some(task.agent_text("done"))).await?;
            self.state.paced.fetch_add(1, Ordering::AcqRel);
        }
        Ok(())
    }

    /// `slow`: heartbeats until canceled or refused.
    async fn slow(&self, task: &TaskHandle) -> Result<(), ExecutionError> {
        task.start_work(None).await?;
        self.record(task, |_| {});
        for beat in 0.. {
            tokio::select! {
                () = task.canceled() => break,
                () = tokio::time::sleep(HEARTBEAT) => {}
            }
            let heartbeat = Artifact {
                artifact_id: "heartbeat".into(),
                name: Some("heartbeat".into()),
                description: None,
                parts: vec![Part::text(beat.to_string())],
                metadata: None,
            };
            match task.artifact(heartbeat, false, false).await {
                Ok(_) => self.record(task, |e| e.last_heartbeat = Some(beat)),
                Err(TaskError::Backend(err)) => return Err(err.to_string().into()),
                Err(err) => {
                    self.record(task, |e| e.refused = Some(err.to_string()));
                    // A publish that raced the cancel is refused before the agent saw
                    // the cancel ("the task already ended"): wait to be told.
                    let _ = tokio::time::timeout(CANCEL_NEWS, task.canceled()).await;
                    break;
                }
            }
        }
        Ok(())
    }

    /// A message continuing a task: the answer it asked for.
    async fn answer(&self, task: &TaskHandle, text: &str) -> Result<(), ExecutionError> {
        task.start_work(None).await?;
        let answer = Artifact {
            artifact_id: "answer".into(),
            name: Some("answer.txt".into()),
            description: None,
            parts: vec![Part::text(text)],
            metadata: None,
        };
        task.artifact(answer, false, true).await?;
        task.complete(Some(task.agent_text(format!("you chose {text}"))))
            .await?;
        Ok(())
    }
}

/// A chunk of `result.txt`.
fn result_chunk(text: &str) -> Artifact {
    Artifact {
        artifact_id: "result".into(),
        name: Some("result.txt".into()),
        description: None,
        parts: vec![Part::text(text)],
        metadata: None,
    }
}

impl AgentExecutor for Script {
    async fn execute(
        &self,
        request: RequestContext,
        task: TaskHandle,
    ) -> Result<Outcome, ExecutionError> {
        let text = request.message.first_text().to_owned();
        let word = text.split_whitespace().next().unwrap_or_default();
        let done = if request.task.is_some() {
            self.answer(&task, &text).await
        } else {
            match word {
                "ping" => return Ok(Outcome::Message(task.agent_text("pong"))),
                "work" => self.work(&task).await,
                "ask" => task
                    .require_input(Some(task.agent_text("which one?")))
                    .await
                    .map(drop)
                    .map_err(ExecutionError::from),
                "fail" => match task.start_work(None).await {
                    Ok(_) => Err("the tool broke".into()),
                    Err(err) => Err(err.into()),
                },
                "slow" => self.slow(&task).await,
                "paced" => self.paced_work(&task).await,
                other => task
                    .reject(Some(task.agent_text(format!("no script for {other:?}"))))
                    .await
                    .map(drop)
                    .map_err(ExecutionError::from),
            }
        };
        if matches!(word, "slow" | "paced") {
            self.record(&task, |e| e.returned = true);
        }
        done.map(|()| Outcome::Task)
    }

    async fn cancel(&self, task: TaskHandle) {
        self.record(&task, |e| e.cancel_called = true);
    }
}
