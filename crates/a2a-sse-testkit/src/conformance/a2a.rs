//! [`A2aClient`]: a client of the A2A bindings' streams (`SubscribeToTask`,
//! `SendStreamingMessage`), over either binding, and every item it received; [`call`]:
//! one request of the agent surface answered with JSON ([`Reply`]).

use std::net::SocketAddr;

use cucumber::Parameter;
use serde_json::{Value, json};

use super::world::PATIENCE;
use crate::{Event, Next, SseClient, StreamReader};

/// Which A2A binding a client speaks: `JSON-RPC` or `HTTP+JSON`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Parameter)]
#[param(name = "binding", regex = r"JSON-RPC|HTTP\+JSON")]
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

/// The JSON-RPC request id of every request the suite sends.
const REQUEST_ID: &str = "conformance";

/// One stream item: its SSE id and its `StreamResponse` (the `result` of a JSON-RPC
/// frame, the bare item over HTTP+JSON).
pub(crate) type Item = (String, Value);

/// An A2A subscriber of one task, across resubscriptions.
#[derive(Debug)]
pub(crate) struct A2aClient {
    binding: Binding,
    /// The task it follows; learnt from the first item of a streaming message.
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

    /// Sends `SendStreamingMessage` with `params` over `binding` and reads its answer.
    pub(crate) async fn send_streaming(addr: SocketAddr, binding: Binding, params: &Value) -> Self {
        let mut client = Self {
            binding,
            task: String::new(),
            status: 0,
            body: None,
            reader: None,
            items: Vec::new(),
            mark: 0,
        };
        let headers = [
            ("a2a-version", "1.0"),
            ("accept", "text/event-stream"),
            ("content-type", "application/json"),
        ];
        let (path, body) = match binding {
            Binding::HttpJson => ("/a2a/message:stream".to_owned(), params.to_string()),
            Binding::JsonRpc => {
                let request = json!({
                    "jsonrpc": "2.0",
                    "id": REQUEST_ID,
                    "method": "SendStreamingMessage",
                    "params": params,
                });
                ("/a2a/jsonrpc".to_owned(), request.to_string())
            }
        };
        client
            .request(addr, &path, &headers, body.into_bytes())
            .await;
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
                let request = json!({
                    "jsonrpc": "2.0",
                    "id": REQUEST_ID,
                    "method": "SubscribeToTask",
                    "params": {"id": self.task},
                });
                ("/a2a/jsonrpc".to_owned(), request.to_string().into_bytes())
            }
        };
        self.request(addr, &path, &headers, body).await;
    }

    /// POSTs `body` to `path`; keeps the stream answered, or the body of a refusal.
    async fn request(
        &mut self,
        addr: SocketAddr,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) {
        let client = SseClient::new(addr);
        let send = client.request("POST", path, headers, body);
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
                Next::Event(event) => self.push(event),
                Next::End | Next::Timeout => break,
            }
        }
        &self.items[self.mark..]
    }

    /// Keeps the item `event` carries.
    fn push(&mut self, event: Event) {
        let data: Value = serde_json::from_str(&event.data)
            .unwrap_or_else(|e| panic!("item is not JSON ({e}): {:?}", event.data));
        assert_eq!(event.event, "", "an item has no event name: {event:?}");
        let item = match self.binding {
            Binding::JsonRpc => {
                assert_eq!(data["id"], REQUEST_ID, "{data}");
                data["result"].clone()
            }
            Binding::HttpJson => data,
        };
        if self.task.is_empty()
            && let Some(task) = item["task"]["id"].as_str()
        {
            self.task = task.to_owned();
        }
        self.items.push((event.id, item));
    }

    /// Reads every item up to the end of the stream; `false` when it did not end within
    /// [`PATIENCE`] of the last item.
    pub(crate) async fn receive_to_end(&mut self) -> bool {
        loop {
            let Some(reader) = &mut self.reader else {
                return true;
            };
            match reader.next_event(PATIENCE).await {
                Next::Event(event) => self.push(event),
                Next::End => {
                    self.reader = None;
                    return true;
                }
                Next::Timeout => return false,
            }
        }
    }

    /// The task it follows (empty before a streaming message's first item).
    pub(crate) fn task(&self) -> &str {
        &self.task
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

/// A request of the agent surface that is answered with JSON, whichever the binding.
#[derive(Debug, Clone)]
pub(crate) enum Request {
    /// `SendMessage` with these parameters.
    Send(Value),
    /// `GetTask`.
    Get(String),
    /// `ListTasks` with these parameters: an object of strings, numbers and booleans.
    List(Value),
    /// `CancelTask`.
    Cancel(String),
}

/// The answer to a [`Request`]: its HTTP status and its JSON body.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) binding: Binding,
    pub(crate) http: u16,
    pub(crate) body: Value,
}

impl Reply {
    /// The result (the JSON-RPC `result`, or the HTTP+JSON body of a success); `None` for
    /// an error.
    pub(crate) fn result(&self) -> Option<&Value> {
        match self.binding {
            Binding::JsonRpc if self.http == 200 => self.body.get("result"),
            Binding::HttpJson if self.http == 200 => Some(&self.body),
            _ => None,
        }
    }

    /// The result, or a panic showing the whole answer.
    pub(crate) fn expect_result(&self) -> &Value {
        self.result()
            .unwrap_or_else(|| panic!("a result, not {} {}", self.http, self.body))
    }
}

/// Sends `request` over `binding` to the agent at `addr` and reads the JSON answer.
pub(crate) async fn call(addr: SocketAddr, binding: Binding, request: &Request) -> Reply {
    let (verb, path, body) = match (binding, request) {
        (Binding::JsonRpc, request) => {
            let (method, params) = match request {
                Request::Send(params) => ("SendMessage", params.clone()),
                Request::Get(task) => ("GetTask", json!({ "id": task })),
                Request::List(params) => ("ListTasks", params.clone()),
                Request::Cancel(task) => ("CancelTask", json!({ "id": task })),
            };
            let request =
                json!({"jsonrpc": "2.0", "id": REQUEST_ID, "method": method, "params": params});
            ("POST", "/a2a/jsonrpc".to_owned(), request.to_string())
        }
        (Binding::HttpJson, Request::Send(params)) => {
            ("POST", "/a2a/message:send".to_owned(), params.to_string())
        }
        (Binding::HttpJson, Request::Get(task)) => {
            ("GET", format!("/a2a/tasks/{task}"), String::new())
        }
        (Binding::HttpJson, Request::List(params)) => (
            "GET",
            format!("/a2a/tasks?{}", query(params)),
            String::new(),
        ),
        (Binding::HttpJson, Request::Cancel(task)) => {
            ("POST", format!("/a2a/tasks/{task}:cancel"), String::new())
        }
    };
    let mut headers = vec![("a2a-version", "1.0")];
    if !body.is_empty() {
        headers.push(("content-type", "application/json"));
    }
    let client = SseClient::new(addr);
    let send = client.request(verb, &path, &headers, body.into_bytes());
    let response = tokio::time::timeout(PATIENCE, send)
        .await
        .unwrap_or_else(|_| panic!("no answer to {verb} {path} in {PATIENCE:?}"));
    let http = response.status;
    let text = tokio::time::timeout(PATIENCE, response.text())
        .await
        .unwrap_or_else(|_| panic!("no whole answer to {verb} {path} in {PATIENCE:?}"));
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("the answer to {verb} {path} is not JSON ({e}): {text:?}"));
    if binding == Binding::JsonRpc {
        assert_eq!(
            body["id"], REQUEST_ID,
            "the answer is to the request: {body}"
        );
    }
    Reply {
        binding,
        http,
        body,
    }
}

/// `params` (an object) as a query string, values percent-encoded.
fn query(params: &Value) -> String {
    let Some(object) = params.as_object() else {
        return String::new();
    };
    object
        .iter()
        .map(|(name, value)| {
            let text = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            format!("{name}={}", percent_encode(&text))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes every byte of `text` but the unreserved ones.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
