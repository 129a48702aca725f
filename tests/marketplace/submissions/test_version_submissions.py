"""``drafts.create_version_submission``: a draft of version N+1 of a published dataset.
(Its approval, which publishes version 2 onto the same dataset, runs in test_seed_demo.)"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from licensing.licenses import spdx_license
from marketplace.models import Membership, User
from marketplace.organizations.services import approve_organization
from marketplace.publishing import takedown_dataset
from marketplace.submissions import drafts, rules
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user: Any) -> dict[str, User]:
    org = approve_organization(organization=factories.organization("speech-co"))
    other = approve_organization(organization=factories.organization("other-co"))
    users = {name: make_user(name) for name in ("member", "reviewer", "outsider")}
    Membership.objects.create(organization=org, user=users["member"], role="member")
    Membership.objects.create(organization=org, user=users["reviewer"], role="reviewer")
    Membership.objects.create(organization=other, user=users["outsider"], role="owner")
    return users


def test_the_draft_carries_the_datasheet_and_license_of_the_dataset(people: dict[str, User]) -> None:
    dataset = factories.published_dataset(
        "valley-speech", org=factories.organization("speech-co"), name="Valley Speech", locale="cy", task="ASR",
        visibility="restricted", is_paid=True, base_price_cents=20_000, intended_usage="ASR research.",
    )  # fmt: skip
    draft = drafts.create_version_submission(user=people["member"], dataset=dataset)
    assert (draft.dataset, draft.organization, draft.status, draft.created_by) == (
        dataset, dataset.organization, "draft", people["member"]
    )  # fmt: skip
    assert (draft.name, draft.locale, draft.task, draft.visibility, draft.base_price_cents, draft.intended_usage) == (
        "Valley Speech", "cy", "ASR", "restricted", 20_000, "ASR research."
    )  # fmt: skip
    assert (draft.license_abbreviation, spdx_license(draft.license_abbreviation)) == ("CC-BY-4.0", dataset.license)


@pytest.mark.parametrize("who", ["reviewer", "outsider"])
def test_only_uploaders_of_the_dataset_organization_open_one(people: dict[str, User], who: str) -> None:
    dataset = factories.published_dataset("valley-speech", org=factories.organization("speech-co"))
    with pytest.raises(PermissionDenied):
        drafts.create_version_submission(user=people[who], dataset=dataset)


def test_a_taken_down_dataset_gets_no_new_version(people: dict[str, User], make_user: Any) -> None:
    dataset = factories.published_dataset("valley-speech", org=factories.organization("speech-co"))
    takedown_dataset(dataset=dataset, reason="A legal claim.", by=make_user("staff", is_staff=True))
    with pytest.raises(rules.SubmissionConflict, match="removed"):
        drafts.create_version_submission(user=people["member"], dataset=dataset)
