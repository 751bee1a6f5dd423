"""Simulated SDRs for the page benchmark's load run (bench/pages_bench.py starts locust with this file).

Each simulated SDR is one of the benchmark's SDR users with its own session: it signs in through the login form,
waits until every SDR has signed in, then opens its queue page and one of its leads in turn, a think time apart,
until the measured window ends. Only page requests that start inside the window are timed (signing in is slow on
purpose: the password hash). Any answer but a 200 (a redirect to the login page included) counts as an error.

Read from the environment: PAGES_LOAD_USERS (JSON: [{"username", "leads": [lead page paths]}]), PAGES_LOAD_PASSWORD,
PAGES_LOAD_QUEUE (the queue page's path), PAGES_LOAD_SECONDS, PAGES_LOAD_THINK ("MIN-MAX" seconds) and
PAGES_LOAD_OUT, where the raw times go as JSON when locust quits.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time

import gevent
from gevent.event import Event
from locust import FastHttpUser, between, events, task
from locust.exception import StopUser

USERS = json.loads(os.environ["PAGES_LOAD_USERS"])
PASSWORD = os.environ["PAGES_LOAD_PASSWORD"]
QUEUE = os.environ["PAGES_LOAD_QUEUE"]
SECONDS = float(os.environ["PAGES_LOAD_SECONDS"])
THINK_MIN, THINK_MAX = (float(part) for part in os.environ["PAGES_LOAD_THINK"].split("-"))
OUT = os.environ["PAGES_LOAD_OUT"]
LOGIN_WAIT_S = 120  # every SDR must have signed in by then, or the run ends without a window

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

_next_user = itertools.count()
_all_signed_in = Event()
_window = {"start": None, "end": None}
_state = {"logins": 0, "login_ms": [], "errors": 0, "error_samples": [], "times": {"queue": [], "lead": []}}


def _in_window(start_time: float) -> bool:
    start, end = _window["start"], _window["end"]
    return start is not None and start <= start_time and (end is None or start_time < end)


@events.request.add_listener
def _on_request(name, response_time, exception, start_time, **kwargs):
    if name == "login":
        if exception is None:
            _state["login_ms"].append(response_time)
        return
    if not _in_window(start_time):
        return
    if exception is not None:
        _state["errors"] += 1
        if len(_state["error_samples"]) < 20:
            _state["error_samples"].append(f"{name}: {exception!r}")
        return
    _state["times"].setdefault(name, []).append(response_time)


@events.user_error.add_listener
def _on_user_error(user_instance, exception, tb, **kwargs):
    """An exception in a simulated SDR's own code is an error too (it did not get its page)."""
    if _window["start"] is not None:
        _state["errors"] += 1
        if len(_state["error_samples"]) < 20:
            _state["error_samples"].append(f"user error: {exception!r}")


def _window_run(environment) -> None:
    """Opens the window once every SDR has signed in, closes it after SECONDS, then stops the run."""
    if not _all_signed_in.wait(timeout=LOGIN_WAIT_S):
        _state["error_samples"].append(f"only {_state['logins']} of {len(USERS)} SDRs signed in")
    else:
        _window["start"] = time.time()
        gevent.sleep(SECONDS)
        _window["end"] = time.time()
    # Users stop at their next step; give requests in flight a moment to finish before quitting.
    deadline = time.time() + 15
    while environment.runner.user_count and time.time() < deadline:
        gevent.sleep(0.2)
    environment.runner.quit()


@events.test_start.add_listener
def _on_test_start(environment, **kwargs):
    gevent.spawn(_window_run, environment)


@events.quitting.add_listener
def _on_quitting(environment, **kwargs):
    start, end = _window["start"], _window["end"] or time.time()
    with open(OUT, "w") as out:
        json.dump({**_state, "window_s": (end - start) if start else 0.0}, out)


class Sdr(FastHttpUser):
    wait_time = between(THINK_MIN, THINK_MAX)
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self):
        self.me = USERS[next(_next_user) % len(USERS)]
        self.leads = itertools.cycle(self.me["leads"])
        form = self.client.get("/login/", name="login-form")
        token = CSRF_FIELD.search(form.text or "")
        with self.client.post(
            "/login/",
            data={
                "username": self.me["username"],
                "password": PASSWORD,
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            headers={"Referer": f"{self.host}/login/"},
            name="login",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"sign-in answered {response.status_code}")
                raise StopUser()
        _state["logins"] += 1
        if _state["logins"] == len(USERS):
            _all_signed_in.set()
        _all_signed_in.wait(timeout=LOGIN_WAIT_S)

    def _page(self, path: str, name: str) -> None:
        if _window["end"] is not None:
            raise StopUser()
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{path} answered {response.status_code}")

    @task
    def work_the_queue(self):
        # One page per step, the think time between steps: the queue, then one of the SDR's leads, and again.
        self.on_queue = not getattr(self, "on_queue", False)
        if self.on_queue:
            self._page(QUEUE, "queue")
        else:
            self._page(next(self.leads), "lead")
