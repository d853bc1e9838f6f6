//! Reading a request of the HTTP+JSON binding: `GET {base}/tasks/{id}` and
//! `POST|GET {base}/tasks/{id}:subscribe`. Any other path below the base is a method not
//! found, answered in the binding's error shape.

use percent_encoding::percent_decode_str;

use crate::error::A2aError;
use crate::method::Method;

/// The custom method that subscribes.
const SUBSCRIBE: &str = ":subscribe";
/// Custom methods of A2A's task routes that this binding does not serve.
const UNSERVED: [&str; 1] = [":cancel"];

/// Reads the call from the method, the path below the base (`/tasks/{id}`, the task with
/// its custom method) and the query (`historyLength`).
///
/// The task id is the last segment, percent-decoded. A segment ending in `:subscribe`
/// subscribes to the task before it; any other segment, colons included, names a task to
/// get (so a task called `x:subscribe` can be subscribed to, never fetched).
pub(crate) fn parse(method: &str, path: &str, query: Option<&str>) -> Result<Method, A2aError> {
    let Some(segment) = path
        .strip_prefix("/tasks/")
        .filter(|rest| !rest.is_empty() && !rest.contains('/'))
    else {
        return Err(A2aError::MethodNotFound(format!(
            "{path} (this server serves tasks/{{id}} and tasks/{{id}}:subscribe)"
        )));
    };
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
        if name == "historyLength" || name == "history_length" {
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
            parse("GET", "/tasks/t-1", Some("historyLength=3")),
            Ok(Method::GetTask {
                task: "t-1".into(),
                history_length: Some(3)
            })
        );
        assert_eq!(
            parse("GET", "/tasks/a%3Ab", None),
            Ok(Method::GetTask {
                task: "a:b".into(),
                history_length: None
            })
        );
        for method in ["GET", "POST"] {
            assert_eq!(
                parse(method, "/tasks/t-1:subscribe", None),
                Ok(Method::SubscribeToTask { task: "t-1".into() })
            );
        }
        assert_eq!(
            parse("GET", "/tasks/a:b:subscribe", None),
            Ok(Method::SubscribeToTask { task: "a:b".into() })
        );
    }

    #[test]
    fn refusals() {
        assert_eq!(
            parse("POST", "/tasks/t", None),
            Err(A2aError::MethodNotAllowed("GET"))
        );
        assert_eq!(
            parse("DELETE", "/tasks/t:subscribe", None),
            Err(A2aError::MethodNotAllowed("POST, GET"))
        );
        assert!(matches!(
            parse("POST", "/tasks/t:cancel", None),
            Err(A2aError::MethodNotFound(_))
        ));
        assert!(matches!(
            parse("GET", "/tasks/t", Some("historyLength=-2")),
            Err(A2aError::InvalidParams(_))
        ));
        assert!(matches!(
            parse("GET", "/tasks/%FF", None),
            Err(A2aError::TaskNotFound(_))
        ));
        for other in ["/", "/tasks", "/tasks/", "/tasks/a/b", "/message:send"] {
            assert!(
                matches!(parse("GET", other, None), Err(A2aError::MethodNotFound(_))),
                "{other}"
            );
        }
    }
}
