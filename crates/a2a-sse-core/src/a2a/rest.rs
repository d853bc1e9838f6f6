//! Reading a request of the HTTP+JSON binding: `GET {base}/tasks/{id}` and
//! `POST|GET {base}/tasks/{id}:subscribe`.

use percent_encoding::percent_decode_str;

use super::error::A2aError;
use super::jsonrpc::Method;

/// The custom method that subscribes.
const SUBSCRIBE: &str = ":subscribe";
/// Custom methods of A2A's task routes that this binding does not serve.
const UNSERVED: [&str; 1] = [":cancel"];

/// Reads the call from the method, the path (its last segment is the task, with its
/// custom method) and the query (`historyLength`).
///
/// The task id is the last segment, percent-decoded. A segment ending in `:subscribe`
/// subscribes to the task before it; any other segment, colons included, names a task to
/// get (so a task called `x:subscribe` can be subscribed to, never fetched).
pub(crate) fn parse(method: &str, path: &str, query: Option<&str>) -> Result<Method, A2aError> {
    let segment = path.rsplit('/').next().unwrap_or_default();
    if let Some(task) = segment.strip_suffix(SUBSCRIBE) {
        if method != "GET" && method != "POST" {
            return Err(A2aError::MethodNotAllowed("POST, GET"));
        }
        return Ok(Method::SubscribeToTask {
            task: decode(task)?,
        });
    }
    if let Some(verb) = UNSERVED.iter().find(|verb| segment.ends_with(*verb)) {
        return Err(A2aError::MethodNotFound(format!(
            "tasks/{{id}}{verb} (this server serves GetTask and SubscribeToTask)"
        )));
    }
    if method != "GET" {
        return Err(A2aError::MethodNotAllowed("GET"));
    }
    Ok(Method::GetTask {
        task: decode(segment)?,
        history_length: history_length(query)?,
    })
}

fn decode(segment: &str) -> Result<String, A2aError> {
    percent_decode_str(segment)
        .decode_utf8()
        .map(|task| task.into_owned())
        .map_err(|_| A2aError::TaskNotFound(segment.to_owned()))
}

fn history_length(query: Option<&str>) -> Result<Option<usize>, A2aError> {
    let mut found = None;
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if name == "historyLength" {
            let length = value.parse::<usize>().map_err(|_| {
                A2aError::InvalidParams("historyLength must be a whole number, 0 or more".into())
            })?;
            found = Some(length);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_get_and_subscribe() {
        assert_eq!(
            parse("GET", "/a2a/tasks/t-1", Some("historyLength=3")),
            Ok(Method::GetTask {
                task: "t-1".into(),
                history_length: Some(3)
            })
        );
        assert_eq!(
            parse("GET", "/a2a/tasks/a%3Ab", None),
            Ok(Method::GetTask {
                task: "a:b".into(),
                history_length: None
            })
        );
        for method in ["GET", "POST"] {
            assert_eq!(
                parse(method, "/x/tasks/t-1:subscribe", None),
                Ok(Method::SubscribeToTask { task: "t-1".into() })
            );
        }
        assert_eq!(
            parse("GET", "/x/tasks/a:b:subscribe", None),
            Ok(Method::SubscribeToTask { task: "a:b".into() })
        );
    }

    #[test]
    fn refusals() {
        assert_eq!(
            parse("POST", "/a2a/tasks/t", None),
            Err(A2aError::MethodNotAllowed("GET"))
        );
        assert_eq!(
            parse("DELETE", "/a2a/tasks/t:subscribe", None),
            Err(A2aError::MethodNotAllowed("POST, GET"))
        );
        assert!(matches!(
            parse("POST", "/a2a/tasks/t:cancel", None),
            Err(A2aError::MethodNotFound(_))
        ));
        assert!(matches!(
            parse("GET", "/a2a/tasks/t", Some("historyLength=-2")),
            Err(A2aError::InvalidParams(_))
        ));
        assert!(matches!(
            parse("GET", "/a2a/tasks/%FF", None),
            Err(A2aError::TaskNotFound(_))
        ));
    }
}
