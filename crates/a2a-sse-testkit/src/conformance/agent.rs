//! [`Conversation`]: one client of the scenario's agent (the [`Script`](super::script)
//! executor), what it sent and what it was answered; and the [`ConformanceWorld`] methods
//! that talk to the agent and check its answers.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use a2a_events::{
    EventId, EventKind, PlanId, SubscribeRequest, SubscriptionItem, TaskState, Timestamp,
};
use futures_core::Stream;
use serde_json::{Value, json};

use super::a2a::{A2aClient, Binding, Reply, Request, call};
use super::params::A2aError;
use super::world::{ConformanceWorld, PATIENCE, Settings};

/// What the scenario's client sent the agent and was answered.
#[derive(Debug, Default)]
pub(crate) struct Conversation {
    binding: Option<Binding>,
    /// Tasks the scenario named, by name: their ids.
    names: BTreeMap<String, String>,
    /// The task the conversation is about (of the latest answer that held one, or of the
    /// stream), and its context as first answered.
    task: Option<String>,
    context: Option<String>,
    /// The latest message sent.
    sent: Option<Value>,
    /// The latest answer.
    reply: Option<Reply>,
    /// The latest stream.
    stream: Option<A2aClient>,
    /// The parameters of the latest `ListTasks`, and the page it answered.
    listed: Option<(Value, Value)>,
}

/// A task's state as the bindings write it (`TASK_STATE_COMPLETED`).
pub(crate) fn state_name(state: TaskState) -> String {
    serde_json::to_value(state)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The texts of the first parts of `messages` (a JSON array, or nothing).
fn texts(messages: &Value) -> Vec<String> {
    messages
        .as_array()
        .map(|messages| {
            messages
                .iter()
                .map(|m| {
                    m["parts"][0]["text"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A user message saying `text`, with a fresh id.
fn user_message(text: &str) -> Value {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    json!({
        "messageId": format!("conformance-{id}"),
        "role": "ROLE_USER",
        "parts": [{"text": text}],
    })
}

impl ConformanceWorld {
    /// Starts the scenario's agent; its client speaks `binding`.
    pub(crate) async fn serve_agent(&mut self, binding: Binding) {
        self.start(Settings::default()).await;
        self.agent.binding = Some(binding);
    }

    fn binding(&self) -> Binding {
        self.agent
            .binding
            .expect("an agent answering over a binding")
    }

    /// The id of the task called `name`.
    pub(crate) fn task_named(&self, name: &str) -> String {
        self.agent
            .names
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("no task called {name:?}"))
    }

    /// The task the conversation is about.
    pub(crate) fn current_task(&self) -> String {
        self.agent.task.clone().expect("a task was answered")
    }

    /// Sends `request` to the agent and keeps the answer.
    async fn ask_agent(&mut self, request: &Request) -> &Reply {
        let reply = call(self.addr(), self.binding(), request).await;
        self.agent.reply = Some(reply);
        self.agent.reply.as_ref().expect("just kept")
    }

    /// Sends a message saying `text`: to the task `task` when given, in `context` when
    /// given, answered at once when `immediately`. The conversation is then about the
    /// task answered, if one was.
    pub(crate) async fn send_message(
        &mut self,
        text: &str,
        task: Option<&str>,
        context: Option<&str>,
        immediately: bool,
    ) {
        let mut message = user_message(text);
        if let Some(task) = task {
            message["taskId"] = json!(task);
        }
        if let Some(context) = context {
            message["contextId"] = json!(context);
        }
        let mut params = json!({ "message": message });
        if immediately {
            params["configuration"] = json!({"returnImmediately": true});
        }
        self.agent.sent = Some(message);
        let answered = self
            .ask_agent(&Request::Send(params))
            .await
            .result()
            .and_then(|result| result.get("task"))
            .cloned();
        if let Some(task) = answered {
            let id = task["id"].as_str().map(str::to_owned);
            if id != self.agent.task {
                self.agent.context = task["contextId"].as_str().map(str::to_owned);
            }
            self.agent.task = id;
        }
    }

    /// The task of the latest answer: `{"task": …}` of a send, or the task itself (of
    /// `GetTask`, `CancelTask`).
    pub(crate) fn answered_task(&self) -> &Value {
        let reply = self.agent.reply.as_ref().expect("an answer");
        let result = reply.expect_result();
        match result.get("task") {
            Some(task) => task,
            None if result.get("status").is_some() => result,
            None => panic!("a task, not {result}"),
        }
    }

    /// `GetTask` of `task`: the task.
    pub(crate) async fn get_task(&mut self, task: &str) -> Value {
        self.ask_agent(&Request::Get(task.to_owned()))
            .await
            .expect_result()
            .clone()
    }

    /// `CancelTask` of `task`.
    pub(crate) async fn cancel_task(&mut self, task: &str) {
        self.ask_agent(&Request::Cancel(task.to_owned())).await;
    }

    /// Makes the task `name` with a message saying `text` (in `context`), and waits until
    /// it settled and the clock passed its status time, so that the next task's status is
    /// later. A `slow` task settles working; any other when the blocking send answers.
    pub(crate) async fn make_task(&mut self, name: &str, text: &str, context: Option<&str>) {
        let slow = text.starts_with("slow");
        self.send_message(text, None, context, slow).await;
        let task = self.current_task();
        if slow {
            self.eventually_in_state(&task, TaskState::Working).await;
        }
        self.agent.names.insert(name.to_owned(), task.clone());
        self.pass_status_time(&task).await;
    }

    /// Answers `text` to the task `name` (which asked for input), blocking until it
    /// settled, then waits for the clock to pass its status time.
    pub(crate) async fn answer_task(&mut self, name: &str, text: &str) {
        let task = self.task_named(name);
        self.send_message(text, Some(&task), None, false).await;
        let state = self.answered_task()["status"]["state"].clone();
        assert_eq!(state, state_name(TaskState::Completed), "answered {name}");
        self.pass_status_time(&task).await;
    }

    /// Waits until the clock is past the status time of `task`.
    async fn pass_status_time(&mut self, task: &str) {
        let got = self.get_task(task).await;
        let text = got["status"]["timestamp"].as_str().unwrap_or_default();
        let time =
            Timestamp::parse(text).unwrap_or_else(|e| panic!("status time {text:?} of {got}: {e}"));
        let passed = crate::eventually(PATIENCE, || Timestamp::now() > time).await;
        assert!(passed, "the clock did not pass {text}");
    }

    /// Polls `GetTask` until `task` is in `state`; panics with the last answer if it is not
    /// within [`PATIENCE`].
    pub(crate) async fn eventually_in_state(&mut self, task: &str, state: TaskState) -> Value {
        let (addr, binding) = (self.addr(), self.binding());
        let expected = state_name(state);
        let request = Request::Get(task.to_owned());
        let waited = crate::eventually_with(
            PATIENCE,
            || async { call(addr, binding, &request).await.result().cloned() },
            |got: &Value| got["status"]["state"] == expected.as_str(),
        )
        .await;
        assert!(
            waited.held(),
            "task {task} is not {expected}: {:?}",
            waited.last
        );
        waited.last.expect("held")
    }

    /// Sends a streaming message saying `text`, to the task `task` when given; the
    /// conversation is then about the task streamed.
    pub(crate) async fn stream_message(&mut self, text: &str, task: Option<&str>) {
        let mut message = user_message(text);
        if let Some(task) = task {
            message["taskId"] = json!(task);
        }
        let params = json!({ "message": message });
        self.agent.sent = Some(message);
        let stream = A2aClient::send_streaming(self.addr(), self.binding(), &params).await;
        assert_eq!(stream.status, 200, "{:?}", stream.body);
        self.agent.stream = Some(stream);
    }

    /// The latest stream.
    pub(crate) fn agent_stream(&mut self) -> &mut A2aClient {
        self.agent.stream.as_mut().expect("a stream was opened")
    }

    /// The stream's first item is the task in `state`, the message sent first in its
    /// history (or, with `last`, last in it); the conversation is then about that task.
    pub(crate) async fn expect_stream_start(&mut self, state: TaskState, last: bool) {
        let sent = self.agent.sent.clone().expect("a message was sent");
        let stream = self.agent_stream();
        let (id, first) = stream
            .receive(1)
            .await
            .first()
            .cloned()
            .expect("a first item");
        let task = &first["task"];
        assert_eq!(task["status"]["state"], state_name(state), "{first}");
        let history = task["history"].as_array().cloned().unwrap_or_default();
        let message = if last {
            history.last()
        } else {
            history.first()
        };
        let message = message.unwrap_or_else(|| panic!("a history: {first}"));
        assert_eq!(message["messageId"], sent["messageId"], "{first}");
        assert!(!id.is_empty(), "the task frame has an id: {first}");
        self.agent.task = Some(stream.task().to_owned());
        self.agent.context = task["contextId"].as_str().map(str::to_owned);
    }

    /// The stream carries a status update to `state`, sooner or later.
    pub(crate) async fn expect_stream_update(&mut self, state: TaskState) {
        let expected = state_name(state);
        let stream = self.agent_stream();
        // Counted from the latest subscription's first item.
        let mut seen = 0;
        loop {
            let items = stream.receive(seen + 1).await;
            let Some((_, item)) = items.get(seen) else {
                panic!("no update to {expected}: {items:?}");
            };
            if item["statusUpdate"]["status"]["state"] == expected.as_str() {
                return;
            }
            seen += 1;
        }
    }

    /// The stream ends, its last item a status update to `state`.
    pub(crate) async fn expect_stream_end(&mut self, state: TaskState) {
        let stream = self.agent_stream();
        assert!(
            stream.receive_to_end().await,
            "the stream did not end within {PATIENCE:?} of its last item"
        );
        let (_, last) = stream.items.last().expect("some items");
        assert_eq!(
            last["statusUpdate"]["status"]["state"],
            state_name(state),
            "the last item: {last}"
        );
    }

    /// The status and artifact events of `plan` after `after`, as the backend's history
    /// holds them (the plan ended): their ids and stream item names.
    async fn updates_after(&self, plan: &str, after: EventId) -> Vec<(String, &'static str)> {
        let plan = PlanId::new(plan).unwrap_or_else(|e| panic!("task id {plan:?}: {e}"));
        let request = SubscribeRequest::plan(plan).after(after);
        let mut replay = self
            .backend()
            .subscribe(request)
            .await
            .unwrap_or_else(|e| panic!("the backend's history of the task: {e}"));
        let mut updates = Vec::new();
        loop {
            let next = std::future::poll_fn(|cx| std::pin::Pin::new(&mut replay).poll_next(cx));
            let item = tokio::time::timeout(PATIENCE, next).await;
            match item.expect("the history of an ended task ends") {
                Some(SubscriptionItem::Event(event)) => {
                    let name = match event.kind() {
                        EventKind::StatusUpdate => "statusUpdate",
                        EventKind::ArtifactUpdate => "artifactUpdate",
                        _ => continue,
                    };
                    updates.push((event.id().to_string(), name));
                }
                Some(SubscriptionItem::End(_)) | None => return updates,
                Some(other) => panic!("replaying the task's history: {other:?}"),
            }
        }
    }

    /// The stream's items after its `from`th (counting from 0) are exactly the task's
    /// updates after that item's id, in order, each once.
    pub(crate) async fn expect_updates_after_item(&mut self, from: usize) {
        let stream = self.agent.stream.as_ref().expect("a stream was opened");
        let (after, task) = (stream.items[from].0.clone(), stream.task().to_owned());
        let after: EventId = after
            .parse()
            .unwrap_or_else(|e| panic!("the id {after:?} is no event id: {e}"));
        let expected = self.updates_after(&task, after).await;
        assert!(!expected.is_empty(), "the task has updates after {after}");
        let stream = self.agent.stream.as_ref().expect("a stream was opened");
        let got: Vec<(String, &str)> = stream.items[from + 1..]
            .iter()
            .map(|(id, item)| {
                let name = ["statusUpdate", "artifactUpdate", "task", "message"]
                    .into_iter()
                    .find(|name| item.get(name).is_some())
                    .unwrap_or("?");
                (id.clone(), name)
            })
            .collect();
        assert_eq!(got, expected, "the updates after event {after}");
    }

    /// Every item of the stream carried an id of its own: they increase strictly.
    pub(crate) fn expect_own_ids(&mut self) {
        let stream = self.agent_stream();
        let ids: Vec<EventId> = stream
            .items
            .iter()
            .map(|(id, item)| {
                id.parse()
                    .unwrap_or_else(|e| panic!("the id {id:?} of {item} is no event id: {e}"))
            })
            .collect();
        assert!(
            ids.windows(2).all(|pair| pair[0] < pair[1]),
            "ids that do not increase: {ids:?}"
        );
    }

    /// The latest answer is the error `err`, in the binding's shape.
    pub(crate) fn expect_a2a_error(&self, err: A2aError) {
        let reply = self.agent.reply.as_ref().expect("an answer");
        match reply.binding {
            Binding::JsonRpc => {
                assert_eq!(
                    reply.http, 200,
                    "JSON-RPC errors travel as HTTP 200: {reply:?}"
                );
                assert_eq!(
                    reply.body["error"]["code"], err.code,
                    "{}: {}",
                    err.name, reply.body
                );
            }
            Binding::HttpJson => {
                assert_eq!(reply.http, err.http, "{}: {}", err.name, reply.body);
                let reason = &reply.body["error"]["details"][0]["reason"];
                assert_eq!(reason, err.reason, "{}: {}", err.name, reply.body);
            }
        }
    }

    /// The latest answer is the agent's message saying `text`, and no task.
    pub(crate) fn expect_agent_message(&self, text: &str) {
        let reply = self.agent.reply.as_ref().expect("an answer");
        let result = reply.expect_result();
        assert!(result.get("task").is_none(), "no task: {result}");
        assert_eq!(result["message"]["role"], "ROLE_AGENT", "{result}");
        assert_eq!(result["message"]["parts"][0]["text"], text, "{result}");
    }

    /// The answered task is in `state`.
    pub(crate) fn expect_task_state(&self, state: TaskState) {
        let task = self.answered_task();
        assert_eq!(task["status"]["state"], state_name(state), "{task}");
    }

    /// The answered task has not ended: submitted or working.
    pub(crate) fn expect_task_running(&self) {
        let task = self.answered_task();
        let running = [TaskState::Submitted, TaskState::Working].map(state_name);
        let state = task["status"]["state"].as_str().unwrap_or_default();
        assert!(running.iter().any(|s| s == state), "a running task: {task}");
    }

    /// The answered task is the conversation's task, in its context.
    pub(crate) fn expect_same_task(&self) {
        let task = self.answered_task();
        assert_eq!(task["id"].as_str(), self.agent.task.as_deref(), "{task}");
        assert_eq!(
            task["contextId"].as_str(),
            self.agent.context.as_deref(),
            "{task}"
        );
    }

    /// The answered task holds the artifact `name` made of text parts `parts`.
    pub(crate) fn expect_artifact(&self, name: &str, parts: &[String]) {
        let task = self.answered_task();
        let artifacts = task["artifacts"].as_array().cloned().unwrap_or_default();
        let found = artifacts
            .iter()
            .find(|a| a["name"] == name)
            .unwrap_or_else(|| panic!("no artifact {name:?} in {task}"));
        let got: Vec<&str> = found["parts"]
            .as_array()
            .map(|parts| parts.iter().filter_map(|p| p["text"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(got, parts, "{found}");
    }

    /// The answered task's history starts with the message the client sent.
    pub(crate) fn expect_history_starts_with_sent(&self) {
        let sent = self.agent.sent.as_ref().expect("a message was sent");
        let task = self.answered_task();
        let first = &task["history"][0];
        assert_eq!(first["messageId"], sent["messageId"], "{task}");
        assert_eq!(first["role"], "ROLE_USER", "{task}");
        assert_eq!(first["parts"], sent["parts"], "{task}");
    }

    /// The answered task's history reads `expected` (first parts' texts).
    pub(crate) fn expect_history(&self, expected: &[String]) {
        let task = self.answered_task();
        assert_eq!(texts(&task["history"]), expected, "{task}");
    }

    /// The answered task has a context the server made: the message sent named none.
    pub(crate) fn expect_server_context(&self) {
        let sent = self.agent.sent.as_ref().expect("a message was sent");
        assert!(
            sent.get("contextId").is_none(),
            "the client named no context"
        );
        let task = self.answered_task();
        let context = task["contextId"].as_str().unwrap_or_default();
        assert!(!context.is_empty(), "a context: {task}");
        assert_eq!(task["history"][0]["contextId"], context, "{task}");
    }

    /// The answered task's status message says `text`.
    pub(crate) fn expect_status_says(&self, text: &str) {
        let task = self.answered_task();
        assert_eq!(
            task["status"]["message"]["parts"][0]["text"], text,
            "{task}"
        );
    }

    /// The execution of the conversation's task returned, its handle reporting the
    /// cancel, and the agent called the executor's `cancel`.
    pub(crate) async fn expect_execution_canceled(&self) {
        let task = self.current_task();
        let stopped = crate::eventually(PATIENCE, || {
            self.script.execution(&task).is_some_and(|e| {
                e.returned && e.cancel_called && e.handle.is_some_and(|h| h.is_canceled())
            })
        })
        .await;
        let execution = self.script.execution(&task);
        assert!(
            stopped,
            "the execution did not stop as canceled: {execution:?}"
        );
        let refused = execution.and_then(|e| e.refused).unwrap_or_default();
        assert!(
            ["", "the task was canceled", "the task already ended"].contains(&refused.as_str()),
            "a publish refused for another reason: {refused}"
        );
    }

    /// `GetTask` finds the conversation's task canceled, holding the last heartbeat its
    /// execution published: nothing it tried after the cancel was taken.
    pub(crate) async fn expect_canceled_with_last_heartbeat(&mut self) {
        let task = self.current_task();
        let got = self.get_task(&task).await;
        assert_eq!(
            got["status"]["state"],
            state_name(TaskState::Canceled),
            "{got}"
        );
        let last = self.script.execution(&task).and_then(|e| e.last_heartbeat);
        let heartbeat = got["artifacts"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["artifactId"] == "heartbeat"))
            .map(|a| {
                a["parts"][0]["text"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            });
        assert_eq!(heartbeat, last.map(|beat| beat.to_string()), "{got}");
    }

    /// `ListTasks` with `params`; keeps the page.
    pub(crate) async fn list_tasks(&mut self, params: Value) {
        let page = self
            .ask_agent(&Request::List(params.clone()))
            .await
            .expect_result()
            .clone();
        self.agent.listed = Some((params, page));
    }

    /// `ListTasks` of the page after the latest one.
    pub(crate) async fn list_next_page(&mut self) {
        let (mut params, page) = self.agent.listed.clone().expect("a page was listed");
        let token = page["nextPageToken"].clone();
        assert!(
            token.as_str().is_some_and(|t| !t.is_empty()),
            "a next page: {page}"
        );
        params["pageToken"] = token;
        self.list_tasks(params).await;
    }

    /// The latest page holds the tasks called `names`, in that order, of `total`, and a
    /// next page token when `more` (an empty one otherwise).
    pub(crate) fn expect_page(&self, names: &[String], total: u64, more: bool) {
        let (_, page) = self.agent.listed.as_ref().expect("a page was listed");
        let got: Vec<String> = page["tasks"]
            .as_array()
            .unwrap_or_else(|| panic!("tasks: {page}"))
            .iter()
            .map(|task| {
                let id = task["id"].as_str().unwrap_or_default();
                self.agent
                    .names
                    .iter()
                    .find(|(_, known)| *known == id)
                    .map_or_else(|| id.to_owned(), |(name, _)| name.clone())
            })
            .collect();
        assert_eq!(got, names, "{page}");
        assert_eq!(page["totalSize"], total, "{page}");
        let token = page["nextPageToken"].as_str();
        if more {
            assert!(
                token.is_some_and(|t| !t.is_empty()),
                "a next page token: {page}"
            );
        } else {
            assert_eq!(token, Some(""), "an empty next page token: {page}");
        }
    }

    /// The task called `name`, as the latest page lists it, has `artifacts` artifacts and
    /// the history `history`.
    pub(crate) fn expect_listed(&self, name: &str, artifacts: usize, history: &[String]) {
        let id = self.task_named(name);
        let (_, page) = self.agent.listed.as_ref().expect("a page was listed");
        let task = page["tasks"]
            .as_array()
            .and_then(|tasks| tasks.iter().find(|t| t["id"] == id.as_str()))
            .unwrap_or_else(|| panic!("{name} is not listed: {page}"));
        let count = task["artifacts"].as_array().map_or(0, Vec::len);
        assert_eq!(count, artifacts, "artifacts of {name}: {task}");
        assert_eq!(
            texts(&task["history"]),
            history,
            "history of {name}: {task}"
        );
    }

    /// Forgets the conversation (the scenario is over).
    pub(crate) fn end_conversation(&mut self) {
        self.agent = Conversation::default();
        self.script.close();
    }
}
