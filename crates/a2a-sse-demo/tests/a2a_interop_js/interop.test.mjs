// Interop test: the official A2A JavaScript client (`@a2a-js/sdk`, pinned in package.json
// and package-lock.json) against one running demo server, over both of the binding's
// transports, JSON-RPC and HTTP+JSON.
//
// Usage: A2A_DEMO_URL=http://127.0.0.1:PORT node --test interop.test.mjs
// scripts/a2a-interop-js.sh installs the client, starts each demo (axum `demo`, actix
// `actix-demo`) on a free port with `--no-simulate --keep-alive-ms 2000 --plan-step-ms 50`,
// runs this file against it and stops it.
//
// Everything goes through the SDK's public client API: the card from
// `DefaultAgentCardResolver`, a client per binding from `ClientFactory` (the binding picked
// with `preferredTransports`), then `sendMessageStream`, `resubscribeTask` and `getTask`.
// The transports get a recording `fetchImpl`, so each test also checks which routes (and
// JSON-RPC methods) the calls went to. The demos are agents: the text of a message picks a
// scripted plan (notes: "The demos as agents"); `report` (anything without another
// keyword) and `slow` are used here.
//
// The cases, for each binding:
// - card: the card lists both interfaces (protocol version 1.0, the documented routes)
//   and streaming, and the factory builds a client on the chosen binding;
// - stream_send: SendStreamingMessage `report`: the task first (SUBMITTED, history = the
//   user's message, the message's contextId), then WORKING "collecting sources", the three
//   chunks of `report.md` (`lastChunk` on the third only), COMPLETED "report ready", and
//   the stream ends by itself; GetTask then holds the three chunks' parts as one artifact;
// - subscribe: SendStreamingMessage `slow`, and while it runs (after a few chunks)
//   SubscribeToTask on it from a second client: the task comes first (WORKING, the chunks
//   so far joined), then the following updates, to COMPLETED, and the stream ends; the
//   subscription's updates are exactly the tail of the first stream's, and the snapshot's
//   parts plus the later chunks make GetTask's artifact (none lost, none twice).
//
// Decisions where the contract is silent: `report.md` may be the artifact's `name` or its
// `artifactId`; a task's history may or may not repeat the current status message.

import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";

import { Role, roleToJSON, taskStateToJSON } from "@a2a-js/sdk";
import {
  ClientFactory,
  ClientFactoryOptions,
  DefaultAgentCardResolver,
  JsonRpcTransportFactory,
  RestTransportFactory,
} from "@a2a-js/sdk/client";

const BASE = process.env.A2A_DEMO_URL;
if (!BASE) {
  throw new Error("set A2A_DEMO_URL to the demo's base URL (http://127.0.0.1:PORT)");
}
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
};

// ---------------------------------------------------------------------------------------
// The client, and what it sent

/** A client of one binding, and every request it sent: {method, url, rpc}. */
async function connect(binding) {
  const requests = [];
  const fetchImpl = (url, init = {}) => {
    let rpc = null;
    try {
      rpc = JSON.parse(init.body).method ?? null;
    } catch {
      // not a JSON body
    }
    requests.push({ method: init.method ?? "GET", url: String(url).split("?")[0], rpc });
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
    /** What `operation` must look like on the wire. */
    call(operation, taskId) {
      const [rpc, method, route] = OPERATIONS[operation];
      if (binding === "JSONRPC") return { method: "POST", url: iface.url, rpc };
      return { method, url: iface.url + route.replace("{id}", encodeURIComponent(taskId)), rpc: null };
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
// The cases

for (const [label, binding] of Object.entries(BINDINGS)) {
  describe(`${binding} (${label})`, () => {
    test(`card__${label}`, { timeout: TEST_TIMEOUT }, async () => {
      const session = await connect(binding);
      const { card } = session;
      assert.equal(card.capabilities?.streaming, true, "capabilities.streaming");
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
  });
}
