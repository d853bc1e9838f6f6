//! The encoder against the reference WHATWG decoder: whatever text goes in comes out, with
//! line breaks normalised, however the bytes are cut into chunks.

use std::time::Duration;

use a2a_sse_core::frame::{Frame, FrameError};
use a2a_sse_testkit::{Decoder, Event};
use proptest::prelude::*;

/// UTF-8 byte-order mark, which the encoder never writes first.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// Text rich in what an encoder can get wrong: every kind of line break, NUL, a BOM,
/// multi-byte characters and leading spaces.
fn tricky_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\r".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just("\0".to_owned()),
        Just(" ".to_owned()),
        Just(":".to_owned()),
        Just("\u{feff}".to_owned()),
        "[a-z]{1,4}",
        "[é€🦀ß]{1,2}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..16).prop_map(|pieces| pieces.concat())
}

/// Text that is allowed in `id`, `event` and comments.
fn field_text() -> impl Strategy<Value = String> {
    tricky_text().prop_map(|text| text.replace(['\r', '\n', '\0'], ""))
}

fn normalised(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// Feeds `bytes` cut at `cuts` (positions taken modulo the length).
fn decode_in_pieces(bytes: &[u8], cuts: &[usize]) -> (Vec<Event>, Decoder) {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    at.sort_unstable();
    let mut decoder = Decoder::new();
    let mut events = Vec::new();
    let mut from = 0;
    for to in at.into_iter().chain([bytes.len()]) {
        events.extend(decoder.feed(&bytes[from..to]));
        from = to;
    }
    (events, decoder)
}

proptest! {
    #[test]
    fn data_round_trips_with_line_breaks_normalised(data in tricky_text()) {
        let frame = Frame::new().id("42").unwrap().event("status-update").unwrap().data(&data).build();
        let events = Decoder::new().feed(&frame);
        prop_assert_eq!(events.len(), 1);
        prop_assert_eq!(&events[0].data, &normalised(&data));
        prop_assert_eq!(&events[0].id, "42");
        prop_assert_eq!(&events[0].event, "status-update");
        prop_assert!(!frame.starts_with(BOM));
        prop_assert!(frame.ends_with(b"\n\n"));
    }

    #[test]
    fn ids_and_event_names_round_trip(id in field_text(), name in field_text(), data in tricky_text()) {
        let frame = Frame::new().id(&id).unwrap().event(&name).unwrap().data(&data).build();
        let events = Decoder::new().feed(&frame);
        prop_assert_eq!(events.len(), 1);
        prop_assert_eq!(&events[0].id, &id);
        prop_assert_eq!(&events[0].event, &name);
    }

    #[test]
    fn bad_fields_are_errors_never_panics(text in tricky_text()) {
        let breaks = text.contains(['\r', '\n']);
        match Frame::new().id(&text) {
            Ok(_) => prop_assert!(!breaks && !text.contains('\0')),
            Err(FrameError::LineBreak("id")) => prop_assert!(breaks),
            Err(FrameError::NulInId) => prop_assert!(!breaks && text.contains('\0')),
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
        prop_assert_eq!(Frame::new().event(&text).is_err(), breaks);
        prop_assert_eq!(Frame::new().comment(&text).is_err(), breaks);
    }

    #[test]
    fn comments_are_never_dispatched(text in field_text(), millis in 0_u64..10_000_000) {
        let frame = Frame::new()
            .retry(Duration::from_millis(millis))
            .comment(&text)
            .unwrap()
            .build();
        let mut decoder = Decoder::new();
        prop_assert!(decoder.feed(&frame).is_empty());
        let expected = if text.is_empty() { String::new() } else { format!(" {text}") };
        prop_assert_eq!(&decoder.comments, &vec![expected]);
        prop_assert_eq!(decoder.retry, Some(millis));
    }

    #[test]
    fn chunk_boundaries_do_not_change_the_events(
        frames in prop::collection::vec((field_text(), field_text(), tricky_text(), field_text()), 1..6),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut stream = Vec::new();
        for (id, name, data, comment) in &frames {
            stream.extend_from_slice(&Frame::new().comment(comment).unwrap().build());
            let frame = Frame::new().id(id).unwrap().event(name).unwrap().data(data).build();
            stream.extend_from_slice(&frame);
        }
        let (whole, _) = decode_in_pieces(&stream, &[]);
        let (pieces, decoder) = decode_in_pieces(&stream, &cuts);
        prop_assert_eq!(&pieces, &whole);
        prop_assert_eq!(decoder.comments.len(), frames.len());
        let expected: Vec<Event> = frames
            .iter()
            .map(|(id, name, data, _)| Event {
                event: name.clone(),
                data: normalised(data),
                id: id.clone(),
            })
            .collect();
        prop_assert_eq!(pieces, expected);
    }
}
