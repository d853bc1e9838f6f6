#!/usr/bin/env python3
"""Interop test: the official A2A Python client (`a2a-sdk` 1.x) against both demo servers,
over both of the binding's transports, JSON-RPC and HTTP+JSON.

Usage: test_interop.py AXUM_DEMO ACTIX_DEMO [unittest options]
       (or set A2A_INTEROP_AXUM_DEMO and A2A_INTEROP_ACTIX_DEMO)

scripts/a2a-interop.sh builds the demos, installs requirements.txt into a virtualenv and
runs this file with it.

Each demo is started on a free loopback port (`--addr 127.0.0.1:0`, the port read from its
banner) with `--no-simulate --keep-alive-ms 2000 --plan-step-ms 50` and push notifications
on (`--push --push-allow-host 127.0.0.1 --push-secret WEBHOOK_SECRET`: loopback receivers
allowed, deliveries signed with a fixed test secret), and stopped when its tests are done,
whether they passed or not. Beside each demo runs a webhook receiver: the standard
library's `http.server` in a thread on a free loopback port, keeping every request it gets
(method, path, headers, the body's bytes) and answering each 200 with a Content-Length;
each test gets receiver paths of its own. The demos are agents (notes: "The demos as
agents"): a message starts a scripted plan chosen by a keyword of its text (`ping`,
`deploy`, `review`, `slow`, anything else = `report`), one step every `--plan-step-ms`.
Plans of the older cases are driven through the demo's publish route with urllib instead;
everything on the A2A side goes through the SDK's public client API only: the card from
`A2ACardResolver`, a client per binding from `ClientFactory`, then `send_message` (a push
config inline in its `SendMessageConfiguration.task_push_notification_config`), `get_task`,
`list_tasks`, `cancel_task`, `subscribe` and the four push config calls
(`create_task_push_notification_config`, `get_task_push_notification_config`,
`list_task_push_notification_configs`, `delete_task_push_notification_config`), with a
`ClientCallContext` for a per-call header. The httpx client we hand the SDK has a recording
transport: every request (method, URL, headers, its JSON body, the JSON-RPC method) is
kept, and every SSE response is read through a tee that notes each frame's `id:` (the SDK
ignores SSE ids; the resume case needs them). So each test also checks that the calls went
to the chosen binding's routes and methods.

The cases, each run for every (demo, binding) pair as its own test method:

- card: the card names the binding's interface (protocol version 1.0, the documented
  route on this server), streaming and push notifications, and the factory builds a client
  for it;
- subscribe: on a running plan, the client receives the task snapshot first, then every
  update published after it, in order, and the stream ends at the terminal status;
- get_task: returns the same task as the subscription's snapshot while the plan runs,
  and the folded task (chunks joined, earlier status messages as history) once it ended;
- unknown_task: SubscribeToTask (and GetTask) raise the SDK's TaskNotFoundError;
- finished_task: SubscribeToTask on a completed task raises UnsupportedOperationError;
- stream_send: SendStreamingMessage `report`: the task first (SUBMITTED, history = the
  user's message, the message's contextId), then WORKING "collecting sources", the three
  chunks of `report.md` (`append` on the 2nd and 3rd, `lastChunk` on the 3rd only), then
  COMPLETED "report ready", and the stream ends; GetTask then holds the three chunks'
  parts as one artifact;
- send_blocking: SendMessage `report` (blocking, no contextId): one final task, COMPLETED,
  its artifact assembled (one `report.md`, three parts), a new UUID as contextId, the
  user's message first in history; GetTask answers the same task;
- send_return_immediately: SendMessage `slow` with `returnImmediately`: the task comes
  back SUBMITTED or WORKING, and runs on to COMPLETED with its 60 chunks (GetTask polled);
- message_only: `ping`, streaming and not: a single Message, role agent, text `pong`;
  ListTasks of its context is empty, and a task id the answer names is unknown to GetTask
  (no task was made);
- failed_plan: SendStreamingMessage `deploy`: task, WORKING "building", FAILED "deployment
  failed" and the end (the native `error` event has no A2A item);
- get_history: GetTask of a finished `report` task without historyLength gives the whole
  history (the user's message first, then the agent's "collecting sources"; each message
  once); historyLength 0 gives none, 1 and 2 the newest one and two;
- list_tasks: three `report` tasks in a fresh context: ListTasks by context gives the
  three, newest first, `totalSize` 3, no artifacts unless `includeArtifacts`; pageSize 2
  gives two and a `nextPageToken`, that token the third and an empty token;
- cancel: a `slow` plan followed by SendStreamingMessage is canceled after a few chunks:
  CancelTask returns it CANCELED, the stream ends at the CANCELED status, GetTask holds
  exactly the chunks the stream saw; a second cancel, and a cancel of a COMPLETED task,
  raise TaskNotCancelableError;
- input_required: SendStreamingMessage `review`: task, WORKING, INPUT_REQUIRED "approve
  the plan?" and the stream ends; a follow-up SendMessage with only the `taskId` continues
  the same task in the same context to COMPLETED; its history then holds, in this order,
  the user's `review`, the agent's "approve the plan?", the user's follow-up and the
  agent's "approved";
- resubscribe: a `slow` plan followed by SendStreamingMessage is dropped after a few
  chunks; SubscribeToTask then gets the task (WORKING, the chunks so far joined, at least
  those the dropped stream saw) and the rest of the chunks to COMPLETED; GetTask's
  artifact is exactly the snapshot's parts plus the later chunks (none lost, none twice);
- resume: beyond the specification, the same drop, a pause of ten plan steps, then
  SubscribeToTask with the HTTP header `Last-Event-ID` = the SSE id of the last frame the
  dropped stream handed to the client (the SDK's per-call `service_parameters`): the
  missed updates are replayed and the live ones follow, no task first (the demo's history
  reaches back), every frame id above the one sent, the two streams together exactly the
  plan's updates: WORKING, 60 chunks whose parts make GetTask's artifact, COMPLETED;
- resume_finished: the same drop (after one chunk), then the task completes while nobody
  listens; SubscribeToTask with `Last-Event-ID` still replays the rest to COMPLETED (the
  two streams together exactly the plan's updates) and ends, while `Last-Event-ID` = the
  terminal frame's id is refused before any item (UnsupportedOperationError), as a
  finished task without one is;
- push_configs: on a `review` task waiting for input (SendMessage, blocking): create a
  config with an id, a token and `authentication` (Bearer): the answer is that config, its
  taskId the task's; GetTaskPushNotificationConfig answers it too; a second config with
  only a URL gets an id from the agent; List gives both (and no nextPageToken); Delete
  answers nothing, then Get raises TaskNotFoundError, a second Delete is fine, List gives
  the second only; Create on an unknown task raises TaskNotFoundError; nothing was
  delivered by then. Each
  call went to its JSON-RPC method or HTTP+JSON route (`/tasks/{id}/pushNotificationConfigs`
  [`/{configId}`], POST, GET, GET, DELETE). The follow-up then finishes the task: the kept
  config receives exactly WORKING "approved" and COMPLETED (the user's message is not
  delivered), and nothing more; the deleted one receives nothing;
- push_delivery: SendMessage `report`, streaming and then blocking, each with a config
  inline (URL, token, Bearer credentials; the SDK sends it as
  `configuration.taskPushNotificationConfig`, checked on the wire): the receiver gets the
  plan's updates in order, WORKING, the three `report.md` chunks (`lastChunk` on the third),
  COMPLETED "report ready", each a POST of one StreamResponse JSON (`statusUpdate` or
  `artifactUpdate` of this task; it parses as the SDK's `StreamResponse`) with
  `Content-Type: application/a2a+json`, its Content-Length, `Authorization: Bearer <the
  credentials>`, `X-A2A-Notification-Token: <the token>`, a distinct `A2A-Event-Id`, and a
  Standard Webhooks signature that PyPI `standardwebhooks` (`Webhook(secret).verify(body,
  headers)`) accepts with the demos' secret, and rejects with another secret, over the body
  with a space appended, and over the body with a state renamed; streaming, the deliveries
  are exactly the stream's items after its task; their chunks make GetTask's artifact; and
  nothing more comes after COMPLETED. The same checks apply to the kept config of
  push_configs (which has no token and no authentication: no such headers).

The SDK can send a push config inline (`SendMessageConfiguration` has a
`task_push_notification_config` field, written as `taskPushNotificationConfig`), so
push_delivery needs no config created after the task started.

Decisions where the contract is silent (nobody to ask; a failure here names them):
- The `report.md` artifact may carry that string as its `name` or as its `artifactId`.
- The first chunk's `append` flag is not checked (appending to nothing is the same).
- A task's history may or may not repeat the current status message at its end; any
  other agent message in it must be one of the plan's, in the plan's order.
- History is chronological: a follow-up the user sent while the task was INPUT_REQUIRED
  comes after the agent's "approve the plan?" that asked for it.
- A message-only answer may carry a `taskId` (the reference SDK agent's does too: the id
  its request context made), as long as it names no task: the contract's "no task" is
  checked as ListTasks and GetTask see it.
- CancelTask answers the task already CANCELED (as the reference SDK agent does).
- ListTasks is newest first by status time (the specification's order), so three tasks
  run one after the other come back in reverse.
- SSE ids are decimal and strictly increase on a stream (docs/wire-format.md).
- A push config that is not there (any more) is TaskNotFoundError on Get, as the reference
  SDK's own server says it; its Delete is idempotent (it answers `{}`, so the SDK's None).
- Push is "at least once": a delivery that comes again with the same `webhook-id` (a retry)
  must carry the same body and counts once; "in order" is the order of first arrival; no
  duplicate came in any run so far (the receiver answers at once).
- "Nothing more" after a task ended: no new delivery within ten plan steps.
- Not checked: paging of ListTaskPushNotificationConfigs (`pageSize`, `pageToken`): the
  demos answer every config and an empty nextPageToken whatever `pageSize` says.

The SDK parses into protobuf messages and writes them back with `MessageToDict`, which
leaves out default values, rewrites timestamps and turns numbers inside `data` and
`metadata` into floats; `content` compares what both sides mean, not their bytes.
"""

import asyncio
import contextlib
import datetime
import http.server
import json
import logging
import os
import re
import selectors
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import httpx
from google.protobuf.json_format import MessageToDict, Parse
from standardwebhooks import Webhook, WebhookVerificationError

from a2a.client import A2ACardResolver, ClientCallContext, ClientConfig, ClientFactory
from a2a.types import (
    AuthenticationInfo,
    CancelTaskRequest,
    DeleteTaskPushNotificationConfigRequest,
    GetTaskPushNotificationConfigRequest,
    GetTaskRequest,
    ListTaskPushNotificationConfigsRequest,
    ListTasksRequest,
    Message,
    Part,
    Role,
    SendMessageConfiguration,
    SendMessageRequest,
    StreamResponse,
    SubscribeToTaskRequest,
    TaskNotCancelableError,
    TaskNotFoundError,
    TaskPushNotificationConfig,
    TaskState,
    UnsupportedOperationError,
)
from a2a.utils.constants import AGENT_CARD_WELL_KNOWN_PATH, TransportProtocol

# Generous: the machine may be busy compiling.
START_TIMEOUT = 30
# Longest wait for one expected thing (a first item, the end of a stream, a publish).
WAIT = 15
# Upper bound for one test.
TEST_TIMEOUT = 60
# How long a subscription stays idle before the updates come: longer than the client's
# default 5 s read timeout, so the stream only survives thanks to the demo's keep-alive.
IDLE = 6
# The demos' `--plan-step-ms`: a `report` plan takes about 5 steps, a `slow` one 62.
STEP_MS = 50
STEP = STEP_MS / 1000
# A `slow` plan: 60 chunks of `report.md`.
SLOW_CHUNKS = 60
# The demos' Standard Webhooks signing secret (`--push-secret`): a fixed test value, 24
# random bytes in base64 behind the scheme's `whsec_` prefix.
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
# Another secret, which must not verify the demos' signatures.
OTHER_SECRET = "whsec_c2VjcmV0LW5vdC10aGUtZGVtb3M="

BINDINGS = {
    "jsonrpc": TransportProtocol.JSONRPC.value,  # "JSONRPC"
    "http_json": TransportProtocol.HTTP_JSON.value,  # "HTTP+JSON"
}
# The interface URL each binding must have on the demos (docs/a2a.md, "Routes").
INTERFACE_PATHS = {"JSONRPC": "/a2a/jsonrpc", "HTTP+JSON": "/a2a"}

DEMOS = {
    "axum": os.environ.get("A2A_INTEROP_AXUM_DEMO"),
    "actix": os.environ.get("A2A_INTEROP_ACTIX_DEMO"),
}
LOGS = Path(os.environ.get("A2A_INTEROP_LOGS") or tempfile.mkdtemp(prefix="a2a-interop-"))


# ---------------------------------------------------------------------------------------
# Comparing on content


def content(value, key=None):
    """What a v1 JSON value means, however it was written: fields with default values
    (`false`, `""`, `[]`, `{}`, null) left out, numbers as floats, timestamps as instants."""
    if isinstance(value, dict):
        items = ((k, content(v, k)) for k, v in value.items())
        return {k: v for k, v in items if not is_default(v)}
    if isinstance(value, list):
        return [content(v) for v in value]
    if key == "timestamp" and isinstance(value, str):
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def is_default(value):
    return value is None or value is False or value in ("", [], {})


def received(message):
    """The content of a protobuf message the SDK handed us."""
    return content(MessageToDict(message))


# ---------------------------------------------------------------------------------------
# A plan, its events and what they must become


class Plan:
    """One task (a plan of its own, fresh id) and the events the tests publish to it, as
    the v1 JSON the publish route takes."""

    def __init__(self, label):
        self.id = f"interop-{label}-{uuid.uuid4().hex[:8]}"
        self.context = f"ctx-{self.id}"

    def status(self, state, message_id, text, timestamp):
        return "status-update", {
            "taskId": self.id,
            "contextId": self.context,
            "status": {
                "state": f"TASK_STATE_{state}",
                "message": message(message_id, text),
                "timestamp": timestamp,
            },
        }

    def artifact(self, artifact, append=None, last_chunk=None):
        data = {"taskId": self.id, "contextId": self.context, "artifact": artifact}
        if append is not None:
            data["append"] = append
        if last_chunk is not None:
            data["lastChunk"] = last_chunk
        return "artifact-update", data

    # The plan the subscribe and get_task tests run: a working status, then (after the
    # snapshot) an artifact in two chunks, a data artifact, another status, and the end.

    def working(self):
        return self.status("WORKING", "m-start", "planning", "2026-01-02T03:04:05.101Z")

    def updates(self):
        return [
            self.artifact(REPORT_FIRST_CHUNK, last_chunk=False),
            self.artifact(REPORT_SECOND_CHUNK, append=True, last_chunk=True),
            self.artifact(NUMBERS),
            self.status("WORKING", "m-half", "halfway", "2026-01-02T03:04:06.202Z"),
            self.status("COMPLETED", "m-done", "done", "2026-01-02T03:04:07.303Z"),
        ]

    def task(self, status, artifacts=(), history=()):
        """A v1 `Task` of this plan."""
        return {
            "id": self.id,
            "contextId": self.context,
            "status": status,
            "artifacts": list(artifacts),
            "history": list(history),
        }


def message(message_id, text):
    return {"messageId": message_id, "role": "ROLE_AGENT", "parts": [{"text": text}]}


REPORT_FIRST_CHUNK = {
    "artifactId": "a-report",
    "name": "report",
    "parts": [{"text": "first chunk", "mediaType": "text/plain"}],
}
REPORT_SECOND_CHUNK = {"artifactId": "a-report", "parts": [{"text": ", second chunk"}]}
# The report once both chunks are in (`append: true` adds the parts).
REPORT_JOINED = {
    **REPORT_FIRST_CHUNK,
    "parts": REPORT_FIRST_CHUNK["parts"] + REPORT_SECOND_CHUNK["parts"],
}
NUMBERS = {
    "artifactId": "a-numbers",
    "parts": [
        {"data": {"rows": 3, "unit": "ms", "values": [1, 2.5]}, "mediaType": "application/json"}
    ],
}


def stream_item(event):
    """The `StreamResponse` an update must arrive as."""
    kind, data = event
    return {{"status-update": "statusUpdate", "artifact-update": "artifactUpdate"}[kind]: data}


# ---------------------------------------------------------------------------------------
# The demo servers


class Demo:
    """A demo server process on a free loopback port."""

    def __init__(self, name, binary):
        LOGS.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log_path = LOGS / f"{name}.log"
        self.log = open(self.log_path, "wb")
        self.proc = None
        self.drain = threading.Thread(target=self._drain, daemon=True)
        try:
            self.proc = subprocess.Popen(
                [
                    binary,
                    *("--addr", "127.0.0.1:0", "--no-simulate", "--keep-alive-ms", "2000"),
                    *("--plan-step-ms", str(STEP_MS)),
                    # Push notifications on, to the tests' receiver on loopback (which the
                    # address guard refuses unless allowed), signed with the test secret.
                    *("--push", "--push-allow-host", "127.0.0.1"),
                    *("--push-secret", WEBHOOK_SECRET),
                ],
                stdout=subprocess.PIPE,
                stderr=self.log,
            )
            self.base = self._read_banner()
            # Everything it prints from now on goes to the log, so its pipe never fills.
            self.drain.start()
            self._wait_until_it_answers()
        except BaseException:
            self.stop()
            raise

    def _read_banner(self):
        selector = selectors.DefaultSelector()
        selector.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not selector.select(timeout=deadline - time.monotonic()):
                break
            line = self.proc.stdout.readline().decode()
            if not line:
                break
            self.log.write(line.encode())
            match = re.search(r"listening on (http://\S+)", line)
            if match:
                return match.group(1)
        raise RuntimeError(f"the {self.name} demo printed no address; see {self.log_path}")

    def _drain(self):
        for line in self.proc.stdout:
            self.log.write(line)
            self.log.flush()

    def _wait_until_it_answers(self):
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(self.base + AGENT_CARD_WELL_KNOWN_PATH, timeout=5):
                    return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"the {self.name} demo does not answer; see {self.log_path}")
                time.sleep(0.1)

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            if self.drain.is_alive():
                self.drain.join(timeout=10)
            self.proc.stdout.close()
        self.log.close()

    def publish(self, plan, event):
        """Publishes one event to the plan with the demo's publish route (202 expected)."""
        kind, data = event
        request = urllib.request.Request(
            f"{self.base}/a2a/plans/{plan.id}/events",
            data=json.dumps({"kind": kind, "data": data}).encode(),
            headers={"content-type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=WAIT) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read()
        if status != 202:
            raise AssertionError(f"publish {kind} to {plan.id}: HTTP {status} {body!r}")


# ---------------------------------------------------------------------------------------
# The webhook receiver the demos push to


class Delivery:
    """One request the receiver got: method, path, headers (the names in lower case; every
    value of a repeated header in `all_headers`), the body's bytes as they came."""

    def __init__(self, method, path, header_items, body):
        self.method = method
        self.path = path
        self.all_headers = [(k.lower(), v) for k, v in header_items]
        self.headers = dict(self.all_headers)
        self.body = body

    def values(self, name):
        return [v for k, v in self.all_headers if k == name]

    def json(self):
        return json.loads(self.body)

    def describe(self):
        try:
            body = self.json()
            update = body.get("statusUpdate") or body.get("artifactUpdate") or {}
            what = update.get("status", {}).get("state") or update.get("artifact", {}).get(
                "artifactId"
            )
            return f"{self.method} {self.path} {list(body)} {what}"
        except Exception:  # for a failure message, whatever the body is
            return f"{self.method} {self.path} {self.body[:80]!r}"


class WebhookReceiver:
    """A webhook receiver on a free loopback port: the standard library's HTTP server in a
    thread of its own, keeping every request it gets (whatever its method and path) and
    answering each 200 with an empty body and a Content-Length (HTTP/1.1, so the sender may
    keep the connection). Each test gets paths of its own (`new_path`)."""

    def __init__(self):
        self.deliveries = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_one_request(self):
                # Every method, so that a wrong one is kept and shows in a failure.
                self.raw_requestline = self.rfile.readline(65537)
                if not self.raw_requestline:
                    self.close_connection = True
                    return
                if not self.parse_request():
                    return
                receiver._keep(self)
                self.wfile.flush()

            def log_message(self, format, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _keep(self, handler):
        if handler.headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while size := int(handler.rfile.readline().split(b";")[0], 16):
                body += handler.rfile.read(size)
                handler.rfile.readline()
            while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
        else:
            body = handler.rfile.read(int(handler.headers.get("content-length") or 0))
        delivery = Delivery(handler.command, handler.path, handler.headers.items(), body)
        with self._changed:
            self.deliveries.append(delivery)
            self._changed.notify_all()
        handler.send_response(200)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    @staticmethod
    def new_path(label):
        return f"/hooks/{label}-{uuid.uuid4().hex[:8]}"

    def url(self, path):
        return self.base + path

    def on(self, path):
        """What came to `path` so far, in arrival order."""
        with self._changed:
            return [d for d in self.deliveries if d.path == path]

    def wait_for(self, path, count, timeout=WAIT):
        """What came to `path` once `count` requests came there (blocking: run it with
        `in_background`); an AssertionError listing what came if they don't in time."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(got := [d for d in self.deliveries if d.path == path]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    lines = "\n  ".join(d.describe() for d in got) or "(nothing)"
                    raise AssertionError(f"{len(got)} of {count} deliveries to {path}:\n  {lines}")
                self._changed.wait(left)
            return got

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------------------------------
# The official client, and what it sent and received on the wire


class Exchange:
    """One HTTP request the SDK sent: method, URL, headers, its JSON body (if it has one),
    the JSON-RPC method (if that is a JSON-RPC request), and the frames of its response if
    that is an SSE stream, as far as they were read (each a dict of the frame's fields:
    `id`, `event`, `data`)."""

    def __init__(self, request):
        self.method = request.method
        self.url = str(request.url)
        self.path = self.url.split("?", 1)[0]
        self.headers = request.headers
        self.json = None
        self.rpc_method = None
        with contextlib.suppress(Exception):
            self.json = json.loads(request.content)
            self.rpc_method = self.json.get("method")
        self.frames = []


class SseTee(httpx.AsyncByteStream):
    """Passes an SSE body through unchanged, noting each frame on the way."""

    def __init__(self, inner, frames):
        self._inner = inner
        self._frames = frames
        self._pending = b""
        self._frame = {}

    async def __aiter__(self):
        async for chunk in self._inner:
            self._pending += chunk
            while True:
                line, newline, rest = self._pending.partition(b"\n")
                if not newline:
                    break
                self._pending = rest
                self._line(line.rstrip(b"\r").decode())
            yield chunk

    def _line(self, line):
        if not line:
            if "data" in self._frame:
                self._frames.append(self._frame)
            self._frame = {}
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "data" and "data" in self._frame:
                value = self._frame["data"] + "\n" + value
            self._frame[field] = value

    async def aclose(self):
        await self._inner.aclose()


class Recorder(httpx.AsyncBaseTransport):
    """The transport of the httpx client handed to the SDK: records every exchange."""

    def __init__(self):
        self._inner = httpx.AsyncHTTPTransport()
        self.exchanges = []

    async def handle_async_request(self, request):
        exchange = Exchange(request)
        self.exchanges.append(exchange)
        response = await self._inner.handle_async_request(request)
        if "text/event-stream" in response.headers.get("content-type", ""):
            return httpx.Response(
                response.status_code,
                headers=response.headers,
                stream=SseTee(response.stream, exchange.frames),
                extensions=response.extensions,
                request=request,
            )
        return response

    async def aclose(self):
        await self._inner.aclose()


# Each operation's JSON-RPC method, and its HTTP+JSON route below the interface URL.
OPERATIONS = {
    "send": ("SendMessage", "POST", "/message:send"),
    "stream": ("SendStreamingMessage", "POST", "/message:stream"),
    "get": ("GetTask", "GET", "/tasks/{id}"),
    "list": ("ListTasks", "GET", "/tasks"),
    "cancel": ("CancelTask", "POST", "/tasks/{id}:cancel"),
    "subscribe": ("SubscribeToTask", "POST", "/tasks/{id}:subscribe"),
    "push_create": (
        "CreateTaskPushNotificationConfig",
        "POST",
        "/tasks/{id}/pushNotificationConfigs",
    ),
    "push_get": (
        "GetTaskPushNotificationConfig",
        "GET",
        "/tasks/{id}/pushNotificationConfigs/{config}",
    ),
    "push_list": ("ListTaskPushNotificationConfigs", "GET", "/tasks/{id}/pushNotificationConfigs"),
    "push_delete": (
        "DeleteTaskPushNotificationConfig",
        "DELETE",
        "/tasks/{id}/pushNotificationConfigs/{config}",
    ),
}


class Session:
    """A client of one binding, built from the card the SDK resolved, and every HTTP
    request it sent."""

    def __init__(self, card, client, recorder, binding):
        self.card = card
        self.client = client
        self.recorder = recorder
        self.binding = binding
        self.interface = next(
            (i.url for i in card.supported_interfaces if i.protocol_binding == binding), None
        )

    @property
    def exchanges(self):
        return self.recorder.exchanges

    @property
    def requests(self):
        """(method, URL) of every request so far."""
        return [(e.method, e.url) for e in self.exchanges]

    def request(self, operation, task_id):
        """The request `operation` must be on this session's binding."""
        if self.binding == "JSONRPC":
            return ("POST", self.interface)  # every JSON-RPC call goes to the one endpoint
        if operation == "subscribe":
            return ("POST", f"{self.interface}/tasks/{task_id}:subscribe")
        return ("GET", f"{self.interface}/tasks/{task_id}")

    def call(self, operation, task_id=None, config_id=None):
        """What `operation` must look like on the wire: (HTTP method, URL without the
        query, JSON-RPC method or None)."""
        rpc_method, method, route = OPERATIONS[operation]
        if self.binding == "JSONRPC":
            return ("POST", self.interface, rpc_method)
        return (method, self.interface + route.format(id=task_id, config=config_id), None)

    def calls(self):
        """What every request after the card looked like, as `call` writes it."""
        return [(e.method, e.path, e.rpc_method) for e in self.exchanges[1:]]

    def exchange(self, operation, task_id=None, nth=0):
        """The `nth` exchange (from 0) that was `operation`."""
        matching = [
            e
            for e in self.exchanges
            if (e.method, e.path, e.rpc_method) == self.call(operation, task_id)
        ]
        return matching[nth]


@contextlib.asynccontextmanager
async def connect(base, binding, streaming=True):
    recorder = Recorder()
    # httpx's default timeout, as the SDK would configure it (5 s per read).
    async with httpx.AsyncClient(transport=recorder) as http:
        card = await A2ACardResolver(http, base).get_agent_card(
            relative_card_path=AGENT_CARD_WELL_KNOWN_PATH
        )
        config = ClientConfig(
            streaming=streaming, httpx_client=http, supported_protocol_bindings=[binding]
        )
        client = ClientFactory(config).create(card)
        try:
            yield Session(card, client, recorder, binding)
        finally:
            await client.close()


class Follower:
    """An SDK stream read in the background, collecting what it yields."""

    def __init__(self, stream):
        self.items = []
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._follow(stream))

    async def _follow(self, stream):
        try:
            async with contextlib.aclosing(stream) as items:
                async for item in items:
                    self.items.append(item)
                    self._changed.set()
        finally:
            self._changed.set()

    async def until(self, predicate, what, timeout=WAIT):
        """Waits until `predicate(items)` holds (raising what the stream raised, if it
        failed, or an AssertionError naming `what` if it ended or took too long)."""
        deadline = time.monotonic() + timeout
        while not predicate(self.items):
            if self._task.done():
                self._task.result()  # raises the stream's error, if any
                raise AssertionError(f"the stream ended before {what}: {describe(self.items)}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {what} within {timeout} s: {describe(self.items)}")
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=left)

    async def first_item(self):
        await self.until(bool, "first item")
        return self.items[0]

    async def end(self, timeout=WAIT):
        """Waits for the stream to end by itself (False if it did not within `timeout`),
        raising what it raised."""
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=timeout)
            return True
        except asyncio.TimeoutError:
            return False

    async def cancel(self):
        """Stops reading and closes the stream (the connection is dropped)."""
        self._task.cancel()
        with contextlib.suppress(BaseException):
            await self._task


class Subscription(Follower):
    """`client.subscribe` running in the background, collecting what it yields."""

    def __init__(self, session, task_id):
        super().__init__(session.client.subscribe(SubscribeToTaskRequest(id=task_id)))


async def collect(stream, timeout=WAIT):
    """Every item of an SDK stream, which must end by itself within `timeout`."""
    follower = Follower(stream)
    try:
        if not await follower.end(timeout):
            raise AssertionError(
                f"the stream did not end within {timeout} s: {describe(follower.items)}"
            )
    finally:
        await follower.cancel()
    return follower.items


async def in_background(call, *args):
    """A blocking call (a publish) off the event loop, so the client keeps reading."""
    return await asyncio.to_thread(call, *args)


# ---------------------------------------------------------------------------------------
# Messages to the agent, and reading what it answers


def user_message(text, *, context_id="", task_id=""):
    """A user's message of one text part, with a fresh id."""
    return Message(
        message_id=f"interop-msg-{uuid.uuid4().hex[:12]}",
        role=Role.ROLE_USER,
        parts=[Part(text=text)],
        context_id=context_id,
        task_id=task_id,
    )


def send_request(message, *, return_immediately=False, push=None):
    """A SendMessageRequest; `push`, a TaskPushNotificationConfig, goes inline in its
    configuration (`SendMessageConfiguration.task_push_notification_config`)."""
    request = SendMessageRequest(message=message)
    if return_immediately or push is not None:
        request.configuration.CopyFrom(
            SendMessageConfiguration(
                return_immediately=return_immediately, task_push_notification_config=push
            )
        )
    return request


def new_context():
    return f"interop-ctx-{uuid.uuid4().hex[:12]}"


# Texts that pick each script (by keyword; none holds another script's keyword).
REPORT = "write the quarterly report"
SLOW = "a slow report please"
REVIEW = "review the rollout plan"
DEPLOY = "deploy the service"
PING = "ping"


def kind(item):
    """`task`, `message`, `status_update` or `artifact_update`."""
    return item.WhichOneof("payload")


def state(status_holder):
    """The short name of a task's or a status update's state (`WORKING`, ...)."""
    return TaskState.Name(status_holder.status.state).removeprefix("TASK_STATE_")


def text(message):
    return "".join(part.text for part in message.parts)


def describe(items):
    """A short line per stream item, for failure messages."""
    lines = []
    for item in items:
        k = kind(item)
        if k == "task":
            lines.append(f"task {state(item.task)} ({len(item.task.artifacts)} artifacts)")
        elif k == "message":
            lines.append(f"message {text(item.message)!r}")
        elif k == "status_update":
            u = item.status_update
            lines.append(f"status {state(u)} {text(u.status.message)!r}")
        elif k == "artifact_update":
            u = item.artifact_update
            lines.append(
                f"artifact {u.artifact.artifact_id}/{u.artifact.name} +{len(u.artifact.parts)}"
                f"{' append' if u.append else ''}{' last' if u.last_chunk else ''}"
            )
        else:
            lines.append(f"? {item}")
    return "\n  " + "\n  ".join(lines) if lines else "(nothing)"


def is_report(artifact):
    return "report.md" in (artifact.name, artifact.artifact_id)


def parts(artifact):
    """An artifact's parts, as content."""
    return [received(p) for p in artifact.parts]


def chunk_parts(items):
    """The parts the artifact updates among `items` carry, in order."""
    return [
        received(p)
        for item in items
        if kind(item) == "artifact_update"
        for p in item.artifact_update.artifact.parts
    ]


def report_of(task):
    """The task's one `report.md` artifact."""
    reports = [a for a in task.artifacts if is_report(a)]
    if len(reports) != 1:
        raise AssertionError(f"not one report.md artifact in {received(task)}")
    return reports[0]


def history_lines(task):
    """(role, text) of each message in the task's history."""
    return [(Role.Name(m.role), text(m)) for m in task.history]


# ---------------------------------------------------------------------------------------
# The cases


class InteropCases:
    """The checks, for one demo; `check_<case>(binding)` is a test per binding."""

    demo_name = None
    maxDiff = None  # show the whole difference between what came and what should have

    @classmethod
    def setUpClass(cls):
        binary = DEMOS[cls.demo_name]
        if not binary:
            raise RuntimeError(f"no path to the {cls.demo_name} demo (see the usage)")
        cls.demo = Demo(cls.demo_name, binary)
        cls.addClassCleanup(cls.demo.stop)
        cls.receiver = WebhookReceiver()
        cls.addClassCleanup(cls.receiver.stop)

    def plan(self, binding):
        return Plan(f"{self.demo_name}-{binding.lower().replace('+', '-')}")

    async def check_card(self, binding):
        async with connect(self.demo.base, binding) as session:
            self.assertEqual(
                session.requests, [("GET", self.demo.base + "/.well-known/agent-card.json")]
            )
            card = session.card
            self.assertTrue(card.capabilities.streaming, "capabilities.streaming")
            self.assertTrue(card.capabilities.push_notifications, "capabilities.pushNotifications")
            interfaces = [i for i in card.supported_interfaces if i.protocol_binding == binding]
            self.assertEqual(len(interfaces), 1, f"one {binding} interface in {card}")
            self.assertEqual(interfaces[0].protocol_version, "1.0")
            self.assertEqual(interfaces[0].url, self.demo.base + INTERFACE_PATHS[binding])
            self.assertTrue(card.name)

    async def check_subscribe(self, binding):
        plan = self.plan(binding)
        self.demo.publish(plan, plan.working())
        async with connect(self.demo.base, binding) as session:
            subscription = Subscription(session, plan.id)
            try:
                snapshot = await subscription.first_item()
                self.assertEqual(
                    received(snapshot), content({"task": plan.task(plan.working()[1]["status"])})
                )
                # Idle for longer than the client's read timeout: the keep-alive holds it.
                await asyncio.sleep(IDLE)
                for event in plan.updates():
                    await in_background(self.demo.publish, plan, event)
                ended = await subscription.end()
            finally:
                await subscription.cancel()
            self.assertTrue(ended, "the stream did not end after the terminal status")
            self.assertEqual(
                [received(item) for item in subscription.items[1:]],
                [content(stream_item(event)) for event in plan.updates()],
            )
            self.assertEqual(session.requests[1:], [session.request("subscribe", plan.id)])

    async def check_get_task(self, binding):
        plan = self.plan(binding)
        working = plan.working()
        self.demo.publish(plan, working)
        async with connect(self.demo.base, binding) as session:
            subscription = Subscription(session, plan.id)
            try:
                snapshot = await subscription.first_item()
                running = await session.client.get_task(GetTaskRequest(id=plan.id))
                self.assertTrue(snapshot.HasField("task"), received(snapshot))
                self.assertEqual(received(running), received(snapshot.task))
                for event in plan.updates():
                    await in_background(self.demo.publish, plan, event)
                self.assertTrue(await subscription.end(), "the stream did not end")
            finally:
                await subscription.cancel()
            finished = await session.client.get_task(GetTaskRequest(id=plan.id))
            completed = plan.updates()[-1][1]["status"]
            self.assertEqual(
                received(finished),
                content(
                    plan.task(
                        completed,
                        artifacts=[REPORT_JOINED, NUMBERS],
                        history=[message("m-start", "planning"), message("m-half", "halfway")],
                    )
                ),
            )
            self.assertEqual(
                session.requests[1:],
                [
                    session.request("subscribe", plan.id),
                    session.request("get", plan.id),
                    session.request("get", plan.id),
                ],
            )

    async def check_unknown_task(self, binding):
        unknown = f"no-such-task-{uuid.uuid4().hex[:8]}"
        async with connect(self.demo.base, binding) as session:
            items = []
            with self.assertRaises(TaskNotFoundError):
                async with asyncio.timeout(WAIT):
                    async for item in session.client.subscribe(SubscribeToTaskRequest(id=unknown)):
                        items.append(item)
            self.assertEqual(items, [])
            with self.assertRaises(TaskNotFoundError):
                await session.client.get_task(GetTaskRequest(id=unknown))
            self.assertEqual(
                session.requests[1:],
                [session.request("subscribe", unknown), session.request("get", unknown)],
            )

    async def check_finished_task(self, binding):
        plan = self.plan(binding)
        self.demo.publish(plan, plan.working())
        self.demo.publish(plan, plan.updates()[-1])  # the completed status
        async with connect(self.demo.base, binding) as session:
            # It is known, and completed...
            task = await session.client.get_task(GetTaskRequest(id=plan.id))
            self.assertEqual(received(task)["status"]["state"], "TASK_STATE_COMPLETED")
            # ...so following it is refused before any item.
            items = []
            with self.assertRaises(UnsupportedOperationError):
                async with asyncio.timeout(WAIT):
                    async for item in session.client.subscribe(SubscribeToTaskRequest(id=plan.id)):
                        items.append(item)
            self.assertEqual(items, [])
            self.assertEqual(
                session.requests[1:],
                [session.request("get", plan.id), session.request("subscribe", plan.id)],
            )

    # -- The demos as agents ------------------------------------------------------------

    def assert_user_message(self, got, sent, task_id, context_id):
        """`got` (in a task's history) is the message the user `sent` to that task."""
        self.assertEqual(got.message_id, sent.message_id)
        self.assertEqual(Role.Name(got.role), "ROLE_USER")
        self.assertEqual([received(p) for p in got.parts], [received(p) for p in sent.parts])
        if got.task_id:
            self.assertEqual(got.task_id, task_id)
        if got.context_id:
            self.assertEqual(got.context_id, context_id)

    def assert_agent_history(self, task, first, plan_texts):
        """The task's history starts with the user's message `first`; the rest are the
        agent's messages, each one of `plan_texts`, in that order, none twice, and at least
        all but the last of them (the last may live in the status only)."""
        self.assertGreaterEqual(len(task.history), 1, received(task))
        self.assert_user_message(task.history[0], first, task.id, task.context_id)
        agent = task.history[1:]
        lines = history_lines(task)
        self.assertTrue(all(Role.Name(m.role) == "ROLE_AGENT" for m in agent), lines)
        texts = [text(m) for m in agent]
        self.assertIn(texts, [plan_texts[:-1], plan_texts], lines)
        ids = [m.message_id for m in task.history]
        self.assertEqual(len(set(ids)), len(ids), f"a message twice in {lines}")

    async def check_stream_send(self, binding):
        context = new_context()
        sent = user_message(REPORT, context_id=context)
        async with connect(self.demo.base, binding) as session:
            items = await collect(session.client.send_message(send_request(sent)))
            summary = describe(items)
            self.assertEqual(
                [kind(i) for i in items],
                ["task", "status_update"] + ["artifact_update"] * 3 + ["status_update"],
                summary,
            )
            task = items[0].task
            self.assertTrue(task.id, summary)
            self.assertEqual(task.context_id, context)
            self.assertEqual(state(task), "SUBMITTED", summary)
            self.assertEqual(len(task.history), 1, received(task))
            self.assert_user_message(task.history[0], sent, task.id, context)
            updates = [getattr(i, kind(i)) for i in items[1:]]
            for update in updates:
                self.assertEqual((update.task_id, update.context_id), (task.id, context))
            working, done = items[1].status_update, items[-1].status_update
            self.assertEqual(
                (state(working), text(working.status.message)), ("WORKING", "collecting sources")
            )
            self.assertEqual(
                (state(done), text(done.status.message)), ("COMPLETED", "report ready")
            )
            for status in (working, done):
                self.assertEqual(Role.Name(status.status.message.role), "ROLE_AGENT")
            chunks = [i.artifact_update for i in items[2:5]]
            self.assertTrue(is_report(chunks[0].artifact), summary)
            self.assertEqual(
                {c.artifact.artifact_id for c in chunks}, {chunks[0].artifact.artifact_id}, summary
            )
            self.assertEqual([c.append for c in chunks[1:]], [True, True], summary)
            self.assertEqual([c.last_chunk for c in chunks], [False, False, True], summary)
            self.assertTrue(all(text(c.artifact) for c in chunks), summary)
            # The task as the agent keeps it: the chunks assembled.
            final = await session.client.get_task(GetTaskRequest(id=task.id))
            self.assertEqual(state(final), "COMPLETED")
            report = report_of(final)
            self.assertEqual(report.artifact_id, chunks[0].artifact.artifact_id)
            self.assertEqual(parts(report), chunk_parts(items))
            self.assertEqual(
                session.calls(), [session.call("stream"), session.call("get", task.id)]
            )

    async def check_send_blocking(self, binding):
        sent = user_message(REPORT)  # no contextId: the agent makes one
        async with connect(self.demo.base, binding, streaming=False) as session:
            items = await collect(session.client.send_message(send_request(sent)))
            self.assertEqual([kind(i) for i in items], ["task"], describe(items))
            task = items[0].task
            self.assertEqual(state(task), "COMPLETED", received(task))
            self.assertEqual(text(task.status.message), "report ready")
            uuid.UUID(task.context_id)  # a new UUID
            report = report_of(task)
            self.assertEqual(len(task.artifacts), 1, received(task))
            self.assertEqual(len(report.parts), 3, received(report))
            self.assertTrue(all(p.text for p in report.parts), received(report))
            self.assert_agent_history(task, sent, ["collecting sources", "report ready"])
            got = await session.client.get_task(GetTaskRequest(id=task.id))
            self.assertEqual(received(got), received(task))
            self.assertEqual(session.calls(), [session.call("send"), session.call("get", task.id)])

    async def check_send_return_immediately(self, binding):
        # A `slow` plan (three seconds): a loaded machine cannot finish it before the answer.
        sent = user_message(SLOW, context_id=new_context())
        async with connect(self.demo.base, binding, streaming=False) as session:
            request = send_request(sent, return_immediately=True)
            items = await collect(session.client.send_message(request))
            self.assertEqual([kind(i) for i in items], ["task"], describe(items))
            task = items[0].task
            self.assertIn(state(task), ("SUBMITTED", "WORKING"), received(task))
            self.assertLess(len(task.artifacts[0].parts) if task.artifacts else 0, SLOW_CHUNKS)
            self.assert_user_message(task.history[0], sent, task.id, sent.context_id)
            # It runs on without the client.
            deadline = time.monotonic() + WAIT + SLOW_CHUNKS * STEP
            while True:
                got = await session.client.get_task(GetTaskRequest(id=task.id))
                if state(got) not in ("SUBMITTED", "WORKING") or time.monotonic() > deadline:
                    break
                await asyncio.sleep(STEP)
            self.assertEqual(state(got), "COMPLETED", received(got))
            self.assertEqual(len(report_of(got).parts), SLOW_CHUNKS, received(got))
            self.assertEqual(session.calls()[0], session.call("send"))
            self.assertEqual(set(session.calls()[1:]), {session.call("get", task.id)})

    async def check_message_only(self, binding):
        context = new_context()
        named = []
        for streaming in (True, False):
            async with connect(self.demo.base, binding, streaming=streaming) as session:
                sent = user_message(PING, context_id=context)
                items = await collect(session.client.send_message(send_request(sent)))
                self.assertEqual([kind(i) for i in items], ["message"], describe(items))
                answer = items[0].message
                self.assertEqual(Role.Name(answer.role), "ROLE_AGENT")
                self.assertEqual(text(answer), "pong")
                self.assertTrue(answer.message_id)
                self.assertNotEqual(answer.message_id, sent.message_id)
                if answer.task_id:
                    named.append(answer.task_id)
                if answer.context_id:
                    self.assertEqual(answer.context_id, context)
                self.assertEqual(session.calls(), [session.call("stream" if streaming else "send")])
        async with connect(self.demo.base, binding) as session:
            listed = await session.client.list_tasks(ListTasksRequest(context_id=context))
            self.assertEqual(list(listed.tasks), [], "ping made a task")
            self.assertEqual(listed.total_size, 0)
            # A task id the answer names is no task.
            for task_id in named:
                with self.assertRaises(TaskNotFoundError):
                    await session.client.get_task(GetTaskRequest(id=task_id))

    async def check_failed_plan(self, binding):
        context = new_context()
        async with connect(self.demo.base, binding) as session:
            sent = user_message(DEPLOY, context_id=context)
            items = await collect(session.client.send_message(send_request(sent)))
            summary = describe(items)
            self.assertEqual(
                [kind(i) for i in items], ["task", "status_update", "status_update"], summary
            )
            self.assertEqual(state(items[0].task), "SUBMITTED", summary)
            statuses = [
                (state(i.status_update), text(i.status_update.status.message)) for i in items[1:]
            ]
            self.assertEqual(statuses, [("WORKING", "building"), ("FAILED", "deployment failed")])
            got = await session.client.get_task(GetTaskRequest(id=items[0].task.id))
            self.assertEqual(state(got), "FAILED")

    async def check_get_history(self, binding):
        sent = user_message(REPORT, context_id=new_context())
        async with connect(self.demo.base, binding, streaming=False) as session:
            [item] = await collect(session.client.send_message(send_request(sent)))
            task_id = item.task.id
            full = await session.client.get_task(GetTaskRequest(id=task_id))
            self.assertEqual(state(full), "COMPLETED")
            self.assert_agent_history(full, sent, ["collecting sources", "report ready"])
            self.assertGreaterEqual(len(full.history), 2)
            for length in (0, 1, 2):
                cut = await session.client.get_task(
                    GetTaskRequest(id=task_id, history_length=length)
                )
                self.assertEqual(
                    [received(m) for m in cut.history],
                    [received(m) for m in full.history][len(full.history) - length :],
                    f"historyLength {length}",
                )
                # Only the history is cut.
                cut.ClearField("history")
                whole = type(full)()
                whole.CopyFrom(full)
                whole.ClearField("history")
                self.assertEqual(received(cut), received(whole))
            if binding == "HTTP+JSON":
                self.assertEqual(
                    [e.url.split("?", 1)[1] for e in session.exchanges[-3:]],
                    ["historyLength=0", "historyLength=1", "historyLength=2"],
                )

    async def check_list_tasks(self, binding):
        context = new_context()
        async with connect(self.demo.base, binding, streaming=False) as session:
            ids = []
            for _ in range(3):
                sent = user_message(REPORT, context_id=context)
                [item] = await collect(session.client.send_message(send_request(sent)))
                self.assertEqual(state(item.task), "COMPLETED")
                ids.append(item.task.id)
            newest_first = ids[::-1]
            sends = len(session.exchanges)

            everything = await session.client.list_tasks(ListTasksRequest(context_id=context))
            self.assertEqual([t.id for t in everything.tasks], newest_first, received(everything))
            self.assertEqual(everything.total_size, 3)
            self.assertEqual(everything.next_page_token, "")
            for task in everything.tasks:
                self.assertEqual(task.context_id, context)
                self.assertEqual(state(task), "COMPLETED")
                self.assertEqual(list(task.artifacts), [], "artifacts without includeArtifacts")

            first = await session.client.list_tasks(
                ListTasksRequest(context_id=context, page_size=2)
            )
            self.assertEqual([t.id for t in first.tasks], newest_first[:2], received(first))
            self.assertTrue(first.next_page_token, "no nextPageToken on the first page")
            self.assertEqual(first.total_size, 3)
            second = await session.client.list_tasks(
                ListTasksRequest(context_id=context, page_size=2, page_token=first.next_page_token)
            )
            self.assertEqual([t.id for t in second.tasks], newest_first[2:], received(second))
            self.assertEqual(second.next_page_token, "", "a nextPageToken on the last page")

            with_artifacts = await session.client.list_tasks(
                ListTasksRequest(context_id=context, include_artifacts=True)
            )
            self.assertEqual([t.id for t in with_artifacts.tasks], newest_first)
            for task in with_artifacts.tasks:
                self.assertEqual(len(report_of(task).parts), 3, received(task))
            self.assertEqual(session.calls()[sends - 1 :], [session.call("list")] * 4)

    async def check_cancel(self, binding):
        context = new_context()
        async with connect(self.demo.base, binding) as session:
            stream = Follower(
                session.client.send_message(send_request(user_message(SLOW, context_id=context)))
            )
            try:
                await stream.until(
                    lambda items: len(chunk_parts(items)) >= 3, "three chunks", timeout=WAIT
                )
                task_id = stream.items[0].task.id
                canceled = await session.client.cancel_task(CancelTaskRequest(id=task_id))
                self.assertEqual(canceled.id, task_id)
                self.assertEqual(state(canceled), "CANCELED", received(canceled))
                ended = await stream.end()
            finally:
                await stream.cancel()
            items = stream.items
            summary = describe(items)
            self.assertTrue(ended, f"the stream did not end after the cancel: {summary}")
            self.assertEqual(kind(items[-1]), "status_update", summary)
            self.assertEqual(state(items[-1].status_update), "CANCELED", summary)
            self.assertEqual(
                [state(i.status_update) for i in items if kind(i) == "status_update"],
                ["WORKING", "CANCELED"],
                summary,
            )
            streamed = chunk_parts(items)
            self.assertLess(len(streamed), SLOW_CHUNKS, "the plan ran to its end")
            got = await session.client.get_task(GetTaskRequest(id=task_id))
            self.assertEqual(state(got), "CANCELED")
            self.assertEqual(parts(report_of(got)), streamed, "chunks after the cancel")
            # A canceled task cannot be canceled again, nor a completed one.
            with self.assertRaises(TaskNotCancelableError):
                await session.client.cancel_task(CancelTaskRequest(id=task_id))
            done = await collect(session.client.send_message(send_request(user_message(REPORT))))
            self.assertEqual(state(done[-1].status_update), "COMPLETED", describe(done))
            with self.assertRaises(TaskNotCancelableError):
                await session.client.cancel_task(CancelTaskRequest(id=done[0].task.id))
            self.assertEqual(
                session.calls(),
                [
                    session.call("stream"),
                    session.call("cancel", task_id),
                    session.call("get", task_id),
                    session.call("cancel", task_id),
                    session.call("stream"),
                    session.call("cancel", done[0].task.id),
                ],
            )

    async def check_input_required(self, binding):
        context = new_context()
        first = user_message(REVIEW, context_id=context)
        async with connect(self.demo.base, binding) as session:
            items = await collect(session.client.send_message(send_request(first)))
            summary = describe(items)
            self.assertEqual([kind(i) for i in items], ["task"] + ["status_update"] * 2, summary)
            task_id = items[0].task.id
            self.assertEqual(
                [state(i.status_update) for i in items[1:]], ["WORKING", "INPUT_REQUIRED"], summary
            )
            self.assertEqual(text(items[-1].status_update.status.message), "approve the plan?")
            waiting = await session.client.get_task(GetTaskRequest(id=task_id))
            self.assertEqual(state(waiting), "INPUT_REQUIRED")
        # The follow-up names the task only; the agent finds its context.
        follow_up = user_message("yes, go ahead", task_id=task_id)
        async with connect(self.demo.base, binding, streaming=False) as session:
            [item] = await collect(session.client.send_message(send_request(follow_up)))
            self.assertEqual(kind(item), "task", describe([item]))
            task = item.task
            self.assertEqual((task.id, task.context_id), (task_id, context))
            self.assertEqual(state(task), "COMPLETED", received(task))
            got = await session.client.get_task(GetTaskRequest(id=task_id))
            lines = history_lines(got)
            ids = [m.message_id for m in got.history]
            self.assertEqual(len(set(ids)), len(ids), f"a message twice in {lines}")
            wanted = [
                ("ROLE_USER", REVIEW),
                ("ROLE_AGENT", "approve the plan?"),
                ("ROLE_USER", "yes, go ahead"),
                ("ROLE_AGENT", "approved"),
            ]
            found = iter(lines)
            self.assertTrue(
                all(line in found for line in wanted), f"{wanted} not in order in {lines}"
            )
            mine = [m for m in got.history if m.message_id == follow_up.message_id]
            self.assertEqual(len(mine), 1, lines)
            self.assert_user_message(mine[0], follow_up, task_id, context)

    async def start_slow_and_drop(self, session, chunks=3):
        """SendStreamingMessage `slow`, read until `chunks` chunks came, then drop the
        connection. Returns the items the client got."""
        stream = Follower(
            session.client.send_message(send_request(user_message(SLOW, context_id=new_context())))
        )
        try:
            await stream.until(lambda items: len(chunk_parts(items)) >= chunks, f"{chunks} chunks")
        finally:
            await stream.cancel()
        items = stream.items
        self.assertEqual(kind(items[0]), "task", describe(items))
        self.assertEqual(kind(items[1]), "status_update", describe(items))
        self.assertEqual(state(items[1].status_update), "WORKING")
        self.assertFalse(
            any(kind(i) == "status_update" and state(i.status_update) != "WORKING" for i in items),
            f"the slow plan ended too soon: {describe(items)}",
        )
        return items

    async def check_resubscribe(self, binding):
        async with connect(self.demo.base, binding) as session:
            before = await self.start_slow_and_drop(session)
            task_id = before[0].task.id
            items = await collect(
                session.client.subscribe(SubscribeToTaskRequest(id=task_id)),
                timeout=WAIT + SLOW_CHUNKS * STEP,
            )
            summary = describe(items)
            self.assertEqual(kind(items[0]), "task", summary)
            snapshot = items[0].task
            self.assertEqual(snapshot.id, task_id)
            self.assertEqual(state(snapshot), "WORKING", summary)
            snapshot_parts = parts(report_of(snapshot))
            seen = chunk_parts(before)
            self.assertEqual(snapshot_parts[: len(seen)], seen, "the snapshot lost chunks")
            self.assertEqual(
                [kind(i) for i in items[1:]],
                ["artifact_update"] * (len(items) - 2) + ["status_update"],
                summary,
            )
            self.assertEqual(state(items[-1].status_update), "COMPLETED", summary)
            final = await session.client.get_task(GetTaskRequest(id=task_id))
            self.assertEqual(state(final), "COMPLETED")
            self.assertEqual(len(report_of(final).parts), SLOW_CHUNKS)
            self.assertEqual(parts(report_of(final)), snapshot_parts + chunk_parts(items[1:]))
            self.assertEqual(
                session.calls(),
                [
                    session.call("stream"),
                    session.call("subscribe", task_id),
                    session.call("get", task_id),
                ],
            )

    async def check_resume(self, binding):
        async with connect(self.demo.base, binding) as session:
            before = await self.start_slow_and_drop(session)
            task_id = before[0].task.id
            frames = session.exchange("stream").frames
            self.assertGreaterEqual(len(frames), len(before))
            ids = [frame.get("id") for frame in frames]
            self.assertTrue(all(i and i.isdigit() for i in ids), f"frame ids {ids}")
            self.assertEqual(ids, sorted(set(ids), key=int), f"frame ids {ids}")
            last_seen = ids[len(before) - 1]
            # Updates go on while nobody listens.
            await asyncio.sleep(10 * STEP)
            resumed = ClientCallContext(service_parameters={"Last-Event-ID": last_seen})
            after = await collect(
                session.client.subscribe(SubscribeToTaskRequest(id=task_id), context=resumed),
                timeout=WAIT + SLOW_CHUNKS * STEP,
            )
            summary = describe(after)
            exchange = session.exchange("subscribe", task_id)
            self.assertEqual(exchange.headers.get("last-event-id"), last_seen)
            self.assertNotIn("task", [kind(i) for i in after], summary)
            # Both streams together: exactly the plan's updates, once each, in order.
            updates = before[1:] + after
            self.assertEqual(
                [kind(i) for i in updates],
                ["status_update"] + ["artifact_update"] * SLOW_CHUNKS + ["status_update"],
                f"before the drop: {describe(before)}\nafter: {summary}",
            )
            self.assertEqual(state(updates[-1].status_update), "COMPLETED")
            final = await session.client.get_task(GetTaskRequest(id=task_id))
            self.assertEqual(parts(report_of(final)), chunk_parts(updates))
            resumed_ids = [int(f.get("id") or 0) for f in exchange.frames]
            self.assertEqual(len(resumed_ids), len(after))
            self.assertTrue(resumed_ids[0] > int(last_seen), f"{resumed_ids} after {last_seen}")
            self.assertEqual(resumed_ids, sorted(set(resumed_ids)), "ids not increasing")
            self.assertEqual(
                session.calls(),
                [
                    session.call("stream"),
                    session.call("subscribe", task_id),
                    session.call("get", task_id),
                ],
            )

    async def check_resume_finished(self, binding):
        async with connect(self.demo.base, binding) as session:
            before = await self.start_slow_and_drop(session, chunks=1)
            task_id = before[0].task.id
            last_seen = session.exchange("stream").frames[len(before) - 1]["id"]
            # The task ends while nobody listens.
            deadline = time.monotonic() + WAIT + SLOW_CHUNKS * STEP
            while True:
                got = await session.client.get_task(GetTaskRequest(id=task_id))
                if state(got) != "WORKING" or time.monotonic() > deadline:
                    break
                await asyncio.sleep(10 * STEP)
            self.assertEqual(state(got), "COMPLETED")
            resumed = ClientCallContext(service_parameters={"Last-Event-ID": last_seen})
            after = await collect(
                session.client.subscribe(SubscribeToTaskRequest(id=task_id), context=resumed)
            )
            updates = before[1:] + after
            self.assertEqual(
                [kind(i) for i in updates],
                ["status_update"] + ["artifact_update"] * SLOW_CHUNKS + ["status_update"],
                f"before the drop: {describe(before)}\nafter: {describe(after)}",
            )
            self.assertEqual(state(updates[-1].status_update), "COMPLETED")
            self.assertEqual(parts(report_of(got)), chunk_parts(updates))
            # From the terminal event on nothing can come: refused as a finished task is.
            end = session.exchange("subscribe", task_id).frames[-1]["id"]
            at_end = ClientCallContext(service_parameters={"Last-Event-ID": end})
            items = []
            with self.assertRaises(UnsupportedOperationError):
                async with asyncio.timeout(WAIT):
                    request = SubscribeToTaskRequest(id=task_id)
                    async for item in session.client.subscribe(request, context=at_end):
                        items.append(item)
            self.assertEqual(items, [])

    # -- Push notifications ---------------------------------------------------------------

    async def check_push_configs(self, binding):
        deleted_path = self.receiver.new_path("deleted")
        kept_path = self.receiver.new_path("kept")
        async with connect(self.demo.base, binding, streaming=False) as session:
            client = session.client
            sent = user_message(REVIEW, context_id=new_context())
            [item] = await collect(client.send_message(send_request(sent)))
            task_id = item.task.id
            self.assertEqual(state(item.task), "INPUT_REQUIRED", received(item.task))
            calls = len(session.exchanges)

            config = TaskPushNotificationConfig(
                task_id=task_id,
                id=f"interop-cfg-{uuid.uuid4().hex[:8]}",
                url=self.receiver.url(deleted_path),
                token=f"tok-{uuid.uuid4().hex[:8]}",
                authentication=AuthenticationInfo(
                    scheme="Bearer", credentials=f"cred-{uuid.uuid4().hex[:8]}"
                ),
            )
            created = await client.create_task_push_notification_config(config)
            self.assertEqual(received(created), received(config))
            asked = GetTaskPushNotificationConfigRequest(task_id=task_id, id=config.id)
            got = await client.get_task_push_notification_config(asked)
            self.assertEqual(received(got), received(config))
            # A second config, its URL only: the agent names it.
            kept = await client.create_task_push_notification_config(
                TaskPushNotificationConfig(task_id=task_id, url=self.receiver.url(kept_path))
            )
            self.assertEqual((kept.task_id, kept.url), (task_id, self.receiver.url(kept_path)))
            self.assertTrue(kept.id, received(kept))
            self.assertNotEqual(kept.id, config.id)
            listing = ListTaskPushNotificationConfigsRequest(task_id=task_id)
            listed = await client.list_task_push_notification_configs(listing)
            self.assertCountEqual(
                [received(c) for c in listed.configs], [received(config), received(kept)]
            )
            self.assertEqual(listed.next_page_token, "")

            dropped = DeleteTaskPushNotificationConfigRequest(task_id=task_id, id=config.id)
            self.assertIsNone(await client.delete_task_push_notification_config(dropped))
            with self.assertRaises(TaskNotFoundError):
                await client.get_task_push_notification_config(asked)
            # Delete is idempotent.
            self.assertIsNone(await client.delete_task_push_notification_config(dropped))
            listed = await client.list_task_push_notification_configs(listing)
            self.assertEqual([received(c) for c in listed.configs], [received(kept)])
            unknown = f"no-such-task-{uuid.uuid4().hex[:8]}"
            with self.assertRaises(TaskNotFoundError):
                await client.create_task_push_notification_config(
                    TaskPushNotificationConfig(task_id=unknown, url=self.receiver.url(kept_path))
                )
            self.assertEqual(
                self.receiver.on(deleted_path) + self.receiver.on(kept_path),
                [],
                "creating a config delivered something",
            )
            self.assertEqual(
                session.calls()[calls - 1 :],
                [
                    session.call("push_create", task_id),
                    session.call("push_get", task_id, config.id),
                    session.call("push_create", task_id),
                    session.call("push_list", task_id),
                    session.call("push_delete", task_id, config.id),
                    session.call("push_get", task_id, config.id),
                    session.call("push_delete", task_id, config.id),
                    session.call("push_list", task_id),
                    session.call("push_create", unknown),
                ],
            )

            # The follow-up finishes the task: the kept config gets its updates (no user
            # message), the deleted one nothing.
            follow_up = user_message("yes, go ahead", task_id=task_id)
            [item] = await collect(client.send_message(send_request(follow_up)))
            self.assertEqual(state(item.task), "COMPLETED", received(item.task))
        deliveries = self.assert_deliveries(
            await in_background(self.receiver.wait_for, kept_path, 2), task_id
        )
        self.assertEqual(
            [(kind(d), state(d.status_update)) for d in deliveries],
            [("status_update", "WORKING"), ("status_update", "COMPLETED")],
            describe(deliveries),
        )
        self.assertEqual(text(deliveries[0].status_update.status.message), "approved")
        await asyncio.sleep(10 * STEP)
        self.assertEqual(len(self.receiver.on(kept_path)), len(deliveries), "more after the end")
        self.assertEqual(self.receiver.on(deleted_path), [], "a deleted config delivered")

    async def check_push_delivery(self, binding):
        for streaming in (True, False):
            path = self.receiver.new_path("streaming" if streaming else "blocking")
            token, credentials = f"tok-{uuid.uuid4().hex[:8]}", f"cred-{uuid.uuid4().hex[:8]}"
            push = TaskPushNotificationConfig(
                url=self.receiver.url(path),
                token=token,
                authentication=AuthenticationInfo(scheme="Bearer", credentials=credentials),
            )
            sent = user_message(REPORT, context_id=new_context())
            async with connect(self.demo.base, binding, streaming=streaming) as session:
                items = await collect(session.client.send_message(send_request(sent, push=push)))
                task_id = items[0].task.id
                # The config went inline, as the SDK writes it.
                body = session.exchange("stream" if streaming else "send").json
                params = body["params"] if binding == "JSONRPC" else body
                self.assertEqual(
                    content(params["configuration"]["taskPushNotificationConfig"]),
                    received(push),
                )
                final = await session.client.get_task(GetTaskRequest(id=task_id))
            self.assertEqual(state(final), "COMPLETED", received(final))
            deliveries = self.assert_deliveries(
                await in_background(self.receiver.wait_for, path, 5),
                task_id,
                token=token,
                authorization=f"Bearer {credentials}",
            )
            summary = describe(deliveries)
            self.assertEqual(
                [kind(d) for d in deliveries],
                ["status_update"] + ["artifact_update"] * 3 + ["status_update"],
                summary,
            )
            self.assertEqual(
                [state(d.status_update) for d in (deliveries[0], deliveries[-1])],
                ["WORKING", "COMPLETED"],
                summary,
            )
            self.assertEqual(text(deliveries[-1].status_update.status.message), "report ready")
            self.assertTrue(is_report(deliveries[1].artifact_update.artifact), summary)
            self.assertEqual(
                [d.artifact_update.last_chunk for d in deliveries[1:4]], [False, False, True]
            )
            self.assertEqual(chunk_parts(deliveries), parts(report_of(final)))
            if streaming:
                # Exactly what the stream gave, after its task.
                self.assertEqual(
                    [received(d) for d in deliveries], [received(i) for i in items[1:]]
                )
            await asyncio.sleep(10 * STEP)
            self.assertEqual(
                len({d.headers.get("webhook-id") for d in self.receiver.on(path)}),
                len(deliveries),
                "more after the end",
            )

    def assert_deliveries(self, got, task_id, token=None, authorization=None):
        """Checks each request a config's receiver `got`: a POST of one StreamResponse
        (parsed with the SDK's type) of `task_id`, as `application/a2a+json` with its
        Content-Length, the config's token and credentials if it had them, an event id,
        and a Standard Webhooks signature that verifies with the demos' secret (by the
        `standardwebhooks` package) but not with another, nor over a changed body.
        Returns the updates, once each: a retried event (at least once) comes again with
        the same `webhook-id` and body."""
        updates, first = [], {}
        for delivery in got:
            line = delivery.describe()
            self.assertEqual(delivery.method, "POST", line)
            headers = delivery.headers
            self.assertEqual(headers.get("content-type"), "application/a2a+json", line)
            self.assertEqual(headers.get("content-length"), str(len(delivery.body)), line)
            for name, value in [
                ("x-a2a-notification-token", token),
                ("authorization", authorization),
            ]:
                self.assertEqual(delivery.values(name), [value] if value else [], line)
            self.assertTrue(headers.get("a2a-event-id"), line)
            webhook = Webhook(WEBHOOK_SECRET)
            self.assertEqual(webhook.verify(delivery.body, headers), delivery.json(), line)
            with self.assertRaises(WebhookVerificationError, msg=f"another secret: {line}"):
                Webhook(OTHER_SECRET).verify(delivery.body, headers)
            for changed in (delivery.body + b" ", delivery.body.replace(b"TASK_STATE_", b"X")):
                if changed != delivery.body:
                    with self.assertRaises(WebhookVerificationError, msg=f"changed: {line}"):
                        webhook.verify(changed, headers)
            self.assertIn(list(delivery.json()), [["statusUpdate"], ["artifactUpdate"]], line)
            update = Parse(delivery.body, StreamResponse())
            self.assertEqual(getattr(update, kind(update)).task_id, task_id, line)
            event = headers["webhook-id"]
            if event in first:
                self.assertEqual(delivery.body, first[event].body, f"{event} again, changed")
                continue
            first[event] = delivery
            updates.append(update)
        events = [d.headers["a2a-event-id"] for d in first.values()]
        self.assertEqual(len(set(events)), len(events), f"an A2A-Event-Id twice: {events}")
        return updates


CASES = [
    "card",
    "subscribe",
    "get_task",
    "unknown_task",
    "finished_task",
    "stream_send",
    "send_blocking",
    "send_return_immediately",
    "message_only",
    "failed_plan",
    "get_history",
    "list_tasks",
    "cancel",
    "input_required",
    "resubscribe",
    "resume",
    "resume_finished",
    "push_configs",
    "push_delivery",
]


def _add_tests(cls):
    """One test method per case and binding, e.g. `test_subscribe__http_json`."""
    for case in CASES:
        for label, binding in BINDINGS.items():

            async def test(self, case=case, binding=binding):
                async with asyncio.timeout(TEST_TIMEOUT):
                    await getattr(self, f"check_{case}")(binding)

            test.__name__ = f"test_{case}__{label}"
            test.__qualname__ = f"{cls.__name__}.{test.__name__}"
            setattr(cls, test.__name__, test)
    return cls


@_add_tests
class AxumDemo(InteropCases, unittest.IsolatedAsyncioTestCase):
    demo_name = "axum"


@_add_tests
class ActixDemo(InteropCases, unittest.IsolatedAsyncioTestCase):
    demo_name = "actix"


def main():
    # IsolatedAsyncioTestCase runs its loop in debug mode, which logs every slow callback.
    logging.getLogger("asyncio").setLevel(logging.ERROR)
    args = sys.argv[1:]
    paths = [a for a in args[:2] if not a.startswith("-")]
    for name, path in zip(DEMOS, paths):
        DEMOS[name] = str(Path(path).resolve())
    print(f"a2a-sdk client against {DEMOS}; demo logs in {LOGS}", flush=True)
    unittest.main(argv=[sys.argv[0], *args[len(paths) :]], verbosity=2)


if __name__ == "__main__":
    main()
