#!/usr/bin/env python3
"""Interop test: the official A2A Python client (`a2a-sdk` 1.x) against both demo servers,
over both of the binding's transports, JSON-RPC and HTTP+JSON.

Usage: test_interop.py AXUM_DEMO ACTIX_DEMO [unittest options]
       (or set A2A_INTEROP_AXUM_DEMO and A2A_INTEROP_ACTIX_DEMO)

scripts/a2a-interop.sh builds the demos, installs requirements.txt into a virtualenv and
runs this file with it.

Each demo is started on a free loopback port (`--addr 127.0.0.1:0`, the port read from its
banner) with `--no-simulate --keep-alive-ms 2000`, and stopped when its tests are done,
whether they passed or not. Plans are driven through the demo's publish route with urllib;
everything on the A2A side goes through the SDK's public client API only: the card from
`A2ACardResolver`, a client per binding from `ClientFactory`, then `subscribe` and
`get_task`. Every request the client sends is recorded (an httpx event hook on the httpx
client we hand it), so each test also checks that the card came from
`/.well-known/agent-card.json` and that the calls went to the chosen binding's routes.

The cases, each run for every (demo, binding) pair as its own test method:

- card: the card names the binding's interface (protocol version 1.0, the documented
  route on this server) and streaming, and the factory builds a client for it;
- subscribe: on a running plan, the client receives the task snapshot first, then every
  update published after it, in order, and the stream ends at the terminal status;
- get_task: returns the same task as the subscription's snapshot while the plan runs,
  and the folded task (chunks joined, earlier status messages as history) once it ended;
- unknown_task: SubscribeToTask (and GetTask) raise the SDK's TaskNotFoundError;
- finished_task: SubscribeToTask on a completed task raises UnsupportedOperationError.

The SDK parses into protobuf messages and writes them back with `MessageToDict`, which
leaves out default values, rewrites timestamps and turns numbers inside `data` and
`metadata` into floats; `content` compares what both sides mean, not their bytes.
"""

import asyncio
import contextlib
import datetime
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
from google.protobuf.json_format import MessageToDict

from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
from a2a.types import (
    GetTaskRequest,
    SubscribeToTaskRequest,
    TaskNotFoundError,
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
                [binary, "--addr", "127.0.0.1:0", "--no-simulate", "--keep-alive-ms", "2000"],
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
# The official client


class Session:
    """A client of one binding, built from the card the SDK resolved, and every HTTP
    request it sent (method, URL)."""

    def __init__(self, card, client, requests, binding):
        self.card = card
        self.client = client
        self.requests = requests
        self.binding = binding
        self.interface = next(
            (i.url for i in card.supported_interfaces if i.protocol_binding == binding), None
        )

    def request(self, operation, task_id):
        """The request `operation` must be on this session's binding."""
        if self.binding == "JSONRPC":
            return ("POST", self.interface)  # every JSON-RPC call goes to the one endpoint
        if operation == "subscribe":
            return ("POST", f"{self.interface}/tasks/{task_id}:subscribe")
        return ("GET", f"{self.interface}/tasks/{task_id}")


@contextlib.asynccontextmanager
async def connect(base, binding):
    requests = []

    async def record(request):
        requests.append((request.method, str(request.url)))

    # httpx's default timeout, as the SDK would configure it (5 s per read).
    async with httpx.AsyncClient(event_hooks={"request": [record]}) as http:
        card = await A2ACardResolver(http, base).get_agent_card(
            relative_card_path=AGENT_CARD_WELL_KNOWN_PATH
        )
        config = ClientConfig(
            streaming=True, httpx_client=http, supported_protocol_bindings=[binding]
        )
        client = ClientFactory(config).create(card)
        try:
            yield Session(card, client, requests, binding)
        finally:
            await client.close()


class Subscription:
    """`client.subscribe` running in the background, collecting what it yields."""

    def __init__(self, session, task_id):
        self.items = []
        self._first = asyncio.Event()
        self._task = asyncio.create_task(self._follow(session.client, task_id))

    async def _follow(self, client, task_id):
        async for item in client.subscribe(SubscribeToTaskRequest(id=task_id)):
            self.items.append(item)
            self._first.set()

    async def first_item(self):
        """Waits for the first item (raising what the subscription raised, if it failed)."""
        first = asyncio.create_task(self._first.wait())
        await asyncio.wait({first, self._task}, timeout=WAIT, return_when=asyncio.FIRST_COMPLETED)
        first.cancel()
        if self._task.done():
            self._task.result()  # raises the subscription's error, if any
        if not self.items:
            raise AssertionError("the subscription received nothing")
        return self.items[0]

    async def end(self):
        """Waits for the stream to end by itself (False if it did not within WAIT)."""
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=WAIT)
            return True
        except asyncio.TimeoutError:
            return False

    async def cancel(self):
        self._task.cancel()
        with contextlib.suppress(BaseException):
            await self._task


async def in_background(call, *args):
    """A blocking call (a publish) off the event loop, so the client keeps reading."""
    return await asyncio.to_thread(call, *args)


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

    def plan(self, binding):
        return Plan(f"{self.demo_name}-{binding.lower().replace('+', '-')}")

    async def check_card(self, binding):
        async with connect(self.demo.base, binding) as session:
            self.assertEqual(
                session.requests, [("GET", self.demo.base + "/.well-known/agent-card.json")]
            )
            card = session.card
            self.assertTrue(card.capabilities.streaming, "capabilities.streaming")
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
            self.assertEqual(
                session.requests[1:], [session.request("subscribe", plan.id)]
            )

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


CASES = ["card", "subscribe", "get_task", "unknown_task", "finished_task"]


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
    unittest.main(argv=[sys.argv[0], *args[len(paths):]], verbosity=2)


if __name__ == "__main__":
    main()
