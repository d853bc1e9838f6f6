//! An incremental `text/event-stream` decoder following the WHATWG HTML parsing rules, used
//! as the reference in tests (never the encoder's own logic).

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Event {
    /// The `event` field (empty means the default type, `message`).
    pub event: String,
    /// The data buffer, lines joined with LF, final LF removed.
    pub data: String,
    /// The last event id in force when the event was dispatched.
    pub id: String,
}

/// Decoder state. Feed it bytes in chunks of any size.
#[derive(Debug, Default)]
pub struct Decoder {
    pending: Vec<u8>,
    skip_lf: bool,
    bom_checked: bool,
    data: String,
    event: String,
    has_data: bool,
    last_id: String,
    /// The last `retry` value seen, in milliseconds.
    pub retry: Option<u64>,
    /// Comment lines seen, without the leading colon.
    pub comments: Vec<String>,
}

impl Decoder {
    /// A fresh decoder.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes and returns the events they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Event> {
        let mut out = Vec::new();
        for &b in bytes {
            if self.skip_lf {
                self.skip_lf = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\r' => {
                    self.skip_lf = true;
                    self.line(&mut out);
                }
                b'\n' => self.line(&mut out),
                _ => self.pending.push(b),
            }
        }
        out
    }

    fn line(&mut self, out: &mut Vec<Event>) {
        let raw = std::mem::take(&mut self.pending);
        let mut line = String::from_utf8_lossy(&raw).into_owned();
        if !self.bom_checked {
            self.bom_checked = true;
            if let Some(rest) = line.strip_prefix('\u{feff}') {
                line = rest.to_owned();
            }
        }
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if let Some(comment) = line.strip_prefix(':') {
            self.comments.push(comment.to_owned());
            return;
        }
        let (name, value) = match line.find(':') {
            Some(at) => {
                let value = &line[at + 1..];
                (&line[..at], value.strip_prefix(' ').unwrap_or(value))
            }
            None => (line.as_str(), ""),
        };
        match name {
            "event" => self.event = value.to_owned(),
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.last_id = value.to_owned(),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.retry = value.parse().ok();
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<Event>) {
        let event = std::mem::take(&mut self.event);
        if !self.has_data {
            self.data.clear();
            return;
        }
        self.has_data = false;
        let mut data = std::mem::take(&mut self.data);
        if data.ends_with('\n') {
            data.pop();
        }
        out.push(Event {
            event,
            data,
            id: self.last_id.clone(),
        });
    }
}
