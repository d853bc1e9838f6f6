//! The encoder against the reference WHATWG decoder: `decode(encode(x)) == x`.
//!
//! A stream of frames, each a list of fields in call order, is encoded with `Frame` and fed
//! to `a2a_sse_testkit::Decoder` in chunks cut where the input says. Properties:
//! - data comes back with every line break (CRLF, lone CR, lone LF) turned into LF, the
//!   pieces of several `data` calls joined by LF; a frame without data dispatches nothing;
//! - `id` and `event` come back exactly when accepted (the last one of a frame wins, and
//!   the id stays in force for later frames); comments and `retry` likewise;
//! - a field the encoder refuses (CR or LF in `id`, `event` or a comment, NUL in `id`) is
//!   refused with the right `FrameError`, never a panic, and nothing is written for it;
//! - the encoder never writes CR.
#![no_main]

use std::time::Duration;

use a2a_sse_core::frame::{Frame, FrameError};
use a2a_sse_testkit::{Decoder, Event};
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
enum Field {
    Id(String),
    Event(String),
    Data(String),
    Comment(String),
    Retry(u32),
}

#[derive(Debug, Arbitrary)]
struct Input {
    frames: Vec<Vec<Field>>,
    /// Chunk lengths to feed the decoder (cycled; 0 counts as 1).
    chunks: Vec<u8>,
}

fn has_line_break(text: &str) -> bool {
    text.contains(['\r', '\n'])
}

fn normalise(data: &str) -> String {
    data.replace("\r\n", "\n").replace('\r', "\n")
}

fuzz_target!(|input: Input| {
    let mut wire = Vec::new();
    let mut expected_events = Vec::new();
    let mut expected_comments = Vec::new();
    let mut expected_retry = None;
    let mut last_id = String::new();

    for fields in &input.frames {
        let mut frame = Frame::new();
        let mut data: Option<String> = None;
        let mut event = String::new();
        for field in fields {
            frame = match field {
                Field::Id(id) => match frame.clone().id(id) {
                    Ok(next) => {
                        assert!(!has_line_break(id) && !id.contains('\0'), "{id:?} accepted");
                        last_id.clone_from(id);
                        next
                    }
                    Err(err) => {
                        let want = if has_line_break(id) {
                            FrameError::LineBreak("id")
                        } else {
                            assert!(id.contains('\0'), "{id:?} refused: {err}");
                            FrameError::NulInId
                        };
                        assert_eq!(err, want, "{id:?}");
                        frame
                    }
                },
                Field::Event(name) => match frame.clone().event(name) {
                    Ok(next) => {
                        assert!(!has_line_break(name), "{name:?} accepted");
                        event.clone_from(name);
                        next
                    }
                    Err(err) => {
                        assert!(has_line_break(name), "{name:?} refused: {err}");
                        assert_eq!(err, FrameError::LineBreak("event"));
                        frame
                    }
                },
                Field::Comment(text) => match frame.clone().comment(text) {
                    Ok(next) => {
                        assert!(!has_line_break(text), "{text:?} accepted");
                        // The decoder keeps what follows the colon, space included.
                        expected_comments.push(if text.is_empty() {
                            String::new()
                        } else {
                            format!(" {text}")
                        });
                        next
                    }
                    Err(err) => {
                        assert!(has_line_break(text), "{text:?} refused: {err}");
                        assert_eq!(err, FrameError::LineBreak("comment"));
                        frame
                    }
                },
                Field::Data(text) => {
                    let piece = normalise(text);
                    data = Some(match data {
                        None => piece,
                        Some(before) => format!("{before}\n{piece}"),
                    });
                    frame.data(text)
                }
                Field::Retry(millis) => {
                    expected_retry = Some(u64::from(*millis));
                    frame.retry(Duration::from_millis(u64::from(*millis)))
                }
            };
        }
        let bytes = frame.build();
        assert!(!bytes.contains(&b'\r'), "CR written: {bytes:?}");
        assert!(bytes.ends_with(b"\n"), "no blank line: {bytes:?}");
        wire.extend_from_slice(&bytes);
        if let Some(data) = data {
            expected_events.push(Event {
                event,
                data,
                id: last_id.clone(),
            });
        }
    }

    let mut decoder = Decoder::new();
    let mut events = Vec::new();
    let mut rest = &wire[..];
    let mut sizes = input.chunks.iter().cycle();
    while !rest.is_empty() {
        let size = sizes.next().map_or(rest.len(), |&n| usize::from(n.max(1)));
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        events.extend(decoder.feed(chunk));
        rest = tail;
    }
    assert_eq!(events, expected_events);
    assert_eq!(decoder.comments, expected_comments);
    assert_eq!(decoder.retry, expected_retry);
});
