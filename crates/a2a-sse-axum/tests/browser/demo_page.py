#!/usr/bin/env python3
"""Real-browser test of the axum demo page, in headless Chromium.

Usage: demo_page.py PATH/TO/target/debug/examples/demo

Starts the demo server on a free port (with its plan simulator), opens `/`, waits until the
page's EventSource is open and simulator events show up, then filters on a plan of its own,
publishes to it with POST, and checks that only that plan's rows appear from then on.
Saves a screenshot to target/browser/demo.png. Exits non-zero on failure and always stops
the server and the browser.
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
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

REPO = Path(__file__).resolve().parents[4]
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS", REPO / "target" / "browser"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
# Generous: the machine may be busy compiling.
WAIT = 30
PLAN = "browser-plan"


def start_server(binary):
    """Starts the demo on 127.0.0.1:0 and returns (process, base URL) from its banner."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / "server.log", "wb")
    proc = subprocess.Popen(
        [binary, "--addr", "127.0.0.1:0", "--keep-alive-ms", "1000"],
        stdout=subprocess.PIPE,
        stderr=log,
    )
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


def start_browser(profile):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1100,800",
        f"--user-data-dir={profile}",
    ]:
        options.add_argument(arg)
    # An explicit driver path: selenium never looks for, or downloads, a driver.
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def publish(base, plan, body):
    request = urllib.request.Request(
        f"{base}/a2a/plans/{plan}/events",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=WAIT) as response:
        assert response.status == 202, response.status
        return json.load(response)["id"]


def rows(driver, selector="li.event"):
    """(kind, plan, id) of the rows matching `selector`, newest first."""
    return driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])]"
        ".map(li => [li.dataset.kind, li.dataset.plan, li.dataset.id]);",
        selector,
    )


def status(driver):
    return driver.find_element(By.ID, "status").text


def check(driver, base):
    wait = WebDriverWait(driver, WAIT, poll_frequency=0.1)
    driver.get(f"{base}/")
    assert driver.title == "a2a-sse demo", driver.title
    wait.until(lambda d: status(d) == "open", "connection open")
    # The simulator publishes every 700 ms.
    wait.until(lambda d: len(rows(d)) >= 4, "simulator events shown")
    shown = rows(driver)
    assert any(kind == "status-update" for kind, _, _ in shown), shown
    assert len({plan for _, plan, _ in shown}) >= 1, shown
    ids = [int(i) for _, _, i in shown]
    assert ids == sorted(ids, reverse=True), f"rows out of order: {ids}"

    plan_input = driver.find_element(By.ID, "plan")
    plan_input.clear()
    plan_input.send_keys(PLAN)
    # Mark the rows shown so far and submit in one script, so no row can slip in between.
    driver.execute_script(
        "document.querySelectorAll('li.event').forEach(li => li.dataset.before = '1');"
        "document.getElementById('filter').requestSubmit();"
    )
    wait.until(lambda d: status(d) == "open", "filtered connection open")
    assert f"plan_id={PLAN}" in driver.current_url, driver.current_url

    working = {
        "kind": "status-update",
        "data": {"taskId": PLAN, "contextId": "ctx-b", "status": {"state": "TASK_STATE_WORKING"}},
    }
    chunk = {
        "kind": "artifact-update",
        "data": {
            "taskId": PLAN,
            "contextId": "ctx-b",
            "artifact": {"artifactId": "notes", "parts": [{"text": "hello from selenium"}]},
        },
    }
    published = [publish(base, PLAN, working), publish(base, PLAN, chunk)]
    new_rows = "li.event:not([data-before])"
    wait.until(lambda d: len(rows(d, new_rows)) >= 2, "published events shown")
    # Let the simulator publish to its own plans a few more times: none of it may show.
    time.sleep(2.5)
    after = rows(driver, new_rows)
    assert after, "no rows after filtering"
    assert all(plan == PLAN for _, plan, _ in after), f"rows of other plans: {after}"
    assert [i for _, _, i in after] == published[::-1], (after, published)
    assert [kind for kind, _, _ in after] == ["artifact-update", "status-update"], after
    text = driver.find_element(By.CSS_SELECTOR, new_rows).text
    assert "hello from selenium" in text, text


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    proc, base = start_server(sys.argv[1])
    profile = tempfile.mkdtemp(prefix="a2a-sse-chromium-")
    driver = None
    try:
        driver = start_browser(profile)
        check(driver, base)
        driver.save_screenshot(str(ARTIFACTS / "demo.png"))
        print(f"browser test passed ({base}); screenshot in {ARTIFACTS / 'demo.png'}")
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
