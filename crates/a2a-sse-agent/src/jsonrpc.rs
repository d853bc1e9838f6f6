//! Reading a JSON-RPC 2.0 request of the binding, and writing its answers.

use bytes::{BufMut, Bytes, BytesMut};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::A2aError;
use crate::method::Method;

/// A JSON-RPC request, read: its id (echoed as it came, string, number or null), the
/// method's name and its parameters, not looked at yet (the protocol version is checked
/// before the method is looked up).
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) id: Box<RawValue>,
    pub(crate) method: String,
    pub(crate) params: Value,
}

impl Call {
    /// The method asked for, with its parameters read.
    pub(crate) fn method(&self) -> Result<Method, A2aError> {
        Method::from_jsonrpc(&self.method, &self.params)
    }
}

/// A refused request: the error, and the request's id when it could be read.
pub(crate) type Refusal = (Option<Box<RawValue>>, A2aError);

#[derive(Deserialize)]
struct Envelope {
    jsonrpc: Option<Value>,
    method: Option<Value>,
    // `None` only when absent: a `null` id is an id.
    #[serde(default, deserialize_with = "present")]
    id: Option<Box<RawValue>>,
    params: Option<Value>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Box<RawValue>>, D::Error> {
    Box::<RawValue>::deserialize(d).map(Some)
}

/// Reads `body` as one JSON-RPC request.
///
/// - not JSON: `-32700`; an array (a batch) or anything but an object: `-32600`;
/// - no `"jsonrpc": "2.0"`, a `method` that is not a string, an `id` that is not a string,
///   number or null, or no `id` (a notification, which these methods have no use for):
///   `-32600`.
///
/// The method and its parameters are read afterwards ([`Call::method`]).
pub(crate) fn parse(body: &[u8]) -> Result<Call, Refusal> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| (None, A2aError::Parse(e.to_string())))?;
    if !value.is_object() {
        let what = if value.is_array() {
            "batches are not supported; send one request at a time"
        } else {
            "a request is a JSON object"
        };
        return Err((None, A2aError::InvalidRequest(what.into())));
    }
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|e| (None, A2aError::InvalidRequest(e.to_string())))?;
    let id = match envelope.id {
        None => {
            let message = "a request without an id is a notification, which gets no answer";
            return Err((None, A2aError::InvalidRequest(message.into())));
        }
        Some(id) if is_id(&id) => id,
        Some(_) => {
            let message = "the id must be a string, a number or null";
            return Err((None, A2aError::InvalidRequest(message.into())));
        }
    };
    let refuse = |err| Err((Some(id.clone()), err));
    if envelope.jsonrpc.as_ref().and_then(Value::as_str) != Some("2.0") {
        return refuse(A2aError::InvalidRequest(
            "\"jsonrpc\" must be \"2.0\"".into(),
        ));
    }
    let Some(Value::String(method)) = envelope.method else {
        return refuse(A2aError::InvalidRequest(
            "\"method\" must be a string".into(),
        ));
    };
    let params = envelope.params.unwrap_or(Value::Null);
    Ok(Call { id, method, params })
}

fn is_id(id: &RawValue) -> bool {
    matches!(
        serde_json::from_str::<Value>(id.get()),
        Ok(Value::String(_) | Value::Number(_) | Value::Null)
    )
}

/// A successful answer: `{"jsonrpc":"2.0","id":…,"result":…}`.
pub(crate) fn result(id: &RawValue, result: &[u8]) -> Bytes {
    let prefix = envelope(id);
    let mut out = BytesMut::with_capacity(prefix.len() + result.len() + 1);
    out.put_slice(&prefix);
    out.put_slice(result);
    out.put_u8(b'}');
    out.freeze()
}

/// What comes before the result in every answer to the request with `id`:
/// `{"jsonrpc":"2.0","id":<id>,"result":`. A stream writes it, then the shared
/// `StreamResponse` bytes of each event, then `}`.
pub(crate) fn envelope(id: &RawValue) -> Bytes {
    let mut out = BytesMut::with_capacity(id.get().len() + 32);
    out.put_slice(br#"{"jsonrpc":"2.0","id":"#);
    out.put_slice(id.get().as_bytes());
    out.put_slice(br#","result":"#);
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(body: &str) -> Result<Call, Refusal> {
        parse(body.as_bytes())
    }

    fn code(body: &str) -> (Option<String>, i32) {
        let (id, err) = call(body).unwrap_err();
        (id.map(|id| id.get().to_owned()), err.code())
    }

    #[test]
    fn reads_the_envelope_and_echoes_the_id() {
        let get = call(r#"{"jsonrpc":"2.0","id":"u-1","method":"GetTask","params":{"id":"t","historyLength":2}}"#)
            .unwrap();
        assert_eq!(get.id.get(), "\"u-1\"");
        assert_eq!(
            get.method(),
            Ok(Method::GetTask {
                task: "t".into(),
                history_length: Some(2)
            })
        );
        let sub =
            call(r#"{"method":"SubscribeToTask","params":{"id":"t"},"id":7,"jsonrpc":"2.0"}"#)
                .unwrap();
        assert_eq!(sub.id.get(), "7");
        assert_eq!(
            sub.method(),
            Ok(Method::SubscribeToTask { task: "t".into() })
        );
        let null = call(r#"{"jsonrpc":"2.0","id":null,"method":"GetTask","params":{"id":"t","historyLength":null}}"#)
            .unwrap();
        assert_eq!(null.id.get(), "null");
        let float =
            call(r#"{"jsonrpc":"2.0","id":1.5e3,"method":"SubscribeToTask","params":{"id":"t"}}"#)
                .unwrap();
        assert_eq!(float.id.get(), "1.5e3", "echoed exactly as sent");
        let unknown = call(r#"{"jsonrpc":"2.0","id":"a","method":"tasks/get"}"#).unwrap();
        assert_eq!(unknown.method().unwrap_err().code(), -32601);
    }

    #[test]
    fn refusals_carry_their_codes_and_the_id_when_known() {
        assert_eq!(code("{"), (None, -32700));
        assert_eq!(code("[]"), (None, -32600));
        assert_eq!(code("3"), (None, -32600));
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","method":"GetTask"}"#),
            (None, -32600)
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":{},"method":"GetTask"}"#),
            (None, -32600)
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":true,"method":"GetTask"}"#),
            (None, -32600)
        );
        let id = Some("\"a\"".to_owned());
        assert_eq!(
            code(r#"{"jsonrpc":"1.0","id":"a","method":"GetTask"}"#),
            (id.clone(), -32600)
        );
        assert_eq!(
            code(r#"{"id":"a","method":"GetTask"}"#),
            (id.clone(), -32600)
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":"a","method":5}"#),
            (id, -32600)
        );
    }

    #[test]
    fn answers_wrap_the_result() {
        let id = RawValue::from_string("12".into()).unwrap();
        let answer = result(&id, json!({"id": "t"}).to_string().as_bytes());
        let value: Value = serde_json::from_slice(&answer).unwrap();
        assert_eq!(
            value,
            json!({"jsonrpc": "2.0", "id": 12, "result": {"id": "t"}})
        );
        assert_eq!(&envelope(&id)[..], br#"{"jsonrpc":"2.0","id":12,"result":"#);
    }
}
