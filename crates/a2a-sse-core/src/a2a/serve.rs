//! The binding's requests, served by [`SseService`]: reading them (before the answer's
//! future, like every other route), authorizing, and answering.

use a2a_events::{PlanId, SubscribeError, SubscribeRequest};
use bytes::Bytes;
use serde_json::value::RawValue;

use super::encode::Binding;
use super::{A2aError, jsonrpc, negotiate, rest};
use crate::request::{LAST_EVENT_ID_HEADER, RequestError, RequestHead, SseRequest};
use crate::response::SseResponse;
use crate::service::{Admission, Refused, SseService, refused, transport_error};
use crate::stream::Framing;
use crate::telemetry;
use crate::timer::Timer;

impl<T: Timer> SseService<T> {
    /// Reads a JSON-RPC request of the A2A binding.
    pub(crate) fn a2a_jsonrpc(
        &self,
        head: &dyn RequestHead,
        body: &[u8],
    ) -> Result<A2aCall, Refused<T>> {
        if head.method() != "POST" {
            return Err(Box::new(
                refused(RequestError::MethodNotAllowed).allowing("POST"),
            ));
        }
        let reply = |id: Option<&RawValue>, err: A2aError| {
            tracing::debug!(code = err.code(), %err, "a2a json-rpc request refused");
            telemetry::refusal(200, err.reason());
            Box::new(SseResponse::Json {
                status: 200,
                body: err.jsonrpc_response(id),
            })
        };
        let call = jsonrpc::parse(body).map_err(|(id, err)| reply(id.as_deref(), err))?;
        negotiate(head).map_err(|err| reply(Some(&call.id), err))?;
        self.a2a_admit(head, call.method, Binding::json_rpc(call.id))
    }

    /// Reads a request of the A2A HTTP+JSON binding.
    pub(crate) fn a2a_rest(&self, head: &dyn RequestHead) -> Result<A2aCall, Refused<T>> {
        let method = rest::parse(head.method(), head.path(), head.query())
            .and_then(|method| negotiate(head).map(|()| method))
            .map_err(|err| Box::new(status_reply(&err)))?;
        self.a2a_admit(head, method, Binding::Rest)
    }

    /// Validates the task and copies what the authorization hook needs.
    fn a2a_admit(
        &self,
        head: &dyn RequestHead,
        method: jsonrpc::Method,
        binding: Binding,
    ) -> Result<A2aCall, Refused<T>> {
        let (task, subscribe, history_length) = match method {
            jsonrpc::Method::GetTask {
                task,
                history_length,
            } => (task, false, history_length),
            jsonrpc::Method::SubscribeToTask { task } => (task, true, None),
        };
        let fail = |err: A2aError| Err(Box::new(a2a_reply(&binding, &err)));
        // An id that cannot be a plan id names no task.
        let Ok(plan) = PlanId::new(&task) else {
            return fail(A2aError::TaskNotFound(task));
        };
        let last_event_id = match head.header(LAST_EVENT_ID_HEADER) {
            Some(header) if subscribe => {
                SseRequest::parse(None, Some(header)).map_err(|err| Box::new(refused(err)))?
            }
            _ => SseRequest::default(),
        }
        .last_event_id;
        let request = SseRequest {
            plan: Some(plan),
            last_event_id,
        };
        let kind = if subscribe {
            A2aKind::Subscribe
        } else {
            A2aKind::Get(history_length)
        };
        Ok(A2aCall {
            admission: self.admission(head, request),
            binding,
            kind,
        })
    }

    /// Runs an admitted A2A call.
    pub(crate) async fn a2a_call(&self, call: A2aCall) -> SseResponse<T> {
        let A2aCall {
            admission,
            binding,
            kind,
        } = call;
        let request = match self.pass(Ok(admission)).await {
            Ok(request) => request,
            Err(err) => return refused(err),
        };
        let Some(plan) = request.plan.clone() else {
            return refused(RequestError::ShuttingDown);
        };
        let not_found = || A2aError::TaskNotFound(plan.to_string());
        match kind {
            A2aKind::Get(history_length) => match self.inner.backend.task(&plan).await {
                Ok(Some(snapshot)) => {
                    let task = snapshot.task.clone().with_history_length(history_length);
                    let task = a2a_json(&task);
                    let body = match &binding {
                        Binding::Rest => task,
                        Binding::JsonRpc { id, .. } => jsonrpc::result(id, &task),
                    };
                    SseResponse::Json { status: 200, body }
                }
                Ok(None) => a2a_reply(&binding, &not_found()),
                Err(err) => refused(transport_error(err)),
            },
            A2aKind::Subscribe => {
                let permit = match self.inner.limits.acquire(Some(&plan)) {
                    Ok(permit) => permit,
                    Err(err) => return refused(err),
                };
                let mut subscribe = SubscribeRequest::plan(plan.clone()).with_snapshot();
                subscribe.after = request.last_event_id;
                let framing = Framing::A2a(binding.clone());
                match self.open(&request, permit, subscribe, framing).await {
                    Ok(stream) => SseResponse::Stream(stream),
                    Err(SubscribeError::UnknownPlan) => a2a_reply(&binding, &not_found()),
                    Err(SubscribeError::PlanFinished { terminal }) => {
                        let message =
                            format!("task {plan} is in a terminal state since event {terminal}");
                        a2a_reply(&binding, &A2aError::UnsupportedOperation(message))
                    }
                    Err(err) => refused(transport_error(err)),
                }
            }
        }
    }

    /// The agent card, for a `GET`.
    pub(crate) fn agent_card(&self, head: &dyn RequestHead) -> SseResponse<T> {
        if head.method() != "GET" {
            return refused(RequestError::MethodNotAllowed);
        }
        let Some((config, card)) = self
            .inner
            .config
            .a2a
            .as_ref()
            .and_then(|a2a| a2a.card.as_ref().map(|card| (a2a, card)))
        else {
            return refused(RequestError::ShuttingDown);
        };
        let host = head
            .header("host")
            .and_then(|host| std::str::from_utf8(host).ok());
        SseResponse::Json {
            status: 200,
            body: card.render(config, host),
        }
    }
}

/// An A2A request, read and validated.
pub(crate) struct A2aCall {
    admission: Admission,
    binding: Binding,
    kind: A2aKind,
}

enum A2aKind {
    /// `GetTask`, with its `historyLength`.
    Get(Option<usize>),
    /// `SubscribeToTask`.
    Subscribe,
}

/// A protocol error in the binding's shape.
fn a2a_reply<T: Timer>(binding: &Binding, err: &A2aError) -> SseResponse<T> {
    match binding {
        Binding::Rest => status_reply(err),
        Binding::JsonRpc { id, .. } => {
            tracing::debug!(code = err.code(), %err, "a2a json-rpc request refused");
            telemetry::refusal(200, err.reason());
            SseResponse::Json {
                status: 200,
                body: err.jsonrpc_response(Some(id)),
            }
        }
    }
}

/// A protocol error of the HTTP+JSON binding: its status and `google.rpc.Status` body.
fn status_reply<T: Timer>(err: &A2aError) -> SseResponse<T> {
    tracing::debug!(status = err.http_status(), %err, "a2a http+json request refused");
    telemetry::refusal(err.http_status(), err.reason());
    let response = SseResponse::Json {
        status: err.http_status(),
        body: err.status_body(),
    };
    match err {
        A2aError::MethodNotAllowed(allow) => response.allowing(allow),
        _ => response,
    }
}

/// A task's JSON.
fn a2a_json(task: &a2a_events::Task) -> Bytes {
    Bytes::from(serde_json::to_vec(task).unwrap_or_default())
}
