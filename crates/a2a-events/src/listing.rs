//! Listing tasks: [`TaskQuery`] (filters, page size, where the page starts) and
//! [`TaskPage`], as A2A's `ListTasks` asks.
//!
//! Tasks are ordered by their status time, newest first, then by id (descending) between
//! tasks of the same time, so the order is total and a page boundary is a
//! [`TaskCursor`]: the next page starts right after it, however many tasks were added in
//! front of it meanwhile (cursor-based, not offset-based, paging). A task whose status has
//! no time sorts as the oldest.

use std::cmp::Ordering;
use std::sync::Arc;

use crate::event::Timestamp;
use crate::model::TaskState;
use crate::task::TaskSnapshot;

/// What to list.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskQuery {
    /// Only tasks of this context.
    pub context_id: Option<String>,
    /// Only tasks in this state.
    pub state: Option<TaskState>,
    /// Only tasks whose status time is this or later.
    pub status_after: Option<Timestamp>,
    /// Most tasks on the page (at least one).
    pub page_size: usize,
    /// Start after this task (the previous page's [`TaskPage::next`]).
    pub after: Option<TaskCursor>,
}

impl TaskQuery {
    /// Every task, `page_size` at a time.
    #[must_use]
    pub fn all(page_size: usize) -> Self {
        Self {
            context_id: None,
            state: None,
            status_after: None,
            page_size: page_size.max(1),
            after: None,
        }
    }
}

/// A place in the order of tasks: a task's status time and id.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskCursor {
    /// The task's status time, if it has one.
    pub time: Option<Timestamp>,
    /// The task's id.
    pub id: String,
}

impl TaskCursor {
    /// The cursor at a task with this status time and id.
    #[must_use]
    pub const fn new(time: Option<Timestamp>, id: String) -> Self {
        Self { time, id }
    }

    /// Where `snapshot` is in the order.
    #[must_use]
    pub fn of(snapshot: &TaskSnapshot) -> Self {
        Self::new(snapshot.status_time(), snapshot.task.id.clone())
    }

    /// The listing order: newest status first, then ids descending.
    fn order(&self, other: &Self) -> Ordering {
        other
            .time
            .cmp(&self.time)
            .then_with(|| other.id.cmp(&self.id))
    }
}

/// One page of tasks.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TaskPage {
    /// The tasks, newest status first.
    pub tasks: Vec<Arc<TaskSnapshot>>,
    /// How many tasks match the filters, on every page.
    pub total: usize,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<TaskCursor>,
}

impl TaskPage {
    /// The page `query` asks for, of `snapshots` (any order, any number).
    #[must_use]
    pub fn select<'a>(
        snapshots: impl IntoIterator<Item = &'a Arc<TaskSnapshot>>,
        query: &TaskQuery,
    ) -> Self {
        let matching: Vec<(TaskCursor, &Arc<TaskSnapshot>)> = snapshots
            .into_iter()
            .filter(|snapshot| query.matches(snapshot))
            .map(|snapshot| (TaskCursor::of(snapshot), snapshot))
            .collect();
        let (page, total, next) = paginate(matching, query);
        Self::new(page.into_iter().map(Arc::clone).collect(), total, next)
    }

    /// A page of `tasks`, of `total` matching, the next starting after `next`.
    #[must_use]
    pub const fn new(
        tasks: Vec<Arc<TaskSnapshot>>,
        total: usize,
        next: Option<TaskCursor>,
    ) -> Self {
        Self { tasks, total, next }
    }
}

/// The page `query` asks for (its [`after`](TaskQuery::after) and
/// [`page_size`](TaskQuery::page_size); the filters are the caller's) of `items`, each at
/// its cursor, in any order: the page, how many items there are, and where the next page
/// starts (`None` on the last).
#[must_use]
pub fn paginate<T>(
    mut items: Vec<(TaskCursor, T)>,
    query: &TaskQuery,
) -> (Vec<T>, usize, Option<TaskCursor>) {
    let total = items.len();
    items.sort_by(|(a, _), (b, _)| a.order(b));
    let start = query.after.as_ref().map_or(0, |after| {
        items.partition_point(|(cursor, _)| cursor.order(after) != Ordering::Greater)
    });
    let size = query.page_size.max(1);
    let page: Vec<(TaskCursor, T)> = items.into_iter().skip(start).take(size).collect();
    let next = if start + page.len() < total {
        page.last().map(|(cursor, _)| cursor.clone())
    } else {
        None
    };
    (
        page.into_iter().map(|(_, item)| item).collect(),
        total,
        next,
    )
}

impl TaskQuery {
    /// Whether `snapshot` passes the filters.
    #[must_use]
    pub fn matches(&self, snapshot: &TaskSnapshot) -> bool {
        let task = &snapshot.task;
        self.context_id
            .as_ref()
            .is_none_or(|context| task.context_id == *context)
            && self.state.is_none_or(|state| task.status.state == state)
            && self
                .status_after
                .is_none_or(|after| snapshot.status_time().is_some_and(|time| time >= after))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{A2aEvent, EventPayload};
    use crate::ids::{EventId, PlanId};
    use crate::model::{TaskStatus, TaskStatusUpdateEvent};

    fn task(id: &str, context: &str, state: TaskState, at: &str) -> Arc<TaskSnapshot> {
        let update = TaskStatusUpdateEvent {
            task_id: id.into(),
            context_id: context.into(),
            status: TaskStatus {
                state,
                message: None,
                timestamp: Some(at.into()),
            },
            metadata: None,
        };
        let event = A2aEvent::new(
            EventId::new(1),
            PlanId::new(id).unwrap(),
            Timestamp::now(),
            EventPayload::StatusUpdate(update),
        );
        Arc::new(TaskSnapshot::of(&event))
    }

    fn ids(page: &TaskPage) -> Vec<&str> {
        page.tasks.iter().map(|t| t.task.id.as_str()).collect()
    }

    #[test]
    fn pages_go_newest_first_and_follow_their_cursor() {
        let tasks = [
            task("a", "c1", TaskState::Working, "2026-01-01T00:00:01.000Z"),
            task("b", "c1", TaskState::Completed, "2026-01-01T00:00:03.000Z"),
            task("c", "c2", TaskState::Working, "2026-01-01T00:00:02.000Z"),
            task("d", "c1", TaskState::Working, "2026-01-01T00:00:03.000Z"),
        ];
        let mut query = TaskQuery::all(2);
        let first = TaskPage::select(&tasks, &query);
        assert_eq!(ids(&first), ["d", "b"], "same time: id descending");
        assert_eq!(first.total, 4);
        query.after = first.next.clone();
        let second = TaskPage::select(&tasks, &query);
        assert_eq!(ids(&second), ["c", "a"]);
        assert_eq!(second.next, None, "the last page");
        // A task added in front of the cursor does not shift the next page.
        let more = [
            tasks.to_vec(),
            vec![task(
                "e",
                "c1",
                TaskState::Working,
                "2026-01-02T00:00:00.000Z",
            )],
        ]
        .concat();
        query.after = first.next;
        assert_eq!(ids(&TaskPage::select(&more, &query)), ["c", "a"]);
    }

    #[test]
    fn filters_apply_before_paging() {
        let tasks = [
            task("a", "c1", TaskState::Working, "2026-01-01T00:00:01.000Z"),
            task("b", "c1", TaskState::Completed, "2026-01-01T00:00:03.000Z"),
            task("c", "c2", TaskState::Working, "2026-01-01T00:00:02.000Z"),
        ];
        let mut query = TaskQuery::all(10);
        query.context_id = Some("c1".into());
        assert_eq!(ids(&TaskPage::select(&tasks, &query)), ["b", "a"]);
        query.state = Some(TaskState::Working);
        let page = TaskPage::select(&tasks, &query);
        assert_eq!((ids(&page), page.total), (vec!["a"], 1));
        let mut query = TaskQuery::all(10);
        query.status_after = Timestamp::parse("2026-01-01T00:00:02.000Z").ok();
        assert_eq!(ids(&TaskPage::select(&tasks, &query)), ["b", "c"]);
        query.context_id = Some("nobody".into());
        let empty = TaskPage::select(&tasks, &query);
        assert_eq!((empty.tasks.len(), empty.total, empty.next), (0, 0, None));
    }
}
