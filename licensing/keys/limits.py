"""What an API key limited to one organization or to some datasets may reach, decided in one place
for every API request.

The rule (also in the README, "Limiting an API key"):

- A limit narrows what the key's owner may do, never widens it: every view still checks the
  owner's own rights.
- Anything about one dataset or organization, or about something that belongs to one (a version,
  its files and downloads, terms, grants, purchases, invoices, access requests, withdrawals, a
  submission, an upload, an organization's claims, export or move), answers 404 to a key limited
  elsewhere, whether the thing exists or not, so the answer tells nothing.
- Reads of the public catalog (a dataset's page, versions, manifest, Croissant, viewer, an
  organization's page) stay what anyone reads without a key: outside its limit the key counts as
  no key at all, so it sees the public catalog and never a private dataset beyond its limit.
  The MDC catalog routes (``/api/datasets``...) read no key in the first place.
- Lists of one's own things narrow to the limit: a key's grants are those of its datasets. The
  catalog's lists hold public datasets only, for any caller.
- Account-wide actions (earnings, payout details, the data export, claims, my contributions,
  moving organizations, federation) refuse a limited key with 403: they need a key with all the
  owner's access.
- A route missing from ``ROUTES`` refuses limited keys (403): a new route is safe until someone
  says what it is about. ``tests/hardening/test_authz_matrix.py`` fails on an API route not listed.

``check_request`` runs from the authentication classes (licensing.keys.authentication), which every
API view runs whatever its permission classes (AllowAny included), so no view can forget it. The
only views that skip them read no key at all (the MDC catalog and health: public answers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework import exceptions

from licensing.models import AccessRequest, ApiKey, Invoice, LicenseGrant
from marketplace.models import Dataset, Organization, Submission, Upload

if TYPE_CHECKING:
    from rest_framework.request import Request

Kind = Literal["dataset", "organization", "submission", "upload", "invoice", "grant", "access_request"]
M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class About:
    """The route is about one ``kind`` of thing, named by the URL parameter ``kwarg``. ``public``
    routes are reads of the public catalog: outside the limit, GET and HEAD go on as if without a
    key; other methods are refused."""

    kind: Kind
    kwarg: str
    public: bool = False


OPEN = "open"  # about no dataset or organization in particular: the same answer under any limit
AS_ANYONE = "as anyone"  # a limited key reads it as a caller without a key does
LIST = "list"  # the view narrows its list with ``narrow``
BODY = "body"  # the request body names the subject: the view calls ``require_organization``/``require_submission``
ACCOUNT = "account"  # the whole account: refused to a limited key

Rule = About | str

_DATASET = "dataset_id"
ROUTES: dict[str, Rule] = {
    # Not about one dataset or organization.
    "api-schema": OPEN,
    "api-docs": OPEN,
    "api-me": OPEN,
    "api-provenance-keys": OPEN,
    "api-provenance-key-pem": OPEN,
    "api-log-entries": OPEN,
    "api-log-inclusion": OPEN,
    "api-log-consistency": OPEN,
    "api-log-tree-head": OPEN,
    "api-federation-datasets": OPEN,
    "api-witness-cosignatures": OPEN,
    "api-provenance-alarms": OPEN,
    "api-organization-list": OPEN,
    "api-organization-import-lookup": OPEN,
    "api-dataset-list": OPEN,  # the public catalog only (listed datasets), whoever asks
    # The MDC catalog reads no key at all (marketplace.api.mdc.PublicCatalogView).
    "mdc-health": OPEN,
    "mdc-dataset-list": OPEN,
    "mdc-dataset-filters": OPEN,
    "mdc-dataset-detail": OPEN,
    # Custom terms of a private dataset are as private as the dataset.
    "api-license-list": AS_ANYONE,
    "api-license-detail": AS_ANYONE,
    "api-grants": LIST,
    # The public catalog, one dataset or organization at a time.
    "api-dataset-detail": About("dataset", "id", public=True),
    "api-dataset-versions": About("dataset", "id", public=True),  # POST drafts a version: strict
    "api-viewer-splits": About("dataset", "id", public=True),
    "api-viewer-rows": About("dataset", "id", public=True),
    "api-viewer-search": About("dataset", "id", public=True),
    "api-viewer-filter": About("dataset", "id", public=True),
    "api-viewer-statistics": About("dataset", "id", public=True),
    "api-viewer-parquet": About("dataset", "id", public=True),
    "api-viewer-parquet-file": About("dataset", "id", public=True),
    "api-version-manifest": About("dataset", "id", public=True),
    "api-version-inclusion-proof": About("dataset", "id", public=True),
    "api-version-croissant": About("dataset", "id", public=True),
    "api-version-diff": About("dataset", "id", public=True),
    "api-dataset-removals": About("dataset", _DATASET, public=True),
    "api-organization-detail": About("organization", "slug", public=True),
    "mdc-dataset-metadata": About("dataset", "id_or_slug", public=True),
    # Acting on one dataset: terms, grants, purchases, access, downloads, withdrawals.
    "api-dataset-terms": About("dataset", _DATASET),
    "api-dataset-grants": About("dataset", _DATASET),
    "api-dataset-purchases": About("dataset", _DATASET),
    "api-access-requests": About("dataset", _DATASET),
    "api-version-files": About("dataset", _DATASET),
    "api-version-file-download": About("dataset", _DATASET),
    "api-version-delta": About("dataset", _DATASET),
    "api-dataset-withdrawals": About("dataset", _DATASET),
    "api-dataset-rereleases": About("dataset", _DATASET),
    "api-removal-acknowledgement": About("dataset", _DATASET),
    "api-removal-acknowledgements": About("dataset", _DATASET),
    "mdc-dataset-download": About("dataset", "id_or_slug"),
    "mdc-sample-download": About("dataset", "id_or_slug"),
    "api-grant-receipt": About("grant", "grant_id"),
    "api-invoice-payment": About("invoice", "invoice_id"),
    "api-invoice-refund": About("invoice", "invoice_id"),
    "api-invoice-void": About("invoice", "invoice_id"),
    "api-access-decision": About("access_request", "request_id"),
    # Acting on one organization.
    "api-organization-claims": About("organization", "slug"),
    "api-organization-export": About("organization", "slug"),
    "api-organization-moved": About("organization", "slug"),
    # Submissions and their uploads: a submission is its organization's, and its dataset's once it
    # adds a version to one (a new dataset's draft is reached by an organization's key only).
    "api-submission": About("submission", "submission_id"),
    "api-submission-validation": About("submission", "submission_id"),
    "api-consent": About("submission", "submission_id"),
    "api-consent-records": About("submission", "submission_id"),
    "api-revenue-split": About("submission", "submission_id"),
    "api-parents": About("submission", "submission_id"),
    "api-submission-record-id-column": About("submission", "submission_id"),
    "api-submission-changelog": About("submission", "submission_id"),
    "mdc-submission": About("submission", "submission_id"),
    "mdc-sample-start": About("submission", "submission_id"),
    "mdc-sample-complete": About("submission", "submission_id"),
    "mdc-sample-part": About("submission", "submission_id"),
    "api-upload": About("upload", "file_upload_id"),
    "api-upload-parts": About("upload", "file_upload_id"),
    "mdc-upload-complete": About("upload", "file_upload_id"),
    "mdc-upload-part": About("upload", "file_upload_id"),
    "mdc-submission-create": BODY,
    "mdc-upload-start": BODY,
    # The whole account.
    "api-me-invoices": ACCOUNT,  # every invoice of the account, whatever the key reaches
    "api-me-access-requests": ACCOUNT,
    "api-me-earnings": ACCOUNT,
    "api-me-payout-details": ACCOUNT,
    "api-me-export": ACCOUNT,
    "api-me-removal-notices": ACCOUNT,
    "api-me-contributions": ACCOUNT,
    "api-me-contribution-withdrawals": ACCOUNT,
    "api-claim-accept": ACCOUNT,
    "api-payout-cancellation": ACCOUNT,
    "api-organization-imports": ACCOUNT,
    "api-organization-import": ACCOUNT,
    "api-federation-peers": ACCOUNT,
    "api-federation-peer": ACCOUNT,
    "api-federation-peer-sync": ACCOUNT,
}

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class OutsideLimit(exceptions.NotFound):
    """404: what the request names is outside the key's limit (or does not exist)."""


class NeedsFullKey(exceptions.PermissionDenied):
    """403: the request acts on the whole account, which a limited key may not."""


def dataset_ids(key: ApiKey) -> frozenset[str]:
    """The ids of a dataset-limited key's datasets, read once per request."""
    cached: frozenset[str] | None = getattr(key, "_limit_dataset_ids", None)
    if cached is None:
        cached = frozenset(key.datasets.values_list("id", flat=True))
        key._limit_dataset_ids = cached  # type: ignore[attr-defined]
    return cached


def allows(key: ApiKey, *, organization_id: Any, dataset_id: str | None) -> bool:
    """Whether the key reaches a thing of this organization and (when it has one) dataset."""
    if key.limit == ApiKey.Limit.ALL:
        return True
    if key.limit == ApiKey.Limit.ORGANIZATION:
        return organization_id is not None and organization_id == key.organization_id
    return dataset_id is not None and dataset_id in dataset_ids(key)


def describe(key: ApiKey) -> str:
    """What the key is limited to, in words (for refusals, the admin and the data export)."""
    if key.limit == ApiKey.Limit.ORGANIZATION and key.organization is not None:
        return _("the organization %(name)s") % {"name": key.organization.name}
    if key.limit == ApiKey.Limit.DATASETS:
        slugs = sorted(key.datasets.values_list("slug", flat=True))
        shown = ", ".join(slugs[:5]) + (", …" if len(slugs) > 5 else "")
        return ngettext("the dataset %(names)s", "the datasets %(names)s", len(slugs)) % {"names": shown}
    return _("all your access")


def _owner_of(kind: Kind, value: str) -> tuple[Any, str | None] | None:
    """The organization id and dataset id (None: not of one dataset) of what a URL names."""
    pair: tuple[Any, Any] | None
    if kind == "dataset":
        pair = Dataset.objects.filter(Q(id=value) | Q(slug=value)).values_list("organization_id", "id").first()
    elif kind == "organization":
        org_id = Organization.objects.filter(slug=value).values_list("id", flat=True).first()
        pair = None if org_id is None else (org_id, None)
    elif kind == "submission":
        pair = Submission.objects.filter(id=value).values_list("organization_id", "dataset_id").first()
    elif kind == "upload":
        pair = (
            Upload.objects.filter(id=value).values_list("submission__organization_id", "submission__dataset_id").first()
        )
    else:
        model: type[models.Model] = {"invoice": Invoice, "grant": LicenseGrant, "access_request": AccessRequest}[kind]
        if not str(value).isalnum():
            return None
        pair = model._default_manager.filter(id=value).values_list("dataset__organization_id", "dataset_id").first()
    return pair


def _outside(key: ApiKey) -> OutsideLimit:
    return OutsideLimit(_("This API key is limited to %(limit)s: it cannot reach this.") % {"limit": describe(key)})


def needs_full_key(key: ApiKey) -> NeedsFullKey:
    return NeedsFullKey(
        _(
            "This API key is limited to %(limit)s; this request acts on your whole account. "
            "Use a key with all your access."
        )
        % {"limit": describe(key)}
    )


def check_request(key: ApiKey, request: Request) -> bool:
    """Refuse the request when it reaches beyond the key's limit (``OutsideLimit``,
    ``NeedsFullKey``). Returns False when the request is a public read outside the limit, which
    then goes on as if it carried no key; True otherwise."""
    if key.limit == ApiKey.Limit.ALL:
        return True
    match = getattr(request, "resolver_match", None)
    rule = ROUTES.get(match.url_name or "", ACCOUNT) if match is not None else ACCOUNT
    if rule == AS_ANYONE:
        return False
    if rule in (OPEN, LIST, BODY):
        return True
    if not isinstance(rule, About):
        raise needs_full_key(key)
    owner = _owner_of(rule.kind, str(match.kwargs.get(rule.kwarg, ""))) if match is not None else None
    if owner is not None and allows(key, organization_id=owner[0], dataset_id=owner[1]):
        return True
    if rule.public and request.method in SAFE_METHODS:
        return False
    raise _outside(key)


def narrow(queryset: QuerySet[M], auth: object, *, dataset: str, organization: str) -> QuerySet[M]:
    """The rows of ``queryset`` within the key's limit, ``dataset`` and ``organization`` naming
    the fields that hold the row's dataset id and organization id. Unlimited keys and sessions
    keep everything."""
    if not isinstance(auth, ApiKey) or auth.limit == ApiKey.Limit.ALL:
        return queryset
    if auth.limit == ApiKey.Limit.ORGANIZATION:
        return queryset.filter(**{organization: auth.organization_id})
    return queryset.filter(**{f"{dataset}__in": dataset_ids(auth)})


def require_organization(auth: object, organization: Organization) -> None:
    """For a view that creates something of an organization (a new dataset's submission): 403."""
    if isinstance(auth, ApiKey) and not allows(auth, organization_id=organization.id, dataset_id=None):
        raise exceptions.PermissionDenied(
            _("This API key is limited to %(limit)s: it cannot create datasets of %(organization)s.")
            % {"limit": describe(auth), "organization": organization.name}
        )


def require_submission(auth: object, submission: Submission) -> None:
    """For a view whose body names the submission it acts on (an upload's start)."""
    if isinstance(auth, ApiKey) and not allows(
        auth, organization_id=submission.organization_id, dataset_id=submission.dataset_id
    ):
        raise _outside(auth)
