"""Start embedded services for a test session, before pytest-django reads the settings.

Loaded with ``-p devstack.pytest_plugin`` (pyproject's addopts). For every service the
environment does not name (``DATABASE_URL``, ``S3_ENDPOINT_URL``, ``CELERY_BROKER_URL``)
a fresh embedded one is started in a temporary directory and stopped at the end.

Under pytest-xdist (``make test`` runs two workers), the controller starts what is missing and
each worker shares those servers, with its own of everything a test may empty or consume: its
own test database (pytest-django names it), its own bucket, Celery queue, Redis databases and
``VAR_DIR``. A test that purges the queue or clears the cache never touches the other worker's.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Generator
from pathlib import Path

import pytest

from devstack.stack import Stack

_stack: Stack | None = None


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> Generator[None, None, None]:
    global _stack
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker:
        _separate_worker(worker)
    wanted = ("DATABASE_URL", "S3_ENDPOINT_URL", "CELERY_BROKER_URL")
    if not all(os.environ.get(name) for name in wanted):
        base = Path(tempfile.mkdtemp(prefix="dc-test-stack-"))
        _stack = Stack(base, durable=False)
        _stack.start()
        os.environ.update(_stack.env)
    # The tests must not pick up a running `make run` through var/stack.json.
    if not os.environ.get("VAR_DIR"):
        os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="dc-test-var-")
    # Static files are served from the finders in tests; the collected folder just has to exist.
    (Path(os.environ["VAR_DIR"]) / "staticfiles").mkdir(exist_ok=True)
    return (yield)


def _separate_worker(worker: str) -> None:
    """Give xdist worker ``worker`` ("gw1") its own copy of every shared name (the servers stay shared)."""
    number = int(worker.removeprefix("gw"))
    os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix=f"dc-test-var-{worker}-")
    os.environ["S3_BUCKET"] = f"{os.environ.get('S3_BUCKET', 'datacollective')}-{worker}"
    os.environ["CELERY_QUEUE"] = f"{os.environ.get('CELERY_QUEUE', 'celery')}-{worker}"
    # Redis has databases 0-15: worker n takes the two below worker n-1's (the cache and the tests' own).
    for name in ("CACHE_URL", "TEST_REDIS_URL"):
        url = os.environ.get(name, "")
        if found := re.fullmatch(r"(rediss?://[^/]+/)(\d+)", url):
            os.environ[name] = f"{found.group(1)}{(int(found.group(2)) - 2 * number) % 16}"
    # The controller's broker folder (embedded runs) is shared too: queues keep the workers apart.


def pytest_unconfigure(config: pytest.Config) -> None:
    global _stack
    if _stack is not None:
        base = _stack.base
        _stack.stop()
        _stack = None
        shutil.rmtree(base, ignore_errors=True)
