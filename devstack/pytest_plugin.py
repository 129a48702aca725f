"""Start embedded services for a test session, before pytest-django reads the settings.

Loaded with ``-p devstack.pytest_plugin`` (pyproject's addopts). For every service the
environment does not name (``DATABASE_URL``, ``S3_ENDPOINT_URL``, ``CELERY_BROKER_URL``)
a fresh embedded one is started in a temporary directory and stopped at the end.
"""

from __future__ import annotations

import os
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


def pytest_unconfigure(config: pytest.Config) -> None:
    global _stack
    if _stack is not None:
        base = _stack.base
        _stack.stop()
        _stack = None
        shutil.rmtree(base, ignore_errors=True)
