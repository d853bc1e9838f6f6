//! Per-delivery cost of encoding one status-update event (about 300 bytes of JSON) for
//! 1, 100 and 10,000 subscribers, side by side in one run:
//!
//! - `ours`: the queue's one serialization (`StoredEvent::new`) plus, per subscriber, the
//!   shared SSE frame (`event_frame`: built on first use, then a reference-count clone);
//! - `axum`: what an axum 0.8 handler does per subscriber today,
//!   `Event::default().id(..).event(..).json_data(&event)`;
//! - `actix-web-lab`: per subscriber, `sse::Data::new_json(&event)` with id and event name.
//!
//! Throughput is per delivery, so criterion's "time per element" is the cost of one
//! subscriber receiving the event. `cargo bench -p a2a-sse-bench --bench encoding`.

use std::hint::black_box;

use a2a_events::{
    A2aEvent, EventId, EventPayload, Message, Metadata, Part, PlanId, Role, StoredEvent, TaskState,
    TaskStatus, TaskStatusUpdateEvent, Timestamp,
};
use a2a_sse_core::event_frame;
use criterion::{BenchmarkId, Criterion, Throughput};

fn sample_event() -> A2aEvent {
    let mut metadata = Metadata::new();
    metadata.insert("step".into(), 7.into());
    metadata.insert("tool".into(), "search".into());
    A2aEvent::new(
        EventId::new(4242),
        PlanId::new("plan-7").expect("valid plan id"),
        Timestamp::now(),
        EventPayload::StatusUpdate(TaskStatusUpdateEvent {
            task_id: "plan-7".into(),
            context_id: "ctx-1".into(),
            status: TaskStatus {
                state: TaskState::Working,
                message: Some(Message {
                    message_id: "msg-7-3".into(),
                    context_id: None,
                    task_id: None,
                    role: Role::Agent,
                    parts: vec![Part::text("collecting sources for the quarterly report")],
                    metadata: None,
                }),
                timestamp: None,
            },
            metadata: Some(metadata),
        }),
    )
}

fn encoding(c: &mut Criterion) {
    let event = sample_event();
    let json_len = serde_json::to_vec(&event).expect("serializable").len();
    let id = event.id.to_string();
    let mut group = c.benchmark_group(format!("encoding-{json_len}B"));
    for subscribers in [1_u64, 100, 10_000] {
        group.throughput(Throughput::Elements(subscribers));
        group.bench_with_input(
            BenchmarkId::new("ours", subscribers),
            &subscribers,
            |b, &n| {
                b.iter(|| {
                    let stored = StoredEvent::new(black_box(&event)).expect("serializable");
                    for _ in 0..n {
                        black_box(event_frame(&stored));
                    }
                });
            },
        );
        group.bench_with_input(
            BenchmarkId::new("axum", subscribers),
            &subscribers,
            |b, &n| {
                b.iter(|| {
                    for _ in 0..n {
                        let frame = axum::response::sse::Event::default()
                            .id(&id)
                            .event("status-update")
                            .json_data(black_box(&event))
                            .expect("serializable");
                        let _ = black_box(frame);
                    }
                });
            },
        );
        group.bench_with_input(
            BenchmarkId::new("actix-web-lab", subscribers),
            &subscribers,
            |b, &n| {
                b.iter(|| {
                    for _ in 0..n {
                        let data = actix_web_lab::sse::Data::new_json(black_box(&event))
                            .expect("serializable")
                            .id(id.clone())
                            .event("status-update");
                        let _ = black_box(actix_web_lab::sse::Event::Data(data));
                    }
                });
            },
        );
    }
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    encoding(&mut criterion);
    criterion.final_summary();
}
