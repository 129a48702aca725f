"""Fixtures that start more instances beside the test's own ``live_server``, and a misbehaving peer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import database_url_of_test_db
from tests.federation.instances import Instance
from tests.federation.stub_peer import StubPeer

# A version published the real way on the test's live server (instance A): tests/provenance's fixture.
from tests.provenance.conftest import publish_real  # noqa: F401


@pytest.fixture
def start_instance(transactional_db: None, tmp_path: Path) -> Iterator[Callable[..., Instance]]:
    """``start_instance("b", worker=True)``: a running instance, stopped (its database dropped)
    when the test ends."""
    started: list[Instance] = []

    def start(name: str, *, worker: bool = False) -> Instance:
        instance = Instance(name, tmp_path, database_url=database_url_of_test_db())
        started.append(instance)
        return instance.start(worker=worker)

    yield start
    for instance in reversed(started):
        instance.stop()


@pytest.fixture
def stub_peer() -> Iterator[StubPeer]:
    """A peer on a loopback port that serves a FakeOrigin, or whatever answers a test sets."""
    with StubPeer().running() as peer:
        yield peer
