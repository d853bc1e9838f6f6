//! [`A2aClient`]: a client of the A2A binding's `SubscribeToTask`, over either binding,
//! and every item it received.

use std::net::SocketAddr;

use serde_json::Value;

use super::world::PATIENCE;
use crate::{Next, SseClient, StreamReader};

/// Which A2A binding a client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Binding {
    JsonRpc,
    HttpJson,
}

impl std::str::FromStr for Binding {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "JSON-RPC" => Ok(Self::JsonRpc),
            "HTTP+JSON" => Ok(Self::HttpJson),
            other => Err(format!("unknown binding {other:?}")),
        }
    }
}

/// One stream item: its SSE id and its `StreamResponse` (the `result` of a JSON-RPC
/// frame, the bare item over HTTP+JSON).
pub(crate) type Item = (String, Value);

/// An A2A subscriber of one task, across resubscriptions.
#[derive(Debug)]
pub(crate) struct A2aClient {
    binding: Binding,
    task: String,
    /// The status of the latest subscription and its body when it was no stream.
    pub(crate) status: u16,
    pub(crate) body: Option<Value>,
    reader: Option<StreamReader>,
    /// Every item received, over every subscription, in arrival order.
    pub(crate) items: Vec<Item>,
    /// How many items the latest subscription delivered before this one's first.
    pub(crate) mark: usize,
}

impl A2aClient {
    /// Subscribes to `task` over `binding`, resuming after `after` when given.
    pub(crate) async fn subscribe(
        addr: SocketAddr,
        binding: Binding,
        task: &str,
        after: Option<&str>,
    ) -> Self {
        let mut client = Self {
            binding,
            task: task.to_owned(),
            status: 0,
            body: None,
            reader: None,
            items: Vec::new(),
            mark: 0,
        };
        client.open(addr, after).await;
        client
    }

    /// Subscribes again (the previous connection is closed first).
    pub(crate) async fn resubscribe(&mut self, addr: SocketAddr, after: Option<&str>) {
        self.reader = None;
        self.mark = self.items.len();
        self.open(addr, after).await;
    }

    /// Closes the connection.
    pub(crate) fn disconnect(&mut self) {
        self.reader = None;
    }

    async fn open(&mut self, addr: SocketAddr, after: Option<&str>) {
        let mut headers = vec![("a2a-version", "1.0"), ("accept", "text/event-stream")];
        if let Some(after) = after {
            headers.push(("last-event-id", after));
        }
        let (path, body) = match self.binding {
            Binding::HttpJson => (format!("/a2a/tasks/{}:subscribe", self.task), Vec::new()),
            Binding::JsonRpc => {
                headers.push(("content-type", "application/json"));
                let request = serde_json::json!({
                    "jsonrpc": "2.0",
                    "id": "conformance",
                    "method": "SubscribeToTask",
                    "params": {"id": self.task},
                });
                ("/a2a/jsonrpc".to_owned(), request.to_string().into_bytes())
            }
        };
        let client = SseClient::new(addr);
        let send = client.request("POST", &path, &headers, body);
        let response = tokio::time::timeout(PATIENCE, send)
            .await
            .unwrap_or_else(|_| panic!("no answer to POST {path} in {PATIENCE:?}"));
        self.status = response.status;
        let streams = response
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/event-stream"));
        if streams {
            self.body = None;
            self.reader = Some(response.into_stream());
        } else {
            let text = response.text().await;
            self.body = Some(serde_json::from_str(&text).unwrap_or(Value::String(text)));
        }
    }

    /// The JSON-RPC error code, or the HTTP+JSON error reason, of a refused subscription.
    pub(crate) fn refusal(&self) -> String {
        let body = self.body.as_ref().expect("a refused subscription");
        match self.binding {
            Binding::JsonRpc => {
                assert_eq!(
                    self.status, 200,
                    "JSON-RPC errors travel as HTTP 200: {body}"
                );
                body["error"]["code"].to_string()
            }
            Binding::HttpJson => body["error"]["details"][0]["reason"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        }
    }

    /// Reads until `count` items of the latest subscription have arrived in all.
    pub(crate) async fn receive(&mut self, count: usize) -> &[Item] {
        while self.items.len() - self.mark < count {
            let Some(reader) = &mut self.reader else {
                break;
            };
            match reader.next_event(PATIENCE).await {
                Next::Event(event) => {
                    let data: Value = serde_json::from_str(&event.data)
                        .unwrap_or_else(|e| panic!("item is not JSON ({e}): {:?}", event.data));
                    assert_eq!(event.event, "", "an item has no event name: {event:?}");
                    let item = match self.binding {
                        Binding::JsonRpc => {
                            assert_eq!(data["id"], "conformance", "{data}");
                            data["result"].clone()
                        }
                        Binding::HttpJson => data,
                    };
                    self.items.push((event.id, item));
                }
                Next::End | Next::Timeout => break,
            }
        }
        &self.items[self.mark..]
    }

    /// Whether the stream ends (without any further item).
    pub(crate) async fn ends(&mut self) -> bool {
        let Some(reader) = &mut self.reader else {
            return true;
        };
        matches!(reader.next_event(PATIENCE).await, Next::End)
    }

    /// The binding it speaks.
    pub(crate) const fn binding(&self) -> Binding {
        self.binding
    }

    /// The id of the last item received.
    pub(crate) fn last_id(&self) -> String {
        self.items
            .last()
            .map(|(id, _)| id.clone())
            .unwrap_or_default()
    }
}
