//! `SseRequest::parse(query, last_event_id)`: never panics; an error is a 400 with the JSON
//! error body; what it accepts is what the input says.
//!
//! Input: one flag byte (bit 0: a query is present, bit 1: a `Last-Event-ID` header is
//! present), then the query, then `\n`, then the header's raw bytes. A query that is not
//! UTF-8 is read lossily (an adapter hands the core a `&str`).
#![no_main]

use a2a_events::EventId;
use a2a_sse_core::{LAST_EVENT_ID_PARAM, PLAN_ID_PARAM, SseRequest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&flags, rest)) = input.split_first() else {
        return;
    };
    let (query, header) = match rest.iter().position(|&b| b == b'\n') {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &[][..]),
    };
    let query = String::from_utf8_lossy(query);
    let query = (flags & 1 != 0).then_some(&*query);
    let header = (flags & 2 != 0).then_some(header);

    match SseRequest::parse(query, header) {
        Err(err) => {
            assert_eq!(err.status(), 400, "{err:?}");
            assert!(
                matches!(
                    err.code(),
                    "invalid_plan_id" | "invalid_last_event_id" | "repeated_parameter"
                ),
                "{err:?}"
            );
            assert_eq!(err.headers()[0].0, "content-type");
            assert_eq!(err.headers()[0].1, "application/json");
            let body: serde_json::Value =
                serde_json::from_slice(&err.body()).expect("the error body is JSON");
            assert_eq!(body["error"]["code"], err.code());
            assert_eq!(body["error"]["message"], err.to_string());
        }
        Ok(request) => {
            // Read the query again, independently: each parameter at most once.
            let params: Vec<_> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                .filter(|(name, _)| name == PLAN_ID_PARAM || name == LAST_EVENT_ID_PARAM)
                .collect();
            let value = |name: &str| {
                let mut values = params.iter().filter(|(n, _)| n == name);
                let first = values.next().map(|(_, v)| v.to_string());
                assert!(values.next().is_none(), "{name} repeated but accepted");
                first.filter(|v| !v.is_empty())
            };
            let plan = value(PLAN_ID_PARAM);
            let from_query = value(LAST_EVENT_ID_PARAM);
            assert_eq!(request.plan.as_ref().map(|p| p.as_str().to_owned()), plan);
            // The header wins when it is there and not empty.
            let expected = match header {
                Some(h) if !h.is_empty() => Some(
                    std::str::from_utf8(h)
                        .expect("accepted header is UTF-8")
                        .to_owned(),
                ),
                _ => from_query,
            };
            let expected: Option<EventId> =
                expected.map(|text| text.parse().expect("accepted id parses"));
            assert_eq!(request.last_event_id, expected);
            // An accepted id survives its own text form (what a frame's `id:` carries).
            if let Some(id) = request.last_event_id {
                assert_eq!(id.to_string().parse::<EventId>(), Ok(id));
            }
        }
    }
});
