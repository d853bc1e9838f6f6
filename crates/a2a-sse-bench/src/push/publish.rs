//! [`publish`]: status updates at a steady rate over many tasks, through the demo's
//! `POST /a2a/plans/{task}/events`, on a thread and runtime of its own (so that pacing
//! never waits behind the receivers), over a few keep-alive connections.
//!
//! The `i`th event of a phase goes to task `i % tasks`. Each task is always posted on the
//! same connection, one POST at a time, so its events are accepted in `seq` order; a
//! task's `seq` advances only when its POST got `202`, so a failed POST leaves no gap.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::MissedTickBehavior;

use super::http::Conn;
use crate::tracker::unix_micros;

/// What one phase publishes.
#[derive(Debug, Clone)]
pub struct Pace {
    /// The demo.
    pub addr: SocketAddr,
    /// The tasks' ids.
    pub tasks: Arc<Vec<String>>,
    /// Events per second over all tasks.
    pub rate: f64,
    /// For how long.
    pub duration: Duration,
    /// The phase the events carry ([`PHASES`](super::PHASES)).
    pub phase: usize,
    /// Keep-alive connections POSTing at once.
    pub connections: usize,
}

/// What a phase published.
#[derive(Debug, Clone, Default)]
pub struct Published {
    /// Events accepted (`202`), by task.
    pub per_task: Vec<u64>,
    /// POSTs that failed.
    pub errors: u64,
    /// The first failure.
    pub first_error: Option<String>,
    /// How far the last event was sent behind its schedule.
    pub behind: Duration,
}

impl Published {
    /// Events accepted in all.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.per_task.iter().sum()
    }
}

/// The body of `task`'s event number `seq` of `phase`.
#[must_use]
pub fn event_body(task: &str, seq: u64, phase: usize, sent_us: u64) -> String {
    format!(
        r#"{{"kind":"status-update","data":{{"taskId":"{task}","contextId":"push-load","status":{{"state":"TASK_STATE_WORKING"}},"metadata":{{"seq":{seq},"phase":{phase},"sentUs":{sent_us}}}}}}}"#
    )
}

/// Publishes `pace` on a thread of its own; `next` holds each task's next `seq` (from 1)
/// and is advanced as events are accepted. Resolves once every event was answered.
///
/// # Errors
///
/// When the thread or its runtime cannot be made, or the thread panicked.
pub async fn publish(pace: Pace, next: Arc<Vec<AtomicU64>>) -> io::Result<Published> {
    let (tx, rx) = oneshot::channel();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("push-publisher".into())
        .spawn(move || {
            let _ = tx.send(runtime.block_on(run(&pace, &next)));
        })?;
    rx.await
        .map_err(|_| io::Error::other("the publisher thread panicked"))
}

async fn run(pace: &Pace, next: &Arc<Vec<AtomicU64>>) -> Published {
    let tasks = pace.tasks.len().max(1);
    let connections = pace.connections.clamp(1, tasks);
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(usize, Result<(), String>)>();
    let mut senders = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (tx, mut rx) = mpsc::unbounded_channel::<usize>();
        senders.push(tx);
        let (done_tx, next, names, phase) = (
            done_tx.clone(),
            Arc::clone(next),
            Arc::clone(&pace.tasks),
            pace.phase,
        );
        let mut conn = Conn::new(pace.addr);
        tokio::spawn(async move {
            while let Some(task) = rx.recv().await {
                let name = &names[task];
                let seq = next[task].load(Ordering::Relaxed);
                let body = event_body(name, seq, phase, unix_micros());
                let result = match conn
                    .post_json(&format!("/a2a/plans/{name}/events"), body)
                    .await
                {
                    Ok((202, _)) => {
                        next[task].store(seq + 1, Ordering::Relaxed);
                        Ok(())
                    }
                    Ok((status, body)) => Err(format!(
                        "{name} seq {seq}: answer {status} {}",
                        String::from_utf8_lossy(&body)
                    )),
                    Err(err) => Err(format!("{name} seq {seq}: {err}")),
                };
                if done_tx.send((task, result)).is_err() {
                    break;
                }
            }
        });
    }
    drop(done_tx);
    let events = (pace.rate * pace.duration.as_secs_f64()).round() as u64;
    let period = Duration::from_secs_f64(1.0 / pace.rate.max(0.001));
    let mut behind = Duration::ZERO;
    let pacing = async {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(MissedTickBehavior::Burst);
        for i in 0..events {
            let due = interval.tick().await;
            let task = (i % tasks as u64) as usize;
            behind = due.elapsed();
            if senders[task % connections].send(task).is_err() {
                break;
            }
        }
        drop(senders);
    };
    let mut published = Published {
        per_task: vec![0; tasks],
        ..Published::default()
    };
    let collect = async {
        while let Some((task, result)) = done_rx.recv().await {
            match result {
                Ok(()) => published.per_task[task] += 1,
                Err(err) => {
                    published.errors += 1;
                    published.first_error.get_or_insert(err);
                }
            }
        }
    };
    tokio::join!(pacing, collect);
    published.behind = behind;
    published
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_a_status_update_carrying_its_stamp() {
        let body: serde_json::Value =
            serde_json::from_str(&event_body("task-3", 7, 2, 123)).unwrap();
        assert_eq!(body["kind"], "status-update");
        assert_eq!(body["data"]["taskId"], "task-3");
        assert_eq!(
            body["data"]["metadata"],
            serde_json::json!({"seq": 7, "phase": 2, "sentUs": 123})
        );
    }
}
