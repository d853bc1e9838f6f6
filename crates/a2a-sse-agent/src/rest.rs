//! Reading a request of the HTTP+JSON binding from its method and its path below the
//! binding's base:
//!
//! | route | method |
//! |---|---|
//! | `POST /message:send` | `SendMessage` (the body is the request) |
//! | `POST /message:stream` | `SendStreamingMessage` |
//! | `GET /tasks` | `ListTasks` (filters in the query) |
//! | `GET /tasks/{id}` | `GetTask` (`?historyLength=`) |
//! | `POST /tasks/{id}:cancel` | `CancelTask` |
//! | `POST` or `GET /tasks/{id}:subscribe` | `SubscribeToTask` |
//! | `POST`, `GET /tasks/{id}/pushNotificationConfigs` | create, list push configs |
//! | `GET`, `DELETE /tasks/{id}/pushNotificationConfigs/{configId}` | get, delete one |
//! | `GET /extendedAgentCard` | `GetExtendedAgentCard` |
//!
//! Each may start with a `/{tenant}` segment, which this single-tenant agent ignores. Any
//! other path is a method not found, and a known path with another HTTP method is 405,
//! both answered in the binding's error shape. Task ids are percent-decoded path
//! segments; a segment ending in `:subscribe` or `:cancel` names the task before it (so a
//! task called `x:cancel` can be canceled, never fetched).

use percent_encoding::percent_decode_str;

use crate::error::A2aError;
use crate::method::{Method, Param, list_tasks, page};
use crate::push::PushCall;

/// What a route asks, before its body is read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Route {
    /// The method, read from the path and query alone.
    Ready(Method),
    /// `SendMessage` (or, when `streaming`, `SendStreamingMessage`), whose request is the
    /// body.
    Send { streaming: bool },
    /// `CreateTaskPushNotificationConfig` on `task`, whose config is the body.
    CreatePush { task: String },
}

/// Reads the route of `method` to `path` (below the base) with `query`.
pub(crate) fn parse(method: &str, path: &str, query: Option<&str>) -> Result<Route, A2aError> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let known = |first: &str| {
        matches!(
            first,
            "message:send" | "message:stream" | "tasks" | "extendedAgentCard"
        )
    };
    // A leading segment that is no route of its own is a tenant.
    let segments = match segments.as_slice() {
        [first, rest @ ..] if !known(first) && !rest.is_empty() => rest,
        all => all,
    };
    let allow = |allowed: &'static str| {
        if allowed.split(", ").any(|m| m == method) {
            Ok(())
        } else {
            Err(A2aError::MethodNotAllowed(allowed))
        }
    };
    let query = Query(query.unwrap_or_default());
    match segments {
        ["message:send"] => allow("POST").map(|()| Route::Send { streaming: false }),
        ["message:stream"] => allow("POST").map(|()| Route::Send { streaming: true }),
        ["extendedAgentCard"] => allow("GET").map(|()| Route::Ready(Method::GetExtendedAgentCard)),
        ["tasks"] => {
            allow("GET")?;
            list_tasks(|camel, snake| query.get(camel, snake))
                .map(|list| Route::Ready(Method::ListTasks(list)))
        }
        ["tasks", task] => {
            if let Some(task) = task.strip_suffix(":subscribe") {
                allow("POST, GET")?;
                return Ok(Route::Ready(Method::SubscribeToTask {
                    task: decode(task)?,
                }));
            }
            if let Some(task) = task.strip_suffix(":cancel") {
                allow("POST")?;
                return Ok(Route::Ready(Method::CancelTask {
                    task: decode(task)?,
                }));
            }
            allow("GET")?;
            let history_length = match query.get("historyLength", "history_length") {
                Some(param) => param
                    .number("historyLength")?
                    .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
                None => None,
            };
            Ok(Route::Ready(Method::GetTask {
                task: decode(task)?,
                history_length,
            }))
        }
        ["tasks", task, "pushNotificationConfigs"] => {
            allow("POST, GET")?;
            let task = decode(task)?;
            if method == "POST" {
                return Ok(Route::CreatePush { task });
            }
            let page = page(&|camel, snake| query.get(camel, snake))?;
            Ok(Route::Ready(Method::Push {
                call: PushCall::List(page),
                task,
            }))
        }
        ["tasks", task, "pushNotificationConfigs", config] => {
            allow("GET, DELETE")?;
            let config = decode(config)?;
            let call = if method == "GET" {
                PushCall::Get(config)
            } else {
                PushCall::Delete(config)
            };
            Ok(Route::Ready(Method::Push {
                call,
                task: decode(task)?,
            }))
        }
        _ => Err(A2aError::MethodNotFound(format!(
            "{path} is not a route of the A2A 1.0 HTTP+JSON binding"
        ))),
    }
}

fn decode(segment: &str) -> Result<String, A2aError> {
    percent_decode_str(segment)
        .decode_utf8()
        .map(|task| task.into_owned())
        .map_err(|_| A2aError::TaskNotFound(segment.to_owned()))
}

/// A query string, read by parameter name.
struct Query<'a>(&'a str);

impl Query<'_> {
    /// The first value of `camel` (or `snake`), percent-decoded.
    fn get(&self, camel: &str, snake: &str) -> Option<Param<'static>> {
        form_urlencoded::parse(self.0.as_bytes())
            .find(|(name, _)| name == camel || name == snake)
            .map(|(_, value)| Param::Text(value.into_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `parse` answers for a route read from its path and query alone.
    fn ready(method: Method) -> Result<Route, A2aError> {
        Ok(Route::Ready(method))
    }

    #[test]
    fn every_route() {
        assert_eq!(
            parse("POST", "/message:send", None),
            Ok(Route::Send { streaming: false })
        );
        assert_eq!(
            parse("POST", "/message:stream", None),
            Ok(Route::Send { streaming: true })
        );
        assert_eq!(
            parse("GET", "/tasks/t-1", Some("historyLength=3")),
            ready(Method::GetTask {
                task: "t-1".into(),
                history_length: Some(3)
            })
        );
        assert_eq!(
            parse("GET", "/tasks/a%3Ab", None),
            ready(Method::GetTask {
                task: "a:b".into(),
                history_length: None
            })
        );
        for verb in ["GET", "POST"] {
            assert_eq!(
                parse(verb, "/tasks/t-1:subscribe", None),
                ready(Method::SubscribeToTask { task: "t-1".into() })
            );
        }
        assert_eq!(
            parse("POST", "/tasks/a:b:cancel", None),
            ready(Method::CancelTask { task: "a:b".into() })
        );
        assert!(matches!(
            parse("GET", "/tasks", Some("contextId=c&pageSize=2&includeArtifacts=true")),
            Ok(Route::Ready(Method::ListTasks(list))) if list.page_size == Some(2) && list.include_artifacts
        ));
        assert_eq!(
            parse("POST", "/tasks/t/pushNotificationConfigs", None),
            Ok(Route::CreatePush { task: "t".into() })
        );
        assert_eq!(
            parse(
                "GET",
                "/tasks/t/pushNotificationConfigs",
                Some("pageSize=2&pageToken=x")
            ),
            ready(Method::Push {
                call: PushCall::List(crate::method::Page {
                    size: Some(2),
                    token: Some("x".into())
                }),
                task: "t".into()
            })
        );
        assert_eq!(
            parse("GET", "/tasks/t/pushNotificationConfigs/c%2F1", None),
            ready(Method::Push {
                call: PushCall::Get("c/1".into()),
                task: "t".into()
            })
        );
        assert_eq!(
            parse("DELETE", "/tasks/t/pushNotificationConfigs/c", None),
            ready(Method::Push {
                call: PushCall::Delete("c".into()),
                task: "t".into()
            })
        );
        assert_eq!(
            parse("GET", "/extendedAgentCard", None),
            ready(Method::GetExtendedAgentCard)
        );
        assert_eq!(
            parse("GET", "/acme/tasks/t", None),
            ready(Method::GetTask {
                task: "t".into(),
                history_length: None
            }),
            "a tenant segment"
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
        assert_eq!(
            parse("PUT", "/tasks/t/pushNotificationConfigs", None),
            Err(A2aError::MethodNotAllowed("POST, GET"))
        );
        assert_eq!(
            parse("POST", "/tasks/t/pushNotificationConfigs/c", None),
            Err(A2aError::MethodNotAllowed("GET, DELETE"))
        );
        assert_eq!(
            parse("GET", "/message:send", None),
            Err(A2aError::MethodNotAllowed("POST"))
        );
        assert!(matches!(
            parse("GET", "/tasks/t", Some("historyLength=-2")),
            Err(A2aError::InvalidParams(_))
        ));
        assert!(matches!(
            parse("GET", "/tasks/%FF", None),
            Err(A2aError::TaskNotFound(_))
        ));
        for other in ["/", "", "/nothing", "/tasks/a/b", "/message:sendx"] {
            assert!(
                matches!(parse("GET", other, None), Err(A2aError::MethodNotFound(_))),
                "{other}"
            );
        }
    }
}
