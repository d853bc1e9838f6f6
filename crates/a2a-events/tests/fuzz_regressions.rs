//! Inputs the fuzz targets (`fuzz/`, docs/fuzzing.md) found, kept as plain tests.
//!
//! Each test names the input and what went wrong before the fix.

use a2a_events::{A2aEvent, EventId, NewEvent, PlanId, StoredEvent, Timestamp};

fn publish_body(timestamp: &str) -> Vec<u8> {
    format!(r#"{{"kind":"error","data":{{"code":1,"message":"boom"}},"timestamp":"{timestamp}"}}"#)
        .into_bytes()
}

/// Found by `publish_body`: an offset that moves the time past 9999-12-31 in UTC made
/// `Timestamp::parse` panic ("local datetime out of valid range", from
/// `OffsetDateTime::to_offset` in `From<OffsetDateTime> for Timestamp`), so a publish body
/// carrying it panicked the demo's publish route instead of answering 400.
#[test]
fn a_timestamp_past_year_9999_in_utc_is_refused_not_a_panic() {
    let text = "9999-12-31T23:59:59-01:00";
    let parsed = std::panic::catch_unwind(|| Timestamp::parse(text));
    assert!(
        matches!(parsed, Ok(Err(_))),
        "{text} must be a TimestampError"
    );
    let plan = PlanId::new("plan-1").unwrap();
    let body = publish_body(text);
    let event = std::panic::catch_unwind(|| NewEvent::from_publish_body(plan, &body).is_err());
    assert!(
        matches!(event, Ok(true)),
        "the publish body must be refused"
    );
}

/// Found by `publish_body`: an offset that moves the time before 0000-01-01 in UTC was
/// accepted (202), then written as `-0001-12-31T23:00:00.000Z`, which is not RFC 3339:
/// the stored event's JSON no longer reads back (`StoredEvent::to_event`,
/// `StoredEvent::from_json`, so a backend that keeps JSON loses it), and clients get a
/// timestamp they cannot parse. Either refuse it, or write what parses back.
#[test]
fn an_accepted_timestamp_reads_back() {
    let text = "0000-01-01T00:00:00+01:00";
    if let Ok(at) = Timestamp::parse(text) {
        let written = at.to_string();
        assert_eq!(
            Timestamp::parse(&written),
            Ok(at),
            "{text} written as {written}"
        );
    }
}

/// The same inputs' neighbours inside the range keep working.
#[test]
fn timestamps_at_the_edges_of_the_range_read_back() {
    for text in [
        "9999-12-31T23:59:59.999Z",
        "9999-12-31T23:59:59+01:00",
        "0000-01-01T00:00:00Z",
        "0000-01-01T00:00:00-01:00",
    ] {
        let at = Timestamp::parse(text).unwrap();
        assert_eq!(Timestamp::parse(&at.to_string()), Ok(at), "{text}");
    }
}

/// Found by `publish_body`: a number in a payload changed between the published event and
/// the stored one read back. `222222222222222222222222222222222222221.5` parsed to one
/// `f64`, was written as its shortest text, `2.222222222222222e38`, and that text parsed
/// back to the neighbouring `f64`, `2.2222222222222218e38`, because serde_json's default
/// float parser does not always round correctly. A backend that keeps events as JSON
/// (and `StoredEvent::to_event`, which task snapshots read) then held another number than
/// the publisher sent.
#[test]
fn a_number_in_a_payload_reads_back_unchanged() {
    let plan = PlanId::new("plan-1").unwrap();
    for number in [
        "222222222222222222222222222222222222221.5",
        "2.2222222222222218e38",
        "0.30000000000000004",
        "1.7976931348623157e308",
        "5e-324",
    ] {
        let body = format!(
            r#"{{"kind":"status-update","data":{{"taskId":"t","contextId":"c","status":{{"state":"TASK_STATE_WORKING"}},"metadata":{{"n":{number}}}}}}}"#
        );
        let event = NewEvent::from_publish_body(plan.clone(), body.as_bytes()).unwrap();
        let published = A2aEvent::new(
            EventId::new(1),
            event.plan_id.clone(),
            event.timestamp.unwrap_or_else(Timestamp::now),
            event.payload.clone(),
        );
        let stored = StoredEvent::new(&published).unwrap();
        let read_back = stored.to_event().unwrap();
        assert_eq!(read_back, published, "{number} changed on the way");
        let again = StoredEvent::from_json(stored.json().clone()).unwrap();
        assert_eq!(again.to_event().unwrap(), published, "{number}");
    }
}
