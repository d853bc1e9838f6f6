#!/usr/bin/env python3
"""Real-browser test of the axum demo page, in headless Chromium.

Usage: demo_page.py PATH/TO/target/debug/examples/demo

Starts the demo server on a free port (its simulator on, plans paced at 100 ms a step,
a short history), opens `/` at 1280x800 and proves the page against the real server:

1. simulated plans appear as cards with the state, the artifacts and the messages the
   server's own `GetTask` reports for them (the oracle), and their raw events open with
   one click, in stream order, each with its id, kind and JSON;
2. `report` sent from the send box starts a plan that is highlighted, scrolled to, and
   reaches COMPLETED with its `report.md` assembled from its chunks in order;
3. `review` reaches INPUT_REQUIRED; its reply box sends a follow-up that completes it;
4. an error answer (a message over the body limit) shows next to the box; `ping` answers
   with a message there, and starts no plan;
5. the plan filter shows one plan only (a finished one replayed whole from history, then a
   plan of its own fed through the publish route, while the simulator keeps running), and
   says the stream ended when that plan finishes;
6. a `reset` from the server (history overrun) shows as a notice.

Saves screenshots to target/browser/ (demo.png: all plans, after the sends). Exits non-zero
on failure and always stops the server and the browser.
"""

import json
import os
import re
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

REPO = Path(__file__).resolve().parents[4]
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS", REPO / "target" / "browser"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
# Generous: the machine may be busy compiling.
WAIT = 30
STEP_MS = 100
# Short enough for the test to overrun it on purpose (the reset check), long enough to
# hold every plan the checks replay.
HISTORY = 400
PLAN = "browser-plan"
TERMINAL = {"TASK_STATE_COMPLETED", "TASK_STATE_FAILED", "TASK_STATE_CANCELED", "TASK_STATE_REJECTED"}


# ---------- the server ----------


def start_server(binary):
    """Starts the demo on 127.0.0.1:0 and returns (process, base URL) from its banner."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / "server.log", "wb")
    args = [binary, "--addr", "127.0.0.1:0", "--keep-alive-ms", "1000", "--history", str(HISTORY),
            "--plan-step-ms", str(STEP_MS)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log)
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if not selector.select(timeout=deadline - time.monotonic()):
            break
        line = proc.stdout.readline().decode()
        if not line:
            break
        match = re.search(r"listening on (http://\S+)", line)
        if match:
            return proc, match.group(1)
    proc.kill()
    raise RuntimeError(f"the demo did not start; see {ARTIFACTS / 'server.log'}")


def stop_server(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def request(base, method, path, body=None, headers=None):
    """(status, JSON body or None)."""
    data = None if body is None else json.dumps(body).encode()
    all_headers = {"content-type": "application/json"} if body is not None else {}
    all_headers.update(headers or {})
    req = urllib.request.Request(f"{base}{path}", data=data, headers=all_headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=WAIT) as response:
            text = response.read()
            return response.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as error:
        text = error.read()
        return error.code, (json.loads(text) if text else None)


def publish(base, plan, body):
    status, answer = request(base, "POST", f"/a2a/plans/{plan}/events", body)
    assert status == 202, (status, answer)
    return answer["id"]


def get_task(base, task_id):
    """The server's own view of a task (A2A GetTask over HTTP+JSON): the oracle."""
    status, task = request(base, "GET", f"/a2a/tasks/{task_id}", headers={"A2A-Version": "1.0"})
    assert status == 200, (status, task)
    return task


def text_of(parts):
    return "".join(p.get("text", "") for p in parts)


# ---------- the browser ----------


def start_browser(profile):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,800",
        f"--user-data-dir={profile}",
    ]:
        options.add_argument(arg)
    # An explicit driver path: selenium never looks for, or downloads, a driver.
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    # The window size counts the browser's frame: the page itself gets 1280x800 this way.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
    return driver


# One card as the page shows it, read in one script so nothing changes between reads.
CARD_JS = """
const card = document.querySelector(`article.plan[data-plan="${CSS.escape(arguments[0])}"]`);
if (!card) return null;
const r = card.getBoundingClientRect();
const text = n => n ? n.textContent : null;
return {
  plan: card.dataset.plan,
  state: card.dataset.state || "",
  badge: text(card.querySelector(".badge")),
  badgeClass: card.querySelector(".badge").className,
  terminal: card.classList.contains("terminal"),
  sent: card.dataset.sent === "true",
  context: text(card.querySelector(".ctx")),
  trail: text(card.querySelector(".trail")),
  timeline: [...card.querySelectorAll("ol.timeline > li")].map(li =>
    [li.classList.contains("err") ? "error" : li.classList.contains("user") ? "user" : "agent",
     li.querySelector(".body").textContent]),
  artifacts: [...card.querySelectorAll(".artifact")].map(a => ({
    id: a.dataset.artifactId, lastChunk: a.dataset.lastChunk, mark: a.dataset.mark,
    markText: text(a.querySelector(".chunk-state")),
    name: text(a.querySelector(".aname")),
    text: [...a.querySelectorAll("pre.text")].map(p => p.textContent).join(""),
  })),
  replyShown: card.querySelector("form.reply").checkVisibility(),
  rawSummary: text(card.querySelector("details.raw summary")),
  rawOpen: card.querySelector("details.raw").open,
  raw: [...card.querySelectorAll("details.raw li")].map(li => ({
    id: li.dataset.id, kind: li.dataset.kind, json: li.querySelector("pre").textContent,
    visible: li.checkVisibility(),
  })),
  inView: r.bottom > 0 && r.top < window.innerHeight,
};
"""


def card(driver, plan):
    return driver.execute_script(CARD_JS, plan)


def plan_states(driver):
    """{plan: (state, number of artifacts)} of every card shown."""
    return driver.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('article.plan')]"
        ".map(a => [a.dataset.plan, [a.dataset.state || '', a.querySelectorAll('.artifact').length]]));"
    )


def plan_ids(driver):
    return driver.execute_script(
        "return [...document.querySelectorAll('article.plan')].map(a => a.dataset.plan);"
    )


def status(driver):
    return driver.find_element(By.ID, "status").text


def wait_card(wait, driver, plan, pred, what):
    """Waits until the card of `plan` exists and `pred(card)` holds; returns the card."""
    seen = {}

    def ready(d):
        seen["card"] = card(d, plan)
        return seen["card"] if seen["card"] and pred(seen["card"]) else False

    try:
        return wait.until(ready, what)
    except Exception:
        print(f"last view of {plan}: {json.dumps(seen.get('card'), indent=1)}", file=sys.stderr)
        raise


def chunk_texts_in_order(view, artifact_id):
    """The text of each artifact-update chunk of `artifact_id` in the card's raw events, in
    stream order (raw events are checked to be in id order elsewhere)."""
    texts = []
    for event in view["raw"]:
        envelope = json.loads(event["json"])
        if envelope["kind"] == "artifact-update":
            artifact = envelope["data"]["artifact"]
            if artifact["artifactId"] == artifact_id:
                texts.append(text_of(artifact["parts"]))
    return texts


def id_key(event_id):
    epoch, _, seq = event_id.rpartition("-")
    return (int(epoch or 0), int(seq))


def assert_matches_server(base, view):
    """A finished plan's card says what the server's GetTask says."""
    task = get_task(base, view["plan"])
    state = task["status"]["state"]
    assert view["state"] == state, (view["state"], state)
    name = state.removeprefix("TASK_STATE_").lower().replace("_", "-")
    assert f"s-{name}" in view["badgeClass"], view["badgeClass"]
    assert view["badge"] == name.replace("-", " "), view["badge"]
    assert view["terminal"] == (state in TERMINAL), view
    assert view["context"] == f"context {task['contextId']}", (view["context"], task["contextId"])
    server_artifacts = {a["artifactId"]: text_of(a["parts"]) for a in task.get("artifacts", [])}
    page_artifacts = {a["id"]: a["text"] for a in view["artifacts"]}
    assert page_artifacts == server_artifacts, (page_artifacts, server_artifacts)
    final = task["status"].get("message")
    if final:
        assert ["agent", text_of(final["parts"])] in view["timeline"], (final, view["timeline"])
    return task


# ---------- the checks ----------


def check_simulated_plans(driver, wait, base):
    """Plans of the built-in simulator: states, artifacts and messages as the server says."""
    driver.get(f"{base}/")
    assert driver.title == "a2a-sse demo", driver.title
    placeholder = driver.find_element(By.ID, "send-text").get_attribute("placeholder")
    for keyword in ["report", "review", "deploy", "slow", "ping"]:
        assert keyword in placeholder, placeholder
    wait.until(lambda d: status(d) == "open", "connection open")

    def finished(state, artifacts=0):
        return [p for p, (s, n) in plan_states(driver).items() if s == state and n >= artifacts]

    wait.until(lambda d: finished("TASK_STATE_COMPLETED", 1), "a simulated plan completed with an artifact")
    failed = wait.until(lambda d: finished("TASK_STATE_FAILED"), "a simulated plan failed")
    completed = finished("TASK_STATE_COMPLETED")

    with_artifact = None
    for plan in completed:
        view = card(driver, plan)
        assert_matches_server(base, view)
        if view["artifacts"] and with_artifact is None:
            with_artifact = view
    assert with_artifact, f"no completed plan with an artifact: {completed}"
    report = with_artifact["artifacts"][0]
    assert report["name"] == "report.md", report
    assert report["lastChunk"] == "true", report
    assert report["text"].count("\n") >= 3, report

    view = card(driver, failed[0])
    assert_matches_server(base, view)
    errors = [text for kind, text in view["timeline"] if kind == "error"]
    assert errors and "deploy" in errors[0], view["timeline"]
    print(f"  simulated plans: {len(completed)} completed, {len(failed)} failed, checked against GetTask")
    return with_artifact["plan"]


def check_raw_events(driver, wait, plan):
    """The raw events of a plan: one click on its summary."""
    before = card(driver, plan)
    assert not before["rawOpen"] and not any(e["visible"] for e in before["raw"]), before["raw"]
    summary = driver.find_element(
        By.CSS_SELECTOR, f'article.plan[data-plan="{plan}"] details.raw summary'
    )
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", summary)
    summary.click()
    view = wait_card(wait, driver, plan, lambda c: c["rawOpen"], "raw events open")
    assert view["raw"] and all(e["visible"] for e in view["raw"]), view["raw"]
    count = int(re.search(r"\((\d+)\)", view["rawSummary"]).group(1))
    assert count == len(view["raw"]), (view["rawSummary"], len(view["raw"]))
    ids = [e["id"] for e in view["raw"]]
    assert ids == sorted(ids, key=id_key), f"raw events out of order: {ids}"
    kinds = set()
    for event in view["raw"]:
        envelope = json.loads(event["json"])
        assert envelope["id"] == event["id"] and envelope["kind"] == event["kind"], event
        assert envelope["planId"] == plan, envelope
        kinds.add(event["kind"])
    assert {"status-update", "artifact-update"} <= kinds, kinds
    # The artifact reads as its chunks, in stream order.
    artifact = view["artifacts"][0]
    assert artifact["text"] == "".join(chunk_texts_in_order(view, artifact["id"])), artifact
    print(f"  raw events: {len(ids)} of {plan} open with one click, in order")


def send_from_box(driver, wait, text):
    """Types `text` into the send box, sends it, and returns the answer's kind and task."""
    box = driver.find_element(By.ID, "send-text")
    box.clear()
    box.send_keys(text)
    driver.execute_script("document.getElementById('send-result').removeAttribute('data-kind');")
    driver.find_element(By.ID, "send-button").click()
    result = driver.find_element(By.ID, "send-result")
    wait.until(lambda d: result.get_attribute("data-kind") or "error" in (result.get_attribute("class") or ""),
               f"an answer to {text!r}")
    assert "error" not in (result.get_attribute("class") or ""), result.text
    return result.get_attribute("data-kind"), result.get_attribute("data-task"), result.text


def check_send_report(driver, wait, base):
    kind, task_id, _ = send_from_box(driver, wait, "report")
    assert kind == "task" and task_id, (kind, task_id)
    wait_card(wait, driver, task_id, lambda c: c["sent"] and c["inView"],
              "the sent plan shown, marked and scrolled to")
    view = wait_card(wait, driver, task_id, lambda c: c["state"] == "TASK_STATE_COMPLETED",
                     "the sent report completed")
    task = assert_matches_server(base, view)
    assert ["user", "report"] in view["timeline"], view["timeline"]
    assert ["agent", "collecting sources"] in view["timeline"], view["timeline"]
    assert ["agent", "report ready"] in view["timeline"], view["timeline"]
    assert view["timeline"][0] == ["user", "report"], view["timeline"]
    (artifact,) = view["artifacts"]
    assert artifact["name"] == "report.md" and artifact["lastChunk"] == "true", artifact
    chunks = chunk_texts_in_order(view, artifact["id"])
    assert len(chunks) == 3, chunks
    assert artifact["text"] == "".join(chunks), (artifact["text"], chunks)
    assert artifact["text"] == text_of(task["artifacts"][0]["parts"]), (artifact, task["artifacts"])
    assert view["trail"] == "submitted → working → completed", view["trail"]
    assert view["raw"][0]["kind"] == "message", view["raw"][0]
    print(f"  sent `report`: plan {task_id} completed, report.md = {artifact['text']!r}")
    return task_id


def check_send_review(driver, wait, base, report_id):
    kind, task_id, _ = send_from_box(driver, wait, "review")
    assert kind == "task" and task_id, (kind, task_id)
    view = wait_card(wait, driver, task_id, lambda c: c["state"] == "TASK_STATE_INPUT_REQUIRED" and c["replyShown"],
                     "the review waits for input, with its reply box")
    assert ["agent", "approve the plan?"] in view["timeline"], view["timeline"]
    assert view["badge"] == "input required" and not view["terminal"], view
    reply = driver.find_element(By.CSS_SELECTOR, f'article.plan[data-plan="{task_id}"] form.reply input')
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", reply)
    reply.send_keys("approve")
    reply.send_keys(Keys.ENTER)
    view = wait_card(wait, driver, task_id, lambda c: c["state"] == "TASK_STATE_COMPLETED",
                     "the approved review completed")
    assert not view["replyShown"], "the reply box stayed after the plan went on"
    assert_matches_server(base, view)
    users = [text for who, text in view["timeline"] if who == "user"]
    assert users == ["review", "approve"], view["timeline"]
    assert ["agent", "approved"] in view["timeline"], view["timeline"]
    assert view["trail"] == "submitted → working → input required → working → completed", view["trail"]
    # The plans sent from the page stay on top, newest first, whatever the simulator adds.
    time.sleep(10 * STEP_MS / 1000)
    shown = driver.execute_script(
        "return [...document.querySelectorAll('article.plan')]"
        ".map(a => [a.getBoundingClientRect().top + scrollY, a.getBoundingClientRect().left, a.dataset.plan])"
        ".sort((x, y) => x[0] - y[0] || x[1] - y[1]).map(x => x[2]);"
    )
    assert shown[:2] == [task_id, report_id], (shown[:4], task_id, report_id)
    print(f"  sent `review`: plan {task_id} waited for input, the reply box completed it")


def check_ping(driver, wait):
    before = set(plan_ids(driver))
    kind, task_id, text = send_from_box(driver, wait, "ping")
    assert kind == "message" and not task_id, (kind, task_id)
    assert "pong" in text, text
    time.sleep(5 * STEP_MS / 1000)
    pinged = [p for p in set(plan_ids(driver)) - before if ["user", "ping"] in card(driver, p)["timeline"]]
    assert not pinged, f"`ping` started plans: {pinged}"
    print(f"  sent `ping`: answered {text!r}, no plan")


def check_send_error(driver, wait):
    """An error answer shows its message next to the box: a message over the server's body
    limit (64 KiB) is refused with 413."""
    before = len(plan_ids(driver))
    driver.execute_script("document.getElementById('send-text').value = 'report ' + 'x'.repeat(70000);")
    driver.find_element(By.ID, "send-button").click()
    result = driver.find_element(By.ID, "send-result")
    wait.until(lambda d: "error" in (result.get_attribute("class") or ""), "the error shown")
    assert "413" in result.text and "larger than" in result.text, result.text
    assert result.get_attribute("data-kind") is None, result.get_attribute("data-kind")
    assert len(plan_ids(driver)) >= before
    driver.execute_script("document.getElementById('send-text').value = '';")
    print(f"  send error shown: {result.text!r}")


def set_filter(driver, wait, plan):
    plan_input = driver.find_element(By.ID, "plan")
    plan_input.clear()
    plan_input.send_keys(plan)
    driver.find_element(By.CSS_SELECTOR, "#filter button[type=submit]").click()
    wait.until(lambda d: f"plan_id={plan}" in d.current_url, "the filter in the URL")


def check_filter(driver, wait, base, finished_plan):
    # A finished plan: replayed whole from history, then the stream says it ended.
    set_filter(driver, wait, finished_plan)
    view = wait_card(wait, driver, finished_plan, lambda c: c["state"] == "TASK_STATE_COMPLETED",
                     "the finished plan replayed")
    assert plan_ids(driver) == [finished_plan], plan_ids(driver)
    assert_matches_server(base, view)
    wait.until(lambda d: status(d).startswith("ended"), "the finished plan's stream ended")

    # A plan of its own, fed through the publish route while the simulator runs.
    set_filter(driver, wait, PLAN)
    wait.until(lambda d: status(d) == "open", "filtered connection open")
    assert plan_ids(driver) == [], plan_ids(driver)
    working = {
        "kind": "status-update",
        "data": {"taskId": PLAN, "contextId": "ctx-b", "status": {"state": "TASK_STATE_WORKING"}},
    }

    def chunk(text, append, last):
        return {
            "kind": "artifact-update",
            "data": {
                "taskId": PLAN,
                "contextId": "ctx-b",
                "artifact": {"artifactId": "notes", "name": "notes.txt", "parts": [{"text": text}]},
                "append": append,
                "lastChunk": last,
            },
        }

    publish(base, PLAN, working)
    publish(base, PLAN, chunk("draft", False, False))
    view = wait_card(wait, driver, PLAN, lambda c: c["artifacts"], "the first chunk shown")
    assert view["artifacts"][0]["text"] == "draft", view["artifacts"]
    assert view["artifacts"][0]["mark"] == "streaming", view["artifacts"]
    assert view["artifacts"][0]["markText"] == "streaming…", view["artifacts"]
    # Replaced, then appended to.
    publish(base, PLAN, chunk("hello ", False, False))
    publish(base, PLAN, chunk("from selenium", True, True))
    view = wait_card(wait, driver, PLAN, lambda c: c["artifacts"] and c["artifacts"][0]["lastChunk"] == "true",
                     "published events shown")
    assert view["state"] == "TASK_STATE_WORKING" and view["badge"] == "working", view
    assert view["artifacts"][0]["text"] == "hello from selenium", view["artifacts"]
    assert view["artifacts"][0]["markText"] == "last chunk ✓", view["artifacts"]
    # Let the simulator publish to its own plans a few more times: none of it may show.
    time.sleep(2.5)
    assert plan_ids(driver) == [PLAN], plan_ids(driver)
    publish(base, PLAN, {
        "kind": "status-update",
        "data": {"taskId": PLAN, "contextId": "ctx-b", "status": {"state": "TASK_STATE_COMPLETED"}},
    })
    wait_card(wait, driver, PLAN, lambda c: c["state"] == "TASK_STATE_COMPLETED", "own plan completed")
    wait.until(lambda d: status(d).startswith("ended"), "the filtered stream ended with its plan")
    print(f"  filter: a finished plan replayed alone; {PLAN} alone while the simulator ran; "
          f"stream status {status(driver)!r}")


def check_reset_notice(driver, wait, base):
    """Overruns the server's history, then opens the page afresh: the `reset` the server
    sends (the page asks for everything retained) shows as a notice."""
    for n in range(HISTORY + 10):
        publish(base, f"filler-{n % 5}", {
            "kind": "status-update",
            "data": {"taskId": f"filler-{n % 5}", "contextId": "c", "status": {"state": "TASK_STATE_WORKING"}},
        })
    driver.get(f"{base}/")
    notice = wait.until(
        lambda d: d.find_elements(By.CSS_SELECTOR, '#notices li[data-kind="reset"]'), "a reset notice"
    )[0]
    assert "history starts at #" in notice.text, notice.text
    wait.until(lambda d: status(d) == "open", "connection open after the reset")
    print(f"  reset notice: {notice.text!r}")


def check(driver, base):
    wait = WebDriverWait(driver, WAIT, poll_frequency=0.1)
    simulated = check_simulated_plans(driver, wait, base)
    check_raw_events(driver, wait, simulated)
    report = check_send_report(driver, wait, base)
    check_send_review(driver, wait, base, report)
    check_send_error(driver, wait)
    check_ping(driver, wait)
    driver.execute_script("window.scrollTo(0, 0);")
    driver.save_screenshot(str(ARTIFACTS / "demo.png"))
    check_filter(driver, wait, base, report)
    driver.save_screenshot(str(ARTIFACTS / "demo-filtered.png"))
    check_reset_notice(driver, wait, base)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    started = time.monotonic()
    proc, base = start_server(sys.argv[1])
    profile = tempfile.mkdtemp(prefix="a2a-sse-chromium-")
    driver = None
    try:
        driver = start_browser(profile)
        check(driver, base)
        # Script errors fail the test; network ones (the favicon's 404, the 413 asked for)
        # are the checks' own.
        errors = [e for e in driver.get_log("browser")
                  if e["level"] == "SEVERE" and e.get("source") != "network"]
        assert not errors, f"errors in the browser's console: {errors}"
        print(f"browser test passed in {time.monotonic() - started:.1f} s ({base}); "
              f"screenshots in {ARTIFACTS}")
        return 0
    except Exception:  # noqa: BLE001 - any failure fails the test, with its trace
        traceback.print_exc()
        if driver is not None:
            driver.save_screenshot(str(ARTIFACTS / "failure.png"))
            print(f"screenshot of the failure in {ARTIFACTS / 'failure.png'}", file=sys.stderr)
        return 1
    finally:
        if driver is not None:
            driver.quit()
        stop_server(proc)
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
