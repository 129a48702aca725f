"""Shared fixtures. The services themselves come from devstack.pytest_plugin."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from licensing.keys.services import create_api_key
from marketplace.models import User

if TYPE_CHECKING:
    from tests.world import World

REPO_DIR = Path(__file__).resolve().parent.parent


class QuickPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """Django's own PBKDF2-SHA256 (the same code and the same ``pbkdf2_sha256$`` hashes, which any
    process verifies) with 1,000 rounds instead of a million: a quarter of a second per password
    set or checked, times every user the tests make and every sign-in, was minutes of a run.
    Django's testing docs advise a faster hasher for tests; nothing here measures the cost."""

    iterations = 1_000


@pytest.fixture(scope="session", autouse=True)
def _quick_password_hashing() -> Iterator[None]:
    with override_settings(PASSWORD_HASHERS=["tests.conftest.QuickPBKDF2PasswordHasher"]):
        yield


@pytest.fixture(scope="session", autouse=True)
def _counts_are_counted_at_once() -> Iterator[None]:
    """The tests' catalogs count in milliseconds, but on a busy machine one count may take longer
    than the threshold past which the catalog shows a slow count's last value while it counts it
    again: a test would then read the count from before its change, now and then. The tests of
    that (tests/marketplace/test_catalog_counts_refresh.py) set the threshold themselves."""
    with override_settings(CATALOG_SLOW_COUNT_SECONDS=None):
        yield


@pytest.fixture(scope="session", autouse=True)
def _generation_read_on_every_request() -> Iterator[None]:
    """A process trusts the catalog's generation it last read for 0.1 s (CATALOG_GENERATION_MS), so
    whether a request reads it depends on when the one before did: the tests read it on every
    request, so that what they count of a request's SQL does not depend on the machine's speed. The
    tests of the window (tests/marketplace/catalog/test_catalog_answers.py) set it themselves."""
    with override_settings(CATALOG_GENERATION_SECONDS=0):
        yield


@pytest.fixture(scope="session", autouse=True)
def _own_bucket() -> None:
    """Under xdist each worker stores in a bucket of its own (devstack.pytest_plugin); the storage
    server was started with the shared one only."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        from marketplace import storage

        storage.ensure_bucket()


@pytest.fixture(autouse=True)
def _english_after_each_test() -> Iterator[None]:
    """A request in Korean or Spanish leaves its language active in the thread (the test client
    runs the middleware in it): each test starts in English, as a process serving its first
    request does."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.activate("en")


@pytest.fixture(autouse=True)
def _fresh_rate_limits(request: pytest.FixtureRequest) -> None:
    """API rate-limit counters live in the shared cache (a PostgreSQL table, which a transactional
    test's flush leaves alone) and every test client is 127.0.0.1: without this, one test's calls
    would count against the next test's budget. Tests without the database have no counters."""
    names = set(request.fixturenames)
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not names & {"db", "transactional_db", "live_server"}:
        return
    transactional = bool(names & {"transactional_db", "live_server"}) or bool(
        marker and marker.kwargs.get("transaction")
    )
    if "_world_in_database" in names:
        request.getfixturevalue("_world_in_database")  # before the test's transaction opens
    request.getfixturevalue("transactional_db" if transactional else "db")
    from django.core.cache import cache

    cache.clear()


MID_MONTH = datetime(2026, 6, 17, 12, 0, tzinfo=UTC)  # a Wednesday, far from a week's, month's or year's edge


@pytest.fixture
def mid_month_clock() -> Iterator[time_machine.Traveller]:
    """The clock (Python's, for the app and the test alike) at ``MID_MONTH`` and ticking, so that
    "three days ago" and "an hour ago" fall in this week, month and year on every day the tests
    run. Storage checks request times against its own clock: tests under it use no storage."""
    with time_machine.travel(MID_MONTH, tick=True) as traveller:
        yield traveller


def pytest_configure(config: pytest.Config) -> None:
    # The pages' translations as the .po files say now (make does this too; pytest run alone may not).
    from config.translations import compile_all

    compile_all()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests in the realistic world run last (in their collected order): the world is committed
    once and stays in the database, where the other tests expect an empty one."""
    items.sort(key=lambda item: "_world_in_database" in getattr(item, "fixturenames", ()))


@pytest.fixture(scope="session")
def _world_built(django_db_setup: None, django_db_blocker: Any) -> tuple[World, str]:
    from tests import world

    with django_db_blocker.unblock():
        built = world.build()
        return built, world.snapshot()


@pytest.fixture
def _world_in_database(_world_built: tuple[World, str], django_db_blocker: Any) -> World:
    """The world, put back first if a transactional test flushed the database since."""
    from tests import world

    built, data = _world_built
    with django_db_blocker.unblock():
        if not world.is_present():
            world.restore(data)
    return built


@pytest.fixture
def world(_world_in_database: World, db: None) -> World:
    """The realistic world of tests/world.py: three organizations of five, datasets of every
    visibility and price, versions, a withdrawal and a takedown, grants, invoices, access requests
    and submissions in every state. Treat it as read-only: a test's own writes are rolled back
    (or flushed, in a transactional test, and the world restored for the next one)."""
    return _world_in_database


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(
        username: str | None = None, password: str = "a-long-test-password", verified: bool = True, **extra: object
    ) -> User:
        """A person; their address is verified unless ``verified=False`` (as if they followed the link)."""
        from tests.factories import verify_email

        name = username or f"user{next(counter)}"
        user = User.objects.create_user(username=name, email=f"{name}@example.org", password=password, **extra)
        if verified:
            verify_email(user)
        return user

    return make


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def bearer(make_user: Callable[..., User]) -> Callable[..., tuple[User, str]]:
    """A user and a raw API key with the given scopes."""

    def make(*scopes: str, user: User | None = None) -> tuple[User, str]:
        owner = user or make_user()
        _, raw = create_api_key(user=owner, name="test key", scopes=list(scopes or ("read",)))
        return owner, raw

    return make


def database_url_of_test_db() -> str:
    """The URL of the database pytest-django created, for processes started by a test."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgresql://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def wait_until(condition: Callable[[], bool], *, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def start_celery_worker(hostname: str, *, stdout: Any, **env_overrides: str) -> subprocess.Popen[bytes]:
    """A real Celery worker process (one task at a time) on the session's broker, using the test
    database; its output and errors go to ``stdout``."""
    env = {**os.environ, "DATABASE_URL": database_url_of_test_db(),
           "DJANGO_SETTINGS_MODULE": "config.settings.local", **env_overrides}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel", "INFO",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--hostname", hostname],
        cwd=REPO_DIR, env=env, stdout=stdout, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def stop_celery_worker(worker: subprocess.Popen[bytes]) -> None:
    """Stop it warmly (SIGTERM), and with SIGKILL when it has not stopped within 15 s."""
    if worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def purge_task_queue() -> int:
    """Drop the messages earlier tests left on the session's broker (tasks for rows long since
    flushed), so a worker started now works on this test's tasks, not a backlog; how many."""
    from config.celery import app

    return int(app.control.purge() or 0)


@pytest.fixture
def celery_worker_process(transactional_db: None, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker process on the session's broker, using the test database. Its output
    goes to a file (a pipe nobody reads fills up and stalls the worker) whose end is printed after
    the test, so a failure shows what the worker did."""
    purge_task_queue()
    log = tmp_path / "celery-worker.log"
    with log.open("wb") as out:
        worker = start_celery_worker(f"test-{os.getpid()}@%h", stdout=out)
    try:
        yield worker
    finally:
        stop_celery_worker(worker)
        sys.stdout.write(f"--- {log.name} (last lines) ---\n{log.read_text(errors='replace')[-4000:]}\n")


@contextmanager
def python_child(script: str, **popen: Any) -> Iterator[subprocess.Popen[bytes]]:
    """``script`` run by this Python in a child process in the repository, with this environment;
    killed at the end if it still runs, also when the test fails, and its pipes closed (an open one
    would surface as a ResourceWarning in whichever later test the collector happens to run in)."""
    with subprocess.Popen([sys.executable, "-c", script], cwd=REPO_DIR, env=os.environ.copy(), **popen) as child:
        try:
            yield child
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()


def sdk_parts_done(state_file: Path) -> int:
    """How many parts the SDK's resume state (``<archive>.mdc-upload.json``) records as uploaded."""
    try:
        return len(json.loads(state_file.read_text()).get("parts", []))
    except (OSError, ValueError):
        return 0


def slow_sdk_upload_script(archive: Path, submission_id: str) -> str:
    """Python for a child process: the SDK uploads ``archive`` in 5 MiB parts, one at a time, each
    part PUT waiting 0.4 s (a slow link), so the process can be killed with parts done and parts to
    do; the SDK keeps its resume state beside the file."""
    return textwrap.dedent(
        f"""
        import time, requests, datacollective
        put = requests.Session.put
        def slow_put(self, *args, **kwargs):
            time.sleep(0.4)
            return put(self, *args, **kwargs)
        requests.Session.put = slow_put
        datacollective.upload_dataset_file({str(archive)!r}, {submission_id!r}, show_progress=False,
                                           part_size=5 * 1024 * 1024, max_workers=1)
        """
    )


def chromium_executable() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None
