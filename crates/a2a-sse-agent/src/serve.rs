//! Serving the bindings' requests: reading them (the head before the body, like every
//! route of the service), authorizing, and answering each method in the binding's shape.

use std::borrow::Cow;
use std::sync::Arc;

use a2a_events::{
    EventBackend, EventId, EventPayload, Message, NewEvent, PlanId, PublishError, SubscribeError,
    SubscribeRequest, SubscriptionItem, Task, TaskCursor, TaskQuery, TaskSnapshot, TaskState,
    TaskStatus, TaskStatusUpdateEvent, Timestamp,
};
use a2a_sse_core::{
    Admission, Handling, LAST_EVENT_ID_HEADER, RequestError, RequestHead, STREAM_HEADERS,
    SseRequest, SseResponse, SseService, refuse, telemetry,
};
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::error::{A2aError, to_json};
use crate::executor::RequestContext;
use crate::framing::A2aFraming;
use crate::method::{DEFAULT_PAGE_SIZE, ListTasks, Method, SendMessage, send_message};
use crate::push::PushCall;
use crate::runner::First;
use crate::version::negotiate;
use crate::{AgentCard, AgentInner, jsonrpc, rest};

mod push;

/// How a request is answered: the binding it came by.
#[derive(Debug, Clone)]
pub(crate) enum Binding {
    /// HTTP+JSON: bare results, `google.rpc.Status` errors with their HTTP status.
    Rest,
    /// JSON-RPC: answers to the request `id`, with HTTP 200.
    JsonRpc(Box<RawValue>),
}

impl Binding {
    /// A successful answer holding `result`.
    fn ok(&self, result: &[u8]) -> SseResponse {
        match self {
            Self::Rest => SseResponse::json(200, Bytes::copy_from_slice(result)),
            Self::JsonRpc(id) => SseResponse::json(200, jsonrpc::result(id, result)),
        }
    }

    /// A successful answer holding `value`, or the error of encoding it.
    fn ok_json(&self, value: &impl Serialize) -> SseResponse {
        match to_json(value) {
            Ok(json) => self.ok(&json),
            Err(err) => self.error(&err),
        }
    }

    /// A protocol error in the binding's shape.
    pub(crate) fn error(&self, err: &A2aError) -> SseResponse {
        match self {
            Self::Rest => {
                tracing::debug!(status = err.http_status(), %err, "a2a http+json request refused");
                telemetry::refusal(err.http_status(), err.reason());
                let response = SseResponse::json(err.http_status(), err.status_body());
                match err {
                    A2aError::MethodNotAllowed(allow) => response.with_header("allow", *allow),
                    _ => response,
                }
            }
            Self::JsonRpc(id) => {
                tracing::debug!(code = err.code(), %err, "a2a json-rpc request refused");
                telemetry::refusal(200, err.reason());
                SseResponse::json(200, err.jsonrpc_response(Some(id)))
            }
        }
    }

    /// The framing of this binding's streams.
    fn framing(&self) -> A2aFraming {
        match self {
            Self::Rest => A2aFraming::rest(),
            Self::JsonRpc(id) => A2aFraming::json_rpc(id.clone()),
        }
    }
}

/// What a call read of its request's head.
struct Head {
    admission: Admission,
    version: Result<(), A2aError>,
    /// The resume point a subscription asks for (an empty header is none).
    last_event_id: Result<Option<EventId>, RequestError>,
}

impl Head {
    fn read(service: &SseService, head: &dyn RequestHead) -> Self {
        let last_event_id = SseRequest::parse(None, head.header(LAST_EVENT_ID_HEADER))
            .map(|request| request.last_event_id);
        Self {
            admission: service.admission(head),
            version: negotiate(head),
            last_event_id,
        }
    }
}

/// Whether a request's `Content-Type` (if it has one) is JSON: `application/json`, or a
/// JSON-based type (`application/a2a+json`, `application/json-rpc`).
fn is_json(head: &dyn RequestHead) -> Result<(), A2aError> {
    let Some(value) = head.header("content-type") else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(value);
    let media = text
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let json = media.is_empty()
        || media == "application/json"
        || media == "application/json-rpc"
        || (media.starts_with("application/") && media.ends_with("+json"));
    if json {
        Ok(())
    } else {
        Err(A2aError::ContentTypeNotSupported(format!(
            "{media}: send application/json"
        )))
    }
}

/// A JSON-RPC request: `POST` only; the content type and the version are checked before
/// the body is read, and the version before the method is looked up.
pub(crate) fn jsonrpc(
    agent: &Arc<AgentInner>,
    service: &SseService,
    head: &dyn RequestHead,
) -> Handling {
    if head.method() != "POST" {
        return refuse(RequestError::MethodNotAllowed { allow: "POST" }).into();
    }
    let content = is_json(head);
    let read = Head::read(service, head);
    let agent = Arc::clone(agent);
    Handling::read(move |service, body| async move {
        if let Err(err) = &content {
            return Binding::JsonRpc(null_id()).error(err);
        }
        let call = match jsonrpc::parse(&body) {
            Ok(call) => call,
            Err((id, err)) => return Binding::JsonRpc(id.unwrap_or_else(null_id)).error(&err),
        };
        let binding = Binding::JsonRpc(call.id.clone());
        if let Err(err) = &read.version {
            return binding.error(err);
        }
        match call.method() {
            Ok(method) => run(&agent, &service, binding, read, method).await,
            Err(err) => binding.error(&err),
        }
    })
}

/// A request of the HTTP+JSON binding, to `below` (the path below its base).
pub(crate) fn rest(
    agent: &Arc<AgentInner>,
    service: &SseService,
    head: &dyn RequestHead,
    below: &str,
) -> Handling {
    let read = Head::read(service, head);
    let route = read
        .version
        .clone()
        .and_then(|()| rest::parse(head.method(), below, head.query()));
    let route = match route {
        Err(err) => return Binding::Rest.error(&err).into(),
        Ok(route) => route,
    };
    let content = match route {
        rest::Route::Send { .. } | rest::Route::CreatePush { .. } => is_json(head),
        rest::Route::Ready(_) => Ok(()),
    };
    let agent = Arc::clone(agent);
    Handling::read(move |service, body| async move {
        if let Err(err) = content {
            return Binding::Rest.error(&err);
        }
        let method = match route {
            rest::Route::Ready(method) => method,
            rest::Route::CreatePush { task } => match serde_json::from_slice(&body) {
                Ok(params) => Method::Push {
                    call: PushCall::Create(params),
                    task,
                },
                Err(err) => return Binding::Rest.error(&A2aError::Parse(err.to_string())),
            },
            rest::Route::Send { streaming } => {
                let params = match serde_json::from_slice(&body) {
                    Ok(params) => params,
                    Err(err) => return Binding::Rest.error(&A2aError::Parse(err.to_string())),
                };
                match send_message(&params) {
                    Ok(send) if streaming => Method::SendStreamingMessage(Box::new(send)),
                    Ok(send) => Method::SendMessage(Box::new(send)),
                    Err(err) => return Binding::Rest.error(&err),
                }
            }
        };
        run(&agent, &service, Binding::Rest, read, method).await
    })
}

/// Runs an admitted call.
async fn run(
    agent: &Arc<AgentInner>,
    service: &SseService,
    binding: Binding,
    head: Head,
    method: Method,
) -> SseResponse {
    // Push off is said before anything is looked up (the task may not exist).
    if matches!(method, Method::Push { .. }) && agent.config.push.is_none() {
        return binding.error(&A2aError::PushNotificationNotSupported);
    }
    let plan = match method.task() {
        // An id that cannot be a plan id names no task.
        Some(task) => match PlanId::new(task) {
            Ok(plan) => Some(plan),
            Err(_) => return binding.error(&A2aError::TaskNotFound(task.to_owned())),
        },
        None => None,
    };
    let last_event_id = match (&method, head.last_event_id) {
        (Method::SubscribeToTask { .. }, Err(err)) => return refuse(err),
        (Method::SubscribeToTask { .. }, Ok(id)) => id,
        _ => None,
    };
    let request = SseRequest {
        plan,
        last_event_id,
    };
    let request = match service.admit(head.admission, method.name(), request).await {
        Ok(request) => request,
        Err(err) => return refuse(err),
    };
    let call = Call {
        agent,
        service,
        binding: &binding,
        request: &request,
    };
    let answer = match method {
        Method::SendMessage(send) => Ok(call.send(*send, false).await),
        Method::SendStreamingMessage(send) => Ok(call.send(*send, true).await),
        Method::GetTask { history_length, .. } => call.get(history_length).await,
        Method::ListTasks(list) => Ok(call.list(list).await),
        Method::CancelTask { .. } => call.cancel().await,
        Method::SubscribeToTask { .. } => call.subscribe().await,
        Method::Push { call: push, .. } => Ok(call.push(push).await),
        Method::GetExtendedAgentCard => Err(A2aError::ExtendedAgentCardNotConfigured),
    };
    answer.unwrap_or_else(|err| binding.error(&err))
}

/// One admitted call, and what answering it needs.
struct Call<'a> {
    agent: &'a Arc<AgentInner>,
    service: &'a SseService,
    binding: &'a Binding,
    request: &'a SseRequest,
}

impl Call<'_> {
    fn backend(&self) -> &Arc<dyn EventBackend> {
        self.service.backend()
    }

    /// The plan the call names (every method but send and list names one).
    fn plan(&self) -> Result<&PlanId, A2aError> {
        self.request
            .plan
            .as_ref()
            .ok_or_else(|| A2aError::InvalidParams("the task id is missing".into()))
    }

    /// The task of the call's plan, or `TaskNotFound`.
    async fn snapshot(&self, plan: &PlanId) -> Result<std::sync::Arc<TaskSnapshot>, SseResponse> {
        match self.backend().task(plan).await {
            Ok(Some(snapshot)) => Ok(snapshot),
            Ok(None) => Err(self
                .binding
                .error(&A2aError::TaskNotFound(plan.to_string()))),
            Err(err) => Err(self.binding.error(&A2aError::unavailable(err))),
        }
    }

    /// `GetTask`.
    async fn get(&self, history_length: Option<usize>) -> Result<SseResponse, A2aError> {
        let plan = self.plan()?;
        Ok(match self.snapshot(plan).await {
            Ok(snapshot) => self
                .binding
                .ok_json(&view(&snapshot.task, history_length, true)),
            Err(response) => response,
        })
    }

    /// `ListTasks`.
    async fn list(&self, list: ListTasks) -> SseResponse {
        let page_size = list.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        let after = match list.page_token.as_deref().map(decode_token).transpose() {
            Ok(after) => after,
            Err(err) => return self.binding.error(&err),
        };
        let mut query = TaskQuery::all(page_size);
        query.context_id = list.context_id;
        query.state = list.status;
        query.status_after = list.status_timestamp_after;
        query.after = after;
        let page = match self.backend().list_tasks(query).await {
            Ok(page) => page,
            Err(err) => return self.binding.error(&A2aError::unavailable(err)),
        };
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Answer {
            tasks: Vec<Task>,
            next_page_token: String,
            page_size: usize,
            total_size: usize,
        }
        let answer = Answer {
            tasks: page
                .tasks
                .iter()
                .map(|snapshot| view(&snapshot.task, list.history_length, list.include_artifacts))
                .collect(),
            next_page_token: page.next.as_ref().map(encode_token).unwrap_or_default(),
            page_size,
            total_size: page.total,
        };
        self.binding.ok_json(&answer)
    }

    /// `CancelTask`: the task ends `CANCELED` at once; the replica running its execution
    /// sees that end and stops it.
    async fn cancel(&self) -> Result<SseResponse, A2aError> {
        let plan = self.plan()?;
        let snapshot = match self.snapshot(plan).await {
            Ok(snapshot) => snapshot,
            Err(response) => return Ok(response),
        };
        let not_cancelable = |state: TaskState| {
            A2aError::TaskNotCancelable(format!("task {plan} already ended ({state:?})"))
        };
        if snapshot.task.status.state.is_terminal() {
            return Err(not_cancelable(snapshot.task.status.state));
        }
        let update = TaskStatusUpdateEvent {
            task_id: plan.to_string(),
            context_id: snapshot.task.context_id.clone(),
            status: TaskStatus {
                state: TaskState::Canceled,
                message: None,
                timestamp: Some(Timestamp::now().to_string()),
            },
            metadata: None,
        };
        let event = NewEvent::new(plan.clone(), EventPayload::StatusUpdate(update));
        match self.backend().publish(event).await {
            Ok(_) => {}
            Err(PublishError::PlanFinished { .. }) => {
                return Err(not_cancelable(TaskState::Completed));
            }
            Err(err) => return Ok(self.publish_failed(&err)),
        }
        self.get(None).await
    }

    /// `SubscribeToTask`.
    async fn subscribe(&self) -> Result<SseResponse, A2aError> {
        let plan = self.plan()?;
        let mut subscribe = SubscribeRequest::plan(plan.clone()).with_snapshot();
        subscribe.after = self.request.last_event_id;
        Ok(self.open(plan, subscribe, self.binding.framing()).await)
    }

    /// Opens a stream of `plan` with `framing`.
    async fn open(
        &self,
        plan: &PlanId,
        subscribe: SubscribeRequest,
        framing: A2aFraming,
    ) -> SseResponse {
        let permit = match self.service.permit(Some(plan)) {
            Ok(permit) => permit,
            Err(err) => return refuse(err),
        };
        match self
            .service
            .open(self.request, permit, subscribe, Box::new(framing))
            .await
        {
            Ok(stream) => SseResponse::Stream(stream),
            Err(SubscribeError::UnknownPlan) => self
                .binding
                .error(&A2aError::TaskNotFound(plan.to_string())),
            Err(SubscribeError::PlanFinished { terminal }) => {
                let message = format!("task {plan} is in a terminal state since event {terminal}");
                self.binding.error(&A2aError::UnsupportedOperation(message))
            }
            Err(err) => self.binding.error(&A2aError::unavailable(err)),
        }
    }

    fn publish_failed(&self, err: &PublishError) -> SseResponse {
        self.binding.error(&A2aError::Unavailable(format!(
            "the message could not be stored: {err}"
        )))
    }

    /// `SendMessage` and `SendStreamingMessage`: a new task, or a message continuing an
    /// interrupted one.
    async fn send(&self, send: SendMessage, streaming: bool) -> SseResponse {
        let Some(runner) = &self.agent.runner else {
            return self.binding.error(&A2aError::UnsupportedOperation(
                "this agent takes no messages (it has no executor)".into(),
            ));
        };
        if send.push.is_some() && self.agent.config.push.is_none() {
            return self.binding.error(&A2aError::PushNotificationNotSupported);
        }
        let mut message = send.message;
        let (plan, context_id, creating, state, continued) = match self.request.plan.clone() {
            Some(plan) => match self.continue_task(&plan, &mut message).await {
                Ok(snapshot) => {
                    let context = snapshot.task.context_id.clone();
                    let state = snapshot.task.status.state;
                    (plan, context, false, state, Some(snapshot))
                }
                Err(response) => return response,
            },
            None => {
                let plan = PlanId::new(crate::new_id()).expect("a UUID is a valid plan id");
                let context = message.context_id.clone().unwrap_or_else(crate::new_id);
                (plan, context, true, TaskState::Submitted, None)
            }
        };
        message.task_id = Some(plan.to_string());
        message.context_id = Some(context_id.clone());
        // A config given with the message delivers everything the message causes.
        if let Some(params) = &send.push
            && let Err(err) = self.inline_push(&plan, params).await
        {
            return self.binding.error(&err);
        }
        // Subscribed before anything of the task is published or run: nothing is missed.
        let mut subscribe = SubscribeRequest::plan(plan.clone());
        if continued.is_some() {
            // A message to an existing task is stored first (it joins the history), then
            // the stream starts with the task as it is, that message included.
            let event = NewEvent::new(plan.clone(), EventPayload::Message(message.clone()));
            match self.backend().publish(event).await {
                Ok(_) => {}
                Err(PublishError::PlanFinished { .. }) => {
                    return self.binding.error(&A2aError::UnsupportedOperation(format!(
                        "task {plan} already ended: it takes no more messages"
                    )));
                }
                Err(err) => return self.publish_failed(&err),
            }
            subscribe = subscribe.with_snapshot();
        }
        let framing = if creating {
            self.binding.framing().opening_with_task()
        } else {
            self.binding.framing()
        };
        let stream = if streaming {
            match self.open(&plan, subscribe, framing).await {
                SseResponse::Stream(stream) => Some(stream),
                refused => return refused,
            }
        } else {
            None
        };
        let watch = if streaming {
            None
        } else {
            match self
                .backend()
                .subscribe(SubscribeRequest::plan(plan.clone()))
                .await
            {
                Ok(watch) => Some(watch),
                Err(err) => return self.binding.error(&A2aError::unavailable(err)),
            }
        };
        let context = RequestContext {
            message,
            task_id: plan.to_string(),
            context_id,
            task: continued.map(|snapshot| snapshot.task.clone()),
            accepted_output_modes: send.accepted_output_modes,
            metadata: send.metadata,
        };
        let first = runner.start(
            Arc::clone(self.backend()),
            plan.clone(),
            context,
            creating,
            state,
        );
        // Without a first answer (the execution stopped before it), the task is read as
        // it stands, if it was stored.
        if let Ok(First::Message(reply)) = first.await {
            return self.message_answer(&reply, streaming);
        }
        if let Some(stream) = stream {
            return SseResponse::Stream(stream);
        }
        if !send.return_immediately
            && let Some(mut watch) = watch
        {
            // Blocking: until the task ends or waits for its client.
            while let Some(item) = watch.next().await {
                match item {
                    SubscriptionItem::Event(event)
                        if event
                            .state()
                            .is_some_and(|s| s.is_terminal() || s.is_interrupted()) =>
                    {
                        break;
                    }
                    SubscriptionItem::End(_) => {
                        // Lagged or closed: the task's state is read as it is below.
                        break;
                    }
                    _ => {}
                }
            }
        }
        match self.backend().task(&plan).await {
            Ok(Some(snapshot)) => {
                #[derive(Serialize)]
                struct Answer<'a> {
                    task: &'a Task,
                }
                let task = view(&snapshot.task, send.history_length, true);
                self.binding.ok_json(&Answer { task: &task })
            }
            Ok(None) => self
                .binding
                .error(&A2aError::Internal(format!("task {plan} was not stored"))),
            Err(err) => self.binding.error(&A2aError::unavailable(err)),
        }
    }

    /// Checks a message that names the task `plan`: the task exists, waits for its
    /// client, and has the message's context (the message gets the task's).
    async fn continue_task(
        &self,
        plan: &PlanId,
        message: &mut Message,
    ) -> Result<std::sync::Arc<TaskSnapshot>, SseResponse> {
        let snapshot = self.snapshot(plan).await?;
        let state = snapshot.task.status.state;
        if state.is_terminal() {
            return Err(self.binding.error(&A2aError::UnsupportedOperation(format!(
                "task {plan} already ended ({state:?}): it takes no more messages"
            ))));
        }
        if !state.is_interrupted() {
            return Err(self.binding.error(&A2aError::UnsupportedOperation(format!(
                "task {plan} is still working ({state:?}); send a message once it asks for input"
            ))));
        }
        if let Some(context) = &message.context_id
            && *context != snapshot.task.context_id
        {
            return Err(self.binding.error(&A2aError::InvalidParams(format!(
                "contextId {context} is not the context of task {plan}"
            ))));
        }
        message.context_id = Some(snapshot.task.context_id.clone());
        Ok(snapshot)
    }

    /// The answer to a send the execution answered with a message and no task.
    fn message_answer(&self, reply: &Message, streaming: bool) -> SseResponse {
        #[derive(Serialize)]
        struct Answer<'a> {
            message: &'a Message,
        }
        let json = match to_json(&Answer { message: reply }) {
            Ok(json) => json,
            Err(err) => return self.binding.error(&err),
        };
        if !streaming {
            return self.binding.ok(&json);
        }
        // A message-only stream is that one item, then the end: a whole body.
        let item = match self.binding {
            Binding::Rest => json,
            Binding::JsonRpc(id) => jsonrpc::result(id, &json),
        };
        let mut body = BytesMut::with_capacity(item.len() + 16);
        body.put_slice(b"data: ");
        body.put_slice(&item);
        body.put_slice(b"\n\n");
        let mut response = SseResponse::document(200, "text/event-stream", body.freeze());
        for (name, value) in STREAM_HEADERS.iter().skip(1) {
            response = response.with_header(name, Cow::Borrowed(*value));
        }
        response
    }
}

/// A task as answered: at most `history_length` history messages, artifacts only when
/// asked (ListTasks leaves them out by default).
fn view(task: &Task, history_length: Option<usize>, artifacts: bool) -> Task {
    let mut task = task.clone().with_history_length(history_length);
    if !artifacts {
        task.artifacts.clear();
    }
    task
}

/// A page token: where the next page starts, opaque to clients.
fn encode_token(cursor: &TaskCursor) -> String {
    use base64::Engine as _;
    let time = cursor.time.map(|time| time.to_string()).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{time}|{}", cursor.id))
}

fn decode_token(token: &str) -> Result<TaskCursor, A2aError> {
    use base64::Engine as _;
    let bad =
        || A2aError::InvalidParams(format!("pageToken {token:?} is not one this server gave"));
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(bad)?;
    let (time, id) = text.split_once('|').ok_or_else(bad)?;
    let time = if time.is_empty() {
        None
    } else {
        Some(Timestamp::parse(time).map_err(|_| bad())?)
    };
    Ok(TaskCursor::new(time, id.to_owned()))
}

/// The agent's `card`, for a `GET` or `HEAD` (the server leaves the body out of the
/// latter), with its caching headers; a matching `If-None-Match` gets `304`.
pub(crate) fn card(agent: &AgentInner, card: &AgentCard, head: &dyn RequestHead) -> SseResponse {
    if head.method() != "GET" && head.method() != "HEAD" {
        return refuse(RequestError::MethodNotAllowed { allow: "GET, HEAD" });
    }
    let host = head
        .header("host")
        .and_then(|host| std::str::from_utf8(host).ok());
    let body = match card.render(&agent.config, agent.capabilities(), host) {
        Ok(body) => body,
        Err(err) => return Binding::Rest.error(&err),
    };
    let etag = crate::card::etag(&body);
    let unchanged = head.header("if-none-match").is_some_and(|asked| {
        String::from_utf8_lossy(asked)
            .split(',')
            .any(|tag| tag.trim() == etag)
    });
    let response = if unchanged {
        SseResponse::document(304, "application/json", Bytes::new())
    } else {
        SseResponse::json(200, body)
    };
    response
        .with_header(
            "cache-control",
            format!("public, max-age={}", agent.config.card_max_age.as_secs()),
        )
        .with_header("etag", etag)
        .with_header("last-modified", agent.started.clone())
}

/// The `null` id of an answer to a request whose id could not be read.
fn null_id() -> Box<RawValue> {
    RawValue::NULL.to_owned()
}
