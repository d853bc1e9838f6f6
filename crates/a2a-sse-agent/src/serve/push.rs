//! The four push notification config methods, and a config given with a message.

use std::sync::Arc;

use a2a_events::{PlanId, PushStore};
use a2a_sse_core::SseResponse;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use super::Call;
use crate::error::A2aError;
use crate::method::Page;
use crate::push::{ConfigInput, Deliverer, PushCall};

impl Call<'_> {
    /// The deliverer and the store, when push is on.
    fn push_parts(&self) -> Result<(&Arc<Deliverer>, &dyn PushStore), A2aError> {
        let deliverer = self
            .agent
            .deliverer(self.backend())
            .ok_or(A2aError::PushNotificationNotSupported)?;
        let store = self
            .backend()
            .push()
            .ok_or(A2aError::PushNotificationNotSupported)?;
        Ok((deliverer, store))
    }

    /// `Create`, `Get`, `List` or `DeleteTaskPushNotificationConfig` on the call's task.
    pub(super) async fn push(&self, call: PushCall) -> SseResponse {
        match self.push_config(call).await {
            Ok(response) => response,
            Err(err) => self.binding.error(&err),
        }
    }

    async fn push_config(&self, call: PushCall) -> Result<SseResponse, A2aError> {
        let (deliverer, store) = self.push_parts()?;
        let plan = self.plan()?;
        // The task must exist, whatever state it is in (a config on an ended task is kept,
        // and delivers nothing).
        if let Err(response) = self.snapshot(plan).await {
            return Ok(response);
        }
        let unavailable = |err: a2a_events::BackendError| {
            A2aError::Unavailable(format!("the push notification configs: {err}"))
        };
        let not_found = |id: String| A2aError::PushConfigNotFound {
            task: plan.to_string(),
            config: id,
        };
        match call {
            PushCall::Create(params) => {
                let config = ConfigInput::read(&params, plan.as_str())?;
                if config.task_id != plan.as_str() {
                    return Err(A2aError::InvalidParams(format!(
                        "taskId {:?} is not the task of the request ({plan})",
                        config.task_id
                    )));
                }
                let json = store_config(deliverer, store, plan, &config).await?;
                Ok(self.binding.ok(&json))
            }
            PushCall::Get(id) => match store.get(plan, &id).await.map_err(unavailable)? {
                Some(json) => Ok(self.binding.ok(&json)),
                None => Err(not_found(id)),
            },
            PushCall::List(page) => {
                let configs = store.list(plan).await.map_err(unavailable)?;
                let (configs, next) = config_page(&configs, &page)?;
                #[derive(Serialize)]
                #[serde(rename_all = "camelCase")]
                struct Answer<'a> {
                    configs: Vec<&'a RawValue>,
                    next_page_token: String,
                }
                Ok(self.binding.ok_json(&Answer {
                    configs,
                    next_page_token: next,
                }))
            }
            PushCall::Delete(id) => {
                // Deleting a config that is not there (any more) is done already.
                store.delete(plan, &id).await.map_err(unavailable)?;
                Ok(self.binding.ok(b"{}"))
            }
        }
    }

    /// Stores the config given with a message for `plan` (its task, new or continued),
    /// before anything of the message is published; its `taskId` is the task's.
    pub(super) async fn inline_push(&self, plan: &PlanId, params: &Value) -> Result<(), A2aError> {
        let (deliverer, store) = self.push_parts()?;
        let mut config = ConfigInput::read(params, plan.as_str())?;
        plan.as_str().clone_into(&mut config.task_id);
        store_config(deliverer, store, plan, &config)
            .await
            .map(drop)
    }
}

/// A page of a task's configs (as stored, JSON), in the order of their ids: at most
/// `page.size` (all of them without one) after the token's id; and the next page's token
/// (`""` after the last page).
fn config_page<'a>(
    configs: &'a [Bytes],
    page: &Page,
) -> Result<(Vec<&'a RawValue>, String), A2aError> {
    use base64::Engine as _;
    let base64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    #[derive(Deserialize)]
    struct Id<'a> {
        #[serde(borrow)]
        id: std::borrow::Cow<'a, str>,
    }
    let after = match &page.token {
        None => None,
        Some(token) => Some(
            base64
                .decode(token)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| {
                    A2aError::InvalidParams(format!(
                        "pageToken {token:?} is not one this server gave"
                    ))
                })?,
        ),
    };
    let mut all: Vec<(std::borrow::Cow<'a, str>, &'a RawValue)> = configs
        .iter()
        .filter_map(|json| {
            let id = serde_json::from_slice::<Id<'a>>(json).ok()?.id;
            Some((id, serde_json::from_slice::<&RawValue>(json).ok()?))
        })
        .filter(|(id, _)| after.as_deref().is_none_or(|after| id.as_ref() > after))
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    let size = page.size.unwrap_or(usize::MAX);
    let next = if all.len() > size {
        base64.encode(all[size - 1].0.as_bytes())
    } else {
        String::new()
    };
    Ok((
        all.into_iter().take(size).map(|(_, json)| json).collect(),
        next,
    ))
}

/// Checks `config`'s receiver, stores it, and has it claimed at once: its JSON as kept.
async fn store_config(
    deliverer: &Deliverer,
    store: &dyn PushStore,
    plan: &PlanId,
    config: &ConfigInput,
) -> Result<Bytes, A2aError> {
    deliverer.check(config).await.map_err(|reason| {
        A2aError::InvalidParams(format!("url {:?} is refused: {reason}", config.url))
    })?;
    let json = Bytes::from(
        serde_json::to_vec(config)
            .map_err(|err| A2aError::Internal(format!("a push notification config: {err}")))?,
    );
    store
        .put(plan, &config.id, json.clone())
        .await
        .map_err(|err| A2aError::Unavailable(format!("the config could not be stored: {err}")))?;
    deliverer.claim_now();
    Ok(json)
}
