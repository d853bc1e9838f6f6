-- a2a-events-redis: publish one event, in one server-side step (EVALSHA).
--
-- KEYS (all under the backend's prefix, whose hash tag puts them in one cluster slot):
--   [1] meta    HASH    epoch, seq (the last id given), run (the server that gave it)
--   [2] log     STREAM  every event; entry id = event id "EPOCH-SEQUENCE"; fields p, j
--   [3] plan    HASH    term (the plan's terminal id), i:<key> (the id each key got)
--   [4] events  LIST    the plan's events as JSON, oldest first (its task is their fold)
--   [5] tasks   ZSET    every task, scored by its status time in ms (0: none yet)
--
-- ARGV:
--   [1]  plan id
--   [2]  the event's JSON after its leading '{"id":"0",' (the script writes the real id)
--   [3]  "1" when the event finishes its plan, else "0"
--   [4]  idempotency key, "" for none
--   [5]  [6] floor: the highest id the calling process has seen (epoch, sequence)
--   [7]  history: most entries the log keeps (0: no trimming)
--   [8]  "1" to trim exactly (MAXLEN =), "0" approximately (MAXLEN ~, cheaper)
--   [9]  seconds a finished plan's keys live (0: kept)
--   [10] seconds a running plan's keys live after its latest event (0: kept)
--   [11] "1" when every acknowledged write survives a restart (appendfsync always, no
--        failover): a new server process then keeps the epoch
--   [12] the task's context from this event, "" for none
--   [13] "1" when that context replaces the task's (a status or artifact update), "0"
--        when it only fills it in (a message)
--   [14] the task's state after a status update (its proto name), "" for other events
--   [15] the task's status time after a status update, in ms ("0": none), "" for other
--        events
--
-- Reply {status, epoch, sequence}:
--   {"ok", E, S}        stored as E-S
--   {"dup", E, S}       this plan already took this key: E-S is the first publish's id
--   {"finished", E, S}  refused: the plan finished with event E-S
--
-- Redis does not roll back a script's earlier writes when a later command fails, so every
-- check comes before the first write (XADD), and nothing after it can fail on our keys.

local function fmt(n) return string.format('%d', n) end

local function parse_id(text)
  local e, s = string.match(text, '^(%d+)-(%d+)$')
  return tonumber(e), tonumber(s)
end

-- 1. A retried publish gets its first id back, even after the plan finished.
local key = ARGV[4]
if key ~= '' then
  local seen = redis.call('HGET', KEYS[3], 'i:' .. key)
  if seen then
    local e, s = parse_id(seen)
    return {'dup', e, s}
  end
end

-- 2. A finished plan takes nothing more.
local term = redis.call('HGET', KEYS[3], 'term')
if term then
  local e, s = parse_id(term)
  return {'finished', e, s}
end

-- 3. The epoch. A new one starts when ids could otherwise be given twice:
--    - meta is gone (FLUSHALL, a restart without persistence, eviction);
--    - Redis is behind what the caller has seen (it lost its latest writes);
--    - unless ARGV[11] says restarts lose nothing: the server process is not the one
--      that wrote meta (a restart may have lost the last writes, a promoted replica may
--      lag).
-- The new epoch is the server clock in microseconds (exact in Lua below 2^53), raised
-- above the old epoch, the caller's floor and the log's last id, so it is above every id
-- given before.
local meta = redis.call('HMGET', KEYS[1], 'epoch', 'seq', 'run')
local epoch, seq = tonumber(meta[1]), tonumber(meta[2])
local floor_e, floor_s = tonumber(ARGV[5]), tonumber(ARGV[6])
local run = meta[3]
if ARGV[11] ~= '1' or not run then
  run = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
end
local fresh = epoch == nil or seq == nil
  or floor_e > epoch or (floor_e == epoch and floor_s > seq)
  or (ARGV[11] ~= '1' and meta[3] ~= run)
if fresh then
  local t = redis.call('TIME')
  local e = tonumber(t[1]) * 1000000 + tonumber(t[2])
  if e <= floor_e then e = floor_e + 1 end
  if epoch ~= nil and e <= epoch then e = epoch + 1 end
  -- XADD needs an id above the stream's last-generated id, which trimming keeps.
  if redis.call('EXISTS', KEYS[2]) == 1 then
    local info = redis.call('XINFO', 'STREAM', KEYS[2])
    for i = 1, #info, 2 do
      if info[i] == 'last-generated-id' then
        local top = parse_id(info[i + 1])
        if top and e <= top then e = top + 1 end
      end
    end
  end
  epoch, seq = e, 0
end
seq = seq + 1
local id = fmt(epoch) .. '-' .. fmt(seq)
local json = '{"id":"' .. id .. '",' .. ARGV[2]

-- 4. The writes.
local maxlen = tonumber(ARGV[7])
if maxlen > 0 then
  local how = '~'
  if ARGV[8] == '1' then how = '=' end
  redis.call('XADD', KEYS[2], 'MAXLEN', how, maxlen, id, 'p', ARGV[1], 'j', json)
else
  redis.call('XADD', KEYS[2], id, 'p', ARGV[1], 'j', json)
end
if fresh then
  redis.call('HSET', KEYS[1], 'epoch', fmt(epoch), 'seq', fmt(seq), 'run', run)
else
  redis.call('HSET', KEYS[1], 'seq', fmt(seq))
end
redis.call('RPUSH', KEYS[4], json)
local terminal = ARGV[3] == '1'
if terminal then
  redis.call('HSET', KEYS[3], 'term', id)
end
if key ~= '' then
  redis.call('HSET', KEYS[3], 'i:' .. key, id)
end

-- 5. The task's listing: its context, state and status time in the plan's hash, and its
--    place in the index (a task without a status time yet scores 0, the oldest).
if ARGV[12] ~= '' then
  if ARGV[13] == '1' then
    redis.call('HSET', KEYS[3], 'ctx', ARGV[12])
  else
    redis.call('HSETNX', KEYS[3], 'ctx', ARGV[12])
  end
end
if ARGV[14] ~= '' then
  redis.call('HSET', KEYS[3], 'st', ARGV[14], 'ts', ARGV[15])
  redis.call('ZADD', KEYS[5], ARGV[15], ARGV[1])
else
  redis.call('HSETNX', KEYS[3], 'ts', '0')
  redis.call('ZADD', KEYS[5], 'NX', 0, ARGV[1])
end

local ttl = tonumber(ARGV[10])
if terminal then ttl = tonumber(ARGV[9]) end
for k = 3, 4 do
  if ttl > 0 then
    redis.call('EXPIRE', KEYS[k], ttl)
  elseif terminal then
    redis.call('PERSIST', KEYS[k]) -- a finished plan kept for good loses a running TTL
  end
end
return {'ok', epoch, seq}
