"""Every read of the instance, by every kind of person in the realistic world, answers without a
server error, and every list holds each of its items once.

Every GET route of the URLconf (the API with each person's key, the pages with their session,
and anonymously) is called with each object of the world its parameters can name: every dataset
by id and slug, each of its versions, every submission, upload, grant, invoice, access request,
organization and log entry. The world has organizations of five, so a read that joins through
memberships and returns a row per member shows up here as a 500 or a repeated item, as it did for
every key holder on five read endpoints of the demo.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from licensing.models import ConsentWithdrawal
from provenance import signing
from provenance.models import LogEntry, Peer
from tests.hardening.authz import Route, all_routes, fill
from tests.world import World

# One person in each kind of situation: each role inside the organization that owns most of the
# objects, an admin of another, licensees with and without grants and access, someone new, staff.
CALLERS = [
    "anonymous", "valley.owner", "valley.member", "valley.reviewer", "harbor.admin", "licensee", "revoked",
    "newcomer", "staff",
]  # fmt: skip
_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
# Parameters of routes that have no GET (they answer 405 to one) take any value.
ANY_VALUE = {"action": "approve", "kind": "archive", "membership_id": 1, "invitation_id": 1, "token": "none",
             "batch_id": 1, "part_number": 1, "section": "datasets"}  # fmt: skip


def get_routes() -> list[Route]:
    # allauth's own pages under /accounts/ (tokens in their paths) are tested in tests/marketplace/accounts.
    routes = [
        route for route in all_routes()
        if not route.is_admin and route.pattern != "api/v1/docs" and not route.pattern.startswith("accounts/")
    ]  # fmt: skip
    return [route for route in routes if route.class_methods is None or "GET" in route.class_methods]


def candidates(world: World, route: Route, name: str) -> list[dict[str, Any]]:
    """The values of one parameter (with the parameters that go with it) to call ``route`` with."""
    datasets = list(world.datasets.values())
    if name in ("id", "dataset_id", "id_or_slug"):
        ids = [{name: d.id, "_dataset": d} for d in datasets]
        return ids + ([{name: d.slug, "_dataset": d} for d in datasets] if name == "id_or_slug" else [])
    if name == "slug":
        if route.pattern.startswith("datasets/"):
            return [{"slug": d.slug, "_dataset": d} for d in datasets]
        return [{"slug": org.slug} for org in world.orgs.values()]
    if name == "submission_id":
        return [{"submission_id": s.id} for s in world.submissions.values()]
    if name == "file_upload_id":
        return [{"file_upload_id": u.id, "submission_id": u.submission_id} for u in world.uploads.values()]
    if name == "grant_id":
        return [{"grant_id": g.id} for g in world.grants.values()] + [
            {"grant_id": p.grant_id} for p in world.payments.values()
        ]
    if name == "invoice_id":
        return [{"invoice_id": i.id} for i in world.invoices.values()]
    if name == "request_id":
        return [{"request_id": r.id} for r in world.access_requests.values()]
    if name == "key_id":
        return [{"key_id": signing.current_key().key_id}]
    if name == "index":
        last = LogEntry.objects.order_by("-index").values_list("index", flat=True).first() or 0
        return [{"index": 0}, {"index": last}]
    if name == "withdrawal_id":  # every withdrawal of the world, and one that does not exist
        return [{"withdrawal_id": w.id} for w in ConsentWithdrawal.objects.order_by("id")] + [
            {"withdrawal_id": 999_999}
        ]
    if name == "pk":
        return [{"pk": pk} for pk in sorted({d.license_id for d in datasets if d.license_id})]
    if name == "peer_id":  # the world follows no other instance: one followed here, and one unknown
        peer = Peer.objects.get_or_create(url="https://peer.example.org", defaults={"following": True})[0]
        return [{"peer_id": peer.id}, {"peer_id": 999_999}]
    return [{name: ANY_VALUE[name]}]


def paths(world: World, route: Route) -> Iterator[str]:
    names = [m.group("name") for m in _PARAMETER.finditer(route.pattern)]
    # Version numbers come from the dataset; a diff's other version ("to", "since") runs over them too.
    others = [name for name in names if name in ("to", "since")]
    options = [candidates(world, route, name) for name in names if name not in ("number", *others)]
    for combination in itertools.product(*options):
        values: dict[str, Any] = {}
        for part in combination:
            values.update(part)
        numbers = [1]
        if "number" in names:
            dataset = values.get("_dataset")
            numbers = list(dataset.versions.values_list("number", flat=True)) if dataset else [1]
        for number in numbers:
            for other in numbers if others else [0]:  # 0: the route has no other version
                yield fill(route.pattern, {**values, "number": number, **dict.fromkeys(others, other)})


def repeated_items(body: Any) -> list[str]:
    """Ids that a JSON list answer holds more than once."""
    if not isinstance(body, dict):
        return []
    repeated: list[str] = []
    for key in ("items", "results", "entries"):
        items = body.get(key)
        if isinstance(items, list):
            ids = Counter(str(item.get("id")) for item in items if isinstance(item, dict) and "id" in item)
            repeated += [f"{key}: {item} x{count}" for item, count in ids.items() if count > 1]
    return repeated


@pytest.mark.slow
@pytest.mark.parametrize("caller", CALLERS)
def test_every_read_answers_every_caller_without_a_server_error(world: World, caller: str) -> None:
    api, page = Client(), Client()
    headers = {} if caller == "anonymous" else {"Authorization": f"Bearer {world.key(caller)}"}
    if caller != "anonymous":
        page.force_login(world.people[caller])
    problems: list[str] = []
    calls = 0
    for route in get_routes():
        for path in paths(world, route):
            client, extra = (api, headers) if route.is_api else (page, {})
            response = client.get(path, headers=extra)
            calls += 1
            if response.status_code >= 500:
                problems.append(f"{response.status_code} {path}")
            elif response.get("Content-Type", "").startswith("application/json") and response.status_code == 200:
                problems += [f"{path} repeats {item}" for item in repeated_items(response.json())]
    assert calls > 500  # every dataset, version and submission of the world was named
    assert problems == []


@pytest.mark.parametrize("caller", ["valley.member", "valley.reviewer", "harbor.admin", "licensee", "anonymous"])
def test_the_catalog_and_its_lists_show_each_dataset_once(world: World, caller: str) -> None:
    client = Client()
    headers = {} if caller == "anonymous" else {"Authorization": f"Bearer {world.key(caller)}"}
    mdc = client.get("/api/datasets", {"limit": 100}, headers=headers).json()
    ids = [item["id"] for item in mdc["items"]]
    assert len(ids) == len(set(ids)) == mdc["total"]
    v1 = client.get("/api/v1/datasets", {"page_size": 100}, headers=headers).json()
    v1_ids = [item["id"] for item in v1.get("results", v1.get("items", []))]
    assert len(v1_ids) == len(set(v1_ids)) and v1_ids
    # The catalog lists public and restricted datasets, never private ones, to members too.
    assert world.datasets["valley-private"].id not in v1_ids + ids
    assert world.datasets["valley-gated"].id in v1_ids
    if caller != "anonymous":
        client.force_login(world.people[caller])
    page = client.get("/datasets/").content.decode()
    slugs = re.findall(r'<h3><a href="/datasets/([^/"]+)/">', page)
    assert slugs and len(slugs) == len(set(slugs))
