//! [`Recorder`]: a hook that remembers every call, for any hook argument type.

use std::sync::{Arc, Mutex, PoisonError};

/// Records every call of a hook (`on_connect`, `on_disconnect`, …). Clones share the
/// record.
#[derive(Debug)]
pub struct Recorder<T>(Arc<Mutex<Vec<T>>>);

impl<T> Clone for Recorder<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T> Default for Recorder<T> {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(Vec::new())))
    }
}

impl<T: Clone + Send + 'static> Recorder<T> {
    /// An empty record.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A hook that appends each argument to the record.
    pub fn hook(&self) -> impl Fn(&T) + Send + Sync + 'static {
        let sink = Arc::clone(&self.0);
        move |info: &T| {
            sink.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(info.clone());
        }
    }

    /// Every call so far, in order.
    #[must_use]
    pub fn calls(&self) -> Vec<T> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many calls so far.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether there was no call yet.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The single call so far.
    ///
    /// # Panics
    ///
    /// Unless there was exactly one.
    #[track_caller]
    #[must_use]
    pub fn only(&self) -> T {
        let calls = self.calls();
        assert_eq!(calls.len(), 1, "expected exactly one hook call");
        calls.into_iter().next().unwrap_or_else(|| unreachable!())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_in_order() {
        let recorder = Recorder::<u32>::new();
        assert!(recorder.is_empty());
        let hook = recorder.hook();
        hook(&1);
        assert_eq!(recorder.only(), 1);
        hook(&2);
        assert_eq!(recorder.clone().calls(), [1, 2]);
        assert_eq!(recorder.len(), 2);
    }
}
