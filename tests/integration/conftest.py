"""Fixtures for the tests that need real infrastructure: a Celery worker process on Redis, and Chromium.

`make test` provides both (a throwaway redis-server in LEADOPS_TEST_REDIS_URL, Debian's chromium). Outside CI a
missing component skips these tests and says why; with CI=true it fails them, because a CI run that quietly skipped
its integration tests would prove nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.db import connection

from leadops.celery import app as celery_app

BASE_DIR = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
CHROMIUM = os.environ.get("LEADOPS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # Chromium's sandbox refuses to start as root, which CI runs as
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
WORKER_START_TIMEOUT = 60
WORKER_STOP_TIMEOUT = 15


def component_missing(reason: str):
    if IN_CI:
        pytest.fail(f"{reason}. CI=true: a missing component fails the run instead of skipping.", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def committed_rows(transactional_db):
    """Every test here is transactional: a worker process or the live server must see committed rows. The rows the
    migrations create are put back after each test by tests/conftest.py."""


# --- Celery on Redis ------------------------------------------------------------------------------------------


def redis_url_for_this_process(base_url: str) -> str:
    """One Redis database per xdist worker (main process 0, gw0 1, gw1 2, ...): no crosstalk of messages or results."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    db = 1 + int(worker.removeprefix("gw")) % 15 if worker.startswith("gw") else 0
    parts = urlsplit(base_url)
    return urlunsplit(parts._replace(path=f"/{db}"))


@dataclass
class CeleryWorker:
    queue: str
    broker_url: str
    process: subprocess.Popen
    log_path: Path

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no worker log)"


def _wait_until_ready(worker: CeleryWorker) -> None:
    deadline = time.monotonic() + WORKER_START_TIMEOUT
    while time.monotonic() < deadline:
        if worker.process.poll() is not None:
            exit_code = worker.process.returncode
            pytest.fail(f"The Celery worker exited with {exit_code}:\n{worker.log_tail()}", pytrace=False)
        if " ready." in worker.log_path.read_text(errors="replace"):
            return
        time.sleep(0.1)
    pytest.fail(f"The Celery worker was not ready after {WORKER_START_TIMEOUT} s:\n{worker.log_tail()}", pytrace=False)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()  # warm shutdown: finish the current task, then exit
        try:
            process.wait(WORKER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real `celery worker` subprocess on this xdist worker's own queue, using this process's test database.

    It depends on django_db_setup, so it stops before the test database is dropped (it holds a connection to it).
    """
    if connection.vendor != "postgresql":
        pytest.skip(
            "A Celery worker process cannot share the in-memory SQLite test database; these tests run on PostgreSQL "
            "(make test)."
        )
    base_url = os.environ.get("LEADOPS_TEST_REDIS_URL", "")
    if not base_url:
        component_missing("LEADOPS_TEST_REDIS_URL is not set; these tests need a Redis server (make test starts one)")
    broker_url = redis_url_for_this_process(base_url)
    try:
        redis.Redis.from_url(broker_url, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        pytest.fail(f"LEADOPS_TEST_REDIS_URL={base_url} does not answer: {exc}", pytrace=False)

    queue = f"leadops-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{uuid.uuid4().hex[:8]}"
    workdir = tmp_path_factory.mktemp("celery-worker")
    # make test passes a run directory and kills any worker whose pidfile is still there when it cleans up, in case
    # this process dies before its teardown.
    pidfile = Path(os.environ.get("LEADOPS_TEST_RUN_DIR") or workdir) / f"{queue}.celery.pid"
    log_path = workdir / "worker.log"
    # Named, so that teardown can wait for exactly this worker's database session to end.
    application_name = f"celery-{queue}"
    database_url = os.environ.get("DATABASE_URL", "")
    separator = "&" if "?" in database_url else "?"
    env = {
        **os.environ,
        "DATABASE_URL": f"{database_url}{separator}application_name={application_name}",
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "LEADOPS_CELERY_EAGER": "false",
        # The worker reads DATABASE_URL like this process, but must open the test database, not the configured one.
        "LEADOPS_DB_NAME_OVERRIDE": connection.settings_dict["NAME"],
        "CELERY_BROKER_URL": broker_url,
        "CELERY_RESULT_BACKEND": broker_url,
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "leadops",
        "worker",
        "-P",
        "solo",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "-Q",
        queue,
        "-n",
        f"{queue}@%h",
        "--loglevel",
        "INFO",
        "--pidfile",
        str(pidfile),
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    worker = CeleryWorker(queue=queue, broker_url=broker_url, process=process, log_path=log_path)
    try:
        _wait_until_ready(worker)
        yield worker
    finally:
        _stop(process)
        with django_db_blocker.unblock():
            try:
                _wait_for_sessions_to_end(application_name)
            finally:
                _close_connection()


def _wait_for_sessions_to_end(application_name: str, timeout: float = 5) -> None:
    """PostgreSQL ends a server process shortly after its client exits, not at once; the test database can only be
    dropped once the worker's session is gone."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [application_name])
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.05)


def _close_connection() -> None:
    """Close the connection that code outside a test's own fixtures opened.

    Django keeps a connection per contextvars context, and once pytest-playwright has started Playwright, tests and
    hooks run in another context than session fixtures. A connection opened here and left open is one pytest-django
    never closes, and the test database cannot be dropped while it is open.
    """
    connection.close()


_PUBLISHING_CONF = ("broker_url", "result_backend", "task_always_eager", "broker_transport_options")
# Celery prefers these environment variables to its configuration.
_PUBLISHING_ENV = ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")


def _forget_connections(app) -> None:
    """The app builds its broker pool, producer pool and result backend on first use and keeps them.

    Drop them, so that the next publish or result lookup builds them from the configuration as it is now.
    """
    # Not closed: kombu keeps one pool per broker URL in a registry and would hand the closed one out again.
    app._pool = None
    app.amqp._producer_pool = None
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


@contextmanager
def celery_publishing_to(url: str):
    """Within the block, tasks sent from this process go to `url` (broker and result backend), not run eagerly.

    Everything is put back afterwards, so the eager-mode tests that run before or after in the same process see
    the test settings unchanged (tests run one at a time in a process).
    """
    saved_conf = {key: celery_app.conf.get(key) for key in _PUBLISHING_CONF}
    saved_env = {name: os.environ.pop(name) for name in _PUBLISHING_ENV if name in os.environ}
    celery_app.conf.update(broker_url=url, result_backend=url, task_always_eager=False, broker_transport_options={})
    _forget_connections(celery_app)
    try:
        yield
    finally:
        celery_app.conf.update(saved_conf)
        os.environ.update(saved_env)
        _forget_connections(celery_app)


@pytest.fixture
def celery_on_redis(celery_worker_process):
    """The running worker; for the test, tasks sent from this process go to it over Redis."""
    with celery_publishing_to(celery_worker_process.broker_url):
        yield celery_worker_process


# --- Chromium -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's chromium instead of the browser build Playwright would download (there is no download here)."""
    if not os.access(CHROMIUM, os.X_OK):
        component_missing(f"{CHROMIUM} is missing; install Debian's chromium package or set LEADOPS_CHROMIUM")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}
