//! Cost of `A2aEventQueue::publish` by number of matching subscribers: the event is
//! serialized once, so each extra matching subscriber should add only a hand-off.

use std::hint::black_box;
use std::time::{Duration, Instant};

use a2a_events::{
    A2aEventQueue, BufferLimits, EventId, EventPayload, Message, NewEvent, Part, PlanId, Role,
    SubscribeRequest, Subscription, SubscriptionItem, TaskState, TaskStatus, TaskStatusUpdateEvent,
};
use criterion::{BenchmarkId, Criterion};
use futures_util::{FutureExt, StreamExt};

/// Events published between two drains; every subscriber buffers this many, so none lags.
const CHUNK: usize = 32;

const BUFFER: BufferLimits = BufferLimits::new(CHUNK, CHUNK * 4096);

fn plan(index: usize) -> PlanId {
    PlanId::new(format!("plan-{index:04}")).unwrap()
}

/// A status update with an agent message; about 300 bytes of JSON once published.
fn status_update(plan: &PlanId) -> NewEvent {
    NewEvent::new(
        plan.clone(),
        EventPayload::StatusUpdate(TaskStatusUpdateEvent {
            task_id: plan.as_str().to_owned(),
            context_id: "ctx-7f3a9c2e".into(),
            status: TaskStatus {
                state: TaskState::Working,
                message: Some(Message {
                    message_id: "msg-0b7e4c1d".into(),
                    context_id: None,
                    task_id: None,
                    role: Role::Agent,
                    parts: vec![Part::text(
                        "Fetched 3 of 7 sources; summarising the second.",
                    )],
                    metadata: None,
                }),
                timestamp: None,
            },
            metadata: None,
        }),
    )
}

/// Takes everything waiting for `subs`, outside the measured time.
fn drain(subs: &mut [Subscription]) {
    for sub in subs {
        while let Some(Some(item)) = sub.next().now_or_never() {
            drop(black_box(item));
        }
    }
}

/// Publishes to `plan_index` with `subscribers` idle subscribers spread evenly over `plans`
/// plans (plan 0 among them); only plan 0's subscribers match.
fn bench_publish(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    subscribers: usize,
    plans: usize,
) {
    let queue = A2aEventQueue::new();
    let mut matching = Vec::new();
    let mut others = Vec::new();
    for i in 0..subscribers {
        let request = if plans == 1 {
            SubscribeRequest::all()
        } else {
            SubscribeRequest::plan(plan(i % plans))
        };
        let sub = queue.subscribe(request.buffer(BUFFER)).unwrap();
        if plans == 1 || i % plans == 0 {
            matching.push(sub);
        } else {
            others.push(sub);
        }
    }
    let template = status_update(&plan(0));
    let probe = queue.publish(template.clone()).unwrap();
    let mut check = queue
        .subscribe(SubscribeRequest::all().after(EventId::new(probe.sequence() - 1)))
        .unwrap();
    if let Some(Some(SubscriptionItem::Event(e))) = check.next().now_or_never() {
        eprintln!(
            "{name}/{subscribers}: {} matching, event JSON {} bytes",
            matching.len(),
            e.json().len()
        );
    }
    drop(check);
    drain(&mut matching);

    c.bench_function(BenchmarkId::new(name, subscribers), |b| {
        b.iter_custom(|iters| {
            let mut measured = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let n = left.min(CHUNK as u64);
                let batch: Vec<NewEvent> = (0..n).map(|_| template.clone()).collect();
                let start = Instant::now();
                for event in batch {
                    black_box(queue.publish(event).unwrap());
                }
                measured += start.elapsed();
                drain(&mut matching);
                left -= n;
            }
            measured
        });
    });
    assert_eq!(
        queue.subscriber_count(),
        subscribers,
        "a subscriber lagged: the measurement would not be publish + hand-off only"
    );
    drop(others);
}

fn publish(c: &mut Criterion) {
    let mut group = c.benchmark_group("publish");
    for subscribers in [0, 1, 100, 10_000] {
        bench_publish(&mut group, "all-match", subscribers, 1);
    }
    bench_publish(&mut group, "100-plans-100-match", 10_000, 100);
    group.finish();
}

// What `criterion_group!`/`criterion_main!` expand to, without their undocumented `pub fn`.
fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    publish(&mut criterion);
    criterion.final_summary();
}
