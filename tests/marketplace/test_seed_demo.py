"""``manage.py seed_demo`` builds a busy instance through the services, once however often it
runs, and every demo user (each role of each organization, licensees, staff, a brand new user,
nobody) reads every API route and every page of it without a server error.

A one-member organization with datasets published without a submission once hid a join that
returned each dataset once per member: 500 for every signed-in caller on five read endpoints.
The demo is the world such bugs show in, so this walks all of it."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from licensing.consent.withdrawals import replacement_for
from licensing.keys.services import create_api_key
from licensing.models import (
    AccessRequest,
    ConsentRecord,
    ConsentWithdrawal,
    DownloadRecord,
    Invoice,
    LedgerTransaction,
    License,
    LicenseGrant,
    PayoutBatch,
)
from licensing.revenue.earnings import accounts_of, earnings_for
from marketplace.accounts.services import register_user
from marketplace.catalog.sitemaps import SITEMAPS
from marketplace.demo.people import FEATURED, ORGANIZATIONS, ROLES
from marketplace.models import Dataset, Membership, Organization, RevenueShare, Submission, Upload, User
from provenance.models import LogEntry, Peer, SigningKey
from tests.hardening.authz import all_routes, fill

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
# Every featured user, each role of the first organization and an admin and a member of the others
# (the second person in a role meets the same rules as the first), someone new, and no one: every
# kind of caller, in a bounded time.
IDENTITIES = list(
    dict.fromkeys(
        [
            *FEATURED,
            *(ORGANIZATIONS[0].members[role][0] for role in ROLES),
            *(org.members[role][1] for org in ORGANIZATIONS[1:] for role in ("admin", "member")),
            "new-user",
            "anonymous",
        ]
    )
)
MISSING = "no-such-thing"
# The POSTs of the MDC contract that read rather than write (they sign a download URL): the SDK's
# download_dataset and its sample download send them, so every demo user tries them too.
SDK_POSTS = ("/api/datasets/{id_or_slug}/download", "/api/datasets/{id_or_slug}/sample-download")
PAGE_PARAMETER = re.compile(r"<(?:[^>:]+:)?([^>]+)>")


def snapshot() -> dict[str, int]:
    models = [User, Organization, Membership, Dataset, Submission, Upload, RevenueShare, License, LicenseGrant,
              Invoice, AccessRequest, ConsentRecord, ConsentWithdrawal, DownloadRecord, LedgerTransaction,
              PayoutBatch, LogEntry]  # fmt: skip
    return {model.__name__: model._default_manager.count() for model in models}


@dataclass
class Demo:
    output: str
    counts: tuple[dict[str, int], dict[str, int]]
    schema: dict[str, Any]
    values: dict[str, list[Any]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def demo(django_db_setup: None, django_db_blocker: Any) -> Iterator[Demo]:
    """Seeded twice, once per module, in a transaction that every test's own nests in and that is
    rolled back at the end: each test sees the same demo and leaves no trace."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
    try:
        with django_db_blocker.unblock():
            out = StringIO()
            call_command("seed_demo", stdout=out)
            first = snapshot()
            call_command("seed_demo", stdout=StringIO())
            schema = json.loads(
                Client().get("/api/v1/schema", headers={"Accept": "application/vnd.oai.openapi+json"}).content
            )
            built = Demo(out.getvalue(), (first, snapshot()), schema)
            built.values = {
                "license": list(License.objects.values_list("id", flat=True)),
                "slug": list(Organization.objects.values_list("slug", flat=True)),
                "submission_id": list(Submission.objects.values_list("id", flat=True)),
                "file_upload_id": list(Upload.objects.values_list("id", flat=True)),
                "grant_id": list(LicenseGrant.objects.values_list("id", flat=True)),
                "key_id": list(SigningKey.objects.values_list("key_id", flat=True)),
                "index": [0, LogEntry.objects.count() - 1],
                "part_number": [1],
                "kind": ["archive", "sample"],
                "peer_id": list(Peer.objects.values_list("id", flat=True)),
            }
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


# --- What the demo holds --------------------------------------------------------------------------


def test_seed_demo_runs_twice_without_adding_anything(demo: Demo) -> None:
    first, second = demo.counts
    assert first == second
    assert first["Dataset"] >= 10 and first["Submission"] > first["Dataset"]


def test_it_prints_the_logins_and_how_to_get_a_key(demo: Demo) -> None:
    for username in FEATURED:
        assert f"{username} " in demo.output and f"{username}-password" in demo.output
    for organization in ORGANIZATIONS:
        assert all(name in demo.output for names in organization.members.values() for name in names)
    assert "create_api_key" in demo.output


def test_organizations_have_several_members_in_every_role(demo: Demo) -> None:
    for spec in ORGANIZATIONS:
        organization = Organization.objects.get(slug=spec.slug)
        assert organization.approved_to_upload
        roles = Counter(organization.memberships.values_list("role", flat=True))
        assert all(roles[role] >= 2 for role in ROLES), (spec.slug, roles)


def test_datasets_of_every_visibility_and_price_came_through_review(demo: Demo) -> None:
    published = Dataset.objects.filter(status__in=["published", "removed"])
    kinds = {(d.visibility, d.is_paid) for d in published}
    assert {
        ("public", False),
        ("public", True),
        ("restricted", False),
        ("restricted", True),
        ("private", False),
    } <= kinds
    assert {d.organization.slug for d in published} == {spec.slug for spec in ORGANIZATIONS}
    for dataset in published:
        versions = list(dataset.versions.order_by("number"))
        approved = Submission.objects.filter(dataset=dataset, status="approved").values_list("version_id", flat=True)
        assert sorted(approved) == sorted(v.id for v in versions), dataset.slug  # every version was reviewed
        assert all(v.sha256 for v in versions)
    statuses = set(Submission.objects.values_list("status", flat=True))
    assert {"draft", "submitted", "rejected", "approved"} <= statuses
    assert Upload.objects.filter(status="completed", validation__status="passed").count() >= 12


def test_a_withdrawal_a_next_version_and_a_takedown(demo: Demo) -> None:
    speech = Dataset.objects.get(slug="tiny-welsh-speech")
    assert list(speech.versions.order_by("number").values_list("number", flat=True)) == [1, 2]
    withdrawal = ConsentWithdrawal.objects.get(dataset=speech)
    assert withdrawal.version.number == 1 and replacement_for(withdrawal.version) == speech.current_version
    # Version 2 is the re-release job's: without the withdrawn clip and its row of train.tsv.
    rerelease = withdrawal.rerelease
    assert (rerelease.status, rerelease.version) == ("published", speech.current_version)
    assert [f["path"] for f in rerelease.removed_files] == ["clips/clip3.wav"] and rerelease.removed_rows == {
        "train.tsv": 1
    }
    assert speech.current_version and speech.current_version.changelog.startswith(
        "Version 1 without the records whose consent was withdrawn"
    )
    told = {notice.user.username: notice.acknowledged_at is not None for notice in withdrawal.notices.all()}
    assert told == {"demo-licensee": True, "demo-researcher": False}
    assert Dataset.objects.get(slug="radiology-report-snippets").status == "removed"


def test_licensing_in_every_state(demo: Demo) -> None:
    assert set(AccessRequest.objects.values_list("status", flat=True)) == {"pending", "approved", "rejected", "revoked"}
    assert AccessRequest.objects.filter(auto_approved=True).exists()
    assert set(Invoice.objects.values_list("status", flat=True)) == {"open", "paid"}
    assert set(LicenseGrant.objects.values_list("source", flat=True)) == {"web", "api", "payment"}
    assert DownloadRecord.objects.filter(kind="archive").exists() and DownloadRecord.objects.filter(kind="sample")


def test_demo_licensee_has_what_the_readme_promises_and_paying_opens_the_download(demo: Demo) -> None:
    """(Was tests/licensing/test_seed_licensing.py.) A grant, an open invoice that staff or an admin
    of Common Voices marks paid, a pending and an auto-approved access request."""
    licensee = User.objects.get(username="demo-licensee")
    assert set(LicenseGrant.objects.filter(user=licensee).values_list("dataset__slug", flat=True)) == {
        "tiny-welsh-speech", "newswire-headlines"
    }  # fmt: skip
    invoice = Invoice.objects.get(user=licensee)
    assert (invoice.dataset.slug, invoice.status, invoice.amount_cents) == ("support-dialogues", "open", 26_250)
    requests = dict(AccessRequest.objects.filter(user=licensee).values_list("dataset__slug", "status"))
    assert requests == {"synthetic-clinical-notes": "pending", "newswire-headlines": "approved"}
    call_command("mark_invoice_paid", invoice.id, stdout=StringIO())
    assert LicenseGrant.objects.filter(user=licensee, dataset__slug="support-dialogues", source="payment").count() == 1


def test_demo_owner_shares_the_revenue_of_a_paid_dataset_and_sees_earnings(demo: Demo) -> None:
    owner = User.objects.get(username="demo-owner")
    shares = RevenueShare.objects.filter(submission__dataset__slug="support-dialogues")
    assert owner.id in {share.user_id for share in shares} and shares.count() >= 3
    earnings = earnings_for(accounts_of(owner))
    (total,) = earnings.totals
    assert total.earned > 0 and 0 < total.paid_out < total.earned
    assert PayoutBatch.objects.filter(status="paid").count() == 1


# --- Every route, for every demo user -------------------------------------------------------------


def key_for(identity: str) -> tuple[User | None, dict[str, str]]:
    """The identity's user and the headers of a fresh API key with every scope (none for anonymous)."""
    if identity == "anonymous":
        return None, {}
    if identity == "new-user":
        user = register_user(username="brand-new", email="brand-new@example.org", password="a-long-new-password")
    else:
        user = User.objects.get(username=identity)
    _, raw = create_api_key(user=user, name="walk", scopes=["read", "download", "upload"])
    return user, {"Authorization": f"Bearer {raw}"}


def dataset_bindings(names: list[str]) -> list[dict[str, Any]]:
    """Every dataset (visible to the caller or not, taken down, private) with each of its versions
    and a version it does not have, and an id that does not exist."""
    param = next(name for name in names if name in ("id", "dataset_id", "id_or_slug"))
    bindings: list[dict[str, Any]] = []
    for dataset in Dataset.objects.order_by("slug"):
        keys = [dataset.id, dataset.slug] if param == "id_or_slug" else [dataset.id]
        numbers: list[int | None] = (
            [*dataset.versions.values_list("number", flat=True), 99] if "number" in names else [None]
        )
        # A diff's other version ("to"): each version of the dataset, and one it does not have.
        others = numbers if "to" in names else [None]
        # A withdrawal: each of the dataset's, and one that does not exist.
        withdrawal_ids: list[int | None] = (
            [*dataset.withdrawals.values_list("id", flat=True), 999_999] if "withdrawal_id" in names else [None]
        )
        bindings += [
            {param: key, "number": number, "to": to, "withdrawal_id": withdrawal}
            for key in keys
            for number in numbers
            for to in others
            for withdrawal in withdrawal_ids
        ]
    bindings.append({param: MISSING, "number": 1, "to": 1, "withdrawal_id": 1})
    if "kind" in names:
        bindings = [{**binding, "kind": kind} for binding in bindings for kind in ("archive", "sample")]
    if "index" in names:  # a Parquet file of a version: the first, and one it does not have
        bindings = [{**binding, "index": index} for binding in bindings for index in (0, 99)]
    return bindings


def api_urls(path: str, demo: Demo) -> list[str]:
    names = re.findall(r"{(\w+)}", path)
    if path.startswith("/api/v1/licenses/"):
        bindings: list[dict[str, Any]] = [{"id": pk} for pk in [*demo.values["license"], 999_999]]
    elif {"id", "dataset_id", "id_or_slug"} & set(names):
        bindings = dataset_bindings(names)
    elif {"submission_id", "file_upload_id"} <= set(names):
        # Each upload under its own submission, one under another's, and unknown ids.
        pairs = list(Upload.objects.values_list("submission_id", "id"))
        pairs += [(pairs[0][0], pairs[-1][1]), (MISSING, MISSING)]
        bindings = [{"submission_id": s, "file_upload_id": u, "part_number": 1} for s, u in pairs]
    else:
        missing = [name for name in names if name not in demo.values]
        assert not missing, f"{path}: the walk has no values for {missing}; add them to the demo fixture"
        choices = [[*demo.values[name], MISSING] if name != "part_number" else [1] for name in names]
        bindings = [dict(zip(names, chosen, strict=True)) for chosen in itertools.product(*choices)]
    size = LogEntry.objects.count()
    query = {
        "/api/v1/provenance/log/consistency-proof": f"?first=1&second={size}",
        "/api/v1/provenance/log/entries/{index}/inclusion-proof": f"?treeSize={size}",
        "/api/v1/provenance/log/entries": f"?start=0&limit={size}",
        "/api/datasets": "?q=speech&sort=size",
        "/api/v1/datasets": "?q=welsh",
        "/api/v1/datasets/{id}/versions/{number}/viewer/rows": "?split=train&length=5",
        "/api/v1/datasets/{id}/versions/{number}/viewer/search": "?split=train&query=a&length=5",
        "/api/v1/datasets/{id}/versions/{number}/viewer/filter": "?split=train&length=5",
        "/api/v1/datasets/{id}/versions/{number}/viewer/statistics": "?split=train",
    }.get(path, "")
    return [re.sub(r"{(\w+)}", lambda m, b=binding: str(b[m.group(1)]), path) + query for binding in bindings]  # type: ignore[misc]


@pytest.mark.parametrize("identity", IDENTITIES)
def test_every_get_route_of_the_schema_answers_without_5xx(demo: Demo, identity: str, settings: Any) -> None:
    settings.API_RATE_PER_KEY = settings.API_RATE_PER_IP = "1000000/minute"  # a walk, not a flood
    user, headers = key_for(identity)
    client = Client(raise_request_exception=False)
    answers: Counter[int] = Counter()
    failures: list[str] = []
    requests = [("GET", path) for path, ops in demo.schema["paths"].items() if "get" in ops]
    requests += [("POST", path) for path in SDK_POSTS]
    assert {path for _, path in requests} >= {"/api/datasets", "/api/datasets/{id_or_slug}", "/api/v1/me"}
    for method, path in requests:
        for url in api_urls(path, demo):
            response = client.generic(method, url, headers=headers)
            answers[response.status_code] += 1
            if response.status_code >= 500:
                failures.append(f"{method} {url}: {response.status_code} {response.content[:300]!r}")
    assert not failures, "\n".join(failures)
    me = client.get("/api/v1/me", headers=headers).status_code
    assert me == (401 if user is None else 200)  # the key was used, so the walk saw what its user sees
    assert answers[200] >= 10, answers


def page_urls(pattern: str, user: User | None) -> list[str]:
    """Concrete paths of a page route: every dataset or organization it may name, with the objects
    of that organization in its other parameters."""
    names = PAGE_PARAMETER.findall(pattern)
    if not names:
        return ["/" + pattern]
    per_org: dict[str, Any] = {
        "membership_id": lambda org: list(org.memberships.values_list("id", flat=True)[:2]),
        "request_id": lambda org: [r.id for r in AccessRequest.objects.filter(dataset__organization=org)],
        "invoice_id": lambda org: [i.id for i in Invoice.objects.filter(dataset__organization=org)],
        "invitation_id": lambda org: [1],
        "action": lambda org: ["approve"],
    }  # fmt: skip
    values: dict[str, list[Any]] = {
        "submission_id": [*Submission.objects.values_list("id", flat=True), MISSING],
        "grant_id": [*LicenseGrant.objects.values_list("id", flat=True), 999_999],
        "batch_id": [*PayoutBatch.objects.values_list("id", flat=True), 999_999],
        "invoice_id": [*Invoice.objects.values_list("id", flat=True), MISSING],  # the void and refund pages
        "key_id": [*user.api_keys.values_list("id", flat=True)] if user else [1],
        "token": [MISSING],
        "dataset_id": [*Dataset.objects.values_list("id", flat=True), MISSING],
        "section": [*SITEMAPS, MISSING],  # the sitemap's sections
        "peer_id": [*Peer.objects.values_list("id", flat=True), 999_999],  # instances this one follows
        # allauth's pages: an email confirmation or password-reset key, a second factor, a provider.
        "key": [MISSING],
        "uidb36": [MISSING],
        "pk": [999_999],
        "provider_id": [MISSING],
    }
    if "slug" not in names:
        choices = [values[name] for name in names]
        return [fill(pattern, dict(zip(names, chosen, strict=True))) for chosen in itertools.product(*choices)]
    if pattern.startswith("datasets/"):
        slugs = [*Dataset.objects.values_list("slug", flat=True), MISSING]
        if "number" not in names:
            return [fill(pattern, {"slug": slug}) for slug in slugs]
        # A version's page ("since": the other version of its changes): each version, and one it does not have.
        urls = [fill(pattern, {"slug": MISSING, "number": 1, "since": 1})]
        for dataset in Dataset.objects.order_by("slug"):
            numbers = [*dataset.versions.values_list("number", flat=True), 99]
            urls += [fill(pattern, {"slug": dataset.slug, "number": n, "since": m}) for n in numbers for m in numbers]
        return urls
    urls = []
    for organization in Organization.objects.all():
        others = [name for name in names if name != "slug"]
        choices = [per_org[name](organization) or [999_999] for name in others]
        for chosen in itertools.product(*choices):
            urls.append(fill(pattern, {"slug": organization.slug, **dict(zip(others, chosen, strict=True))}))
    return urls + [fill(pattern, {name: MISSING if name == "slug" else 1 for name in names})]


@pytest.mark.parametrize("identity", IDENTITIES)
def test_every_page_answers_every_signed_in_demo_user_without_5xx(demo: Demo, identity: str) -> None:
    user, _ = key_for(identity)  # a key too, so that the account page lists one
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    failures: list[str] = []
    answers: Counter[int] = Counter()
    routes = [route for route in all_routes() if not route.is_admin and not route.is_api]
    assert {route.key for route in routes} >= {"catalog", "dataset-detail", "earnings", "review-queue",
                                               "organization-detail", "submission-list", "submission-edit"}  # fmt: skip
    for route in routes:
        for url in page_urls(route.pattern, user):
            response = client.get(url)
            answers[response.status_code] += 1
            if response.status_code >= 500:
                failures.append(f"GET {url}: {response.status_code}")
            if route.key == "dataset-detail" and response.status_code == 200:
                # The page's provenance links (manifest, inclusion proof, key), as the browser follows them.
                for link in re.findall(rb'href="(/api/v1/[^"]+)"', response.content):
                    linked = client.get(link.decode())
                    answers[linked.status_code] += 1
                    if linked.status_code >= 500:
                        failures.append(f"GET {link.decode()} (linked from {url}): {linked.status_code}")
    assert not failures, "\n".join(failures)
    assert answers[200] >= 10, answers
    if user is not None:
        assert client.get("/account/").status_code == 200  # signed in: the walk saw the user's pages
