//! What the core reports through the [`metrics`] facade, once for every adapter: install
//! any `metrics` recorder (the demos use a Prometheus exporter) and these appear.
//!
//! | name | kind | labels | what |
//! |---|---|---|---|
//! | [`OPEN_STREAMS`] | gauge | | streams open now |
//! | [`CONNECTS`] | counter | `binding` | streams opened |
//! | [`DISCONNECTS`] | counter | `binding`, `reason` | streams ended, by [`DisconnectReason`](crate::DisconnectReason) |
//! | [`EVENTS_DELIVERED`] | counter | | queue events handed to transports |
//! | [`BYTES_DELIVERED`] | counter | | bytes handed to transports, everything included |
//! | [`LAGGED`] | counter | | `lagged` ends (a subscriber fell behind) |
//! | [`RESETS`] | counter | | `reset` notices (a resume history did not cover) |
//! | [`REFUSALS`] | counter | `status`, `code` | requests answered without a stream |
//!
//! `binding` is `native`, `jsonrpc` or `rest`. Delivered events and bytes are added to the
//! counters when a stream goes idle (at most once a second per stream) and when it ends,
//! not on every write, so thousands of streams do not all touch one counter per event: a
//! scrape may be up to a second behind a busy stream.

/// Gauge: streams open now.
pub const OPEN_STREAMS: &str = "a2a_sse_open_streams";
/// Counter: streams opened.
pub const CONNECTS: &str = "a2a_sse_connects_total";
/// Counter: streams ended, by reason.
pub const DISCONNECTS: &str = "a2a_sse_disconnects_total";
/// Counter: queue events handed to transports.
pub const EVENTS_DELIVERED: &str = "a2a_sse_events_delivered_total";
/// Counter: bytes handed to transports.
pub const BYTES_DELIVERED: &str = "a2a_sse_bytes_delivered_total";
/// Counter: streams ended because their subscriber fell behind.
pub const LAGGED: &str = "a2a_sse_lagged_total";
/// Counter: `reset` notices sent.
pub const RESETS: &str = "a2a_sse_resets_total";
/// Counter: requests refused, by HTTP status and error code.
pub const REFUSALS: &str = "a2a_sse_refusals_total";

/// Registers each metric's description and unit with the installed recorder, so that an
/// exporter can show them; call it once after installing the recorder.
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge};
    describe_gauge!(OPEN_STREAMS, Unit::Count, "event streams open now");
    describe_counter!(CONNECTS, Unit::Count, "event streams opened");
    describe_counter!(DISCONNECTS, Unit::Count, "event streams ended, by reason");
    describe_counter!(
        EVENTS_DELIVERED,
        Unit::Count,
        "queue events handed to transports"
    );
    describe_counter!(BYTES_DELIVERED, Unit::Bytes, "bytes handed to transports");
    describe_counter!(
        LAGGED,
        Unit::Count,
        "streams ended because their subscriber fell behind"
    );
    describe_counter!(RESETS, Unit::Count, "reset notices sent");
    describe_counter!(REFUSALS, Unit::Count, "requests answered without a stream");
}

/// Counts a refused request, answered with `status` (a protocol that answers its errors
/// with HTTP 200, as JSON-RPC does, passes 200) and `code`, the error's machine-readable
/// name.
pub fn refusal(status: u16, code: &str) {
    metrics::counter!(REFUSALS, "status" => status.to_string(), "code" => code.to_owned())
        .increment(1);
}

#[cfg(test)]
mod tests {
    use a2a_events::{A2aEventQueue, TaskState};
    use a2a_sse_testkit::events;
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    use crate::SseService;
    use crate::test_support::{get, stream};

    /// Every metric's value, keyed by name and sorted labels.
    fn values(recorder: &DebuggingRecorder) -> Vec<(String, DebugValue)> {
        let mut out: Vec<_> = recorder
            .snapshotter()
            .snapshot()
            .into_vec()
            .into_iter()
            .map(|(key, _, _, value)| {
                let key = key.key();
                let mut labels: Vec<String> = key
                    .labels()
                    .map(|l| format!("{}={}", l.key(), l.value()))
                    .collect();
                labels.sort();
                (format!("{}{{{}}}", key.name(), labels.join(",")), value)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    fn counter(values: &[(String, DebugValue)], name: &str) -> u64 {
        values
            .iter()
            .find(|(key, _)| key == name)
            .map_or(0, |(_, value)| match value {
                DebugValue::Counter(n) => *n,
                other => panic!("{name} is {other:?}"),
            })
    }

    #[test]
    fn streams_deliveries_and_refusals_are_counted() {
        let recorder = DebuggingRecorder::new();
        metrics::with_local_recorder(&recorder, || {
            super::describe();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap();
            runtime.block_on(async {
                let queue = A2aEventQueue::new();
                let service = SseService::builder(queue.clone()).build().unwrap();
                let mut one = stream(service.respond(&get("plan_id=p")).await);
                let mut two = stream(service.respond(&get("")).await);
                assert_eq!(service.respond(&get("plan_id=%20")).await.status(), 400);
                one.next().await.unwrap();
                two.next().await.unwrap();
                queue
                    .publish(events::status("p", TaskState::Working))
                    .unwrap();
                queue
                    .publish(events::status("p", TaskState::Completed))
                    .unwrap();
                while one.next().await.is_some() {}
                two.next().await.unwrap();
                let sent = one.bytes() + two.bytes();
                drop(two);
                let values = values(&recorder);
                assert_eq!(
                    counter(&values, "a2a_sse_connects_total{binding=native}"),
                    2
                );
                assert_eq!(
                    counter(
                        &values,
                        "a2a_sse_disconnects_total{binding=native,reason=finished}"
                    ),
                    1
                );
                assert_eq!(
                    counter(
                        &values,
                        "a2a_sse_disconnects_total{binding=native,reason=client_gone}"
                    ),
                    1
                );
                assert_eq!(counter(&values, "a2a_sse_events_delivered_total{}"), 4);
                assert_eq!(counter(&values, "a2a_sse_bytes_delivered_total{}"), sent);
                assert_eq!(
                    counter(
                        &values,
                        "a2a_sse_refusals_total{code=invalid_plan_id,status=400}"
                    ),
                    1
                );
                let open = values
                    .iter()
                    .find(|(k, _)| k == "a2a_sse_open_streams{}")
                    .unwrap();
                assert!(matches!(open.1, DebugValue::Gauge(g) if g.into_inner() == 0.0));
            });
        });
    }
}
