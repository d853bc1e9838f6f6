//! Per-connection delivery checks: duplicates, order, routing, latency.
//!
//! Every published event carries `metadata.seq` (its publish sequence number, `0..M`) and
//! `metadata.sentUs` (unix microseconds when the POST was sent). Sequence `s` is published to
//! plan `s % plans`. A connection filtered to plan `p` must receive exactly the accepted
//! sequences with `s % plans == p`, each once, with strictly increasing ids.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use crate::decoder::SseEvent;

/// The plan id used for plan index `index`.
pub fn plan_name(index: u32) -> String {
    format!("plan-{index}")
}

fn plan_index(name: &str) -> Option<u32> {
    name.strip_prefix("plan-")?.parse().ok()
}

/// When a piece of a stream was read: every event dispatched from it arrived then.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    /// Unix time in microseconds, compared with the publisher's `sentUs`.
    pub unix_us: u64,
    /// The same moment on the monotonic clock.
    pub at: Instant,
}

impl Received {
    /// Now, read once for all the events of one read.
    pub fn now() -> Self {
        Self {
            unix_us: unix_micros(),
            at: Instant::now(),
        }
    }
}

/// Unix time in microseconds.
pub fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(rename = "planId", borrow)]
    plan_id: Cow<'a, str>,
    data: FrameData,
}

#[derive(Deserialize)]
struct FrameData {
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Metadata {
    seq: u64,
    #[serde(rename = "sentUs")]
    sent_us: u64,
}

/// What one stream, or a set of streams summed, saw.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    /// Streams that got their `200 text/event-stream` head.
    pub connected: usize,
    /// Streams that could not be opened.
    pub connect_errors: usize,
    /// The first connect error.
    pub first_connect_error: Option<String>,
    /// Sum over streams of the accepted events each should have received.
    pub expected: u64,
    /// First receptions of expected events.
    pub delivered: u64,
    /// Expected events never received.
    pub missing: u64,
    /// Events received twice on one stream.
    pub duplicated: u64,
    /// Events whose id did not increase.
    pub out_of_order: u64,
    /// Events delivered to a stream filtered to another plan (or whose `planId` disagrees
    /// with the plan they were published to).
    pub misrouted: u64,
    /// Unreadable events, or events whose POST had failed.
    pub protocol_errors: u64,
    /// `lagged`, `reset` and other non-data events.
    pub control_events: u64,
    /// Streams the server ended before the client did.
    pub ended_early: u64,
}

impl Counts {
    /// Every stream opened, and every expected event arrived once, in order, on the right
    /// stream.
    pub fn is_correct(&self) -> bool {
        self.connect_errors == 0
            && self.delivered == self.expected
            && self.missing == 0
            && self.duplicated == 0
            && self.out_of_order == 0
            && self.misrouted == 0
            && self.protocol_errors == 0
    }

    /// [`Counts::is_correct`], and nothing else came: no control event, no stream ended
    /// by the server.
    pub fn is_clean(&self) -> bool {
        self.is_correct() && self.control_events == 0 && self.ended_early == 0
    }

    /// Faults besides the event counts: unreadable events, streams ended early, failed
    /// connects.
    pub fn other_faults(&self) -> u64 {
        self.protocol_errors + self.ended_early + self.connect_errors as u64
    }

    /// One line for the report.
    pub fn summary(&self) -> String {
        format!(
            "{} streams, {} expected deliveries, {} delivered, missing {}, duplicated {}, \
             out of order {}, misrouted {}, protocol errors {}, control events {}, ended \
             early {}, connect errors {}",
            self.connected,
            self.expected,
            self.delivered,
            self.missing,
            self.duplicated,
            self.out_of_order,
            self.misrouted,
            self.protocol_errors,
            self.control_events,
            self.ended_early,
            self.connect_errors
        )
    }

    /// Adds `other`'s counts to these (the first connect error is kept).
    pub fn merge(&mut self, other: &Counts) {
        self.connected += other.connected;
        self.connect_errors += other.connect_errors;
        if self.first_connect_error.is_none() {
            self.first_connect_error
                .clone_from(&other.first_connect_error);
        }
        self.expected += other.expected;
        self.delivered += other.delivered;
        self.missing += other.missing;
        self.duplicated += other.duplicated;
        self.out_of_order += other.out_of_order;
        self.misrouted += other.misrouted;
        self.protocol_errors += other.protocol_errors;
        self.control_events += other.control_events;
        self.ended_early += other.ended_early;
    }
}

/// An event id as the servers write it, in the order ids are given: decimal (`42`, the
/// in-memory queue and the baselines) or `EPOCH-SEQUENCE` (the Redis backend), where a
/// plain decimal id is epoch 0.
fn parse_event_id(id: &str) -> Option<(u64, u64)> {
    match id.split_once('-') {
        Some((epoch, seq)) => Some((epoch.parse().ok()?, seq.parse().ok()?)),
        None => Some((0, id.parse().ok()?)),
    }
}

/// Checks the events of one connection.
#[derive(Debug)]
pub struct ConnTracker {
    filter: Option<u32>,
    plans: u32,
    seen: Vec<u64>,
    last_id: Option<(u64, u64)>,
    delivered_counter: Arc<AtomicU64>,
    /// The running counts (`expected` and `missing` once [`finish`](Self::finish)ed).
    pub counts: Counts,
    /// Publish→receive latencies in microseconds, one per first reception.
    pub latencies_us: Vec<u32>,
    /// When the last data event arrived.
    pub last_receive: Option<Instant>,
}

impl ConnTracker {
    /// A tracker for a connection filtered to `filter` (or unfiltered), for `events`
    /// sequence numbers spread over `plans` publish plans; `delivered_counter` counts first
    /// receptions across all connections (the run watches it to know when to stop).
    pub fn new(
        filter: Option<u32>,
        plans: u32,
        events: u64,
        delivered_counter: Arc<AtomicU64>,
    ) -> Self {
        Self {
            filter,
            plans: plans.max(1),
            seen: vec![0; events.div_ceil(64) as usize],
            last_id: None,
            delivered_counter,
            counts: Counts::default(),
            latencies_us: Vec::new(),
            last_receive: None,
        }
    }

    /// Handles one dispatched SSE event.
    pub fn on_event(&mut self, event: SseEvent<'_>, received: Received) {
        if event.event != "status-update" {
            self.counts.control_events += 1;
            return;
        }
        let received_us = received.unix_us;
        let Ok(frame) = serde_json::from_str::<Frame<'_>>(event.data) else {
            self.counts.protocol_errors += 1;
            return;
        };
        let Some(meta) = frame.data.metadata else {
            self.counts.protocol_errors += 1;
            return;
        };
        let Some(id) = parse_event_id(event.id) else {
            self.counts.protocol_errors += 1;
            return;
        };
        if frame.id != event.id || meta.seq >= self.seen.len() as u64 * 64 {
            self.counts.protocol_errors += 1;
            return;
        }
        let published_plan = (meta.seq % u64::from(self.plans)) as u32;
        let frame_plan = plan_index(&frame.plan_id);
        if frame_plan != Some(published_plan) || self.filter.is_some_and(|p| p != published_plan) {
            self.counts.misrouted += 1;
            return;
        }
        let (word, bit) = ((meta.seq / 64) as usize, 1u64 << (meta.seq % 64));
        if self.seen[word] & bit != 0 {
            self.counts.duplicated += 1;
            return;
        }
        if self.last_id.is_some_and(|last| id <= last) {
            self.counts.out_of_order += 1;
        }
        self.last_id = Some(self.last_id.map_or(id, |last| last.max(id)));
        self.seen[word] |= bit;
        self.counts.delivered += 1;
        self.last_receive = Some(received.at);
        let latency = received_us.saturating_sub(meta.sent_us);
        self.latencies_us
            .push(u32::try_from(latency).unwrap_or(u32::MAX));
        self.delivered_counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts the accepted sequence numbers this connection should have received
    /// (`expected`) and those it did not (`missing`); one received although its POST was
    /// never accepted moves from `delivered` to `protocol_errors`.
    pub fn finish(&mut self, accepted: &[bool]) {
        for (seq, &ok) in accepted.iter().enumerate() {
            let seen = self
                .seen
                .get(seq / 64)
                .is_some_and(|w| w & (1 << (seq % 64)) != 0);
            let wanted = self
                .filter
                .is_none_or(|p| seq as u64 % u64::from(self.plans) == u64::from(p));
            if ok && wanted {
                self.counts.expected += 1;
                self.counts.missing += u64::from(!seen);
            } else if seen {
                self.counts.delivered -= 1;
                self.counts.protocol_errors += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(id: u64, plan: u32, seq: u64) -> String {
        format!(
            r#"{{"id":"{id}","planId":"plan-{plan}","kind":"status-update","timestamp":"t","data":{{"taskId":"x","contextId":"c","status":{{"state":"TASK_STATE_WORKING"}},"metadata":{{"seq":{seq},"sentUs":1}}}}}}"#
        )
    }

    fn feed(tracker: &mut ConnTracker, id: u64, plan: u32, seq: u64) {
        let data = frame(id, plan, seq);
        let id = id.to_string();
        tracker.on_event(
            SseEvent {
                event: "status-update",
                id: &id,
                data: &data,
            },
            Received::now(),
        );
    }

    #[test]
    fn ids_order_by_epoch_then_sequence() {
        assert_eq!(parse_event_id("42"), Some((0, 42)));
        assert_eq!(
            parse_event_id("1796197675121525-7"),
            Some((1_796_197_675_121_525, 7))
        );
        assert!(parse_event_id("7") < parse_event_id("1-1"));
        assert!(parse_event_id("5-9") < parse_event_id("6-1"));
        for bad in ["", "x", "1-", "-1", "1-2-3"] {
            assert_eq!(parse_event_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn counts_every_kind_of_fault() {
        let counter = Arc::new(AtomicU64::new(0));
        let mut t = ConnTracker::new(Some(1), 2, 10, counter.clone());
        feed(&mut t, 2, 1, 1);
        feed(&mut t, 4, 1, 3);
        feed(&mut t, 4, 1, 3); // duplicate
        feed(&mut t, 3, 0, 2); // other plan
        feed(&mut t, 5, 0, 5); // planId disagrees with seq 5's plan
        feed(&mut t, 3, 1, 5); // id goes backwards
        t.finish(&[true; 10]);
        let s = &t.counts;
        assert_eq!((s.expected, s.missing), (5, 2));
        assert_eq!(
            (s.delivered, s.duplicated, s.out_of_order, s.misrouted),
            (3, 1, 1, 2)
        );
        assert_eq!(counter.load(Ordering::Relaxed), 3);
    }
}
