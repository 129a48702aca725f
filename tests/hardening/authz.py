"""What the authorization matrix (test_authz_matrix.py) runs against: every route of the URLconf,
the shared realistic world (tests/world.py) seen from organization A (Valley), its people in the
matrix's roles with their API keys and fresh sessions, and a fingerprint of the database to prove
that a refused request changed nothing."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from allauth.mfa.models import Authenticator
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from licensing.access import grants
from licensing.licenses import Permissions, create_license
from licensing.models import ApiKey, ConsentWithdrawal, LedgerAccount
from licensing.revenue import ledger
from marketplace.models import Membership, Upload
from marketplace.organizations.services import invite_member
from marketplace.publishing import create_dataset, publish_version, takedown_dataset
from marketplace.submissions import drafts, uploads
from provenance import signing
from provenance.models import Peer
from tests.factories import license_for
from tests.second_factor import pass_second_factor

if TYPE_CHECKING:
    from tests.world import World

# The matrix's columns, in order. "owner" (of organization A) and "staff" are the positive controls.
ROLES = ("anonymous", "licensee", "member", "reviewer", "other_admin", "owner", "staff")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


# --- The URLconf ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # the URL name (with its namespace), or the pattern when the route has none
    pattern: str
    view: Any

    @property
    def is_admin(self) -> bool:
        return self.pattern.startswith("admin/")

    @property
    def is_api(self) -> bool:
        return self.pattern.startswith("api/")

    @property
    def class_methods(self) -> set[str] | None:
        """The methods a class-based view implements; None for a function view (the matrix
        then probes the others for 405)."""
        view_class = getattr(self.view, "view_class", None)
        if view_class is None:
            return None
        names = getattr(self.view, "view_initkwargs", {}).get("http_method_names") or view_class.http_method_names
        return {name.upper() for name in names if name not in ("head", "options") and hasattr(view_class, name)}


def _walk(patterns: list[Any], prefix: str, namespace: str) -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else entry.namespace or namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            pattern = prefix + str(entry.pattern)
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield Route(name or pattern, pattern, entry.callback)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns, "", ""))


_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def fill(pattern: str, values: dict[str, Any]) -> str:
    """The path of a ``path()`` pattern with its parameters replaced by ``values``."""
    return "/" + _PARAMETER.sub(lambda m: str(values[m.group("name")]), pattern)


def admin_path(route: Route) -> str:
    """A concrete path for an admin route. Any id will do: the admin answers a visitor who is
    not staff before it looks anything up."""
    path = re.sub(r"\^\(\?P<app_label>[^)]*\)/\$$", "marketplace/", route.pattern)
    path = path.replace("(?P<url>.*)$", "no-such-page/")
    return "/" + _PARAMETER.sub("1", path)


# --- The shared world, seen from organization A ---------------------------------------------------

# Who plays each role in the shared world (tests/world.py): organization A is Valley, B is Harbor.
PEOPLE = {
    "licensee": "licensee",  # grants, an open invoice at A, approved access to A's restricted dataset
    "member": "valley.member",
    "reviewer": "valley.reviewer",
    "other_admin": "harbor.admin",
    "owner": "valley.owner",
    "staff": "staff",
}


class Matrix:
    """The world's people in the matrix's roles, and what "@name" placeholders resolve to.

    Most values are the world's objects of organization A. A few objects the world lacks (a
    private dataset taken down, custom terms of a private dataset, a payout batch, a pending
    invitation, a draft of B, spare uploads to abort) are made through the services the first time
    a test names them, inside the test's transaction: the world stays as it was for the next test.
    Resolve every value before a role's savepoint opens, or the savepoint's rollback takes it away."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.users = {role: world.people[handle] for role, handle in PEOPLE.items()}
        self.keys = {role: world.key(handle) for role, handle in PEOPLE.items()}
        self._sessions: dict[str, str] = {}
        self._values: dict[str, Any] = {}
        self._extras: dict[str, Callable[[], dict[str, Any]]] = {
            "removed": self._private_removed,
            "in_house": self._in_house,
            "batch": self._payout_batch,
            "invitation": self._invitation,
            "other_draft": self._other_draft,
            "doomed_upload": lambda: {"doomed_upload": self._start_upload(Upload.Kind.ARCHIVE)},
            "sample_upload": lambda: {"sample_upload": self._start_upload(Upload.Kind.SAMPLE)},
            # Federation (issue 20): a followed instance (never asked: nothing syncs in the matrix).
            "peer": lambda: {"peer": Peer.objects.create(url="https://peer.example.org", following=True).id},
        }

    # The world's own objects.
    def _world_value(self, name: str) -> Any:
        w = self.world
        datasets = {
            "public": w.datasets["valley-speech"],
            "private": w.datasets["valley-private"],
            "restricted": w.datasets["valley-gated"],
            "paid": w.datasets["valley-paid"],
            "restricted_paid": w.datasets["harbor-notes"],
            "other_private": w.datasets["harbor-private"],
            "taken_down": w.datasets["north-removed"],
        }
        head, _, attribute = name.partition(".")
        if head in datasets:
            dataset = datasets[head]
            if attribute == "terms":
                return grants.terms_for(dataset=dataset, version=grants.current_version(dataset)).sha256
            if attribute == "version":
                return dataset.current_version.number if dataset.current_version else None
            return getattr(dataset, attribute)
        simple: dict[str, Callable[[], Any]] = {
            "org": lambda: w.orgs["valley"].slug,
            "other_org": lambda: w.orgs["harbor"].slug,
            "grant": lambda: w.grants["licensee@valley-speech"].id,
            "invoice": lambda: w.invoices["licensee@valley-paid"].id,
            "paid_invoice": lambda: w.invoices["buyer@valley-paid"].id,
            "access_request": lambda: w.access_requests["requester@valley-gated"].id,
            "approved_request": lambda: w.access_requests["licensee@valley-gated"].id,
            "draft": lambda: w.submissions["valley-uploading"].id,
            "waiting": lambda: w.submissions["valley-in-review"].id,
            "upload": lambda: w.uploads["valley-uploading"].id,
            "member.username": lambda: self.users["member"].username,
            "membership": lambda: Membership.objects.get(organization=w.orgs["valley"], user=self.users["member"]).id,
            "owner_key": lambda: ApiKey.objects.get(user=self.users["owner"]).id,
            "license": lambda: w.datasets["valley-speech"].license_id,
            "public_custom_license": lambda: w.datasets["harbor-open"].license_id,
            "signing_key": lambda: signing.current_key().key_id,
            "withdrawal": lambda: ConsentWithdrawal.objects.get(dataset=w.datasets["valley-speech"]).id,
        }
        return simple[name]()

    def value(self, name: str) -> Any:
        if name not in self._values:
            extra = next((make for prefix, make in self._extras.items() if name.split(".")[0] == prefix), None)
            self._values.update(extra() if extra is not None else {name: self._world_value(name)})
        return self._values[name]

    def resolve(self, item: Any) -> Any:
        if isinstance(item, str) and item.startswith("@"):
            return self.value(item[1:])
        if isinstance(item, dict):
            return {key: self.resolve(value) for key, value in item.items()}
        if isinstance(item, list):
            return [self.resolve(value) for value in item]
        return item

    def session(self, role: str) -> str:
        """A signed-in browser's session key. Sessions are not in the world's snapshot: each test
        signs its people in itself (and its transaction takes the sessions away)."""
        if role not in self._sessions:
            browser = Client()
            browser.force_login(self.users[role])
            if Authenticator.objects.filter(user=self.users[role]).exists():
                pass_second_factor(browser, self.users[role])  # as they sign in: with their authenticator app
            self._sessions[role] = browser.cookies[settings.SESSION_COOKIE_NAME].value
        return self._sessions[role]

    # What the world lacks, made on demand.
    def _private_removed(self) -> dict[str, Any]:
        """The world's takedown is of a public dataset; a private one taken down must not even say
        it existed to those who could not see it."""
        dataset = create_dataset(
            organization=self.world.orgs["valley"], slug="valley-removed-private", name="Removed", visibility="private"
        )
        publish_version(
            dataset=dataset, archive_key=f"published/{dataset.id}/a.tar.gz", size_bytes=10, sha256="a" * 64,
            license=license_for("CC-BY-4.0"),
        )  # fmt: skip
        takedown_dataset(dataset=dataset, reason="A court order names Ms Doe.", by=self.users["staff"])
        return {"removed.id": dataset.id, "removed.slug": dataset.slug}

    def _in_house(self) -> dict[str, Any]:
        """A private dataset of A, with a sample, under A's own custom terms."""
        terms = create_license(
            name="Valley in-house terms", text="Only for Valley's partners.", organization=self.world.orgs["valley"],
            permissions=Permissions(commercial_use=False, ai_training=False, derivatives=False, redistribution=False,
                                    attribution=True, share_alike=False),
        )  # fmt: skip
        dataset = create_dataset(
            organization=self.world.orgs["valley"], slug="valley-in-house", name="In-house", visibility="private"
        )
        publish_version(
            dataset=dataset, archive_key=f"published/{dataset.id}/a.tar.gz", size_bytes=10, sha256="a" * 64,
            license=terms, sample_key=f"published/{dataset.id}/sample.tar.gz", sample_size_bytes=5,
        )  # fmt: skip
        return {"in_house.id": dataset.id, "in_house.slug": dataset.slug, "in_house.license": terms.id}

    def _payout_batch(self) -> dict[str, Any]:
        """Part of what A's owner earned from the world's sale (the split pays people, not A),
        paid out by staff in a batch."""
        payable = LedgerAccount.objects.get(user=self.users["owner"], kind=LedgerAccount.Kind.PAYABLE)
        batch = ledger.create_payout_batch(amounts={payable.id: 1_000}, currency="usd", created_by=self.users["staff"])
        return {"batch": batch.id, "batch.payable": payable.id}

    def _invitation(self) -> dict[str, Any]:
        tokens: list[str] = []

        def accept_url(token: str) -> str:  # the link of the invitation email
            tokens.append(token)
            return f"/invitations/{token}/"

        invitation = invite_member(
            organization=self.world.orgs["valley"], email="invitee@example.org", role="member",
            invited_by=self.users["owner"], accept_url=accept_url,
        )  # fmt: skip
        return {"invitation": invitation.id, "invitation.token": tokens[0]}

    def _other_draft(self) -> dict[str, Any]:
        """A draft of B by B's admin: the world's B submissions are all past drafting."""
        return {"other_draft": drafts.create_submission(user=self.users["other_admin"], name="Harbor draft").id}

    def _start_upload(self, kind: str) -> str:
        """One more upload of A's draft, by the member who wrote it (to abort, or a sample's)."""
        draft = self.world.submissions["valley-uploading"]
        return uploads.start_upload(
            submission=draft, user=self.users["member"], kind=kind, filename="data.tar.gz", file_size=1_000,
            mime_type="application/gzip",
        ).id  # fmt: skip


# --- Proof that nothing changed ---------------------------------------------------------------------

# Columns a refused request may still write: the session login and the key's last use.
VOLATILE = {"last_login", "last_used_at"}


def _fingerprint_sql() -> str:
    """One query: an MD5 per table of our apps (join tables included) over its rows as JSON,
    without the volatile columns, then one MD5 of those. The names come from our models."""
    row = "(to_jsonb(t) - " + " - ".join(f"'{name}'" for name in sorted(VOLATILE)) + ")::text"
    digest = f"md5(coalesce(string_agg({row}, '|' ORDER BY {row}), ''))"
    tables = [
        model._meta.db_table
        for label in ("marketplace", "licensing", "provenance")
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    ]
    quote = connection.ops.quote_name
    parts = [f"SELECT '{table}' AS name, {digest} AS digest FROM {quote(table)} t" for table in tables]  # noqa: S608
    return f"SELECT md5(string_agg(name || digest, ',' ORDER BY name)) FROM ({' UNION ALL '.join(parts)}) tables"  # noqa: S608


def fingerprint() -> str:
    """A digest of every row of our apps' tables: equal digests, equal data."""
    with connection.cursor() as cursor:
        cursor.execute(_fingerprint_sql())
        return str(cursor.fetchone()[0])
