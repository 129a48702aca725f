"""A license may allow no more than the contributors consented to: submitting (the API and the page)
and approving (the review page) refuse a license that allows commercial use, AI training,
redistribution or derivatives beyond the consent, naming each conflict in words."""

from __future__ import annotations

import html
from typing import Any

from django.test import Client
from rest_framework.test import APIClient

from licensing.consent import terms as consent
from licensing.consent.inputs import ConsentTermsInput
from licensing.models import ConsentWithdrawal, License, Rerelease
from marketplace.models import DatasetVersion, Submission
from tests.second_factor import pass_second_factor
from tests.world import CONSENT, World

REDISTRIBUTION = (
    "the license CC-BY-4.0 allows redistribution, but the contributors' consent does not allow it: choose a "
    "license without redistribution, or record consent that allows it"
)
DERIVATIVES = (
    "the license CC-BY-4.0 allows derivatives, but the contributors' consent does not allow it: choose a "
    "license without derivatives, or record consent that allows it"
)
RESEARCH_ONLY = (
    "the license CC-BY-4.0 allows commercial use, but the contributors consented to research only: choose a "
    "non-commercial license, or record consent that allows commercial use"
)


def api_for(world: World, person: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.key(person)}")
    return client


def page_for(world: World, person: str) -> Client:
    """Signed in, and past the second factor the reviewer's decisions ask for."""
    client = Client()
    pass_second_factor(client, world.people[person])
    return client


def status_of(submission: Submission) -> str:
    return Submission.objects.get(id=submission.id).status


def test_a_license_allowing_more_than_the_consent_is_not_submitted_by_the_api(world: World) -> None:
    # Valley's rejected submission is complete (validated archive, records, split) under CC-BY-4.0.
    submission = world.submissions["valley-rejected"]
    author = api_for(world, "valley.member")
    narrow = {**CONSENT, "redistribution": False, "derivatives": False}
    assert author.put(f"/api/v1/submissions/{submission.id}/consent", narrow, format="json").status_code == 200

    refused = author.post(f"/api/submissions/{submission.id}", {"agreeToSubmit": True}, format="json")
    assert refused.status_code == 400
    assert refused.json()["message"] == f"Cannot submit yet: {REDISTRIBUTION}; {DERIVATIVES}."
    assert status_of(submission) == "rejected"
    problems = author.get(f"/api/v1/submissions/{submission.id}").json()["problems"]
    assert problems == [REDISTRIBUTION, DERIVATIVES]

    # Recording consent that allows what the license allows lets it through.
    assert author.put(f"/api/v1/submissions/{submission.id}/consent", CONSENT, format="json").status_code == 200
    done = author.post(f"/api/submissions/{submission.id}", {"agreeToSubmit": True}, format="json")
    assert done.status_code == 200 and status_of(submission) == "submitted"


def test_research_only_consent_refuses_a_commercial_license_until_it_is_narrowed(world: World) -> None:
    submission = world.submissions["valley-rejected"]
    author = api_for(world, "valley.member")
    research = {**CONSENT, "commercialUse": False, "researchOnly": True}
    assert author.put(f"/api/v1/submissions/{submission.id}/consent", research, format="json").status_code == 200

    page = page_for(world, "valley.member")
    answer = page.post(f"/submissions/{submission.id}/submit/", {"agree": "on"}, follow=True)
    shown = html.unescape(answer.content.decode())
    assert f"Cannot submit yet: {RESEARCH_ONLY}." in shown
    assert "commercial_use" not in shown.split("Cannot submit yet")[1].split("</li>")[0]
    assert status_of(submission) == "rejected"

    # A non-commercial license (CC-BY-NC-4.0 in this world) stays within research-only consent.
    narrowed = author.patch(f"/api/submissions/{submission.id}", {"licenseAbbreviation": "CC-BY-NC-4.0"}, format="json")
    assert narrowed.status_code == 200
    answer = page.post(f"/submissions/{submission.id}/submit/", {"agree": "on"}, follow=True)
    assert "Submitted for review" in answer.content.decode() and status_of(submission) == "submitted"


def test_a_reviewer_cannot_approve_a_license_beyond_the_consent(world: World) -> None:
    submission = world.submissions["valley-in-review"]
    # Terms recorded while it waited (as before this rule existed): no redistribution.
    consent.set_consent_terms(
        submission=submission,
        user=world.people["valley.member"],
        terms=ConsentTermsInput.from_json({**CONSENT, "redistribution": False}),
    )
    versions, licenses = DatasetVersion.objects.count(), License.objects.count()
    reviewer = page_for(world, "valley.reviewer")

    waiting = html.unescape(reviewer.get(f"/review/{submission.id}/").content.decode())
    assert REDISTRIBUTION in waiting
    refused = reviewer.post(f"/review/{submission.id}/", {"decision": "approve"})
    assert refused.status_code == 400
    assert f"It cannot be approved: {REDISTRIBUTION}." in html.unescape(refused.content.decode())
    # Nothing half-written: no version, no license, still waiting for review.
    assert (DatasetVersion.objects.count(), License.objects.count()) == (versions, licenses)
    assert status_of(submission) == "submitted"

    consent.set_consent_terms(
        submission=submission, user=world.people["valley.member"], terms=ConsentTermsInput.from_json(CONSENT)
    )
    approved = reviewer.post(f"/review/{submission.id}/", {"decision": "approve"})
    assert approved.status_code == 302 and status_of(submission) == "approved"


def test_custom_terms_are_cut_to_the_consent_and_never_conflict(world: World) -> None:
    submission = world.submissions["valley-rejected"]
    author = api_for(world, "valley.member")
    narrow: dict[str, Any] = {**CONSENT, "redistribution": False, "derivatives": False, "aiTraining": False}
    author.put(f"/api/v1/submissions/{submission.id}/consent", narrow, format="json")
    custom = {"licenseAbbreviation": "Valley Terms", "licenseText": "Use within Valley's consent only."}
    assert author.patch(f"/api/submissions/{submission.id}", custom, format="json").status_code == 200
    done = author.post(f"/api/submissions/{submission.id}", {"agreeToSubmit": True}, format="json")
    assert done.status_code == 200, done.json()
    assert status_of(submission) == "submitted"


def test_a_re_release_after_a_withdrawal_is_not_held_back_by_an_earlier_conflict(world: World) -> None:
    """A re-release only takes withdrawn records out; refusing it would keep them published."""
    submission = world.submissions["valley-in-review"]
    consent.set_consent_terms(
        submission=submission,
        user=world.people["valley.member"],
        terms=ConsentTermsInput.from_json({**CONSENT, "redistribution": False}),
    )
    dataset = world.datasets["valley-speech"]
    withdrawal = ConsentWithdrawal.objects.create(
        dataset=dataset, version=world.version("valley-speech", 1), contributor_id="c-2", record_ids=["c-2"],
        recorded_by=world.people["valley.owner"], on_behalf=True,
    )  # fmt: skip
    Rerelease.objects.create(
        dataset=dataset, withdrawal=withdrawal, status=Rerelease.Status.IN_REVIEW, submission=submission
    )
    approved = page_for(world, "valley.reviewer").post(f"/review/{submission.id}/", {"decision": "approve"})
    assert approved.status_code == 302 and status_of(submission) == "approved"
