//! Connection hooks: who connected, and why and how a stream ended.
//!
//! The [`ConnectionGuard`] inside each [`SseStream`](crate::SseStream) calls the disconnect
//! hook exactly once: when the stream ends by itself (finished plan, lag, queue closed) or,
//! failing that, when the transport drops the stream (the client went away).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use a2a_events::{EventId, PlanId};

use crate::limits::Permit;
use crate::telemetry;

/// Why a stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The transport dropped the stream before it ended: the client went away.
    ClientGone,
    /// The filtered plan reached a terminal state; the stream ended after that event.
    Finished,
    /// The client fell behind its buffer; a `lagged` event was sent, then the stream ended.
    Lagged,
    /// The queue closed (the server is shutting down).
    Shutdown,
    /// An A2A stream's task moved to an interrupted state (input or authentication
    /// required): A2A streams end there.
    Interrupted,
    /// The stream reached its maximum lifetime; the client resumes with
    /// `Last-Event-ID`.
    MaxLifetime,
}

impl DisconnectReason {
    /// A short snake-case name, as logged.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClientGone => "client_gone",
            Self::Finished => "finished",
            Self::Lagged => "lagged",
            Self::Shutdown => "shutdown",
            Self::Interrupted => "interrupted",
            Self::MaxLifetime => "max_lifetime",
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stream that just started.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectInfo {
    /// Process-unique number of the connection, shared with its [`DisconnectInfo`].
    pub connection: u64,
    /// The plan filter, if any.
    pub plan: Option<PlanId>,
    /// Where the client resumes, if it does.
    pub last_event_id: Option<EventId>,
}

/// A stream that ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DisconnectInfo {
    /// Process-unique number of the connection.
    pub connection: u64,
    /// The plan filter, if any.
    pub plan: Option<PlanId>,
    /// Why it ended.
    pub reason: DisconnectReason,
    /// Queue events sent (control events and comments not counted).
    pub events: u64,
    /// Bytes handed to the transport, everything included.
    pub bytes: u64,
    /// How long the stream lived.
    pub duration: Duration,
}

/// Callback run when a stream starts.
pub type ConnectHook = Arc<dyn Fn(&ConnectInfo) + Send + Sync>;
/// Callback run exactly once when a stream ends.
pub type DisconnectHook = Arc<dyn Fn(&DisconnectInfo) + Send + Sync>;

/// Counts what a stream sent and reports its end exactly once: the stream calls
/// [`finish`](Self::finish) when it ends by itself, and again (to no effect) when it is
/// dropped.
///
/// The counters come first (`repr(C)`), then the start and when the counters were last
/// reported: the only fields read or written while the stream runs (the report time on
/// every idle moment). The end's details (connection, plan, hook) are kept as they are
/// and a [`DisconnectInfo`] is only built at the end, so each open stream holds no room
/// for counters it has not reported yet.
/// [`SseStream`](crate::SseStream) places the guard right after its own per-poll fields,
/// so counting touches no cache line of its own (with `reported_at` after the end's
/// details, every stream paid a cache miss per event for it).
#[repr(C)]
pub(crate) struct ConnectionGuard {
    events: u64,
    bytes: u64,
    /// When the stream started: the report times count from it.
    started: Instant,
    /// What was added to the delivery counters so far.
    reported_events: u64,
    reported_bytes: u64,
    /// Whole seconds after `started` of the last report to the delivery counters.
    reported_at: u32,
    /// The end was reported.
    finished: bool,
    connection: u64,
    plan: Option<PlanId>,
    hook: Option<DisconnectHook>,
    _permit: Option<Permit>,
}

/// Most time between two reports of a stream's deliveries to the metrics counters.
const REPORT_EVERY_SECS: u32 = 1;

impl ConnectionGuard {
    /// A guard of the stream numbered `connection`; the stream counts itself open with
    /// [`opened`](Self::opened).
    pub(crate) fn new(
        connection: u64,
        plan: Option<PlanId>,
        hook: Option<DisconnectHook>,
        permit: Option<Permit>,
    ) -> Self {
        Self {
            events: 0,
            bytes: 0,
            started: Instant::now(),
            reported_events: 0,
            reported_bytes: 0,
            reported_at: 0,
            finished: false,
            connection,
            plan,
            hook,
            _permit: permit,
        }
    }

    /// Counts the stream open, its format named by `binding`.
    pub(crate) fn opened(&self, binding: &'static str) {
        metrics::counter!(telemetry::CONNECTS, "binding" => binding).increment(1);
        metrics::gauge!(telemetry::OPEN_STREAMS).increment(1.0);
    }

    /// Adds what was sent since the last report to the delivery counters, if a report is
    /// due at `now` (the stream calls it when it goes idle).
    pub(crate) fn report_due(&mut self, now: Instant) {
        let secs = now.saturating_duration_since(self.started).as_secs();
        let secs = u32::try_from(secs).unwrap_or(u32::MAX);
        if secs.saturating_sub(self.reported_at) >= REPORT_EVERY_SECS {
            self.reported_at = secs;
            self.report();
        }
    }

    fn report(&mut self) {
        let events = self.events - self.reported_events;
        let bytes = self.bytes - self.reported_bytes;
        if events > 0 {
            metrics::counter!(telemetry::EVENTS_DELIVERED).increment(events);
        }
        if bytes > 0 {
            metrics::counter!(telemetry::BYTES_DELIVERED).increment(bytes);
        }
        self.reported_events = self.events;
        self.reported_bytes = self.bytes;
    }

    /// Records one chunk handed to the transport.
    pub(crate) fn sent(&mut self, events: u64, bytes: usize) {
        self.events += events;
        self.bytes += bytes as u64;
    }

    /// Reports the end of a stream of format `binding`, unless it was reported already.
    pub(crate) fn finish(&mut self, reason: DisconnectReason, binding: &'static str) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        self.report();
        metrics::gauge!(telemetry::OPEN_STREAMS).decrement(1.0);
        metrics::counter!(
            telemetry::DISCONNECTS,
            "binding" => binding,
            "reason" => reason.as_str()
        )
        .increment(1);
        let info = DisconnectInfo {
            connection: self.connection,
            plan: self.plan.take(),
            reason,
            events: self.events,
            bytes: self.bytes,
            duration: self.started.elapsed(),
        };
        tracing::info!(
            connection = info.connection,
            plan = info.plan.as_ref().map(PlanId::as_str),
            reason = %info.reason,
            events = info.events,
            bytes = info.bytes,
            duration_ms = u64::try_from(info.duration.as_millis()).unwrap_or(u64::MAX),
            "sse stream closed"
        );
        if let Some(hook) = &self.hook {
            hook(&info);
        }
    }
}

impl fmt::Debug for ConnectionGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionGuard")
            .field("events", &self.events)
            .field("bytes", &self.bytes)
            .field("connection", &self.connection)
            .field("plan", &self.plan)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn recorder() -> (DisconnectHook, Arc<Mutex<Vec<DisconnectInfo>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let hook: DisconnectHook = Arc::new(move |info| sink.lock().unwrap().push(info.clone()));
        (hook, seen)
    }

    #[test]
    fn reports_the_first_end_only() {
        let (hook, seen) = recorder();
        let mut guard = ConnectionGuard::new(7, None, Some(hook), None);
        guard.sent(2, 100);
        guard.finish(DisconnectReason::Lagged, "native");
        guard.finish(DisconnectReason::ClientGone, "native");
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].reason, DisconnectReason::Lagged);
        assert_eq!(
            (seen[0].events, seen[0].bytes, seen[0].connection),
            (2, 100, 7)
        );
    }

    #[test]
    fn the_counters_lead_the_guard() {
        // `SseStream` counts on this to keep them beside its own per-poll fields.
        assert_eq!(std::mem::offset_of!(ConnectionGuard, events), 0);
        assert_eq!(std::mem::offset_of!(ConnectionGuard, bytes), 8);
    }

    #[test]
    fn reasons_have_names() {
        for (reason, name) in [
            (DisconnectReason::ClientGone, "client_gone"),
            (DisconnectReason::Finished, "finished"),
            (DisconnectReason::Lagged, "lagged"),
            (DisconnectReason::Shutdown, "shutdown"),
            (DisconnectReason::Interrupted, "interrupted"),
            (DisconnectReason::MaxLifetime, "max_lifetime"),
        ] {
            assert_eq!(reason.to_string(), name);
        }
    }
}
