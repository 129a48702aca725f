"""Submissions through the official SDK (E7-E10) against a live server, and the rules behind them."""

from __future__ import annotations

from typing import Any

import datacollective
import pytest
import requests
from datacollective.errors import ResourceRemovedError
from datacollective.models import DatasetSubmission, License, Task

from marketplace.models import Membership, Organization, Submission, User
from marketplace.organizations.services import approve_organization
from tests.factories import license_for, organization
from tests.marketplace.submissions.conftest import SdkContributor

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def contributor(sdk_contributor: SdkContributor) -> tuple[User, Organization]:
    license_for("CC-BY-4.0")
    return sdk_contributor.user, sdk_contributor.organization


def test_create_update_and_read_back(contributor: tuple[User, Organization], live_server: Any) -> None:
    user, org = contributor
    created = datacollective.create_submission_draft(DatasetSubmission(name="  Welsh Read Speech  "))
    submission_id = created["submission"]["id"]
    stored = Submission.objects.get(id=submission_id)
    assert (stored.name, stored.organization, stored.created_by, stored.status) == (
        "Welsh Read Speech", org, user, "draft"
    )  # fmt: skip

    updated = datacollective.update_submission(
        submission_id,
        DatasetSubmission(
            shortDescription="Read speech in Welsh", longDescription="Five hours of **read** speech.",
            locale="cy", task=Task.ASR, format="TSV", licenseAbbreviation=License.CC_BY_4_0,
            pointOfContactFullName="Ann Jones", pointOfContactEmail="ann@example.org",
            intendedUsage="ASR training", isPaid=True, basePriceCents=25000, visibility="restricted",
        ),
    )  # fmt: skip
    body = updated["submission"]
    assert body["task"] == "ASR" and body["licenseAbbreviation"] == "CC-BY-4.0"
    # The SDK drops license and licenseUrl when the License enum is used: the server derives them.
    assert body["license"] == "CC-BY-4.0 terms" and body["licenseUrl"] == "https://licenses.example.org/CC-BY-4.0"
    assert body["basePriceCents"] == 25000 and body["visibility"] == "restricted"

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {_key()}"
    read = session.get(f"{live_server.url}/api/v1/submissions/{submission_id}").json()
    assert read["submission"]["shortDescription"] == "Read speech in Welsh"
    assert any("no archive upload has completed" in problem for problem in read["problems"])


def _key() -> str:
    import os

    return os.environ["MDC_API_KEY"]


def test_submit_lists_everything_missing(contributor: tuple[User, Organization]) -> None:
    submission_id = datacollective.create_submission_draft(DatasetSubmission(name="Incomplete"))["submission"]["id"]
    with pytest.raises(requests.HTTPError) as refused:
        datacollective.submit_submission(submission_id, DatasetSubmission(agreeToSubmit=True))
    message = str(refused.value)
    assert "400" in message
    for missing in ("shortDescription is missing", "licenseAbbreviation is missing", "no archive upload",
                    "consent terms are missing", "revenue shares are missing"):  # fmt: skip
        assert missing in message
    assert Submission.objects.get(id=submission_id).status == "draft"


def test_bad_updates_are_refused_with_what_is_wrong(contributor: tuple[User, Organization], live_server: Any) -> None:
    submission_id = datacollective.create_submission_draft(DatasetSubmission(name="Strict"))["submission"]["id"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {_key()}"
    url = f"{live_server.url}/api/submissions/{submission_id}"
    response = session.patch(url, json={"task": "SPEECH", "pointOfContactEmail": "not-an-email", "basePriceCents": 5,
                                        "visibility": "secret", "color": "red", "name": "  "})  # fmt: skip
    assert response.status_code == 400
    message = response.json()["message"]
    for part in ("task: must be one of", "pointOfContactEmail: 'not-an-email' is not an email address",
                 "basePriceCents: must be between 10000 and 5000000 cents", "visibility: must be one of",
                 "Unknown field(s): color", "name: must be a non-empty string"):  # fmt: skip
        assert part in message
    assert session.patch(url, json={}).json()["message"] == "Nothing to update: send at least one field."
    assert session.patch(url, json={"isPaid": True}).status_code == 400  # a paid dataset needs its price
    assert Submission.objects.get(id=submission_id).name == "Strict"  # nothing half-written
    assert session.post(url, json={"agreeToSubmit": False}).status_code == 400


def test_delete_then_gone(contributor: tuple[User, Organization]) -> None:
    submission_id = datacollective.create_submission_draft(DatasetSubmission(name="Short-lived"))["submission"]["id"]
    datacollective.delete_submission(submission_id)
    assert Submission.objects.get(id=submission_id).status == "deleted"
    with pytest.raises(ResourceRemovedError):
        datacollective.delete_submission(submission_id)
    with pytest.raises(ResourceRemovedError):
        datacollective.update_submission(submission_id, DatasetSubmission(locale="cy"))
    with pytest.raises(FileNotFoundError):
        datacollective.delete_submission("cnosuchsubmission000000000")


def test_another_organizations_submission_is_403(contributor: tuple[User, Organization], bearer, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    submission_id = datacollective.create_submission_draft(DatasetSubmission(name="Ours"))["submission"]["id"]
    other_org = approve_organization(organization=organization("other-co"))
    stranger, stranger_key = bearer("upload")
    Membership.objects.create(organization=other_org, user=stranger, role="owner")
    monkeypatch.setenv("MDC_API_KEY", stranger_key)
    with pytest.raises(PermissionError, match="belongs to an organization you cannot submit for"):
        datacollective.update_submission(submission_id, DatasetSubmission(locale="en"))
    with pytest.raises(PermissionError):
        datacollective.delete_submission(submission_id)
    assert Submission.objects.get(id=submission_id).status == "draft"


def test_who_may_create(contributor: tuple[User, Organization], bearer, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    outsider, outsider_key = bearer("upload")
    monkeypatch.setenv("MDC_API_KEY", outsider_key)
    with pytest.raises(PermissionError, match="not an owner, admin or member of an organization approved"):
        datacollective.create_submission_draft(DatasetSubmission(name="Nope"))
    waiting = organization("waiting-co")
    Membership.objects.create(organization=waiting, user=outsider, role="member")
    with pytest.raises(PermissionError, match="Waiting Co is not approved to upload yet"):
        datacollective.create_submission_draft(DatasetSubmission(name="Nope"))
    _, read_only_key = bearer("read", user=contributor[0])
    monkeypatch.setenv("MDC_API_KEY", read_only_key)
    with pytest.raises(PermissionError, match="lacks the 'upload' scope"):
        datacollective.create_submission_draft(DatasetSubmission(name="Nope"))
    monkeypatch.setenv("MDC_API_KEY", "dck_" + "0" * 43)
    from datacollective.errors import AuthenticationError

    with pytest.raises(AuthenticationError):
        datacollective.create_submission_draft(DatasetSubmission(name="Nope"))
    assert not Submission.objects.filter(name="Nope").exists()
