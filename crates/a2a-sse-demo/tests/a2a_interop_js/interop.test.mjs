// Interop test: the official A2A JavaScript client (`@a2a-js/sdk`, pinned in package.json
// and package-lock.json) against one running demo server, over both of the binding's
// transports, JSON-RPC and HTTP+JSON.
//
// Usage: A2A_DEMO_URL=http://127.0.0.1:PORT A2A_WEBHOOK_SECRET=whsec_... \
//          node --test interop.test.mjs
// scripts/a2a-interop-js.sh installs the client, starts each demo (axum `demo`, actix
// `actix-demo`) on a free port with `--no-simulate --keep-alive-ms 2000 --plan-step-ms 50
// --push --push-allow-host 127.0.0.1 --push-secret <a fixed test secret>`, runs this file
// against it (with that secret in A2A_WEBHOOK_SECRET) and stops it. This file runs a
// webhook receiver (node's http server on a free loopback port, keeping every request,
// answering 200 with a Content-Length) for the demo to push to.
//
// Everything goes through the SDK's public client API: the card from
// `DefaultAgentCardResolver`, a client per binding from `ClientFactory` (the binding picked
// with `preferredTransports`), then `sendMessage`, `sendMessageStream` (a push config inline
// in its `configuration.taskPushNotificationConfig`), `resubscribeTask`, `getTask` and
// `createTaskPushNotificationConfig`, `getTaskPushNotificationConfig`,
// `listTaskPushNotificationConfig`, `deleteTaskPushNotificationConfig`. The transports get
// a recording `fetchImpl`, so each test also checks which routes (and JSON-RPC methods) the
// calls went to. The demos are agents: the text of a message picks a scripted plan (notes:
// "The demos as agents"); `report` (anything without another keyword), `slow` and
// `review` are used here.
//
// The cases, for each binding:
// - card: the card lists both interfaces (protocol version 1.0, the documented routes),
//   streaming and push notifications, and the factory builds a client on the chosen
//   binding;
// - stream_send: SendStreamingMessage `report`: the task first (SUBMITTED, history = the
//   user's message, the message's contextId), then WORKING "collecting sources", the three
//   chunks of `report.md` (`lastChunk` on the third only), COMPLETED "report ready", and
//   the stream ends by itself; GetTask then holds the three chunks' parts as one artifact;
// - subscribe: SendStreamingMessage `slow`, and while it runs (after a few chunks)
//   SubscribeToTask on it from a second client: the task comes first (WORKING, the chunks
//   so far joined), then the following updates, to COMPLETED, and the stream ends; the
//   subscription's updates are exactly the tail of the first stream's, and the snapshot's
//   parts plus the later chunks make GetTask's artifact (none lost, none twice);
// - push_configs: on a `review` task waiting for input (SendMessage): create a config with
//   an id, a token and Bearer credentials (the answer is that config), get it (the same),
//   list (just it, no nextPageToken), delete (nothing), get again (TaskNotFoundError from
//   `@a2a-js/sdk/errors`), delete again (fine: idempotent), list (empty), create on an
//   unknown task (TaskNotFoundError); each call on its JSON-RPC method or HTTP+JSON route;
// - push_delivery: SendStreamingMessage `report` with a config inline (URL, token, Bearer
//   credentials): the receiver gets exactly the stream's updates after its task, in order
//   (WORKING, three chunks, COMPLETED), each a POST of one StreamResponse JSON of the task
//   (parsed with the SDK's `StreamResponse.fromJSON`) as `application/a2a+json` with its
//   Content-Length, the token and credentials headers, a distinct A2A-Event-Id, and a
//   Standard Webhooks signature that npm `standardwebhooks` (`new Webhook(secret)
//   .verify(body, headers)`) accepts with the demo's secret and rejects with another
//   secret or over the body with a space appended.
//
// Decisions where the contract is silent: `report.md` may be the artifact's `name` or its
// `artifactId`; a task's history may or may not repeat the current status message; a push
// config that is not there is TaskNotFoundError (as the reference SDK server says it); a
// delivery that comes again with the same `webhook-id` (a retry: push is at least once)
// must carry the same body and counts once.

import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import http from "node:http";

import { Role, StreamResponse, roleToJSON, taskStateToJSON } from "@a2a-js/sdk";
import {
  ClientFactory,
  ClientFactoryOptions,
  DefaultAgentCardResolver,
  JsonRpcTransportFactory,
  RestTransportFactory,
} from "@a2a-js/sdk/client";
import { TaskNotFoundError } from "@a2a-js/sdk/errors";
import { Webhook, WebhookVerificationError } from "standardwebhooks";

const BASE = process.env.A2A_DEMO_URL;
if (!BASE) {
  throw new Error("set A2A_DEMO_URL to the demo's base URL (http://127.0.0.1:PORT)");
}
// The demo's Standard Webhooks signing secret (its `--push-secret`).
const WEBHOOK_SECRET = process.env.A2A_WEBHOOK_SECRET;
if (!WEBHOOK_SECRET) {
  throw new Error("set A2A_WEBHOOK_SECRET to the demo's --push-secret (whsec_...)");
}
// Another secret, which must not verify the demo's signatures.
const OTHER_SECRET = "whsec_c2VjcmV0LW5vdC10aGUtZGVtb3M=";
// Longest wait for one stream, and the bound of one test (ms).
const WAIT = 20_000;
const TEST_TIMEOUT = 60_000;
const SLOW_CHUNKS = 60;
const BINDINGS = { jsonrpc: "JSONRPC", http_json: "HTTP+JSON" };
// The interface URL each binding must have on the demos (docs/a2a.md, "Routes").
const INTERFACE_PATHS = { JSONRPC: "/a2a/jsonrpc", "HTTP+JSON": "/a2a" };
// Each operation's JSON-RPC method, and its HTTP+JSON route below the interface URL.
const OPERATIONS = {
  stream: ["SendStreamingMessage", "POST", "/message:stream"],
  get: ["GetTask", "GET", "/tasks/{id}"],
  subscribe: ["SubscribeToTask", "POST", "/tasks/{id}:subscribe"],
  send: ["SendMessage", "POST", "/message:send"],
  push_create: ["CreateTaskPushNotificationConfig", "POST", "/tasks/{id}/pushNotificationConfigs"],
  push_get: ["GetTaskPushNotificationConfig", "GET", "/tasks/{id}/pushNotificationConfigs/{config}"],
  push_list: ["ListTaskPushNotificationConfigs", "GET", "/tasks/{id}/pushNotificationConfigs"],
  push_delete: ["DeleteTaskPushNotificationConfig", "DELETE", "/tasks/{id}/pushNotificationConfigs/{config}"],
};

// ---------------------------------------------------------------------------------------
// The client, and what it sent

/** A client of one binding, and every request it sent: {method, url, rpc} (and the
 * JSON bodies, in `bodies`). */
async function connect(binding) {
  const requests = [];
  const bodies = [];
  const fetchImpl = (url, init = {}) => {
    let rpc = null;
    let body = null;
    try {
      body = JSON.parse(init.body);
      rpc = body.method ?? null;
    } catch {
      // not a JSON body
    }
    requests.push({ method: init.method ?? "GET", url: String(url).split("?")[0], rpc });
    bodies.push(body);
    return fetch(url, init);
  };
  const card = await new DefaultAgentCardResolver({ fetchImpl }).resolve(BASE);
  const factory = new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      transports: [new JsonRpcTransportFactory({ fetchImpl }), new RestTransportFactory({ fetchImpl })],
      preferredTransports: [binding],
    }),
  );
  const client = await factory.createFromAgentCard(card);
  const iface = card.supportedInterfaces.find((i) => i.protocolBinding === binding);
  return {
    card,
    client,
    requests,
    bodies,
    /** What `operation` must look like on the wire. */
    call(operation, taskId, configId) {
      const [rpc, method, route] = OPERATIONS[operation];
      if (binding === "JSONRPC") return { method: "POST", url: iface.url, rpc };
      const path = route
        .replace("{id}", encodeURIComponent(taskId))
        .replace("{config}", encodeURIComponent(configId));
      return { method, url: iface.url + path, rpc: null };
    },
    /** Every request after the card. */
    calls() {
      return requests.slice(1);
    },
  };
}

/** Reads an SDK stream in the background, collecting its items. */
class Follower {
  constructor(stream) {
    this.items = [];
    this.stream = stream;
    this.waiters = [];
    this.done = this.#follow();
  }

  async #follow() {
    try {
      for await (const item of this.stream) {
        this.items.push(item);
        this.#wake();
      }
    } finally {
      this.ended = true;
      this.#wake();
    }
  }

  #wake() {
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Waits until `predicate(items)` holds; fails if the stream ends or `WAIT` passes. */
  async until(predicate, what) {
    const deadline = Date.now() + WAIT;
    while (!predicate(this.items)) {
      if (this.ended) {
        await this.done; // throws the stream's error, if any
        assert.fail(`the stream ended before ${what}: ${summarize(this.items)}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) assert.fail(`no ${what} within ${WAIT} ms: ${summarize(this.items)}`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for the stream to end by itself within `WAIT`, and returns its items. */
  async end() {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the stream did not end within ${WAIT} ms: ${summarize(this.items)}`)),
        WAIT,
      );
    });
    try {
      await Promise.race([this.done, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return this.items;
  }

  /** Stops reading (closes the stream). */
  async close() {
    if (!this.ended) await this.stream.return?.();
  }
}

// ---------------------------------------------------------------------------------------
// Messages, and reading what comes back

function userMessage(text, { contextId = "", taskId = "" } = {}) {
  return {
    tenant: "",
    message: {
      messageId: `interop-js-${randomUUID()}`,
      contextId,
      taskId,
      role: Role.ROLE_USER,
      parts: [{ content: { $case: "text", value: text }, metadata: undefined, filename: "", mediaType: "" }],
      metadata: undefined,
      extensions: [],
      referenceTaskIds: [],
    },
    configuration: undefined,
    metadata: undefined,
  };
}

const newContext = () => `interop-js-ctx-${randomUUID()}`;
const kind = (item) => item.payload?.$case;
const value = (item) => item.payload?.value;
const state = (holder) => taskStateToJSON(holder.status.state).replace(/^TASK_STATE_/, "");
const text = (message) =>
  (message?.parts ?? []).map((p) => (p.content?.$case === "text" ? p.content.value : "")).join("");
const isReport = (artifact) => artifact.name === "report.md" || artifact.artifactId === "report.md";
const partsOf = (artifact) => artifact.parts.map((p) => JSON.stringify(p));
const chunkParts = (items) =>
  items.filter((i) => kind(i) === "artifactUpdate").flatMap((i) => partsOf(value(i).artifact));

function reportOf(task) {
  const reports = task.artifacts.filter(isReport);
  assert.equal(reports.length, 1, `not one report.md artifact in ${JSON.stringify(task)}`);
  return reports[0];
}

function line(item) {
  const v = value(item);
  switch (kind(item)) {
    case "task":
      return `task ${state(v)} (${v.artifacts.length} artifacts)`;
    case "message":
      return `message ${JSON.stringify(text(v))}`;
    case "statusUpdate":
      return `status ${state(v)} ${JSON.stringify(text(v.status.message))}`;
    case "artifactUpdate":
      return `artifact ${v.artifact.artifactId}/${v.artifact.name} +${v.artifact.parts.length}${v.append ? " append" : ""}${v.lastChunk ? " last" : ""}`;
    default:
      return `? ${JSON.stringify(item)}`;
  }
}

function summarize(items) {
  return items.length ? "\n  " + items.map(line).join("\n  ") : "(nothing)";
}

// ---------------------------------------------------------------------------------------
// The webhook receiver the demo pushes to

/** A webhook receiver on a free loopback port (node's http server): keeps every request
 * (method, path, headers, the body's bytes) and answers each 200 with an empty body and a
 * Content-Length. Each test gets paths of its own. */
function startReceiver() {
  const requests = [];
  const waiters = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      requests.push({ method: req.method, path: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { "Content-Length": "0" });
      res.end();
      for (const wake of waiters.splice(0)) wake();
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const base = `http://127.0.0.1:${server.address().port}`;
      const on = (path) => requests.filter((r) => r.path === path);
      resolve({
        url: (path) => base + path,
        on,
        /** What came to `path` once `count` requests came there (fails after `WAIT`). */
        async waitFor(path, count) {
          const deadline = Date.now() + WAIT;
          while (on(path).length < count) {
            const left = deadline - Date.now();
            if (left <= 0) {
              const got = on(path).map((r) => `${r.method} ${r.body.toString().slice(0, 120)}`);
              assert.fail(`${got.length} of ${count} deliveries to ${path}:\n  ${got.join("\n  ")}`);
            }
            await new Promise((resolve) => {
              const timer = setTimeout(resolve, left);
              waiters.push(() => {
                clearTimeout(timer);
                resolve();
              });
            });
          }
          return on(path);
        },
        close() {
          server.closeAllConnections();
          return new Promise((resolve) => server.close(resolve));
        },
      });
    });
  });
}

let receiver;
before(async () => {
  receiver = await startReceiver();
});
after(() => receiver?.close());

const newHookPath = (label) => `/hooks/js-${label}-${randomUUID().slice(0, 8)}`;

/** Checks each request a config's receiver got (a POST of one StreamResponse of `taskId`,
 * `application/a2a+json` with its Content-Length, the config's token and credentials, an
 * event id, and a Standard Webhooks signature that the `standardwebhooks` package
 * verifies with the demo's secret, but not with another nor over a changed body), and
 * returns the updates parsed with the SDK's StreamResponse, once each (a retry repeats an
 * event with the same `webhook-id`). */
function checkDeliveries(got, taskId, { token, authorization }) {
  const first = new Map();
  for (const delivery of got) {
    const { headers, body } = delivery;
    const line = `${delivery.method} ${delivery.path} ${body.toString().slice(0, 120)}`;
    assert.equal(delivery.method, "POST", line);
    assert.equal(headers["content-type"], "application/a2a+json", line);
    assert.equal(headers["content-length"], String(body.length), line);
    assert.equal(headers["x-a2a-notification-token"], token, line);
    assert.equal(headers.authorization, authorization, line);
    assert.ok(headers["a2a-event-id"], line);
    const webhook = new Webhook(WEBHOOK_SECRET);
    assert.deepEqual(webhook.verify(body, headers), JSON.parse(body.toString()), line);
    assert.throws(() => new Webhook(OTHER_SECRET).verify(body, headers), WebhookVerificationError, line);
    assert.throws(() => webhook.verify(Buffer.concat([body, Buffer.from(" ")]), headers), WebhookVerificationError, line);
    const json = JSON.parse(body.toString());
    assert.ok(["statusUpdate", "artifactUpdate"].includes(Object.keys(json).join()), line);
    assert.equal(Object.values(json)[0].taskId, taskId, line);
    const id = headers["webhook-id"];
    if (first.has(id)) {
      assert.deepEqual(body, first.get(id).body, `${id} again, changed`);
      continue;
    }
    first.set(id, delivery);
  }
  const events = [...first.values()].map((d) => d.headers["a2a-event-id"]);
  assert.equal(new Set(events).size, events.length, `an A2A-Event-Id twice: ${events}`);
  return [...first.values()].map((d) => StreamResponse.fromJSON(JSON.parse(d.body.toString())));
}

// ---------------------------------------------------------------------------------------
// The cases

for (const [label, binding] of Object.entries(BINDINGS)) {
  describe(`${binding} (${label})`, () => {
    test(`card__${label}`, { timeout: TEST_TIMEOUT }, async () => {
      const session = await connect(binding);
      const { card } = session;
      assert.equal(card.capabilities?.streaming, true, "capabilities.streaming");
      assert.equal(card.capabilities?.pushNotifications, true, "capabilities.pushNotifications");
      for (const [b, path] of Object.entries(INTERFACE_PATHS)) {
        const found = card.supportedInterfaces.filter((i) => i.protocolBinding === b);
        assert.equal(found.length, 1, `one ${b} interface`);
        assert.equal(found[0].protocolVersion, "1.0");
        assert.equal(found[0].url, BASE + path);
      }
      assert.equal(session.client.transport.protocolName.toUpperCase(), binding);
      assert.deepEqual(session.requests, [
        { method: "GET", url: BASE + "/.well-known/agent-card.json", rpc: null },
      ]);
    });

    test(`stream_send__${label}`, { timeout: TEST_TIMEOUT }, async () => {
      const session = await connect(binding);
      const contextId = newContext();
      const sent = userMessage("write the quarterly report", { contextId });
      const items = await new Follower(session.client.sendMessageStream(sent)).end();
      const summary = summarize(items);
      assert.deepEqual(
        items.map(kind),
        ["task", "statusUpdate", "artifactUpdate", "artifactUpdate", "artifactUpdate", "statusUpdate"],
        summary,
      );
      const task = value(items[0]);
      assert.ok(task.id, summary);
      assert.equal(task.contextId, contextId);
      assert.equal(state(task), "SUBMITTED", summary);
      assert.equal(task.history.length, 1, JSON.stringify(task.history));
      assert.equal(task.history[0].messageId, sent.message.messageId);
      assert.equal(roleToJSON(task.history[0].role), "ROLE_USER");
      assert.equal(text(task.history[0]), "write the quarterly report");
      for (const item of items.slice(1)) {
        assert.deepEqual([value(item).taskId, value(item).contextId], [task.id, contextId], summary);
      }
      const [working, done] = [value(items[1]), value(items[5])];
      assert.deepEqual([state(working), text(working.status.message)], ["WORKING", "collecting sources"]);
      assert.deepEqual([state(done), text(done.status.message)], ["COMPLETED", "report ready"]);
      const chunks = items.slice(2, 5).map(value);
      assert.ok(isReport(chunks[0].artifact), summary);
      assert.deepEqual(new Set(chunks.map((c) => c.artifact.artifactId)).size, 1, summary);
      assert.deepEqual(chunks.map((c) => c.lastChunk), [false, false, true], summary);
      assert.deepEqual(chunks.slice(1).map((c) => c.append), [true, true], summary);
      const final = await session.client.getTask({ tenant: "", id: task.id });
      assert.equal(state(final), "COMPLETED");
      const report = reportOf(final);
      assert.equal(report.artifactId, chunks[0].artifact.artifactId);
      assert.deepEqual(partsOf(report), chunkParts(items));
      assert.deepEqual(session.calls(), [session.call("stream"), session.call("get", task.id)]);
    });

    test(`subscribe__${label}`, { timeout: TEST_TIMEOUT }, async () => {
      const session = await connect(binding);
      const sent = userMessage("a slow report please", { contextId: newContext() });
      const send = new Follower(session.client.sendMessageStream(sent));
      let subscription;
      try {
        await send.until((items) => chunkParts(items).length >= 3, "three chunks");
        const taskId = value(send.items[0]).id;
        // A second client follows the running task.
        const other = await connect(binding);
        subscription = new Follower(other.client.resubscribeTask({ tenant: "", id: taskId }));
        const items = await subscription.end();
        const sendItems = await send.end();
        const summary = summarize(items);
        assert.equal(kind(items[0]), "task", summary);
        const snapshot = value(items[0]);
        assert.equal(snapshot.id, taskId);
        assert.equal(state(snapshot), "WORKING", summary);
        const rest = items.slice(1);
        assert.ok(rest.length > 0, summary);
        assert.deepEqual(
          rest.map(kind),
          [...Array(rest.length - 1).fill("artifactUpdate"), "statusUpdate"],
          summary,
        );
        assert.equal(state(value(rest.at(-1))), "COMPLETED", summary);
        // The subscription's updates are the tail of the first stream's.
        assert.deepEqual(
          sendItems.slice(-rest.length).map((i) => JSON.stringify(i)),
          rest.map((i) => JSON.stringify(i)),
          `send stream: ${summarize(sendItems)}\nsubscription: ${summary}`,
        );
        const final = await session.client.getTask({ tenant: "", id: taskId });
        assert.equal(state(final), "COMPLETED");
        const parts = partsOf(reportOf(final));
        assert.equal(parts.length, SLOW_CHUNKS);
        assert.deepEqual(parts, [...partsOf(reportOf(snapshot)), ...chunkParts(rest)]);
        assert.deepEqual(parts, chunkParts(sendItems));
        assert.deepEqual(session.calls(), [session.call("stream"), session.call("get", taskId)]);
        assert.deepEqual(other.calls(), [other.call("subscribe", taskId)]);
      } finally {
        await subscription?.close();
        await send.close();
      }
    });

    test(`push_configs__${label}`, { timeout: TEST_TIMEOUT }, async () => {
      const session = await connect(binding);
      const { client } = session;
      const task = await client.sendMessage(userMessage("review the rollout plan", { contextId: newContext() }));
      assert.equal(state(task), "INPUT_REQUIRED", JSON.stringify(task));
      const taskId = task.id;
      const config = {
        tenant: "",
        id: `interop-js-cfg-${randomUUID().slice(0, 8)}`,
        taskId,
        url: receiver.url(newHookPath("configs")),
        token: `tok-${randomUUID().slice(0, 8)}`,
        authentication: { scheme: "Bearer", credentials: `cred-${randomUUID().slice(0, 8)}` },
      };
      const asked = { tenant: "", taskId, id: config.id };
      assert.deepEqual(await client.createTaskPushNotificationConfig(config), config);
      assert.deepEqual(await client.getTaskPushNotificationConfig(asked), config);
      const listing = { tenant: "", taskId, pageSize: 0, pageToken: "" };
      const listed = await client.listTaskPushNotificationConfig(listing);
      assert.deepEqual(listed.configs, [config]);
      assert.equal(listed.nextPageToken, "");
      assert.equal(await client.deleteTaskPushNotificationConfig(asked), undefined);
      await assert.rejects(client.getTaskPushNotificationConfig(asked), TaskNotFoundError);
      // Delete is idempotent.
      assert.equal(await client.deleteTaskPushNotificationConfig(asked), undefined);
      assert.deepEqual((await client.listTaskPushNotificationConfig(listing)).configs, []);
      const unknown = `no-such-task-${randomUUID().slice(0, 8)}`;
      await assert.rejects(
        client.createTaskPushNotificationConfig({ ...config, taskId: unknown }),
        TaskNotFoundError,
      );
      assert.deepEqual(session.calls(), [
        session.call("send"),
        session.call("push_create", taskId),
        session.call("push_get", taskId, config.id),
        session.call("push_list", taskId),
        session.call("push_delete", taskId, config.id),
        session.call("push_get", taskId, config.id),
        session.call("push_delete", taskId, config.id),
        session.call("push_list", taskId),
        session.call("push_create", unknown),
      ]);
      assert.deepEqual(receiver.on(new URL(config.url).pathname), [], "a config delivered with no update");
    });

    test(`push_delivery__${label}`, { timeout: TEST_TIMEOUT }, async () => {
      const session = await connect(binding);
      const path = newHookPath("delivery");
      const [token, credentials] = [`tok-${randomUUID().slice(0, 8)}`, `cred-${randomUUID().slice(0, 8)}`];
      const sent = userMessage("write the quarterly report", { contextId: newContext() });
      sent.configuration = {
        acceptedOutputModes: [],
        taskPushNotificationConfig: {
          tenant: "",
          id: "",
          taskId: "",
          url: receiver.url(path),
          token,
          authentication: { scheme: "Bearer", credentials },
        },
        returnImmediately: false,
      };
      const items = await new Follower(session.client.sendMessageStream(sent)).end();
      const taskId = value(items[0]).id;
      // The config went inline.
      const body = session.bodies.at(-1);
      const params = binding === "JSONRPC" ? body.params : body;
      assert.equal(params.configuration?.taskPushNotificationConfig?.url, receiver.url(path), JSON.stringify(body));
      const deliveries = checkDeliveries(await receiver.waitFor(path, 5), taskId, {
        token,
        authorization: `Bearer ${credentials}`,
      });
      // Exactly the stream's updates (after its task), in order.
      assert.deepEqual(
        deliveries.map((d) => JSON.stringify(d)),
        items.slice(1).map((i) => JSON.stringify(i)),
        `stream: ${summarize(items)}\ndeliveries: ${summarize(deliveries)}`,
      );
      assert.deepEqual(deliveries.map(kind), ["statusUpdate", ...Array(3).fill("artifactUpdate"), "statusUpdate"]);
      assert.deepEqual([state(value(deliveries[0])), state(value(deliveries[4]))], ["WORKING", "COMPLETED"]);
    });
  });
}
