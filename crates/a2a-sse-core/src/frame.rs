//! The event-stream encoder: one [`Frame`] is one SSE event block, emitted whole as one
//! [`Bytes`] chunk.
//!
//! It follows the WHATWG HTML rules for `text/event-stream`:
//! - data is split on CRLF, lone CR and lone LF, one `data:` line per piece, so a decoder
//!   returns the input with every line break turned into LF; empty data is one `data:`
//!   line and a trailing line break survives;
//! - `event`, `id` and comments cannot hold CR or LF, and `id` cannot hold NUL (a decoder
//!   would ignore such an id): these are [`FrameError`]s, never panics;
//! - `retry` is decimal milliseconds;
//! - a frame ends with a blank line; no byte-order mark is ever written.
//!
//! ```
//! use a2a_sse_core::frame::Frame;
//!
//! let frame = Frame::new().id("7")?.event("status-update")?.data("a\r\nb").build();
//! assert_eq!(&frame[..], b"id: 7\nevent: status-update\ndata: a\ndata: b\n\n");
//! # Ok::<(), a2a_sse_core::frame::FrameError>(())
//! ```

use std::time::Duration;

use a2a_events::{EventId, EventKind};
use bytes::{BufMut, Bytes, BytesMut};

/// A field that cannot hold what it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// `event`, `id` or a comment contained CR or LF.
    #[error("the {0} field must not contain a line break")]
    LineBreak(&'static str),
    /// `id` contained NUL, which makes decoders ignore the id.
    #[error("the id field must not contain NUL")]
    NulInId,
}

/// An event name or a comment fixed in the program, checked when it is compiled: it holds
/// no line break, so writing it cannot fail.
///
/// ```
/// use a2a_sse_core::frame::{Fixed, Frame};
///
/// const RESET: Fixed = Fixed::new("reset");
/// let frame = Frame::new().named(RESET).data("{}").build();
/// assert_eq!(&frame[..], b"event: reset\ndata: {}\n\n");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fixed(&'static str);

impl Fixed {
    /// `text`, checked.
    ///
    /// # Panics
    ///
    /// When `text` holds CR or LF; in a `const` item that is a compile error instead.
    #[must_use]
    pub const fn new(text: &'static str) -> Self {
        let bytes = text.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            assert!(
                bytes[at] != b'\n' && bytes[at] != b'\r',
                "a fixed event field holds a line break"
            );
            at += 1;
        }
        Self(text)
    }

    /// The text.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

/// Builder of one frame. Fields are written in the order the methods are called.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Frame {
    buf: BytesMut,
}

fn has_line_break(text: &str) -> bool {
    text.bytes().any(|b| b == b'\n' || b == b'\r')
}

impl Frame {
    /// An empty frame.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty frame with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: BytesMut::with_capacity(capacity),
        }
    }

    fn field(mut self, name: &str, value: &[u8]) -> Self {
        self.buf.put_slice(name.as_bytes());
        if value.is_empty() {
            self.buf.put_slice(b":\n");
        } else {
            self.buf.put_slice(b": ");
            self.buf.put_slice(value);
            self.buf.put_u8(b'\n');
        }
        self
    }

    /// Sets the id to a queue event's id, whose text (decimal, or `EPOCH-SEQUENCE`) is
    /// always a valid id.
    pub fn event_id(mut self, id: EventId) -> Self {
        self.buf.put_slice(b"id: ");
        self.buf.put_slice(id.to_string().as_bytes());
        self.buf.put_u8(b'\n');
        self
    }

    /// Sets the event type to a queue event's kind, whose wire name (kebab-case ASCII) is
    /// always a valid field.
    pub fn event_kind(self, kind: EventKind) -> Self {
        self.field("event", kind.as_str().as_bytes())
    }

    /// Sets the event type to a name fixed in the program.
    pub fn named(self, name: Fixed) -> Self {
        self.field("event", name.0.as_bytes())
    }

    /// Adds a comment line fixed in the program.
    pub fn note(self, text: Fixed) -> Self {
        self.comment_line(text.0)
    }

    fn comment_line(mut self, text: &str) -> Self {
        self.buf.put_u8(b':');
        if !text.is_empty() {
            self.buf.put_u8(b' ');
            self.buf.put_slice(text.as_bytes());
        }
        self.buf.put_u8(b'\n');
        self
    }

    /// Sets the event's id (what the client sends back as `Last-Event-ID`).
    ///
    /// # Errors
    ///
    /// [`FrameError::LineBreak`] or [`FrameError::NulInId`].
    pub fn id(self, id: &str) -> Result<Self, FrameError> {
        if has_line_break(id) {
            return Err(FrameError::LineBreak("id"));
        }
        if id.contains('\0') {
            return Err(FrameError::NulInId);
        }
        Ok(self.field("id", id.as_bytes()))
    }

    /// Sets the event type (the name an `EventSource` listener subscribes to).
    ///
    /// # Errors
    ///
    /// [`FrameError::LineBreak`].
    pub fn event(self, name: &str) -> Result<Self, FrameError> {
        if has_line_break(name) {
            return Err(FrameError::LineBreak("event"));
        }
        Ok(self.field("event", name.as_bytes()))
    }

    /// Adds data, one `data:` line per line of `data` (CRLF, CR and LF all break lines).
    ///
    /// It takes text or its UTF-8 bytes (a JSON document as it was stored, say): CR and LF
    /// never occur inside a multi-byte character, so both split the same way.
    pub fn data(mut self, data: impl AsRef<[u8]>) -> Self {
        let mut rest = data.as_ref();
        loop {
            match rest.iter().position(|&b| b == b'\r' || b == b'\n') {
                None => return self.field("data", rest),
                Some(at) => {
                    self = self.field("data", &rest[..at]);
                    let skip = if rest[at..].starts_with(b"\r\n") {
                        2
                    } else {
                        1
                    };
                    rest = &rest[at + skip..];
                }
            }
        }
    }

    /// Adds a comment line, which clients ignore (useful to keep a connection busy).
    ///
    /// # Errors
    ///
    /// [`FrameError::LineBreak`].
    pub fn comment(self, text: &str) -> Result<Self, FrameError> {
        if has_line_break(text) {
            return Err(FrameError::LineBreak("comment"));
        }
        Ok(self.comment_line(text))
    }

    /// Tells the client how long to wait before reconnecting.
    pub fn retry(mut self, after: Duration) -> Self {
        let millis = after.as_millis().to_string();
        self.buf.put_slice(b"retry: ");
        self.buf.put_slice(millis.as_bytes());
        self.buf.put_u8(b'\n');
        self
    }

    /// Ends the frame with its blank line.
    #[must_use]
    pub fn build(mut self) -> Bytes {
        self.buf.put_u8(b'\n');
        self.buf.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn is(frame: Frame, expected: &str) {
        assert_eq!(std::str::from_utf8(&frame.build()).unwrap(), expected);
    }

    #[test]
    fn data_lines_split_on_every_line_break() {
        is(Frame::new().data("a\nb"), "data: a\ndata: b\n\n");
        is(Frame::new().data("a\rb"), "data: a\ndata: b\n\n");
        is(Frame::new().data("a\r\nb"), "data: a\ndata: b\n\n");
        is(Frame::new().data("a\n\rb"), "data: a\ndata:\ndata: b\n\n");
        is(Frame::new().data("\r\n\r\n"), "data:\ndata:\ndata:\n\n");
    }

    #[test]
    fn empty_data_and_trailing_newlines_survive() {
        is(Frame::new().data(""), "data:\n\n");
        is(Frame::new().data("x\n"), "data: x\ndata:\n\n");
        is(Frame::new().data(" lead"), "data:  lead\n\n");
    }

    #[test]
    fn fields_in_call_order() {
        let frame = Frame::with_capacity(64)
            .id("42")
            .unwrap()
            .event("status-update")
            .unwrap()
            .data("{}");
        is(frame, "id: 42\nevent: status-update\ndata: {}\n\n");
        is(Frame::new().id("").unwrap(), "id:\n\n");
        is(Frame::new().event("").unwrap(), "event:\n\n");
    }

    #[test]
    fn comments_and_retry() {
        is(Frame::new().comment("ping").unwrap(), ": ping\n\n");
        is(Frame::new().comment("").unwrap(), ":\n\n");
        is(
            Frame::new()
                .retry(Duration::from_millis(2500))
                .comment("hi")
                .unwrap(),
            "retry: 2500\n: hi\n\n",
        );
    }

    #[test]
    fn bad_fields_are_typed_errors() {
        assert_eq!(
            Frame::new().id("a\nb").unwrap_err(),
            FrameError::LineBreak("id")
        );
        assert_eq!(Frame::new().id("a\0").unwrap_err(), FrameError::NulInId);
        assert_eq!(
            Frame::new().event("x\r").unwrap_err(),
            FrameError::LineBreak("event")
        );
        let err = Frame::new().comment("\n").unwrap_err();
        assert_eq!(err, FrameError::LineBreak("comment"));
        assert_eq!(
            err.to_string(),
            "the comment field must not contain a line break"
        );
    }

    #[test]
    fn fixed_fields_and_event_ids_need_no_check() {
        const NAME: Fixed = Fixed::new("reset");
        const NOTE: Fixed = Fixed::new("open");
        assert_eq!(NAME.as_str(), "reset");
        is(
            Frame::new()
                .event_id(EventId::from_parts(7, 3))
                .event_kind(EventKind::StatusUpdate)
                .named(NAME)
                .note(NOTE)
                .data(b"{}"),
            "id: 7-3\nevent: status-update\nevent: reset\n: open\ndata: {}\n\n",
        );
        is(Frame::new().event_id(EventId::new(9)), "id: 9\n\n");
    }

    #[test]
    #[should_panic(expected = "line break")]
    fn a_fixed_field_with_a_line_break_is_refused() {
        let text = String::from("a\nb").leak();
        let _ = Fixed::new(text);
    }

    #[test]
    fn never_writes_a_bom() {
        let frame = Frame::new().data("\u{feff}x").build();
        assert!(frame.starts_with(b"data: "));
    }
}
