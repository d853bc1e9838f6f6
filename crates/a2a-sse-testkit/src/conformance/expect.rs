//! What the `Then` steps check, as [`ConformanceWorld`] methods: each reads what it needs from the
//! clients (waiting until it arrives or [`PATIENCE`] runs out) and panics with a clear
//! message when the behaviour differs.

use std::time::Duration;

use a2a_sse_core::DisconnectReason;
use serde_json::Value;
use tokio::time::Instant;

use super::world::{ConformanceWorld, PATIENCE};

/// Most large updates published while waiting for a client to fall behind.
const MAX_LARGE_UPDATES: usize = 400;

impl ConformanceWorld {
    /// `name` received every event published (of `plan`, or of every plan) exactly once,
    /// in publish order, each with its id in both the `id:` field and the JSON.
    pub(crate) async fn expect_every_event(&mut self, name: &str, plan: Option<&str>) {
        self.published.settle().await;
        let expected = self.published.ids(plan).await;
        let client = self.client(name);
        if let Some(last) = expected.last() {
            client
                .read_until(|c| c.queue_events().any(|e| &e.id == last))
                .await;
        }
        let got: Vec<&str> = client.queue_events().map(|e| e.id.as_str()).collect();
        assert_eq!(
            got, expected,
            "{name} should have received every event of {plan:?} exactly once, in order"
        );
        for event in client.queue_events() {
            let json = data(&event.data);
            assert_eq!(json["id"], event.id.as_str(), "the JSON id is the event id");
            assert_eq!(
                json["kind"],
                event.event.as_str(),
                "the JSON kind is the event name"
            );
            if let Some(plan) = plan {
                assert_eq!(json["planId"], plan, "{name} got an event of another plan");
            }
        }
    }

    /// `name` received an event named `kind` of `plan` for which `check` holds on its JSON.
    pub(crate) async fn expect_event(
        &mut self,
        name: &str,
        kind: &str,
        plan: &str,
        check: impl Fn(&Value) -> bool,
    ) {
        let matches = |event: &crate::Event| {
            let json = data(&event.data);
            event.event == kind && json["planId"] == plan && check(&json["data"])
        };
        let client = self.client(name);
        client.read_until(|c| c.received.iter().any(matches)).await;
        assert!(
            client.received.iter().any(matches),
            "{name} received no matching {kind} of {plan}: {:#?}",
            client.received
        );
    }

    /// `name`'s stream opened with the headers of an uncached, unbuffered event stream.
    pub(crate) fn expect_stream_headers(&mut self, name: &str) {
        let answer = &self.client(name).answer;
        assert_eq!(answer.status, 200, "{answer:?}");
        let header = |name| answer.header(name).unwrap_or_default();
        assert!(
            header("content-type").starts_with("text/event-stream"),
            "{answer:?}"
        );
        assert_eq!(header("cache-control"), "no-cache", "{answer:?}");
        assert_eq!(header("x-accel-buffering"), "no", "{answer:?}");
        // Never compressed, whatever middleware wraps the route: the explicit "identity"
        // that compression layers leave alone.
        assert_eq!(header("content-encoding"), "identity", "{answer:?}");
    }

    /// `name` receives `times` keep-alive comments, never more often than `every`.
    ///
    /// The clock starts before the request, so the server cannot have sent more than one
    /// comment per `every` since: counting comments against it holds on a loaded machine,
    /// where late reads bunch comments together.
    pub(crate) async fn expect_keep_alives(&mut self, name: &str, every: Duration, times: usize) {
        let client = self.client(name);
        let deadline = Instant::now() + PATIENCE;
        loop {
            let pings = client.pings_after(Duration::from_millis(20)).await;
            let elapsed = client.connected_for();
            let most = elapsed.as_millis() / every.as_millis().max(1);
            assert!(
                pings as u128 <= most,
                "{pings} keep-alives after {elapsed:?}: more than one every {every:?}"
            );
            if pings >= times {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "only {pings} keep-alive comments after {elapsed:?}, expected {times}"
            );
        }
    }

    /// `name` was first told that history was reset between the `requested`th and the
    /// `oldest`th published event.
    pub(crate) async fn expect_reset(&mut self, name: &str, requested: u64, oldest: u64) {
        let (requested, oldest) = (
            self.published.nth(requested).await,
            self.published.nth(oldest).await,
        );
        let client = self.client(name);
        client.read_until(|c| !c.received.is_empty()).await;
        let first = client.received.first().expect("a first event");
        assert_eq!(
            first.event, "reset",
            "the first event should be a reset: {first:?}"
        );
        let json = data(&first.data);
        assert_eq!(json["requestedId"], requested, "{json}");
        assert_eq!(json["oldestRetainedId"], oldest, "{json}");
    }

    /// The queue events `name` received are exactly the `from`th to the `to`th published.
    pub(crate) async fn expect_range(&mut self, name: &str, from: u64, to: u64) {
        let mut expected = Vec::new();
        for n in from..=to {
            expected.push(self.published.nth(n).await);
        }
        let client = self.client(name);
        let last = expected.last().cloned().unwrap_or_default();
        client
            .read_until(|c| c.queue_events().any(|e| e.id == last))
            .await;
        let got: Vec<&str> = client.queue_events().map(|e| e.id.as_str()).collect();
        assert_eq!(got, expected, "events {name} received");
    }

    /// The server ends `name`'s stream.
    pub(crate) async fn expect_end(&mut self, name: &str) {
        let client = self.client(name);
        assert!(
            client.read_to_end().await,
            "the stream of {name} did not end within {PATIENCE:?}"
        );
    }

    /// `name` reads its stream to the end, whose last event is a `lagged` notice naming
    /// the last event it received.
    pub(crate) async fn expect_lagged(&mut self, name: &str) {
        self.expect_end(name).await;
        let client = self.client(name);
        let notice = client.received.last().expect("some events");
        assert_eq!(
            notice.event, "lagged",
            "the last event should be lagged: {notice:?}"
        );
        let last = client.queue_events().last().map(|e| e.id.clone());
        assert_eq!(
            data(&notice.data)["lastEventId"]
                .as_str()
                .map(str::to_owned),
            last,
            "the lagged notice names the last event {name} received"
        );
    }

    /// The id named in the `lagged` notice `name` received.
    pub(crate) fn lagged_at(&mut self, name: &str) -> String {
        let client = self.client(name);
        let notice = client.received.iter().rev().find(|e| e.event == "lagged");
        let notice = notice.expect("a lagged notice");
        data(&notice.data)["lastEventId"]
            .as_str()
            .expect("lastEventId")
            .to_owned()
    }

    /// Publishes large updates of `plan`, each read by every reading client before the
    /// next, until `slow` (which does not read) is dropped for falling behind.
    pub(crate) async fn publish_until_behind(&mut self, plan: &str, slow: &str) {
        self.client(slow).reads = false;
        let before = self.backend().subscriber_count();
        for _ in 0..MAX_LARGE_UPDATES {
            let id = self.published.large(plan).await.to_string();
            for (name, client) in self.clients.iter_mut().filter(|(_, c)| c.reads) {
                client.read_until(|c| c.last_id() == Some(&id)).await;
                assert_eq!(client.last_id(), Some(id.as_str()), "{name} keeps up");
            }
            if self.backend().subscriber_count() < before {
                return;
            }
        }
        panic!("{slow} did not fall behind after {MAX_LARGE_UPDATES} large updates");
    }

    /// The server counts `count` open streams and as many subscribers.
    pub(crate) async fn expect_open_streams(&self, count: usize) {
        let (streams, subscribers) = self.settle_streams(count).await;
        assert_eq!(
            (streams, subscribers),
            (count, count),
            "(open streams, subscribers) after {PATIENCE:?}"
        );
    }

    /// The disconnect hook reported exactly `count` ended streams, all for `reason`.
    pub(crate) async fn expect_disconnects(&self, count: usize, reason: DisconnectReason) {
        let reasons = self.disconnect_reasons(count).await;
        assert_eq!(
            reasons,
            vec![reason; count],
            "reasons the disconnect hook reported"
        );
    }

    /// The one-off answer has `status` and the JSON error body with `code`.
    pub(crate) fn expect_error(&self, status: u16, code: &str) {
        let answer = self.answer.as_ref().expect("an answer");
        assert_eq!(answer.status, status, "{answer:?}");
        let content_type = answer.header("content-type").unwrap_or_default();
        assert!(content_type.starts_with("application/json"), "{answer:?}");
        let json = answer.json();
        assert_eq!(json["error"]["code"], code, "{json}");
        let message = json["error"]["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "an error message: {json}");
    }
}

/// An event's data as JSON.
fn data(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("event data is not JSON ({e}): {text}"))
}
