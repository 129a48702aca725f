"""Who sees a dataset, in organizations with several members (a join through the memberships
once gave every dataset back once per member, and every signed-in caller a 500)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from rest_framework.test import APIClient

from marketplace.catalog.visibility import visible_datasets
from marketplace.models import Dataset, Membership, User
from tests.factories import organization, published_dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def crowded(make_user: Callable[..., User]) -> dict[str, object]:
    """An organization of five (every role), another of three, and a dataset of each visibility."""
    owner = make_user("crowd-owner")
    org = organization("crowded-co", owner=owner)
    people = {"owner": owner}
    for role in ("admin", "member", "member", "reviewer"):
        person = make_user()
        Membership.objects.create(organization=org, user=person, role=role)
        people.setdefault(role, person)
    other_org = organization("elsewhere-co")
    for _ in range(2):
        Membership.objects.create(organization=other_org, user=make_user(), role="member")
    datasets = {
        visibility: published_dataset(f"crowd-{visibility}", org=org, visibility=visibility)
        for visibility in Dataset.Visibility.values
    }
    return {"people": people, "datasets": datasets, "outsider": make_user("outsider")}


def test_each_visible_dataset_comes_back_once(crowded: dict) -> None:
    datasets, people = crowded["datasets"], crowded["people"]
    for person in people.values():
        ids = list(visible_datasets(user=person).values_list("id", flat=True))
        assert sorted(ids) == sorted(d.id for d in datasets.values()), person
    outsider_ids = list(visible_datasets(user=crowded["outsider"]).values_list("id", flat=True))
    assert datasets["private"].id not in outsider_ids
    assert sorted(outsider_ids) == sorted([datasets["public"].id, datasets["restricted"].id])


@pytest.mark.parametrize(
    "path",
    ["", "/versions", "/versions/1/manifest", "/versions/1/croissant", "/versions/1/inclusion-proof"],
)
def test_read_endpoints_answer_every_member_and_key_holder(
    crowded: dict, bearer: Callable[..., tuple[User, str]], path: str
) -> None:
    public = crowded["datasets"]["public"]
    private = crowded["datasets"]["private"]
    for person in [*crowded["people"].values(), crowded["outsider"]]:
        _, key = bearer("read", user=person)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        assert client.get(f"/api/v1/datasets/{public.id}{path}").status_code == 200, person
        expected = 404 if person is crowded["outsider"] else 200
        assert client.get(f"/api/v1/datasets/{private.id}{path}").status_code == expected, person
        session = APIClient()
        session.force_authenticate(person)
        assert session.get(f"/api/v1/datasets/{public.id}{path}").status_code == 200, person


def test_the_dataset_page_links_work_for_a_signed_in_member(crowded: dict, client: Client) -> None:
    public = crowded["datasets"]["public"]
    client.force_login(crowded["people"]["reviewer"])
    page = client.get(f"/datasets/{public.slug}/")
    assert page.status_code == 200
    for link in (f"/api/v1/datasets/{public.id}/versions/1/manifest",
                 f"/api/v1/datasets/{public.id}/versions/1/inclusion-proof"):  # fmt: skip
        assert link in page.content.decode()
        assert client.get(link).status_code == 200, link
