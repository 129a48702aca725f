"""A task goes through the real broker to a real worker process and does its work."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from marketplace.tasks import clear_expired_sessions
from tests.conftest import wait_until


@pytest.mark.slow
def test_task_round_trip_through_broker_and_worker(celery_worker_process: subprocess.Popen[bytes]) -> None:
    expired = SessionStore()
    expired["note"] = "old"
    expired.set_expiry(timezone.now() - timedelta(days=1))
    expired.create()
    current = SessionStore()
    current["note"] = "fresh"
    current.create()
    assert Session.objects.count() == 2

    with transaction.atomic():
        transaction.on_commit(clear_expired_sessions.delay)

    done = wait_until(lambda: not Session.objects.filter(session_key=expired.session_key).exists(), timeout=60)
    assert done, "the worker did not run the task within 60 s (its output is printed below the test)"
    assert Session.objects.filter(session_key=current.session_key).exists()
