"""An organization that moved to another instance, and the old addresses that keep working.

When an organization's owner says where it moved (``announce``), this instance asks the new home
which of its datasets it imported and at which addresses (``/api/v1/organization-imports/lookup``:
the new home must really hold the import, so a move cannot point anywhere). From then on the old
addresses answer with a pointer (``MovedMiddleware``): pages and API reads redirect permanently to
the same dataset at the new home; downloads and other writes answer 410 naming the new home, since
a key of this instance means nothing there.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import DatabaseError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from config import outbound
from marketplace.models import Dataset, Organization

LOOKUP_TIMEOUT_SECONDS = 15


class MoveRefused(Exception):
    """The move cannot be recorded; the message says why."""


def base_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.username or parts.password:
        raise MoveRefused(
            _("%(url)s is not the http(s) address of an instance (e.g. https://data.example.org).") % {"url": repr(url)}
        )
    return f"{parts.scheme}://{parts.netloc}"


def announce(*, organization: Organization, new_home: str, origin: str) -> Organization:
    """Record that ``organization`` now lives at ``new_home`` (an instance's base URL), after that
    instance confirms it imported it from ``origin`` (this instance's base URL)."""
    base = base_url(new_home)
    query = urllib.parse.urlencode({"origin": origin, "organization": organization.id})
    url = f"{base}/api/v1/organization-imports/lookup?{query}"
    try:
        outbound.check(url)
    except outbound.AddressRefused as exc:
        raise MoveRefused(str(exc)) from None
    try:
        with urllib.request.urlopen(url, timeout=LOOKUP_TIMEOUT_SECONDS) as response:  # noqa: S310 (checked scheme)
            found: Any = json.loads(response.read(4 * 1024 * 1024))
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise MoveRefused(
                _("%(base)s has not imported %(organization)s from this instance: import its bundle there first.")
                % {"base": base, "organization": organization.name}
            ) from None
        raise MoveRefused(
            _("%(base)s answered %(code)s when asked whether it imported %(organization)s.")
            % {"base": base, "code": exc.code, "organization": organization.name}
        ) from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise MoveRefused(
            _("%(base)s could not be reached (%(reason)s).") % {"base": base, "reason": getattr(exc, "reason", exc)}
        ) from None
    except ValueError:
        raise MoveRefused(
            _("%(base)s did not answer with JSON: is it a Data Collective instance?") % {"base": base}
        ) from None
    if not isinstance(found, dict) or not isinstance(found.get("organization"), dict):
        raise MoveRefused(_("%(base)s answered without naming the organization it imported.") % {"base": base})
    ours = set(Dataset.objects.filter(organization=organization).values_list("id", flat=True))
    datasets = {
        origin_id: {"page": str(target["page"]), "api": str(target["api"])}
        for origin_id, target in (found.get("datasets") or {}).items()
        if origin_id in ours and isinstance(target, dict) and target.get("page") and target.get("api")
    }
    Organization.objects.filter(id=organization.id).update(
        moved_to=str(found["organization"].get("page") or base), moved_at=timezone.now(), moved_datasets=datasets
    )
    cache.delete(_ANY_MOVED_KEY)
    organization.refresh_from_db()
    return organization


# --- The old addresses --------------------------------------------------------------------------

_DATASET_PATHS = [
    (re.compile(r"^/datasets/(?P<key>[^/]+)/"), "page"),
    (re.compile(r"^/api/v1/datasets/(?P<key>[^/]+)"), "api"),
    (re.compile(r"^/api/datasets/(?P<key>[^/]+)"), "api"),
]
_ORGANIZATION_PATH = re.compile(r"^/organizations/(?P<slug>[^/]+)/$")
_CHECK_EVERY_SECONDS = 30
_ANY_MOVED_KEY = "organizations:any-moved"


def _any_moved() -> bool:
    """Whether any organization here moved, asked at most every half minute (the site's cache):
    the common answer, no, costs the dataset pages nothing."""
    moved = cache.get(_ANY_MOVED_KEY)
    if moved is None:
        try:
            moved = Organization.objects.filter(moved_at__isnull=False).exists()
        except DatabaseError:
            return False  # the database is down: the view answers that (503), not this pointer
        cache.set(_ANY_MOVED_KEY, moved, _CHECK_EVERY_SECONDS)
    return bool(moved)


def _gone(message: str, target: str) -> JsonResponse:
    return JsonResponse({"error": "moved", "message": message, "movedTo": target}, status=410)


def _pointer(request: HttpRequest, target: str, name: str) -> HttpResponse:
    if request.method in ("GET", "HEAD"):
        return HttpResponsePermanentRedirect(target)
    return _gone(f"{name} moved to another instance: {target}. Use it there (sign in there; keys of this "
                 "instance do not work there).", target)  # fmt: skip


class MovedMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith(("/datasets/", "/api/", "/organizations/")) and _any_moved():
            answer = self._moved(request, path)
            if answer is not None:
                return answer
        return self.get_response(request)

    def _moved(self, request: HttpRequest, path: str) -> HttpResponse | None:
        for pattern, kind in _DATASET_PATHS:
            match = pattern.match(path)
            if match is None:
                continue
            key = match["key"]
            dataset = (
                Dataset.objects.filter(Q(id=key) | Q(slug=key), organization__moved_at__isnull=False)
                .select_related("organization")
                .first()
            )
            if dataset is None:
                return None
            moved = dataset.organization
            target = (moved.moved_datasets.get(dataset.id) or {}).get(kind) or moved.moved_to
            return _pointer(request, target, dataset.name)
        match = _ORGANIZATION_PATH.match(path)
        if match is not None:
            organization = Organization.objects.filter(slug=match["slug"], moved_at__isnull=False).first()
            if organization is not None:
                return _pointer(request, organization.moved_to, organization.name)
        return None
