//! Serving the bindings' requests: reading them (before the body, like every route of the
//! service), authorizing, and answering in each binding's shape.

use a2a_events::{EventId, PlanId, SubscribeError, SubscribeRequest};
use a2a_sse_core::{
    Admission, Handling, LAST_EVENT_ID_HEADER, RequestError, RequestHead, SseRequest, SseResponse,
    SseService, refuse, telemetry,
};
use bytes::Bytes;
use serde_json::value::RawValue;

use crate::error::{A2aError, to_json};
use crate::framing::A2aFraming;
use crate::method::Method;
use crate::version::negotiate;
use crate::{AgentInner, jsonrpc, rest};

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
            Self::Rest => A2aFraming::Rest,
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

/// A JSON-RPC request: `POST` only; the version is checked before the method is looked up.
pub(crate) fn jsonrpc(
    _agent: &AgentInner,
    service: &SseService,
    head: &dyn RequestHead,
) -> Handling {
    if head.method() != "POST" {
        return refuse(RequestError::MethodNotAllowed { allow: "POST" }).into();
    }
    let read = Head::read(service, head);
    Handling::read(move |service, body| async move {
        let call = match jsonrpc::parse(&body) {
            Ok(call) => call,
            Err((id, err)) => {
                let id = id.unwrap_or_else(null_id);
                return Binding::JsonRpc(id).error(&err);
            }
        };
        let binding = Binding::JsonRpc(call.id.clone());
        if let Err(err) = &read.version {
            return binding.error(err);
        }
        match call.method() {
            Ok(method) => run(&service, binding, read, method).await,
            Err(err) => binding.error(&err),
        }
    })
}

/// A request of the HTTP+JSON binding, to `below` (the path below its base).
pub(crate) fn rest(
    _agent: &AgentInner,
    service: &SseService,
    head: &dyn RequestHead,
    below: &str,
) -> Handling {
    let read = Head::read(service, head);
    let method = read
        .version
        .clone()
        .and_then(|()| rest::parse(head.method(), below, head.query()));
    match method {
        Err(err) => Binding::Rest.error(&err).into(),
        Ok(method) => Handling::read(move |service, _body| async move {
            run(&service, Binding::Rest, read, method).await
        }),
    }
}

/// The agent card, for a `GET` or `HEAD` (the server leaves the body out of the latter).
pub(crate) fn card(agent: &AgentInner, head: &dyn RequestHead) -> SseResponse {
    if head.method() != "GET" && head.method() != "HEAD" {
        return refuse(RequestError::MethodNotAllowed { allow: "GET, HEAD" });
    }
    let Some(card) = &agent.config.card else {
        return refuse(RequestError::NotFound);
    };
    let host = head
        .header("host")
        .and_then(|host| std::str::from_utf8(host).ok());
    match card.render(&agent.config, host) {
        Ok(body) => SseResponse::json(200, body),
        Err(err) => Binding::Rest.error(&err),
    }
}

/// Runs an admitted call.
async fn run(service: &SseService, binding: Binding, head: Head, method: Method) -> SseResponse {
    // An id that cannot be a plan id names no task.
    let Ok(plan) = PlanId::new(method.task()) else {
        return binding.error(&A2aError::TaskNotFound(method.task().to_owned()));
    };
    let last_event_id = match (&method, head.last_event_id) {
        (Method::SubscribeToTask { .. }, Err(err)) => return refuse(err),
        (Method::SubscribeToTask { .. }, Ok(id)) => id,
        _ => None,
    };
    let request = SseRequest {
        plan: Some(plan.clone()),
        last_event_id,
    };
    let request = match service.admit(head.admission, method.name(), request).await {
        Ok(request) => request,
        Err(err) => return refuse(err),
    };
    let not_found = || A2aError::TaskNotFound(plan.to_string());
    match method {
        Method::GetTask { history_length, .. } => match service.backend().task(&plan).await {
            Ok(Some(snapshot)) => {
                let task = snapshot.task.clone().with_history_length(history_length);
                match to_json(&task) {
                    Ok(task) => binding.ok(&task),
                    Err(err) => binding.error(&err),
                }
            }
            Ok(None) => binding.error(&not_found()),
            Err(err) => refuse(RequestError::from_subscribe(err)),
        },
        Method::SubscribeToTask { .. } => {
            let permit = match service.permit(Some(&plan)) {
                Ok(permit) => permit,
                Err(err) => return refuse(err),
            };
            let mut subscribe = SubscribeRequest::plan(plan.clone()).with_snapshot();
            subscribe.after = request.last_event_id;
            let framing = Box::new(binding.framing());
            match service.open(&request, permit, subscribe, framing).await {
                Ok(stream) => SseResponse::Stream(stream),
                Err(SubscribeError::UnknownPlan) => binding.error(&not_found()),
                Err(SubscribeError::PlanFinished { terminal }) => {
                    let message =
                        format!("task {plan} is in a terminal state since event {terminal}");
                    binding.error(&A2aError::UnsupportedOperation(message))
                }
                Err(err) => refuse(RequestError::from_subscribe(err)),
            }
        }
    }
}

/// The `null` id of an answer to a request whose id could not be read.
fn null_id() -> Box<RawValue> {
    RawValue::NULL.to_owned()
}
