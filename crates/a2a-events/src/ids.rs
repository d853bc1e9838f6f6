//! Validated identifiers: [`PlanId`] and [`EventId`].

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{EventIdError, PlanIdError};

/// Identifier of a plan (in A2A terms, usually the task id) that events are grouped by.
///
/// A plan id is non-empty, at most [`PlanId::MAX_LEN`] bytes, and made only of printable
/// ASCII without white space (`!` to `~`), so it is safe in a URL query, a log line and a
/// Redis key alike. Cloning is a reference-count increment.
///
/// ```
/// use a2a_events::PlanId;
///
/// let plan: PlanId = "plan-7".parse()?;
/// assert_eq!(plan.as_str(), "plan-7");
/// assert!(PlanId::new("has space").is_err());
/// # Ok::<(), a2a_events::PlanIdError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PlanId(Arc<str>);

impl PlanId {
    /// Longest accepted plan id, in bytes.
    pub const MAX_LEN: usize = 256;

    /// Validates `text` as a plan id.
    ///
    /// # Errors
    ///
    /// [`PlanIdError`] when the text is empty, too long, or holds a character outside
    /// printable ASCII (white space included).
    pub fn new(text: impl AsRef<str>) -> Result<Self, PlanIdError> {
        let text = text.as_ref();
        if text.is_empty() {
            return Err(PlanIdError::Empty);
        }
        if text.len() > Self::MAX_LEN {
            return Err(PlanIdError::TooLong { len: text.len() });
        }
        if let Some(index) = text.bytes().position(|b| !b.is_ascii_graphic()) {
            return Err(PlanIdError::InvalidChar { index });
        }
        Ok(Self(Arc::from(text)))
    }

    /// The plan id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PlanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for PlanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for PlanId {
    type Err = PlanIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl AsRef<str> for PlanId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for PlanId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PlanId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::new(text).map_err(serde::de::Error::custom)
    }
}

/// Position of an event in a queue: an epoch and a sequence number within it, ordered by
/// epoch, then sequence.
///
/// The in-memory queue assigns ids `1, 2, 3, …` in publish order, all in epoch 0, and
/// writes them as decimal text (`"42"`). A backend that can lose its history and start
/// again (a Redis store restarted without persistence) starts a new, higher epoch, so
/// that no id is ever given to two events; such ids are written `EPOCH-SEQUENCE`
/// (`"1796197675121525-7"`, which is also how Redis Streams name entries). Either form is
/// what a client sends back in `Last-Event-ID`. `0` is valid and means "before the first
/// event".
///
/// ```
/// use a2a_events::EventId;
///
/// let id: EventId = "42".parse()?;
/// assert_eq!(id, EventId::new(42));
/// assert_eq!(id.to_string(), "42");
/// let later: EventId = "7-1".parse()?;
/// assert_eq!((later.epoch(), later.sequence()), (7, 1));
/// assert!(later > id, "a later epoch comes after every id of an earlier one");
/// assert!("4 2".parse::<EventId>().is_err());
/// # Ok::<(), a2a_events::EventIdError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct EventId {
    // Field order is the ordering: epoch first.
    epoch: u64,
    sequence: u64,
}

impl EventId {
    /// Position `value` in epoch 0, as the in-memory queue numbers events.
    #[must_use]
    pub const fn new(value: u64) -> Self {
        Self::from_parts(0, value)
    }

    /// Position `sequence` in `epoch`.
    #[must_use]
    pub const fn from_parts(epoch: u64, sequence: u64) -> Self {
        Self { epoch, sequence }
    }

    /// The epoch (0 for the in-memory queue).
    #[must_use]
    pub const fn epoch(self) -> u64 {
        self.epoch
    }

    /// The sequence number within the epoch.
    #[must_use]
    pub const fn sequence(self) -> u64 {
        self.sequence
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventId({self})")
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.epoch == 0 {
            fmt::Display::fmt(&self.sequence, f)
        } else {
            write!(f, "{}-{}", self.epoch, self.sequence)
        }
    }
}

fn decimal(text: &str) -> Result<u64, EventIdError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EventIdError::NotDecimal);
    }
    text.parse::<u64>().map_err(|_| EventIdError::TooLarge)
}

impl FromStr for EventId {
    type Err = EventIdError;

    /// Parses `SEQUENCE` or `EPOCH-SEQUENCE`, plain decimal digits; signs, white space and
    /// other characters are refused.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(EventIdError::Empty);
        }
        match s.split_once('-') {
            None => decimal(s).map(Self::new),
            Some((epoch, sequence)) => Ok(Self::from_parts(decimal(epoch)?, decimal(sequence)?)),
        }
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_id_accepts_printable_ascii_up_to_the_limit() {
        assert_eq!(PlanId::new("a").unwrap().as_str(), "a");
        let longest = "x".repeat(PlanId::MAX_LEN);
        assert_eq!(PlanId::new(&longest).unwrap().as_ref(), longest);
        assert_eq!(PlanId::new("!~").unwrap().to_string(), "!~");
    }

    #[test]
    fn plan_id_rejects_bad_text_with_typed_errors() {
        assert_eq!(PlanId::new(""), Err(PlanIdError::Empty));
        assert_eq!(
            PlanId::new("x".repeat(257)),
            Err(PlanIdError::TooLong { len: 257 })
        );
        assert_eq!(
            PlanId::new("ab c"),
            Err(PlanIdError::InvalidChar { index: 2 })
        );
        assert_eq!(PlanId::new("é"), Err(PlanIdError::InvalidChar { index: 0 }));
        assert_eq!(
            "a\tb".parse::<PlanId>(),
            Err(PlanIdError::InvalidChar { index: 1 })
        );
    }

    #[test]
    fn plan_id_serde_validates() {
        let plan: PlanId = serde_json::from_str("\"p-1\"").unwrap();
        assert_eq!(format!("{plan:?}"), "\"p-1\"");
        assert_eq!(serde_json::to_string(&plan).unwrap(), "\"p-1\"");
        let err = serde_json::from_str::<PlanId>("\"a b\"").unwrap_err();
        assert!(err.to_string().contains("printable ASCII"), "{err}");
    }

    #[test]
    fn event_id_parses_only_decimal_digits() {
        assert_eq!("0".parse(), Ok(EventId::new(0)));
        assert_eq!("007".parse(), Ok(EventId::new(7)));
        assert_eq!("18446744073709551615".parse(), Ok(EventId::new(u64::MAX)));
        assert_eq!("".parse::<EventId>(), Err(EventIdError::Empty));
        assert_eq!("+1".parse::<EventId>(), Err(EventIdError::NotDecimal));
        assert_eq!(" 1".parse::<EventId>(), Err(EventIdError::NotDecimal));
        assert_eq!("1-".parse::<EventId>(), Err(EventIdError::NotDecimal));
        assert_eq!("-1".parse::<EventId>(), Err(EventIdError::NotDecimal));
        assert_eq!("1-2-3".parse::<EventId>(), Err(EventIdError::NotDecimal));
        assert_eq!("1-0".parse(), Ok(EventId::from_parts(1, 0)));
        assert_eq!(
            "18446744073709551616-1".parse::<EventId>(),
            Err(EventIdError::TooLarge)
        );
        assert_eq!(
            "18446744073709551616".parse::<EventId>(),
            Err(EventIdError::TooLarge)
        );
    }

    #[test]
    fn event_id_orders_and_serializes_as_text() {
        assert!(EventId::new(2) > EventId::new(1));
        assert!(EventId::from_parts(1, 1) > EventId::new(u64::MAX));
        assert!(EventId::from_parts(2, 1) > EventId::from_parts(1, 9));
        let epoch = EventId::from_parts(1_796_197_675_121_525, 7);
        assert_eq!(epoch.to_string(), "1796197675121525-7");
        assert_eq!(format!("{epoch:?}"), "EventId(1796197675121525-7)");
        assert_eq!(epoch.to_string().parse(), Ok(epoch));
        assert_eq!(
            (epoch.epoch(), epoch.sequence()),
            (1_796_197_675_121_525, 7)
        );
        assert_eq!(EventId::new(9).sequence(), 9);
        assert_eq!(format!("{:?}", EventId::new(3)), "EventId(3)");
        assert_eq!(serde_json::to_string(&EventId::new(42)).unwrap(), "\"42\"");
        let id: EventId = serde_json::from_str("\"42\"").unwrap();
        assert_eq!(id, EventId::new(42));
        assert!(serde_json::from_str::<EventId>("\"x\"").is_err());
    }
}
