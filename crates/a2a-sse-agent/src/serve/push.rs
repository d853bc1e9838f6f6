//! The four push notification config methods, and a config given with a message.

use std::sync::Arc;

use a2a_events::{PlanId, PushStore};
use a2a_sse_core::SseResponse;
use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::Call;
use crate::error::A2aError;
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
        let not_found = |id: &str| {
            A2aError::TaskNotFound(format!(
                "task {plan} has no push notification config {id:?}"
            ))
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
                None => Err(not_found(&id)),
            },
            PushCall::List => {
                let mut configs = store.list(plan).await.map_err(unavailable)?;
                configs.sort();
                let configs = configs
                    .iter()
                    .filter_map(|json| serde_json::from_slice::<&RawValue>(json).ok())
                    .collect::<Vec<_>>();
                #[derive(Serialize)]
                #[serde(rename_all = "camelCase")]
                struct Answer<'a> {
                    configs: Vec<&'a RawValue>,
                    next_page_token: &'static str,
                }
                Ok(self.binding.ok_json(&Answer {
                    configs,
                    next_page_token: "",
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
