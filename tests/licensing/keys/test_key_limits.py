"""API keys limited to one organization or to some datasets: made on the account page (or by the
service), refused when the owner cannot reach what they name, shown on the key list, the created
key's page, the admin and the data export, and applied by the API (licensing/keys/limits.py; the
authorization matrix checks every route)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from licensing.keys.services import create_api_key
from licensing.models import ApiKey
from tests.world import World

pytestmark = pytest.mark.django_db
SCOPES = list(ApiKey.Scope.values)


def api(key: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    return Client().generic(
        method, path, "" if body is None else json.dumps(body), content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )  # fmt: skip


# --- The service ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"organization": "harbor"}, "You are not a member of Harbor Health Data"),
        ({"datasets": ["harbor-private"]}, "You cannot reach the dataset harbor-ward-audit,"),
        # Another organization's private dataset, and a dataset taken down.
        (
            {"datasets": ["valley-speech", "harbor-private", "north-removed"]},
            "You cannot reach the datasets harbor-ward-audit, northwind-scraped-forum,",
        ),
        ({"organization": "valley", "datasets": ["valley-speech"]}, "either to one organization or to some datasets"),
    ],
)
def test_a_key_is_limited_only_to_what_its_owner_reaches(world: World, limits: dict[str, Any], message: str) -> None:
    owner = world.people["valley.owner"]
    before = ApiKey.objects.count()
    with pytest.raises(ValidationError) as refused:
        create_api_key(
            user=owner,
            name="narrow",
            scopes=SCOPES,
            organization=world.orgs[limits["organization"]] if "organization" in limits else None,
            datasets=[world.datasets[handle] for handle in limits.get("datasets", [])],
        )
    assert message in " ".join(refused.value.message_dict["limit"])
    assert ApiKey.objects.count() == before


def test_a_reviewer_limits_a_key_to_their_organization_and_to_public_datasets(world: World) -> None:
    reviewer = world.people["valley.reviewer"]
    in_valley, _ = create_api_key(user=reviewer, name="valley", scopes=SCOPES, organization=world.orgs["valley"])
    assert (in_valley.limit, in_valley.organization) == (ApiKey.Limit.ORGANIZATION, world.orgs["valley"])
    chosen = [world.datasets["valley-private"], world.datasets["harbor-open"]]
    some, _ = create_api_key(user=reviewer, name="two", scopes=SCOPES, datasets=chosen)
    assert some.limit == ApiKey.Limit.DATASETS and set(some.datasets.all()) == set(chosen)
    unlimited, _ = create_api_key(user=reviewer, name="all", scopes=SCOPES)
    assert (unlimited.limit, unlimited.organization, list(unlimited.datasets.all())) == (ApiKey.Limit.ALL, None, [])


# --- The account page ------------------------------------------------------------------------------


def signed_in(world: World, person: str) -> Client:
    client = Client()
    client.force_login(world.people[person])
    return client


def test_the_account_page_offers_the_organizations_and_datasets_one_holds(world: World) -> None:
    page = signed_in(world, "licensee").get("/account/").content.decode()
    offered = set(re.findall(r'name="datasets" value="(\w+)"', page))
    # The licensee belongs to no organization and holds grants for two datasets.
    assert offered == {world.datasets["valley-speech"].id, world.datasets["north-corpus"].id}
    assert "You are in no organization." in page
    member_page = signed_in(world, "valley.member").get("/account/").content.decode()
    assert world.datasets["valley-private"].id in set(re.findall(r'name="datasets" value="(\w+)"', member_page))
    assert f'<option value="{world.orgs["valley"].id}">Valley Voices Lab</option>' in member_page
    assert "Harbor Health Data</option>" not in member_page


def test_a_key_limited_to_datasets_made_on_the_account_page(world: World) -> None:
    client = signed_in(world, "valley.member")
    response = client.post(
        "/account/keys/",
        {
            "name": "speech pipeline",
            "scopes": ["read", "download"],
            "expires_in_days": "30",
            "limit": "datasets",
            "datasets": [world.datasets["valley-speech"].id],
            "other_datasets": f"{world.datasets['harbor-open'].slug}, {world.datasets['north-corpus'].id}",
            "organization": str(world.orgs["valley"].id),  # ignored: the datasets were chosen
        },
    )
    assert response.status_code == 200
    key = ApiKey.objects.get(user=world.people["valley.member"], name="speech pipeline")
    assert (key.limit, key.organization) == (ApiKey.Limit.DATASETS, None)
    slugs = [world.datasets[handle].slug for handle in ("valley-speech", "harbor-open", "north-corpus")]
    assert {d.slug for d in key.datasets.all()} == set(slugs)
    shown = re.search(r'data-testid="key-limit">(.*?)</p>', response.content.decode(), re.S)
    assert shown is not None and "Only the datasets" in shown.group(1)
    assert all(slug in shown.group(1) for slug in slugs)

    listed = client.get("/account/").content.decode()
    row = re.search(rf'<tr id="key-{key.id}">(.*?)</tr>', listed, re.S)
    assert row is not None and "Only the datasets" in row.group(1) and slugs[1] in row.group(1)


def test_a_key_limited_to_an_organization_made_on_the_account_page(world: World) -> None:
    client = signed_in(world, "valley.admin")
    response = client.post(
        "/account/keys/",
        {"name": "valley", "scopes": ["upload"], "expires_in_days": "7", "limit": "organization",
         "organization": str(world.orgs["valley"].id), "other_datasets": "harbor-open"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "Only the organization Valley Voices Lab" in response.content.decode()
    key = ApiKey.objects.get(user=world.people["valley.admin"], name="valley")
    assert (key.limit, key.organization, key.datasets.count()) == (ApiKey.Limit.ORGANIZATION, world.orgs["valley"], 0)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"limit": "organization"}, "Choose the organization the key may act for."),
        ({"limit": "organization", "organization": "@harbor"}, "Select a valid choice."),
        ({"limit": "datasets"}, "Choose at least one dataset, or name one below."),
        ({"limit": "datasets", "other_datasets": "valley-speech harbor-private no-such"},
         "No datasets you can see are called harbor-private, no-such."),
        ({"limit": "everything"}, "Select a valid choice."),
    ],
)  # fmt: skip
def test_the_account_page_says_what_is_wrong_with_a_limit(world: World, form: dict[str, str], message: str) -> None:
    if form.get("organization") == "@harbor":
        form = {**form, "organization": str(world.orgs["harbor"].id)}
    before = ApiKey.objects.count()
    response = signed_in(world, "valley.member").post(
        "/account/keys/", {"name": "k", "scopes": ["read"], "expires_in_days": "30", **form}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert ApiKey.objects.count() == before


def test_the_account_page_speaks_korean_about_limits(world: World) -> None:
    client = signed_in(world, "valley.member")
    page = client.get("/account/", headers={"Accept-Language": "ko"}).content.decode()
    assert "모든 접근 권한" in page  # "All my access"
    assert "All my access" not in page


# --- The API -----------------------------------------------------------------------------------------


def test_a_dataset_limited_key_downloads_its_dataset_and_nothing_else(world: World) -> None:
    licensee = world.people["licensee"]
    speech, corpus = world.datasets["valley-speech"], world.datasets["north-corpus"]
    _, key = create_api_key(user=licensee, name="speech only", scopes=SCOPES, datasets=[speech])

    assert api(key, "POST", f"/api/datasets/{speech.id}/download").status_code == 200
    refused = api(key, "POST", f"/api/datasets/{corpus.id}/download")
    assert refused.status_code == 404
    assert refused.json()["message"] == "This API key is limited to the dataset valley-speech: it cannot reach this."
    # The same words whether the dataset exists or not: a limited key tells nothing of the rest.
    assert api(key, "POST", "/api/datasets/no-such-dataset/download").json() == refused.json()
    # An unlimited key of the same person still downloads both.
    assert api(world.key("licensee"), "POST", f"/api/datasets/{corpus.id}/download").status_code == 200

    grants = api(key, "GET", "/api/v1/grants").json()["items"]
    assert {item["dataset"]["id"] for item in grants} == {speech.id}
    me = api(key, "GET", "/api/v1/me").json()["apiKey"]
    assert me["limit"] == {"kind": "datasets", "organization": None, "datasets": [speech.id]}
    # The public catalog reads as without a key; the account as a whole needs a full key.
    assert api(key, "GET", f"/api/v1/datasets/{corpus.id}").status_code == 200
    export = api(key, "GET", "/api/v1/me/export")
    assert export.status_code == 403
    assert "acts on your whole account" in export.json()["message"]


def test_an_organization_limited_key_acts_for_that_organization_only(world: World) -> None:
    member = world.people["valley.member"]
    _, key = create_api_key(user=member, name="valley", scopes=SCOPES, organization=world.orgs["valley"])
    private = world.datasets["valley-private"]
    assert api(key, "GET", f"/api/v1/datasets/{private.id}").status_code == 200  # a private dataset of Valley
    draft = world.submissions["valley-uploading"]
    assert api(key, "GET", f"/api/v1/submissions/{draft.id}").status_code == 200
    assert api(key, "POST", "/api/submissions", {"name": "Valley's next"}).status_code == 200
    assert api(key, "GET", "/api/v1/me").json()["apiKey"]["limit"]["organization"] == "valley-voices"

    # The same member's key limited to a dataset of another organization creates nothing for Valley.
    _, elsewhere = create_api_key(user=member, name="b", scopes=SCOPES, datasets=[world.datasets["harbor-open"]])
    refused = api(elsewhere, "POST", "/api/submissions", {"name": "Not here"})
    assert refused.status_code == 403
    assert "cannot create datasets of Valley Voices Lab" in refused.json()["message"]
    assert api(elsewhere, "GET", f"/api/v1/datasets/{private.id}").status_code == 404  # as without a key
    assert api(elsewhere, "GET", f"/api/v1/submissions/{draft.id}").status_code == 404


# --- Where the limit is shown ------------------------------------------------------------------------


def test_the_data_export_and_the_admin_show_each_keys_limit(world: World, make_user: Any) -> None:
    member = world.people["valley.member"]
    create_api_key(user=member, name="org key", scopes=SCOPES, organization=world.orgs["valley"])
    create_api_key(
        user=member, name="data key", scopes=SCOPES,
        datasets=[world.datasets["valley-speech"], world.datasets["harbor-open"]],
    )  # fmt: skip
    exported = {
        key["name"]: key["limit"]
        for key in api(world.key("valley.member"), "GET", "/api/v1/me/export").json()["apiKeys"]
    }
    assert exported["org key"] == {"kind": "organization", "organization": "valley-voices", "datasets": []}
    assert exported["data key"] == {
        "kind": "datasets",
        "organization": None,
        "datasets": ["harbor-open-triage", "valley-speech"],
    }
    assert exported["valley.member's key"]["kind"] == "all"

    staff = Client()
    staff.force_login(make_user("keeper", is_staff=True, is_superuser=True))
    listing = staff.get("/admin/licensing/apikey/?q=valley-member").content.decode()
    assert "the organization Valley Voices Lab" in listing
    assert "the datasets harbor-open-triage, valley-speech" in listing
    key = ApiKey.objects.get(user=member, name="data key")
    assert (
        "the datasets harbor-open-triage, valley-speech"
        in staff.get(f"/admin/licensing/apikey/{key.id}/change/").content.decode()
    )


def test_the_command_makes_limited_keys(world: World) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    username = world.people["valley.member"].username
    speech = world.datasets["valley-speech"].slug
    call_command("create_api_key", username, "--dataset", speech, stdout=out)
    key = ApiKey.objects.get(user=world.people["valley.member"], name="command line")
    assert key.limit == ApiKey.Limit.DATASETS and [d.slug for d in key.datasets.all()] == [speech]
    assert api(out.getvalue().strip(), "GET", "/api/v1/me").json()["apiKey"]["limit"]["kind"] == "datasets"
    with pytest.raises(CommandError, match="You are not a member of Harbor Health Data"):
        call_command("create_api_key", username, "--organization", world.orgs["harbor"].slug, stdout=StringIO())
    with pytest.raises(CommandError, match="No dataset no-such"):
        call_command("create_api_key", username, "--dataset", "no-such", stdout=StringIO())
