//! Places among the open streams: one global limit and one per plan. A [`Permit`] holds a
//! place in each and frees them when dropped.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use a2a_events::PlanId;
use parking_lot::Mutex;

use crate::request::RequestError;

/// The open-stream counts and their limits.
#[derive(Debug, Default)]
pub(crate) struct Limits {
    active: AtomicUsize,
    max: Option<usize>,
    per_plan_max: Option<usize>,
    per_plan: Mutex<HashMap<PlanId, usize>>,
}

impl Limits {
    pub(crate) fn new(max: Option<usize>, per_plan_max: Option<usize>) -> Self {
        Self {
            max,
            per_plan_max,
            ..Self::default()
        }
    }

    /// Streams open now.
    pub(crate) fn active(&self) -> usize {
        self.active.load(Ordering::Acquire)
    }

    /// Takes a place for a stream of `plan` (or of every plan), if both limits allow.
    pub(crate) fn acquire(self: &Arc<Self>, plan: Option<&PlanId>) -> Result<Permit, RequestError> {
        let taken = self.active.fetch_add(1, Ordering::AcqRel);
        if self.max.is_some_and(|max| taken >= max) {
            self.active.fetch_sub(1, Ordering::AcqRel);
            return Err(RequestError::TooManyConnections);
        }
        let counted = match (self.per_plan_max, plan) {
            (Some(max), Some(plan)) => {
                let mut counts = self.per_plan.lock();
                let count = counts.entry(plan.clone()).or_insert(0);
                if *count >= max {
                    drop(counts);
                    self.active.fetch_sub(1, Ordering::AcqRel);
                    return Err(RequestError::TooManyPlanStreams);
                }
                *count += 1;
                Some(plan.clone())
            }
            _ => None,
        };
        Ok(Permit {
            limits: Arc::clone(self),
            plan: counted,
        })
    }
}

/// A place among the open streams, taken with
/// [`SseService::permit`](crate::SseService::permit); the stream holds it, and dropping it
/// frees the place.
#[derive(Debug)]
pub struct Permit {
    limits: Arc<Limits>,
    plan: Option<PlanId>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(plan) = self.plan.take() {
            let mut counts = self.limits.per_plan.lock();
            if let Some(count) = counts.get_mut(&plan) {
                *count -= 1;
                if *count == 0 {
                    counts.remove(&plan);
                }
            }
        }
        self.limits.active.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(name: &str) -> PlanId {
        PlanId::new(name).unwrap()
    }

    #[test]
    fn the_global_limit_bounds_every_stream() {
        let limits = Arc::new(Limits::new(Some(1), None));
        let first = limits.acquire(None).unwrap();
        assert_eq!(
            limits.acquire(Some(&plan("p"))).unwrap_err(),
            RequestError::TooManyConnections
        );
        drop(first);
        assert!(limits.acquire(None).is_ok());
        assert_eq!(limits.active(), 0);
        let unlimited = Arc::new(Limits::new(None, None));
        let many: Vec<_> = (0..10).map(|_| unlimited.acquire(None).unwrap()).collect();
        assert_eq!(unlimited.active(), 10);
        drop(many);
    }

    #[test]
    fn the_per_plan_limit_bounds_each_plan_alone() {
        let limits = Arc::new(Limits::new(Some(10), Some(2)));
        let a1 = limits.acquire(Some(&plan("a"))).unwrap();
        let _a2 = limits.acquire(Some(&plan("a"))).unwrap();
        assert_eq!(
            limits.acquire(Some(&plan("a"))).unwrap_err(),
            RequestError::TooManyPlanStreams
        );
        assert_eq!(limits.active(), 2, "a refusal holds no place");
        let _b = limits.acquire(Some(&plan("b"))).unwrap();
        let _all = limits.acquire(None).unwrap();
        drop(a1);
        assert!(limits.acquire(Some(&plan("a"))).is_ok());
        drop(_b);
        assert!(
            !limits.per_plan.lock().contains_key(&plan("b")),
            "emptied plans are forgotten"
        );
    }
}
