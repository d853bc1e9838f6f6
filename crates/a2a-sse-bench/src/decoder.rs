//! Incremental `text/event-stream` decoder following the WHATWG HTML rules.
//!
//! Bytes are fed in arbitrary pieces. Lines end at CRLF, lone CR or lone LF (a CR at the end
//! of one piece followed by an LF at the start of the next counts once). Lines starting with
//! `:` are comments; `data` values are joined with LF; `id` persists across events (and is
//! ignored when it contains NUL); `event` names the event type; a blank line dispatches.
//! One leading byte-order mark is skipped.

/// One dispatched event, borrowed from the decoder's buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SseEvent<'a> {
    /// The event type (`"message"` when the frame had no `event:` line).
    pub event: &'a str,
    /// The last event id seen on this stream (it persists across frames).
    pub id: &'a str,
    /// The data lines joined with LF, without the final LF.
    pub data: &'a str,
}

/// Incremental decoder; keeps only the current partial line and the pending frame.
#[derive(Debug, Default)]
pub struct SseDecoder {
    line: Vec<u8>,
    data: String,
    event: String,
    last_id: String,
    retry_ms: Option<u64>,
    after_cr: bool,
    started: bool,
    comments: u64,
}

const BOM: &[u8] = "\u{feff}".as_bytes();

impl SseDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// The last `retry:` value seen, in milliseconds.
    pub fn retry_ms(&self) -> Option<u64> {
        self.retry_ms
    }

    /// How many comment lines (keep-alives and the like) were seen.
    pub fn comments(&self) -> u64 {
        self.comments
    }

    /// Feeds one piece of the body; calls `on_event` for every dispatched event.
    pub fn feed(&mut self, mut bytes: &[u8], on_event: &mut impl FnMut(SseEvent<'_>)) {
        if !self.started {
            // Wait until the first three bytes are known before deciding about the BOM.
            let need = BOM.len().saturating_sub(self.line.len());
            let take = need.min(bytes.len());
            self.line.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.line.len() < BOM.len() && BOM.starts_with(&self.line) {
                return;
            }
            self.started = true;
            let head = std::mem::take(&mut self.line);
            let head = head.strip_prefix(BOM).unwrap_or(&head);
            self.feed_started(head, on_event);
        }
        self.feed_started(bytes, on_event);
    }

    fn feed_started(&mut self, mut bytes: &[u8], on_event: &mut impl FnMut(SseEvent<'_>)) {
        if self.after_cr && !bytes.is_empty() {
            self.after_cr = false;
            if bytes[0] == b'\n' {
                bytes = &bytes[1..];
            }
        }
        while let Some(pos) = memchr::memchr2(b'\n', b'\r', bytes) {
            let (line_part, rest) = bytes.split_at(pos);
            let mut rest = &rest[1..];
            if bytes[pos] == b'\r' {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    None => self.after_cr = true,
                    Some(_) => {}
                }
            }
            if self.line.is_empty() {
                self.process_line(line_part, on_event);
            } else {
                self.line.extend_from_slice(line_part);
                let line = std::mem::take(&mut self.line);
                self.process_line(&line, on_event);
                self.line = line;
                self.line.clear();
            }
            bytes = rest;
        }
        self.line.extend_from_slice(bytes);
    }

    fn process_line(&mut self, line: &[u8], on_event: &mut impl FnMut(SseEvent<'_>)) {
        if line.is_empty() {
            self.dispatch(on_event);
            return;
        }
        if line[0] == b':' {
            self.comments += 1;
            return;
        }
        let (name, value) = match memchr::memchr(b':', line) {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        // Valid UTF-8 is the rule; `from_utf8` checks it faster than the lossy decoder,
        // which only runs to replace what is invalid.
        let value = std::str::from_utf8(value).map_or_else(
            |_| String::from_utf8_lossy(value),
            std::borrow::Cow::Borrowed,
        );
        match name {
            b"data" => {
                self.data.push_str(&value);
                self.data.push('\n');
            }
            b"event" => {
                self.event.clear();
                self.event.push_str(&value);
            }
            b"id" if !value.contains('\0') => {
                self.last_id.clear();
                self.last_id.push_str(&value);
            }
            b"retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.retry_ms = value.parse().ok();
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, on_event: &mut impl FnMut(SseEvent<'_>)) {
        if self.data.is_empty() {
            self.event.clear();
            return;
        }
        let data = self.data.strip_suffix('\n').unwrap_or(&self.data);
        let event = if self.event.is_empty() {
            "message"
        } else {
            &self.event
        };
        on_event(SseEvent {
            event,
            id: &self.last_id,
            data,
        });
        self.data.clear();
        self.event.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_pieces(pieces: &[&[u8]]) -> Vec<(String, String, String)> {
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        for piece in pieces {
            decoder.feed(piece, &mut |e: SseEvent<'_>| {
                out.push((e.event.to_owned(), e.id.to_owned(), e.data.to_owned()));
            });
        }
        out
    }

    fn owned(event: &str, id: &str, data: &str) -> (String, String, String) {
        (event.to_owned(), id.to_owned(), data.to_owned())
    }

    #[test]
    fn decodes_a_frame_with_all_fields() {
        let out =
            decode_pieces(&[b"retry: 3000\n: hello\n\nid: 7\nevent: x\ndata: a\ndata: b\n\n"]);
        assert_eq!(out, vec![owned("x", "7", "a\nb")]);
    }

    #[test]
    fn every_line_ending_and_every_split_point() {
        let stream = b"\xEF\xBB\xBFid: 1\r\nevent: e\rdata: one\n\r\ndata:two\r\rdata\n\n";
        let expected = vec![
            owned("e", "1", "one"),
            owned("message", "1", "two"),
            owned("message", "1", ""),
        ];
        for split in 0..stream.len() {
            let (a, b) = stream.split_at(split);
            assert_eq!(decode_pieces(&[a, b]), expected, "split at {split}");
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(decode_pieces(&bytes), expected);
    }

    #[test]
    fn id_persists_and_nul_ids_are_ignored() {
        let out = decode_pieces(&[b"id: 5\ndata: a\n\nid: 6\0\ndata: b\n\ndata: c\n\n"]);
        assert_eq!(
            out,
            vec![
                owned("message", "5", "a"),
                owned("message", "5", "b"),
                owned("message", "5", "c")
            ]
        );
    }

    #[test]
    fn frames_without_data_do_not_dispatch_and_an_unfinished_frame_waits() {
        let out = decode_pieces(&[b"event: ping\n\n: c\n\nid: 3\n\ndata: tail"]);
        assert!(out.is_empty());
    }
}
