//! The Redis backend's [`PushStore`]: configs and positions in a hash per task, claims in
//! a stream's consumer group, events read from the task's own list.
//!
//! | key | type | holds |
//! |---|---|---|
//! | `{a2a}:push:<task>` | hash | `cfg:<id>`: the config's JSON; `cur:<id>`: the position (in the task's events list) of its next delivery |
//! | `{a2a}:push:claims` | stream, group `push` | one entry per stored config (`t` task, `c` id): pending with the process that delivers it |
//!
//! Storing a config adds an entry to the claims stream; the next `XREADGROUP` of any
//! replica takes it, and it stays pending with that replica, which renews it (`XCLAIM`,
//! resetting its idle time) while it delivers. When a replica dies its entries go idle,
//! and the next claim of another replica takes them over (`XAUTOCLAIM`). When a config's
//! deliveries are over, its entry is acknowledged and deleted. A config's hash lives as long
//! as a running plan's keys ([`RedisConfig::running_ttl`](crate::RedisConfig::running_ttl)),
//! renewed with each delivery.

use std::sync::Arc;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use a2a_events::{Assignment, BackendError, BoxFuture, Pending, PlanId, PushStore, StoredEvent};
use bytes::Bytes;
use redis::{Script, Value};

use crate::backend::RedisBackend;
use crate::error::{backend_error, protocol};

/// The consumer group of the claims stream.
const GROUP: &str = "push";

/// Stores a config: its JSON, its position (the task's events so far), its claim entry.
static PUT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "local next = redis.call('LLEN', KEYS[2]) \
         redis.call('HSET', KEYS[1], 'cfg:' .. ARGV[1], ARGV[2], 'cur:' .. ARGV[1], next) \
         redis.call('XADD', KEYS[3], '*', 't', ARGV[3], 'c', ARGV[1]) \
         if tonumber(ARGV[4]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[4]) end \
         return next",
    )
});

/// A config's position, the task's events from it (at most `ARGV[2]`), and how many the
/// list holds.
static PENDING: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "local cur = redis.call('HGET', KEYS[1], 'cur:' .. ARGV[1]) \
         if not cur then return {0} end \
         local n = tonumber(cur) \
         local events = redis.call('LRANGE', KEYS[2], n, n + tonumber(ARGV[2]) - 1) \
         return {1, n, redis.call('LLEN', KEYS[2]), events}",
    )
});

/// Moves a config's position forward (never back), renewing its hash's life.
static DELIVERED: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "local field = 'cur:' .. ARGV[1] \
         local cur = redis.call('HGET', KEYS[1], field) \
         if cur and tonumber(cur) < tonumber(ARGV[2]) then \
           redis.call('HSET', KEYS[1], field, ARGV[2]) \
         end \
         if tonumber(ARGV[3]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end \
         return 1",
    )
});

impl RedisBackend {
    fn push_key(&self, task: &PlanId) -> String {
        format!("{}:push:{task}", self.keys().prefix())
    }

    fn claims_key(&self) -> String {
        format!("{}:push:claims", self.keys().prefix())
    }

    /// Seconds a config's hash lives without a delivery (0: kept).
    fn push_ttl(&self) -> u64 {
        self.config()
            .running_ttl
            .map_or(0, |ttl| ttl.as_secs().max(1))
    }

    /// Makes the claims stream's consumer group, once per backend.
    async fn ensure_group(&self, made: &AtomicBool) -> Result<(), BackendError> {
        if made.load(Ordering::Acquire) {
            return Ok(());
        }
        let stream = self.claims_key();
        let created = self
            .link()
            .call(|mut conn| async move {
                redis::cmd("XGROUP")
                    .arg("CREATE")
                    .arg(stream)
                    .arg(GROUP)
                    .arg("0")
                    .arg("MKSTREAM")
                    .query_async::<Value>(&mut conn)
                    .await
            })
            .await;
        match created {
            Ok(_) => {}
            Err(err) if err.code() == Some("BUSYGROUP") => {}
            Err(err) => return Err(backend_error(&err)),
        }
        made.store(true, Ordering::Release);
        Ok(())
    }
}

/// Reads claim entries (`[id, [field, value, ...]]`) into assignments.
fn assignments(entries: &[Value]) -> Vec<Assignment> {
    entries
        .iter()
        .filter_map(|entry| {
            let Value::Array(parts) = entry else {
                return None;
            };
            let [id, Value::Array(fields)] = parts.as_slice() else {
                return None;
            };
            let id: String = redis::from_redis_value(id.clone()).ok()?;
            let mut task = None;
            let mut config = None;
            for pair in fields.chunks(2) {
                let [name, value] = pair else { continue };
                let name: String = redis::from_redis_value(name.clone()).ok()?;
                let value: String = redis::from_redis_value(value.clone()).ok()?;
                match name.as_str() {
                    "t" => task = PlanId::new(value).ok(),
                    "c" => config = Some(value),
                    _ => {}
                }
            }
            Some(Assignment::new(task?, config?, id))
        })
        .collect()
}

impl PushStore for RedisBackend {
    fn put(
        &self,
        task: &PlanId,
        id: &str,
        config: Bytes,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        let keys = [
            self.push_key(task),
            self.keys().events(task),
            self.claims_key(),
        ];
        let (id, task, ttl) = (id.to_owned(), task.to_string(), self.push_ttl());
        Box::pin(async move {
            self.link()
                .call(|mut conn| {
                    let mut call = PUT.prepare_invoke();
                    call.key(&keys[0]).key(&keys[1]).key(&keys[2]);
                    call.arg(&id).arg(&config[..]).arg(&task).arg(ttl);
                    async move { call.invoke_async::<i64>(&mut conn).await }
                })
                .await
                .map(drop)
                .map_err(|e| backend_error(&e))
        })
    }

    fn get(&self, task: &PlanId, id: &str) -> BoxFuture<'_, Result<Option<Bytes>, BackendError>> {
        let (key, field) = (self.push_key(task), format!("cfg:{id}"));
        Box::pin(async move {
            self.link()
                .call(|mut conn| async move {
                    redis::cmd("HGET")
                        .arg(key)
                        .arg(field)
                        .query_async::<Option<Vec<u8>>>(&mut conn)
                        .await
                })
                .await
                .map(|config| config.map(Bytes::from))
                .map_err(|e| backend_error(&e))
        })
    }

    fn list(&self, task: &PlanId) -> BoxFuture<'_, Result<Vec<Bytes>, BackendError>> {
        let key = self.push_key(task);
        Box::pin(async move {
            let fields: Vec<(String, Vec<u8>)> = self
                .link()
                .call(|mut conn| async move {
                    redis::cmd("HGETALL").arg(key).query_async(&mut conn).await
                })
                .await
                .map_err(|e| backend_error(&e))?;
            let mut configs: Vec<(String, Vec<u8>)> = fields
                .into_iter()
                .filter(|(field, _)| field.starts_with("cfg:"))
                .collect();
            configs.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(configs
                .into_iter()
                .map(|(_, json)| Bytes::from(json))
                .collect())
        })
    }

    fn delete(&self, task: &PlanId, id: &str) -> BoxFuture<'_, Result<bool, BackendError>> {
        let key = self.push_key(task);
        let fields = [format!("cfg:{id}"), format!("cur:{id}")];
        Box::pin(async move {
            self.link()
                .call(|mut conn| async move {
                    redis::cmd("HDEL")
                        .arg(key)
                        .arg(&fields[..])
                        .query_async::<i64>(&mut conn)
                        .await
                })
                .await
                .map(|removed| removed > 0)
                .map_err(|e| backend_error(&e))
        })
    }

    fn claim(
        &self,
        consumer: &str,
        idle: Duration,
    ) -> BoxFuture<'_, Result<Vec<Assignment>, BackendError>> {
        let consumer = consumer.to_owned();
        Box::pin(async move {
            self.ensure_group(self.push_group_made()).await?;
            let stream = self.claims_key();
            let idle_ms = u64::try_from(idle.as_millis()).unwrap_or(u64::MAX);
            let (stale, fresh): (Value, Value) = self
                .link()
                .call(|mut conn| {
                    let stream = stream.clone();
                    let consumer = consumer.clone();
                    async move {
                        redis::pipe()
                            .cmd("XAUTOCLAIM")
                            .arg(&stream)
                            .arg(GROUP)
                            .arg(&consumer)
                            .arg(idle_ms)
                            .arg("0-0")
                            .arg("COUNT")
                            .arg(100)
                            .cmd("XREADGROUP")
                            .arg("GROUP")
                            .arg(GROUP)
                            .arg(&consumer)
                            .arg("COUNT")
                            .arg(100)
                            .arg("STREAMS")
                            .arg(&stream)
                            .arg(">")
                            .query_async(&mut conn)
                            .await
                    }
                })
                .await
                .map_err(|e| backend_error(&e))?;
            let mut claimed = Vec::new();
            // XAUTOCLAIM: [next start, [entries], [deleted ids]].
            if let Value::Array(parts) = stale
                && let Some(Value::Array(entries)) = parts.get(1)
            {
                claimed.extend(assignments(entries));
            }
            // XREADGROUP: [[stream, [entries]]], or nil when nothing is new.
            if let Value::Array(streams) = fresh {
                for stream in streams {
                    if let Value::Array(parts) = stream
                        && let Some(Value::Array(entries)) = parts.get(1)
                    {
                        claimed.extend(assignments(entries));
                    }
                }
            }
            Ok(claimed)
        })
    }

    fn renew(
        &self,
        consumer: &str,
        assignments: &[Assignment],
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        let consumer = consumer.to_owned();
        let ids: Vec<String> = assignments.iter().map(|a| a.claim.clone()).collect();
        Box::pin(async move {
            if ids.is_empty() {
                return Ok(());
            }
            let stream = self.claims_key();
            self.link()
                .call(|mut conn| async move {
                    redis::cmd("XCLAIM")
                        .arg(stream)
                        .arg(GROUP)
                        .arg(consumer)
                        .arg(0)
                        .arg(&ids[..])
                        .arg("JUSTID")
                        .query_async::<Value>(&mut conn)
                        .await
                })
                .await
                .map(drop)
                .map_err(|e| backend_error(&e))
        })
    }

    fn finish(&self, assignment: &Assignment) -> BoxFuture<'_, Result<(), BackendError>> {
        let id = assignment.claim.clone();
        Box::pin(async move {
            let stream = self.claims_key();
            self.link()
                .call(|mut conn| async move {
                    redis::pipe()
                        .cmd("XACK")
                        .arg(&stream)
                        .arg(GROUP)
                        .arg(&id)
                        .cmd("XDEL")
                        .arg(&stream)
                        .arg(&id)
                        .query_async::<Value>(&mut conn)
                        .await
                })
                .await
                .map(drop)
                .map_err(|e| backend_error(&e))
        })
    }

    fn pending(
        &self,
        task: &PlanId,
        id: &str,
        max: usize,
    ) -> BoxFuture<'_, Result<Pending, BackendError>> {
        let keys = [self.push_key(task), self.keys().events(task)];
        let id = id.to_owned();
        Box::pin(async move {
            let reply: Value = self
                .link()
                .call(|mut conn| {
                    let mut call = PENDING.prepare_invoke();
                    call.key(&keys[0]).key(&keys[1]).arg(&id).arg(max.max(1));
                    async move { call.invoke_async(&mut conn).await }
                })
                .await
                .map_err(|e| backend_error(&e))?;
            let bad = || protocol("unexpected reply from the push pending script");
            let Value::Array(parts) = reply else {
                return Err(bad());
            };
            let number = |value: &Value| redis::from_redis_value::<u64>(value.clone());
            match parts.as_slice() {
                [flag] if number(flag).ok() == Some(0) => Ok(Pending::default()),
                [_, next, length, Value::Array(entries)] => {
                    let next = number(next).map_err(|_| bad())?;
                    let length = number(length).map_err(|_| bad())?;
                    let mut events = Vec::with_capacity(entries.len());
                    for entry in entries {
                        let json: Vec<u8> =
                            redis::from_redis_value(entry.clone()).map_err(|_| bad())?;
                        let event = StoredEvent::from_json(Bytes::from(json)).map_err(protocol)?;
                        events.push(Arc::new(event));
                    }
                    let mut pending = Pending::default();
                    pending.exists = true;
                    pending.next = next;
                    pending.events = events;
                    // The task's list went (it expired) while the config still needed it.
                    pending.lost = u64::from(length < next);
                    pending.behind = length.saturating_sub(next);
                    Ok(pending)
                }
                _ => Err(bad()),
            }
        })
    }

    fn delivered(
        &self,
        task: &PlanId,
        id: &str,
        next: u64,
    ) -> BoxFuture<'_, Result<(), BackendError>> {
        let key = self.push_key(task);
        let (id, ttl) = (id.to_owned(), self.push_ttl());
        Box::pin(async move {
            self.link()
                .call(|mut conn| {
                    let mut call = DELIVERED.prepare_invoke();
                    call.key(&key).arg(&id).arg(next).arg(ttl);
                    async move { call.invoke_async::<i64>(&mut conn).await }
                })
                .await
                .map(drop)
                .map_err(|e| backend_error(&e))
        })
    }
}
