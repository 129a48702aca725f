"""Staff's takedown page (/staff/takedowns/): a dataset named by its page address, slug or id, a
required reason and a confirmation; then the list of datasets taken down with their reasons."""

from __future__ import annotations

import pytest
from django.test import Client

from marketplace.models import Dataset, User
from tests.factories import published_dataset
from tests.second_factor import pass_second_factor

pytestmark = pytest.mark.django_db


def staff() -> User:
    return User.objects.create_user(username="moderator", email="mod@example.org", is_staff=True)


def test_staff_take_a_dataset_down_in_two_steps_and_see_it_listed_with_its_reason(client: Client) -> None:
    dataset = published_dataset("valley-speech", name="Valley Speech")
    pass_second_factor(client, staff())
    empty = client.get("/staff/takedowns/")
    assert empty.status_code == 200 and "No dataset has been taken down." in empty.content.decode()

    review = client.post(
        "/staff/takedowns/", {"dataset": "https://data.example.org/datasets/valley-speech/", "reason": "A court order."}
    )
    body = review.content.decode()
    assert review.status_code == 200 and 'id="takedown-confirm"' in body and "Take Valley Speech of" in body
    assert Dataset.objects.get(id=dataset.id).status == "published"  # not before the confirmation

    done = client.post("/staff/takedowns/", {"dataset": dataset.id, "reason": "A court order.", "confirm": "yes"})
    assert done.status_code == 302 and done["Location"] == "/staff/takedowns/"
    taken = Dataset.objects.get(id=dataset.id)
    assert (taken.status, taken.removal_reason) == ("removed", "A court order.")
    listed = client.get("/staff/takedowns/").content.decode()
    assert 'id="removed-valley-speech"' in listed and "A court order." in listed
    assert client.get("/datasets/valley-speech/").status_code == 410

    twice = client.post("/staff/takedowns/", {"dataset": "valley-speech", "reason": "Again.", "confirm": "yes"})
    assert twice.status_code == 400
    assert "Valley Speech is not published (it is removed): there is nothing to take down." in twice.content.decode()


def test_the_page_says_what_is_missing_and_is_staff_only(client: Client) -> None:
    published_dataset("valley-speech")
    client.force_login(User.objects.create_user(username="someone", email="s@example.org"))
    assert client.get("/staff/takedowns/").status_code == 403
    assert (
        client.post("/staff/takedowns/", {"dataset": "valley-speech", "reason": "x", "confirm": "yes"}).status_code
        == 403
    )
    pass_second_factor(client, staff())
    refused = client.post("/staff/takedowns/", {"dataset": "no-such-thing", "reason": "", "confirm": "yes"})
    body = refused.content.decode()
    assert refused.status_code == 400
    assert "No dataset &#x27;no-such-thing&#x27;: give its page&#x27;s address, its slug or its id." in body
    assert "Say why the dataset is taken down" in body
    assert Dataset.objects.get(slug="valley-speech").status == "published"
