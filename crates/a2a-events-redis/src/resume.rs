//! What a subscription reads from Redis before it goes live: one atomic read (the last
//! id, the oldest retained, the plan's end, the first page after the resume point, the
//! plan's events for its task), the rules that decide between replay, `reset`, a snapshot
//! and "finished", and the paging of a longer replay.

use std::future::Future;
use std::sync::Arc;

use a2a_events::{A2aEvent, BackendError, EventId, PlanId, SubscriptionItem, TaskSnapshot};
use redis::streams::StreamRangeReply;
use redis::{RedisResult, Value};

use crate::entry::Entry;
use crate::error::protocol;
use crate::keys::{Keys, entry_id, follows, parse_entry_id};

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
    let mut next = || values.next().unwrap_or(Value::Nil);
    let (epoch, seq): (Option<u64>, Option<u64>) = redis::from_redis_value(next())?;
    let first_id = |reply: StreamRangeReply| reply.ids.first().and_then(|e| parse_entry_id(&e.id));
    let oldest = first_id(redis::from_redis_value(next())?);
    let newest = first_id(redis::from_redis_value(next())?);
    let mut found = Found {
        tail: epoch
            .zip(seq)
            .map(|(e, s)| EventId::from_parts(e, s))
            .or(newest),
        oldest,
        ..Found::default()
    };
    if ask.plan.is_some() {
        let term: Option<String> = redis::from_redis_value(next())?;
        found.terminal = term.as_deref().and_then(parse_entry_id);
    }
    if ask.after.is_some() {
        found.page = entries(redis::from_redis_value(next())?);
    }
    if ask.plan.is_some() && ask.task {
        found.events = redis::from_redis_value(next())?;
    }
    Ok(found)
}

/// A page of entries, in id order.
pub(crate) fn entries(reply: StreamRangeReply) -> Vec<Entry> {
    reply.ids.into_iter().filter_map(Entry::new).collect()
}

/// Whether a filtered subscription to a plan that finished with `terminal` could never
/// receive anything: no resume point, one at or past the terminal event, or the terminal
/// event already trimmed away (a `reset` would have the client reconnect with the same id
/// for ever).
pub(crate) fn nothing_left(
    terminal: EventId,
    oldest: Option<EventId>,
    after: Option<EventId>,
) -> bool {
    let trimmed = oldest.is_none_or(|oldest| terminal < oldest);
    trimmed || after.is_none_or(|after| after >= terminal)
}

/// Whether history no longer reaches back to `after`: it is of another epoch (from before
/// Redis lost data, or from another backend), ahead of the last id given (Redis went
/// back), or the entry right after it is gone (trimmed). `0` means "before the first
/// event of the current epoch".
pub(crate) fn is_lost(after: EventId, tail: Option<EventId>, first_after: Option<EventId>) -> bool {
    let Some(tail) = tail else {
        return after != EventId::default();
    };
    let position = if after == EventId::default() {
        EventId::from_parts(tail.epoch(), 0)
    } else {
        after
    };
    if position.epoch() != tail.epoch() || position.sequence() > tail.sequence() {
        return true;
    }
    position != tail && !first_after.is_some_and(|first| follows(Some(position), first))
}

/// A replay, read page by page.
#[derive(Debug, Default)]
pub(crate) struct Replay {
    pub(crate) items: Vec<SubscriptionItem>,
    /// The newest entry read.
    pub(crate) last_read: Option<EventId>,
    /// Entries went missing between two pages (trimmed while the replay was read): the
    /// subscription must end as lagged after what it has.
    pub(crate) interrupted: bool,
}

/// Reads the replay: `first` (a page already read), then pages from `next_page` (the
/// entries after an id) until a short one, keeping `plan`'s events, up to `until` (a
/// finished plan's terminal event). Each page must go on where the one before stopped.
pub(crate) async fn replay<F, Fut>(
    first: Vec<Entry>,
    batch: usize,
    plan: Option<&PlanId>,
    until: Option<EventId>,
    mut next_page: F,
) -> RedisResult<Replay>
where
    F: FnMut(EventId) -> Fut,
    Fut: Future<Output = RedisResult<Vec<Entry>>>,
{
    let mut replay = Replay::default();
    let mut page = first;
    loop {
        let full = page.len() >= batch;
        if let (Some(last), Some(first)) = (replay.last_read, page.first())
            && !follows(Some(last), first.id)
            && first.id.sequence() != 1
        {
            replay.interrupted = true;
            return Ok(replay);
        }
        for entry in page {
            if until.is_some_and(|until| entry.id > until) {
                return Ok(replay);
            }
            replay.last_read = Some(entry.id);
            if entry.is_of(plan)
                && let Some(event) = entry.into_event()
            {
                replay.items.push(SubscriptionItem::Event(event));
            }
        }
        match replay.last_read {
            Some(last) if full && until.is_none_or(|until| last < until) => {
                page = next_page(last).await?;
            }
            _ => return Ok(replay),
        }
    }
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
        match &mut snapshot {
            Some(snapshot) => snapshot.apply(event.id, &event.payload),
            None => snapshot = Some(TaskSnapshot::new(plan, event.id, &event.payload)),
        }
    }
    Ok(snapshot.map(Arc::new))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use redis::streams::StreamId;

    use super::*;

    fn id(sequence: u64) -> EventId {
        EventId::from_parts(8, sequence)
    }

    fn json(id: EventId, plan: &str) -> String {
        format!(
            r#"{{"id":"{id}","planId":"{plan}","kind":"error","timestamp":"2026-01-01T00:00:00.000Z","data":{{"code":1,"message":"m"}}}}"#
        )
    }

    fn entry(id: EventId, plan: &str) -> Entry {
        let map: HashMap<String, Value> = [("p", plan.to_owned()), ("j", json(id, plan))]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Value::BulkString(v.into_bytes())))
            .collect();
        Entry::new(StreamId {
            id: entry_id(id),
            map,
            ..StreamId::default()
        })
        .unwrap()
    }

    fn page(from: u64, to: u64) -> Vec<Entry> {
        (from..=to)
            .map(|s| entry(id(s), if s % 2 == 0 { "even" } else { "odd" }))
            .collect()
    }

    fn sequences(replay: &Replay) -> Vec<u64> {
        replay
            .items
            .iter()
            .map(|item| match item {
                SubscriptionItem::Event(e) => e.id().sequence(),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_resume_point_is_lost_unless_history_goes_on_right_after_it() {
        let tail = Some(id(9));
        assert!(!is_lost(id(4), tail, Some(id(5))), "covered");
        assert!(!is_lost(id(9), tail, None), "at the tail");
        assert!(is_lost(id(4), tail, Some(id(6))), "trimmed");
        assert!(is_lost(id(4), tail, None), "gone");
        assert!(is_lost(id(10), tail, None), "ahead");
        assert!(
            is_lost(EventId::from_parts(7, 4), tail, None),
            "another epoch"
        );
        assert!(is_lost(EventId::new(4), tail, None), "an in-memory id");
        assert!(
            !is_lost(EventId::default(), tail, Some(id(1))),
            "0: from the start"
        );
        assert!(is_lost(EventId::default(), tail, Some(id(2))));
        assert!(!is_lost(EventId::default(), None, None), "empty Redis");
        assert!(is_lost(id(3), None, None));
    }

    #[test]
    fn a_finished_plan_has_nothing_left_past_its_end_or_once_trimmed() {
        let terminal = id(5);
        assert!(nothing_left(terminal, Some(id(1)), None));
        assert!(nothing_left(terminal, Some(id(1)), Some(id(5))));
        assert!(nothing_left(terminal, Some(id(6)), Some(id(2))));
        assert!(nothing_left(terminal, None, Some(id(2))));
        assert!(!nothing_left(terminal, Some(id(1)), Some(id(2))));
    }

    #[tokio::test]
    async fn a_replay_pages_until_a_short_page_and_filters() {
        let pages = |after: EventId| async move {
            let next = after.sequence() + 1;
            Ok(page(next, (next + 1).min(5)))
        };
        let plan = PlanId::new("odd").unwrap();
        let all = replay(page(1, 2), 2, None, None, pages).await.unwrap();
        assert_eq!(sequences(&all), [1, 2, 3, 4, 5]);
        assert_eq!(all.last_read, Some(id(5)));
        assert!(!all.interrupted);
        let odd = replay(page(1, 2), 2, Some(&plan), None, pages)
            .await
            .unwrap();
        assert_eq!(sequences(&odd), [1, 3, 5]);
        let until = replay(page(1, 2), 2, None, Some(id(3)), pages)
            .await
            .unwrap();
        assert_eq!(sequences(&until), [1, 2, 3]);
        assert_eq!(until.last_read, Some(id(3)));
        let empty = replay(Vec::new(), 2, None, None, pages).await.unwrap();
        assert_eq!(empty.last_read, None);
    }

    #[tokio::test]
    async fn a_page_that_skips_interrupts_the_replay() {
        let trimmed = |_| async { Ok(page(6, 7)) };
        let got = replay(page(1, 2), 2, None, None, trimmed).await.unwrap();
        assert_eq!(sequences(&got), [1, 2]);
        assert!(got.interrupted);
        // A new epoch at a page's start is no gap of this one's.
        let epoch = |_| async { Ok(vec![entry(EventId::from_parts(9, 1), "odd")]) };
        let got = replay(page(1, 2), 2, None, None, epoch).await.unwrap();
        assert_eq!(got.items.len(), 3);
        assert!(!got.interrupted);
        let failing = |_| async { Err(redis::RedisError::from((redis::ErrorKind::Io, "x"))) };
        assert!(replay(page(1, 2), 2, None, None, failing).await.is_err());
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
    }
}
