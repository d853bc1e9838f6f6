//! What a subscription reads from Redis before it goes live: one atomic read (the last
//! id, the oldest retained, the plan's end, the first page after the resume point, the
//! plan's events for its task). What to make of it (replay, `reset`, snapshot, refusal)
//! is the shared subscription engine's business ([`a2a_events::engine`]).

use std::sync::Arc;

use a2a_events::{A2aEvent, BackendError, EventId, PlanId, TaskSnapshot};
use redis::streams::StreamRangeReply;
use redis::{ErrorKind, RedisError, RedisResult, Value};

use crate::entry::Entry;
use crate::error::protocol;
use crate::keys::{Keys, entry_id, parse_entry_id};

/// What the atomic read found.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// The last id given (`meta`), or the newest entry's when `meta` is gone.
    pub(crate) tail: Option<EventId>,
    /// The oldest entry retained.
    pub(crate) oldest: Option<EventId>,
    /// The plan's terminal event, if it finished (plan-filtered reads only).
    pub(crate) terminal: Option<EventId>,
    /// The entries right after the resume point, one page of them.
    pub(crate) page: Vec<Entry>,
    /// The plan's events as JSON, oldest first (reads that ask for its task).
    pub(crate) events: Vec<Vec<u8>>,
}

/// What to read atomically.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ask<'a> {
    pub(crate) plan: Option<&'a PlanId>,
    pub(crate) after: Option<EventId>,
    pub(crate) task: bool,
    pub(crate) batch: usize,
}

/// The atomic read (`MULTI … EXEC`) for `ask`.
pub(crate) fn pipeline(keys: &Keys, ask: Ask<'_>) -> redis::Pipeline {
    let mut pipe = redis::pipe();
    pipe.atomic();
    pipe.cmd("HMGET").arg(&keys.meta).arg("epoch").arg("seq");
    pipe.cmd("XRANGE")
        .arg(&keys.log)
        .arg("-")
        .arg("+")
        .arg("COUNT")
        .arg(1);
    pipe.cmd("XREVRANGE")
        .arg(&keys.log)
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(1);
    if let Some(plan) = ask.plan {
        pipe.cmd("HGET").arg(keys.plan(plan)).arg("term");
    }
    if let Some(after) = ask.after {
        pipe.cmd("XRANGE")
            .arg(&keys.log)
            .arg(format!("({}", entry_id(after)))
            .arg("+")
            .arg("COUNT")
            .arg(ask.batch);
    }
    if let (Some(plan), true) = (ask.plan, ask.task) {
        pipe.cmd("LRANGE").arg(keys.events(plan)).arg(0).arg(-1);
    }
    pipe
}

/// Reads the answers of [`pipeline`] for the same `ask`.
pub(crate) fn parse(values: Vec<Value>, ask: Ask<'_>) -> RedisResult<Found> {
    let mut values = values.into_iter();
    let mut next = || {
        values.next().ok_or_else(|| {
            RedisError::from((
                ErrorKind::Parse,
                "the atomic read answered fewer replies than asked",
            ))
        })
    };
    let (epoch, seq): (Option<u64>, Option<u64>) = redis::from_redis_value(next()?)?;
    let first_id = |reply: StreamRangeReply| reply.ids.first().and_then(|e| parse_entry_id(&e.id));
    let oldest = first_id(redis::from_redis_value(next()?)?);
    let newest = first_id(redis::from_redis_value(next()?)?);
    let mut found = Found {
        tail: epoch
            .zip(seq)
            .map(|(e, s)| EventId::from_parts(e, s))
            .or(newest),
        oldest,
        ..Found::default()
    };
    if ask.plan.is_some() {
        let term: Option<String> = redis::from_redis_value(next()?)?;
        found.terminal = term.as_deref().and_then(parse_entry_id);
    }
    if ask.after.is_some() {
        found.page = entries(redis::from_redis_value(next()?)?);
    }
    if ask.plan.is_some() && ask.task {
        found.events = redis::from_redis_value(next()?)?;
    }
    Ok(found)
}

/// A page of entries, in id order.
pub(crate) fn entries(reply: StreamRangeReply) -> Vec<Entry> {
    reply.ids.into_iter().filter_map(Entry::new).collect()
}

/// `plan`'s task, folded from its events as the in-memory queue folds them; `None` for a
/// plan without events.
pub(crate) fn fold(
    plan: &PlanId,
    events: &[Vec<u8>],
) -> Result<Option<Arc<TaskSnapshot>>, BackendError> {
    let mut snapshot: Option<TaskSnapshot> = None;
    for json in events {
        let event: A2aEvent = serde_json::from_slice(json).map_err(protocol)?;
        if event.plan_id != *plan {
            return Err(protocol(format!(
                "an event of {} in the list of {plan}",
                event.plan_id
            )));
        }
        match &mut snapshot {
            Some(snapshot) => snapshot.fold(&event),
            None => snapshot = Some(TaskSnapshot::of(&event)),
        }
    }
    Ok(snapshot.map(Arc::new))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(sequence: u64) -> EventId {
        EventId::from_parts(8, sequence)
    }

    fn json(id: EventId, plan: &str) -> String {
        format!(
            r#"{{"id":"{id}","planId":"{plan}","kind":"error","timestamp":"2026-01-01T00:00:00.000Z","data":{{"code":1,"message":"m"}}}}"#
        )
    }

    #[test]
    fn the_task_is_the_fold_of_the_plans_events() {
        let plan = PlanId::new("odd").unwrap();
        assert_eq!(fold(&plan, &[]), Ok(None));
        let events = [
            json(id(1), "odd").into_bytes(),
            json(id(3), "odd").into_bytes(),
        ];
        let task = fold(&plan, &events).unwrap().unwrap();
        assert_eq!(task.as_of, id(3));
        assert!(fold(&plan, &[b"{".to_vec()]).is_err());
    }

    #[test]
    fn answers_are_read_in_the_order_asked() {
        let plan = PlanId::new("odd").unwrap();
        let ask = Ask {
            plan: Some(&plan),
            after: Some(id(1)),
            task: true,
            batch: 10,
        };
        assert_eq!(pipeline(&Keys::new("{t}"), ask).cmd_iter().count(), 6);
        let range = |ids: &[u64]| {
            Value::Array(
                ids.iter()
                    .map(|&s| {
                        Value::Array(vec![
                            Value::BulkString(entry_id(id(s)).into_bytes()),
                            Value::Array(vec![
                                Value::BulkString(b"j".to_vec()),
                                Value::BulkString(json(id(s), "odd").into_bytes()),
                            ]),
                        ])
                    })
                    .collect(),
            )
        };
        let values = vec![
            Value::Array(vec![Value::Nil, Value::Nil]),
            range(&[1]),
            range(&[3]),
            Value::BulkString(b"8-3".to_vec()),
            range(&[2, 3]),
            Value::Array(vec![Value::BulkString(b"{}".to_vec())]),
        ];
        let found = parse(values, ask).unwrap();
        assert_eq!(found.tail, Some(id(3)), "meta gone: the newest entry");
        assert_eq!(found.oldest, Some(id(1)));
        assert_eq!(found.terminal, Some(id(3)));
        assert_eq!(found.page.len(), 2);
        assert_eq!(found.events, [b"{}".to_vec()]);
        let bare = Ask {
            plan: None,
            after: None,
            task: false,
            batch: 1,
        };
        assert!(parse(vec![Value::Int(1)], bare).is_err());
        // A missing answer is no empty one.
        let short = vec![Value::Array(vec![Value::Nil, Value::Nil])];
        assert!(parse(short, bare).is_err());
    }
}
