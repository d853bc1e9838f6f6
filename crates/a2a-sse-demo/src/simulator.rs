//! A built-in simulator: rounds of a few plans that work, stream artifact chunks, ask for
//! input, complete, and one that fails.

use std::sync::Arc;
use std::time::Duration;

use a2a_events::{
    Artifact, ErrorPayload, EventBackend, EventPayload, Message, NewEvent, Part, PlanId,
    PublishError, Role, TaskArtifactUpdateEvent, TaskState, TaskStatus, TaskStatusUpdateEvent,
};

/// One step of a scripted plan.
enum Step {
    Status(TaskState, Option<&'static str>),
    Chunk(&'static str, bool),
    Error(&'static str),
}

const REPORT: &[Step] = &[
    Step::Status(TaskState::Submitted, None),
    Step::Status(TaskState::Working, Some("collecting sources")),
    Step::Chunk("# Findings\n", false),
    Step::Chunk("- the queue never blocks\n", false),
    Step::Chunk("- resume is gapless\n", true),
    Step::Status(TaskState::Completed, Some("report ready")),
];

const REVIEW: &[Step] = &[
    Step::Status(TaskState::Submitted, None),
    Step::Status(TaskState::Working, None),
    Step::Status(TaskState::InputRequired, Some("approve the plan?")),
    Step::Status(TaskState::Working, Some("approved")),
    Step::Status(TaskState::Completed, None),
];

const DEPLOY: &[Step] = &[
    Step::Status(TaskState::Submitted, None),
    Step::Status(TaskState::Working, Some("building")),
    Step::Error("tool `deploy` exited with status 1"),
    Step::Status(TaskState::Failed, Some("deployment failed")),
];

fn event(plan: &PlanId, step: &Step) -> NewEvent {
    let task_id = plan.to_string();
    let context_id = format!("ctx-{plan}");
    let payload = match step {
        Step::Status(state, text) => EventPayload::StatusUpdate(TaskStatusUpdateEvent {
            task_id,
            context_id,
            status: TaskStatus {
                state: *state,
                message: text.map(|text| Message {
                    message_id: format!("{plan}-{state:?}"),
                    context_id: None,
                    task_id: None,
                    role: Role::Agent,
                    parts: vec![Part::text(text)],
                    metadata: None,
                }),
                timestamp: None,
            },
            metadata: None,
        }),
        Step::Chunk(text, last) => EventPayload::ArtifactUpdate(TaskArtifactUpdateEvent {
            task_id,
            context_id,
            artifact: Artifact {
                artifact_id: format!("{plan}-report"),
                name: Some("report.md".into()),
                description: None,
                parts: vec![Part::text(*text)],
                metadata: None,
            },
            append: Some(true),
            last_chunk: Some(*last),
            metadata: None,
        }),
        Step::Error(message) => EventPayload::Error(ErrorPayload {
            code: -32000,
            message: (*message).to_owned(),
            data: None,
        }),
    };
    NewEvent::new(plan.clone(), payload)
}

/// Runs rounds of three plans (`report-N-T`, `review-N-T`, `deploy-N-T`, where `T` comes
/// from the process id; the last one fails), one step every `tick`, until the backend
/// closes. A publish the backend refuses is logged and skipped.
pub async fn simulate(backend: Arc<dyn EventBackend>, tick: Duration) {
    let scripts = [("report", REPORT), ("review", REVIEW), ("deploy", DEPLOY)];
    // Replicas sharing one Redis each simulate plans of their own.
    let tag = std::process::id() % 10_000;
    for round in 1u64.. {
        let plans: Vec<_> = scripts
            .iter()
            .filter_map(|(name, steps)| {
                Some((PlanId::new(format!("{name}-{round}-{tag}")).ok()?, *steps))
            })
            .collect();
        let longest = scripts.iter().map(|(_, s)| s.len()).max().unwrap_or(0);
        for index in 0..longest {
            for (plan, steps) in &plans {
                let Some(step) = steps.get(index) else {
                    continue;
                };
                match backend.publish(event(plan, step)).await {
                    Err(PublishError::Closed) => return,
                    Err(error) => tracing::warn!(%error, %plan, "the simulator's publish failed"),
                    Ok(_) => {}
                }
                tokio::time::sleep(tick).await;
            }
        }
        tokio::time::sleep(tick * 3).await;
    }
}
