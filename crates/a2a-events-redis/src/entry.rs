//! One entry of the event stream: its id, its plan, and the event's JSON as Redis holds it.

use std::sync::Arc;

use a2a_events::engine::Retained;
use a2a_events::{EventId, PlanId, SharedEvent, StoredEvent};
use bytes::Bytes;
use redis::Value;
use redis::streams::StreamId;

use crate::keys::parse_entry_id;

/// A stream entry as the backend wrote it (fields `p`, the plan, and `j`, the JSON).
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) id: EventId,
    plan: Option<Vec<u8>>,
    json: Option<Vec<u8>>,
}

impl Entry {
    /// The entry of `raw`; `None` when its id is not an event id.
    pub(crate) fn new(raw: StreamId) -> Option<Self> {
        let id = parse_entry_id(&raw.id)?;
        let mut map = raw.map;
        let mut field = |name: &str| match map.remove(name) {
            Some(Value::BulkString(bytes)) => Some(bytes),
            _ => None,
        };
        Some(Self {
            id,
            plan: field("p"),
            json: field("j"),
        })
    }

    /// The shared event, its JSON kept as it is; `None` (and an error logged) when the
    /// entry holds no event of this id, which only something else writing to the
    /// backend's keys could cause.
    pub(crate) fn into_event(self) -> Option<SharedEvent> {
        let id = self.id;
        let event = self
            .json
            .map(|json| StoredEvent::from_json(Bytes::from(json)))
            .and_then(Result::ok)
            .filter(|event| event.id() == id);
        if event.is_none() {
            tracing::error!(%id, "the Redis event stream holds an entry that is no event; skipped");
        }
        event.map(Arc::new)
    }
}

impl Retained for Entry {
    fn id(&self) -> EventId {
        self.id
    }

    /// Whether the entry belongs to `plan`, by its `p` field: the JSON is not read.
    fn is_of(&self, plan: &PlanId) -> bool {
        self.plan.as_deref() == Some(plan.as_str().as_bytes())
    }

    fn into_event(self) -> Option<SharedEvent> {
        Self::into_event(self)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn raw(id: &str, fields: &[(&str, &str)]) -> StreamId {
        let map: HashMap<String, Value> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::BulkString(v.as_bytes().to_vec())))
            .collect();
        StreamId {
            id: id.to_owned(),
            map,
            ..StreamId::default()
        }
    }

    const JSON: &str = r#"{"id":"5-1","planId":"p","kind":"error","timestamp":"2026-01-01T00:00:00.000Z","data":{"code":1,"message":"m"}}"#;

    #[test]
    fn an_entry_holds_its_plan_and_event() {
        let entry = Entry::new(raw("5-1", &[("p", "p"), ("j", JSON)])).unwrap();
        let plan = PlanId::new("p").unwrap();
        assert!(entry.is_of(&plan));
        assert!(!entry.is_of(&PlanId::new("q").unwrap()));
        let event = entry.into_event().unwrap();
        assert_eq!(event.id(), EventId::from_parts(5, 1));
        assert_eq!(&event.json()[..], JSON.as_bytes());
    }

    #[test]
    fn what_is_no_event_is_skipped() {
        assert!(Entry::new(raw("oops", &[])).is_none());
        let missing = Entry::new(raw("5-1", &[("p", "p")])).unwrap();
        assert!(missing.into_event().is_none());
        let other_id = Entry::new(raw("5-2", &[("j", JSON)])).unwrap();
        assert!(other_id.into_event().is_none());
        let garbage = Entry::new(raw("5-1", &[("j", "{")])).unwrap();
        assert!(!garbage.is_of(&PlanId::new("p").unwrap()));
        assert!(garbage.into_event().is_none());
    }
}
