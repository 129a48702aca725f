"""Access request decisions (licensing.access.access_requests) against real PostgreSQL: a
decision and its transparency-log entry commit together, or neither does."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from licensing.access import access_requests
from licensing.models import AccessRequest
from marketplace.models import User
from provenance import log
from provenance.models import LogEntry
from tests.factories import organization, stored_dataset

pytestmark = pytest.mark.django_db


class LogDown(Exception):
    pass


def test_a_decision_whose_log_entry_fails_leaves_the_request_as_it_was(
    make_user: Callable[..., User], monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = make_user("decider")
    dataset = stored_dataset(
        "log-fails", b"\x1f\x8b archive", org=organization("log-co", owner=owner), visibility="restricted"
    )
    requester = make_user()
    item = access_requests.request_access(
        user=requester, dataset=dataset, full_name="Ada", organization_name="Lab", intended_use="Research"
    )
    assert item.status == AccessRequest.Status.PENDING
    entries = LogEntry.objects.count()

    def failing_append(**_: object) -> LogEntry:
        raise LogDown("the transparency log refused the entry")

    monkeypatch.setattr(log, "append", failing_append)
    with pytest.raises(LogDown):
        access_requests.approve(request_id=item.id, by=owner)
    item.refresh_from_db()
    assert (item.status, item.decided_by, item.decided_at) == (AccessRequest.Status.PENDING, None, None)
    assert LogEntry.objects.count() == entries

    monkeypatch.undo()
    approved = access_requests.approve(request_id=item.id, by=owner)
    assert approved.status == AccessRequest.Status.APPROVED and approved.decided_by == owner
    assert LogEntry.objects.count() == entries + 1
