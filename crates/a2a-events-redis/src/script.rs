//! The publish script (`publish.lua`): its arguments, and what it answers.

use std::sync::LazyLock;

use a2a_events::{A2aEvent, BackendError, EventId, EventPayload, NewEvent, PlanId, Timestamp};
use redis::{Script, ScriptInvocation, Value};

use crate::config::{RedisConfig, Trim, ttl_seconds};
use crate::error::protocol;
use crate::keys::Keys;

/// The script, hashed once; `EVALSHA` loads it again after Redis lost it (a restart).
static PUBLISH: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("publish.lua")));

/// What the serialized event starts with when its id is the placeholder `0`: the script
/// writes the real id in its place.
const PLACEHOLDER: &[u8] = br#"{"id":"0","#;

/// One event, ready to be sent to the script as often as a retry needs.
#[derive(Debug)]
pub(crate) struct Publish {
    pub(crate) plan: PlanId,
    /// The event's JSON after [`PLACEHOLDER`].
    tail: Vec<u8>,
    terminal: bool,
    key: String,
    /// What the task's listing learns from the event.
    listing: Listing,
}

/// What an event tells the task index: the task's context (and whether it replaces the
/// one known), and after a status update its state and status time.
#[derive(Debug, Default)]
struct Listing {
    context: String,
    replaces: bool,
    state: String,
    time_ms: String,
}

impl Listing {
    /// As the task's fold reads `event`: a status update's time is its status's timestamp
    /// (none when that does not read as a time), or the event's when it has none.
    fn of(event: &A2aEvent) -> Self {
        let ms = |time: Timestamp| {
            let nanos = time.as_datetime().unix_timestamp_nanos();
            (nanos / 1_000_000).max(0).to_string()
        };
        match &event.payload {
            EventPayload::StatusUpdate(update) => Self {
                context: update.context_id.clone(),
                replaces: true,
                state: serde_json::to_value(update.status.state)
                    .ok()
                    .and_then(|name| name.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                time_ms: match &update.status.timestamp {
                    None => ms(event.timestamp),
                    Some(text) => Timestamp::parse(text).map_or_else(|_| "0".to_owned(), ms),
                },
            },
            EventPayload::ArtifactUpdate(update) => Self {
                context: update.context_id.clone(),
                replaces: true,
                ..Self::default()
            },
            EventPayload::Message(message) => Self {
                context: message.context_id.clone().unwrap_or_default(),
                ..Self::default()
            },
            _ => Self::default(),
        }
    }
}

impl Publish {
    /// `event`, stamped now unless it carries a time, and named `key` for retries.
    pub(crate) fn new(event: NewEvent, key: String) -> Result<Self, BackendError> {
        let terminal = event.payload.terminal_state().is_some();
        let timestamp = event.timestamp.unwrap_or_else(Timestamp::now);
        let plan = event.plan_id;
        let event = A2aEvent::new(EventId::new(0), plan.clone(), timestamp, event.payload);
        let mut json = serde_json::to_vec(&event).map_err(protocol)?;
        debug_assert!(json.starts_with(PLACEHOLDER), "the id is serialized first");
        let tail = json.split_off(PLACEHOLDER.len());
        Ok(Self {
            listing: Listing::of(&event),
            plan,
            tail,
            terminal,
            key,
        })
    }

    /// The script call for this event, with `floor`, the highest id this process saw, and
    /// whether the server keeps every acknowledged write across a restart (`durable`).
    pub(crate) fn invocation(
        &self,
        keys: &Keys,
        config: &RedisConfig,
        floor: EventId,
        durable: bool,
    ) -> ScriptInvocation<'static> {
        let mut call = PUBLISH.prepare_invoke();
        let flag = |on: bool| if on { "1" } else { "0" };
        call.key(&keys.meta)
            .key(&keys.log)
            .key(keys.plan(&self.plan))
            .key(keys.events(&self.plan))
            .key(&keys.tasks)
            .arg(self.plan.as_str())
            .arg(&self.tail[..])
            .arg(flag(self.terminal))
            .arg(&self.key)
            .arg(floor.epoch())
            .arg(floor.sequence())
            .arg(config.history_events)
            .arg(flag(config.trim == Trim::Exact))
            .arg(ttl_seconds(config.finished_ttl))
            .arg(config.running_ttl.map_or(0, ttl_seconds))
            .arg(flag(durable))
            .arg(&self.listing.context)
            .arg(flag(self.listing.replaces))
            .arg(&self.listing.state)
            .arg(&self.listing.time_ms);
        call
    }
}

/// What the script did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Stored with this id.
    Stored(EventId),
    /// The plan already took this idempotency key, for this id.
    Duplicate(EventId),
    /// Refused: the plan finished with this event.
    Finished(EventId),
}

/// Reads the script's `{status, epoch, sequence}`.
pub(crate) fn parse_reply(reply: Value) -> Result<Outcome, BackendError> {
    let bad = || protocol("unexpected reply from the publish script");
    let Value::Array(items) = reply else {
        return Err(bad());
    };
    let [status, epoch, sequence] = <[Value; 3]>::try_from(items).map_err(|_| bad())?;
    let number = |value: Value| redis::from_redis_value::<u64>(value).map_err(|_| bad());
    let id = EventId::from_parts(number(epoch)?, number(sequence)?);
    match redis::from_redis_value::<String>(status).as_deref() {
        Ok("ok") => Ok(Outcome::Stored(id)),
        Ok("dup") => Ok(Outcome::Duplicate(id)),
        Ok("finished") => Ok(Outcome::Finished(id)),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use a2a_events::{ErrorPayload, EventPayload, TaskState, TaskStatusUpdateEvent};

    use super::*;

    fn status(value: &str) -> Value {
        Value::BulkString(value.as_bytes().to_vec())
    }

    #[test]
    fn replies_are_read_or_refused() {
        let reply = |s: &str| Value::Array(vec![status(s), Value::Int(9), Value::Int(2)]);
        let id = EventId::from_parts(9, 2);
        assert_eq!(parse_reply(reply("ok")), Ok(Outcome::Stored(id)));
        assert_eq!(parse_reply(reply("dup")), Ok(Outcome::Duplicate(id)));
        assert_eq!(parse_reply(reply("finished")), Ok(Outcome::Finished(id)));
        for bad in [
            reply("what"),
            Value::Int(1),
            Value::Array(vec![status("ok")]),
            Value::Array(vec![status("ok"), status("x"), Value::Int(2)]),
        ] {
            assert!(parse_reply(bad).is_err());
        }
    }

    #[test]
    fn the_event_is_sent_without_its_id() {
        let plan = PlanId::new("p").unwrap();
        let done = EventPayload::StatusUpdate(TaskStatusUpdateEvent {
            task_id: "p".into(),
            context_id: "c".into(),
            status: TaskState::Completed.into(),
            metadata: None,
        });
        let at = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let publish = Publish::new(NewEvent::new(plan.clone(), done).at(at), "k".into()).unwrap();
        assert!(publish.terminal);
        let text = String::from_utf8(publish.tail.clone()).unwrap();
        assert!(
            text.starts_with(
                r#""planId":"p","kind":"status-update","timestamp":"2026-01-01T00:00:00.000Z""#
            ),
            "{text}"
        );
        let error = EventPayload::Error(ErrorPayload {
            code: 1,
            message: "m".into(),
            data: None,
        });
        let publish = Publish::new(NewEvent::new(plan, error), "k".into()).unwrap();
        assert!(!publish.terminal);
    }
}
