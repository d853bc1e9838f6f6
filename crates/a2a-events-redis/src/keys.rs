//! The keys the backend writes, and event ids as Redis stream entry ids.

use a2a_events::{EventId, PlanId};

/// Every key name, from the configured prefix.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    prefix: String,
    /// `<prefix>:meta`: the last id given (`epoch`, `seq`) and the server that gave it.
    pub(crate) meta: String,
    /// `<prefix>:log`: the stream of every event.
    pub(crate) log: String,
    /// `<prefix>:tasks`: every task, scored by its status time in ms.
    pub(crate) tasks: String,
    /// `<prefix>:leases`: the plans whose executions run, scored by when their lease ends
    /// (Redis's clock, ms).
    pub(crate) leases: String,
}

impl Keys {
    pub(crate) fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            meta: format!("{prefix}:meta"),
            log: format!("{prefix}:log"),
            tasks: format!("{prefix}:tasks"),
            leases: format!("{prefix}:leases"),
        }
    }

    /// The prefix every key starts with.
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `<prefix>:plan:<plan>`: the plan's terminal id and idempotency keys.
    pub(crate) fn plan(&self, plan: &PlanId) -> String {
        format!("{}:plan:{plan}", self.prefix)
    }

    /// `<prefix>:plan:<plan>:events`: the plan's events, which its task is folded from.
    pub(crate) fn events(&self, plan: &PlanId) -> String {
        format!("{}:plan:{plan}:events", self.prefix)
    }
}

/// `id` as a stream entry id, `EPOCH-SEQUENCE` always (Redis reads a bare `7` as `7-0`).
pub(crate) fn entry_id(id: EventId) -> String {
    format!("{}-{}", id.epoch(), id.sequence())
}

/// The event id of a stream entry id (`EPOCH-SEQUENCE`).
pub(crate) fn parse_entry_id(text: &str) -> Option<EventId> {
    text.contains('-').then(|| text.parse().ok()).flatten()
}

/// Whether `next` directly follows `last` in one epoch, or opens the log (`last` unknown,
/// `next` the first of its epoch).
pub(crate) fn follows(last: Option<EventId>, next: EventId) -> bool {
    match last {
        Some(last) => next.epoch() == last.epoch() && next.sequence() == last.sequence() + 1,
        None => next.sequence() == 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_share_the_prefix() {
        let keys = Keys::new("{a2a}");
        let plan = PlanId::new("p-1").unwrap();
        assert_eq!(keys.meta, "{a2a}:meta");
        assert_eq!(keys.log, "{a2a}:log");
        assert_eq!(keys.plan(&plan), "{a2a}:plan:p-1");
        assert_eq!(keys.events(&plan), "{a2a}:plan:p-1:events");
    }

    #[test]
    fn entry_ids_always_have_both_parts() {
        assert_eq!(entry_id(EventId::new(7)), "0-7");
        let id = EventId::from_parts(1_796_197_675_121_525, 3);
        assert_eq!(entry_id(id), "1796197675121525-3");
        assert_eq!(parse_entry_id("1796197675121525-3"), Some(id));
        assert_eq!(parse_entry_id("7"), None);
        assert_eq!(parse_entry_id("a-b"), None);
    }

    #[test]
    fn only_the_next_sequence_of_the_same_epoch_follows() {
        let id = EventId::from_parts;
        assert!(follows(Some(id(5, 1)), id(5, 2)));
        assert!(!follows(Some(id(5, 1)), id(5, 3)));
        assert!(!follows(Some(id(5, 9)), id(6, 1)));
        assert!(follows(None, id(6, 1)));
        assert!(!follows(None, id(6, 2)));
    }
}
