"""What the authorization matrix (test_authz_matrix.py) runs against: every route of the URLconf,
one instance's worth of real objects owned by organization A (built through the services), a
user and an API key per role, and a fingerprint of the database to prove that a refused request
changed nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from licensing import access, grants, ledger, payments
from licensing.models import LedgerAccount
from licensing.services import Permissions, create_api_key, create_license
from marketplace import submissions, uploads
from marketplace.models import Membership, Submission, Upload, User
from marketplace.services import (
    add_member,
    approve_organization,
    create_dataset,
    create_organization,
    invite_member,
    publish_version,
    takedown_dataset,
)
from provenance import signing
from tests.factories import license_for, published_dataset

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


# --- One instance's worth of objects ---------------------------------------------------------------


@dataclass
class World:
    users: dict[str, User]
    keys: dict[str, str]  # role -> raw API key with every scope
    sessions: dict[str, str]  # role -> session key of a signed-in browser
    values: dict[str, Any] = field(default_factory=dict)  # what "@name" placeholders resolve to

    def resolve(self, item: Any) -> Any:
        if isinstance(item, str) and item.startswith("@"):
            return self.values[item[1:]]
        if isinstance(item, dict):
            return {key: self.resolve(value) for key, value in item.items()}
        if isinstance(item, list):
            return [self.resolve(value) for value in item]
        return item


def _user(username: str, **extra: Any) -> User:
    # No password (no slow hash): the matrix signs in with sessions and keys.
    return User.objects.create_user(username=username, email=f"{username}@example.org", password=None, **extra)


def build_world() -> World:
    """Organization A (approved to upload) owns everything the URLs name: a public, a private, a
    restricted and a paid dataset, a private one taken down, one under A's custom terms, a draft
    and a submitted submission with uploads, an invitation, an access request, an invoice, a
    payout batch. The licensee holds a grant of the public
    dataset, an open invoice of the paid one and a pending request for the restricted one."""
    users = {role: _user(f"authz-{role.replace('_', '-')}") for role in ROLES if role != "anonymous"}
    User.objects.filter(id=users["staff"].id).update(is_staff=True)
    users["staff"].refresh_from_db()
    org_a = approve_organization(organization=create_organization(name="Authz A", slug="authz-a", owner=users["owner"]))
    add_member(organization=org_a, user=users["member"], role=Membership.Role.MEMBER)
    add_member(organization=org_a, user=users["reviewer"], role=Membership.Role.REVIEWER)
    org_b = approve_organization(
        organization=create_organization(name="Authz B", slug="authz-b", owner=_user("authz-b-owner"))
    )
    add_member(organization=org_b, user=users["other_admin"], role=Membership.Role.ADMIN)

    license_for("CC-BY-4.0")
    public = published_dataset("authz-public", org=org_a, sample=True)
    private = published_dataset("authz-private", org=org_a, sample=True, visibility="private")
    restricted = published_dataset("authz-restricted", org=org_a, visibility="restricted")
    paid = published_dataset("authz-paid", org=org_a, is_paid=True, base_price_cents=10_000)
    withdrawn = published_dataset("authz-removed", org=org_a, visibility="private")
    takedown_dataset(dataset=withdrawn, reason="A court order names Ms Doe.", by=users["staff"])
    # A second private dataset, sold under A's own custom terms.
    terms = create_license(
        name="Authz A in-house terms", text="Only for A's partners.", organization=org_a,
        permissions=Permissions(commercial_use=False, ai_training=False, derivatives=False, redistribution=False,
                                attribution=True, share_alike=False),
    )  # fmt: skip
    in_house = create_dataset(organization=org_a, slug="authz-in-house", name="In-house", visibility="private")
    publish_version(
        dataset=in_house, archive_key=f"published/{in_house.id}/a.tar.gz", size_bytes=10, sha256="a" * 64,
        license=terms,
    )  # fmt: skip

    licensee = users["licensee"]
    public_terms = grants.terms_for(dataset=public, version=grants.current_version(public))
    grant = grants.accept_terms(user=licensee, dataset=public, terms_sha256=public_terms.sha256, source="web")
    invoice, _ = payments.open_invoice(user=licensee, dataset=paid)
    request = access.request_access(
        user=licensee, dataset=restricted, full_name="Lee", organization_name="Uni", intended_use="Research"
    )
    # A payment by someone else gives organization A a balance, which staff pay out in a batch.
    bought, _ = payments.open_invoice(user=_user("authz-buyer"), dataset=paid)
    payments.record_payment(invoice_id=bought.id, recorded_by=None, reference="bank")
    payable = LedgerAccount.objects.get(organization=org_a)
    batch = ledger.create_payout_batch(amounts={payable.id: 1_000}, currency="usd", created_by=users["staff"])

    draft = submissions.create_submission(user=users["member"], name="Authz draft")
    waiting = submissions.create_submission(user=users["member"], name="Authz waiting")
    other_draft = submissions.create_submission(user=users["other_admin"], name="Authz B draft")
    Submission.objects.filter(id=waiting.id).update(status="submitted", submitted_at=waiting.created_at)

    def upload(kind: str) -> str:
        return uploads.start_upload(
            submission=draft, user=users["member"], kind=kind, filename="data.tar.gz",
            file_size=1_000, mime_type="application/gzip",
        ).id  # fmt: skip

    archive, doomed, sample = upload("archive"), upload("archive"), upload("sample")
    tokens: list[str] = []

    def accept_url(token: str) -> str:  # the link of the invitation email
        tokens.append(token)
        return f"/invitations/{token}/"

    invitation = invite_member(
        organization=org_a, email="invitee@example.org", role="member", invited_by=users["owner"], accept_url=accept_url
    )
    spare_key, _ = create_api_key(user=users["owner"], name="owner's spare key", scopes=["read"])
    keys = {role: create_api_key(user=user, name="authz", scopes=["read", "download", "upload"])[1]
            for role, user in users.items()}  # fmt: skip

    values = {
        "org": org_a.slug,
        "other_org": org_b.slug,
        "public.id": public.id,
        "public.slug": public.slug,
        "public.terms": public_terms.sha256,
        "private.id": private.id,
        "private.slug": private.slug,
        "private.terms": grants.terms_for(dataset=private, version=grants.current_version(private)).sha256,
        "restricted.id": restricted.id,
        "restricted.slug": restricted.slug,
        "paid.id": paid.id,
        "paid.slug": paid.slug,
        "grant": grant.id,
        "invoice": invoice.id,
        "access_request": request.id,
        "batch": batch.id,
        "payable": payable.id,
        "draft": draft.id,
        "waiting": waiting.id,
        "other_draft": other_draft.id,
        "upload": archive,
        "upload.s3": Upload.objects.get(id=archive).s3_upload_id,
        "doomed_upload": doomed,
        "sample_upload": sample,
        "invitation": invitation.id,
        "invitation.token": tokens[0],
        "membership": Membership.objects.get(organization=org_a, user=users["member"]).id,
        "owner_key": spare_key.id,
        "removed.id": withdrawn.id,
        "removed.slug": withdrawn.slug,
        "license": public.license_id,
        "custom_license": terms.id,
        "signing_key": signing.current_key().key_id,
    }
    return World(users=users, keys=keys, sessions={role: _session(user) for role, user in users.items()}, values=values)


def _session(user: User) -> str:
    browser = Client()
    browser.force_login(user)
    return browser.cookies[settings.SESSION_COOKIE_NAME].value


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
