//! The slice of HTTP/1.1 the event streams need: the response head (parsed by `httparse`)
//! and the body's framing (`chunked`, read-until-close, or `Content-Length`), undone in
//! place on the bytes of each socket read.
//!
//! Hand-written because the load generator's CPU per delivery is one of the measured
//! figures and, on shared cores, takes from the server's: hyper's client de-frames in a
//! connection task of its own and hands each chunk over to the body, which costs more per
//! event (`benches/stream_read.rs`; the figures are in `docs/benchmarks.md`, "Fan-out").

use std::io;

/// A parsed response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// Status code.
    pub status: u16,
    /// The `Content-Type` header, lower-cased, if present.
    pub content_type: Option<String>,
    /// How the body is framed.
    pub framing: Framing,
    /// Length of the head in bytes (the body starts there).
    pub head_len: usize,
}

/// How a response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Neither: the body runs until the server closes.
    UntilClose,
}

/// Parses a response head from the start of `buf`; `Ok(None)` means more bytes are needed.
pub fn parse_head(buf: &[u8]) -> io::Result<Option<ResponseHead>> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(buf).map_err(invalid)? {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => return Ok(None),
    };
    let status = response.code.unwrap_or(0);
    let mut content_type = None;
    let mut framing = Framing::UntilClose;
    for header in response.headers.iter() {
        let value = String::from_utf8_lossy(header.value)
            .trim()
            .to_ascii_lowercase();
        if header.name.eq_ignore_ascii_case("content-type") {
            content_type = Some(value);
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            if value.ends_with("chunked") {
                framing = Framing::Chunked;
            }
        } else if header.name.eq_ignore_ascii_case("content-length") && framing != Framing::Chunked
        {
            framing = Framing::Length(value.parse().map_err(invalid)?);
        }
    }
    if status == 204 || status == 304 {
        framing = Framing::Length(0);
    }
    Ok(Some(ResponseHead {
        status,
        content_type,
        framing,
        head_len,
    }))
}

fn invalid(err: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, err.to_string())
}

/// Incremental body de-framer: turns raw socket bytes into body bytes.
#[derive(Debug)]
pub struct BodyDecoder {
    framing: Framing,
    state: ChunkState,
    remaining: u64,
    size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// Reading hex digits of a chunk size.
    Size,
    /// Skipping a chunk extension up to the end of the size line.
    Extension,
    /// Expecting the LF of the size line's CRLF.
    SizeLf,
    /// Inside chunk data (`remaining` bytes left).
    Data,
    /// Expecting the CRLF after chunk data.
    DataCr,
    DataLf,
    /// After the last chunk: skipping trailers until the empty line.
    Trailer {
        line_empty: bool,
    },
    /// The body is complete.
    Done,
}

impl BodyDecoder {
    /// A decoder for a body with the given framing.
    pub fn new(framing: Framing) -> Self {
        let remaining = match framing {
            Framing::Length(n) => n,
            _ => 0,
        };
        let state = match framing {
            Framing::Length(0) => ChunkState::Done,
            _ => ChunkState::Size,
        };
        Self {
            framing,
            state,
            remaining,
            size: 0,
        }
    }

    /// True once the whole body has been seen (never for read-until-close bodies).
    pub fn is_done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Decodes `input`, passing each run of body bytes to `out`; returns how many bytes of
    /// `input` belong to this body (the rest belongs to the next response).
    pub fn decode(&mut self, input: &[u8], out: &mut impl FnMut(&[u8])) -> io::Result<usize> {
        match self.framing {
            Framing::UntilClose => {
                out(input);
                Ok(input.len())
            }
            Framing::Length(_) => {
                let take = (self.remaining.min(input.len() as u64)) as usize;
                if take > 0 {
                    out(&input[..take]);
                }
                self.remaining -= take as u64;
                if self.remaining == 0 {
                    self.state = ChunkState::Done;
                }
                Ok(take)
            }
            Framing::Chunked => self.decode_chunked(input, out),
        }
    }

    fn decode_chunked(&mut self, input: &[u8], out: &mut impl FnMut(&[u8])) -> io::Result<usize> {
        let mut i = 0;
        while i < input.len() && self.state != ChunkState::Done {
            let b = input[i];
            match self.state {
                ChunkState::Size => match b {
                    b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                        let digit = (b as char).to_digit(16).unwrap_or(0) as u64;
                        self.size = self
                            .size
                            .checked_mul(16)
                            .ok_or_else(|| invalid("chunk size overflow"))?
                            + digit;
                        i += 1;
                    }
                    b'\r' => {
                        self.state = ChunkState::SizeLf;
                        i += 1;
                    }
                    b'\n' => {
                        self.end_size_line();
                        i += 1;
                    }
                    _ => {
                        self.state = ChunkState::Extension;
                        i += 1;
                    }
                },
                ChunkState::Extension => {
                    if b == b'\n' {
                        self.end_size_line();
                    } else if b == b'\r' {
                        self.state = ChunkState::SizeLf;
                    }
                    i += 1;
                }
                ChunkState::SizeLf => {
                    if b != b'\n' {
                        return Err(invalid("bad chunk size line"));
                    }
                    self.end_size_line();
                    i += 1;
                }
                ChunkState::Data => {
                    let take = (self.remaining.min((input.len() - i) as u64)) as usize;
                    out(&input[i..i + take]);
                    self.remaining -= take as u64;
                    i += take;
                    if self.remaining == 0 {
                        self.state = ChunkState::DataCr;
                    }
                }
                ChunkState::DataCr => {
                    self.state = match b {
                        b'\r' => ChunkState::DataLf,
                        b'\n' => ChunkState::Size,
                        _ => return Err(invalid("missing CRLF after chunk")),
                    };
                    i += 1;
                }
                ChunkState::DataLf => {
                    if b != b'\n' {
                        return Err(invalid("missing LF after chunk"));
                    }
                    self.state = ChunkState::Size;
                    i += 1;
                }
                ChunkState::Trailer { line_empty } => {
                    self.state = match b {
                        b'\n' if line_empty => ChunkState::Done,
                        b'\n' => ChunkState::Trailer { line_empty: true },
                        b'\r' => ChunkState::Trailer { line_empty },
                        _ => ChunkState::Trailer { line_empty: false },
                    };
                    i += 1;
                }
                ChunkState::Done => {}
            }
        }
        Ok(i)
    }

    fn end_size_line(&mut self) {
        if self.size == 0 {
            self.state = ChunkState::Trailer { line_empty: true };
        } else {
            self.remaining = self.size;
            self.size = 0;
            self.state = ChunkState::Data;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_heads() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\nrest";
        let head = parse_head(raw).unwrap().unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(head.content_type.as_deref(), Some("text/event-stream"));
        assert_eq!(head.framing, Framing::Chunked);
        assert_eq!(&raw[head.head_len..], b"rest");
        assert!(parse_head(b"HTTP/1.1 200 OK\r\n").unwrap().is_none());
        let head = parse_head(b"HTTP/1.1 202 Accepted\r\ncontent-length: 10\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(head.framing, Framing::Length(10));
    }

    #[test]
    fn dechunks_at_every_split_point() {
        let raw = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-T: y\r\n\r\nNEXT";
        for split in 0..raw.len() {
            let mut decoder = BodyDecoder::new(Framing::Chunked);
            let mut body = Vec::new();
            let (a, b) = raw.split_at(split);
            let used_a = decoder
                .decode(a, &mut |bytes| body.extend_from_slice(bytes))
                .unwrap();
            let used_b = if decoder.is_done() {
                0
            } else {
                decoder
                    .decode(b, &mut |bytes| body.extend_from_slice(bytes))
                    .unwrap()
            };
            assert_eq!(
                [&a[used_a..], &b[used_b..]].concat(),
                b"NEXT",
                "split at {split}"
            );
            assert_eq!(body, b"hello, world");
            assert!(decoder.is_done());
        }
    }

    #[test]
    fn length_bodies_stop_at_their_length() {
        let mut decoder = BodyDecoder::new(Framing::Length(3));
        let mut body = Vec::new();
        let used = decoder
            .decode(b"abcdef", &mut |bytes| body.extend_from_slice(bytes))
            .unwrap();
        assert_eq!(
            (used, body.as_slice(), decoder.is_done()),
            (3, &b"abc"[..], true)
        );
    }
}
