"""The authorization matrix: every route of the URLconf, every method it serves, against each role.

It runs in the shared realistic world (tests/world.py: three organizations of five, datasets of
every visibility and price, grants, invoices, access requests and submissions in every state), seen
from organization A, the world's Valley; B is Harbor. The table below is the expected answer of each
route and method for each role, with every URL parameter an object of A (a private dataset, a
draft with an upload under way, the licensee's grant and invoice, an access request, a payout
batch, another user's API key...), so a missing object-level check shows up as a 2xx where the
table says 403 or 404 (IDOR). Pages are reached with a session, the API with the bearer keys
clients use. A route of the URLconf that the table does not name fails the test, and so does an
entry for a route that no longer exists; methods a route does not list must answer 405. A refused
unsafe request must leave every row of the database as it was.

Columns: anonymous; licensee (grants, an open invoice at A, an approved request for A's
restricted dataset, in no organization); A's member (who wrote A's drafts and holds revenue
shares) and reviewer; other_admin (an admin of B); and the positive controls, A's owner and a
staff user (in no organization). Each organization has several members of each role, so a join
that returns a row per member shows up. Admin site routes are one group: nobody in the matrix but
staff is staff, so each answers with the admin's login page.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.test import Client
from django.utils import timezone

from licensing.keys import limits
from licensing.keys.authentication import HasScope
from licensing.keys.services import create_api_key
from licensing.models import AccessRequest, ApiKey, Invoice, LicenseGrant
from marketplace.catalog.visibility import visible_datasets
from marketplace.models import Dataset, Membership, Submission
from tests.hardening.authz import METHODS, ROLES, Matrix, admin_path, all_routes, fill, fingerprint
from tests.world import World

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Answer:
    status: int
    location: str = ""  # a part the redirect's Location must contain
    writes: bool = True  # False: the database must be exactly as before (checked for unsafe methods)


LOGIN = Answer(302, "/login/?next=", writes=False)  # login_required sends the visitor to log in
NOOP = Answer(302, writes=False)  # a redirect with an error message, nothing changed
SIGNED = Answer(302, "X-Amz-Signature")  # the download page sends the browser to a presigned URL
BACK = Answer(302, "#access", writes=False)  # the download page refuses with a message on the dataset page
ASKS = Answer(200, writes=False)  # a destructive action's confirmation page: nothing done yet


def answer(item: int | Answer) -> Answer:
    if isinstance(item, Answer):
        return item
    return Answer(item, writes=item < 400)


@dataclass(frozen=True)
class Case:
    method: str
    route: str
    args: dict[str, str]  # URL parameter -> "@value" of the world
    expect: tuple[int | Answer, ...]  # one per role, in ROLES order
    body: dict[str, Any] | None = None
    variant: str = ""
    query: str = ""

    @property
    def id(self) -> str:
        return f"{self.method} {self.route}" + (f" [{self.variant}]" if self.variant else "")


# Bodies: minimal and valid where it is cheap, so that an allowed role shows the action happens.
CONSENT = {
    "aiTraining": True, "commercialUse": False, "researchOnly": True, "redistribution": False,
    "derivatives": True,
    "consentText": "I agree.", "withdrawalProcess": "Email us.", "collectionStart": "2025-01-01",
    "collectionEnd": "2025-02-01",
}  # fmt: skip
START = {"submissionId": "@draft", "filename": "more.tar.gz", "fileSize": 1_000, "mimeType": "application/gzip"}
COMPLETE = {"uploadId": "not-this-one", "parts": [{"partNumber": 1, "etag": "abc"}], "checksum": "0" * 64}
REQUEST_FORM = {"full_name": "Lee", "organization_name": "Uni", "intended_use": "Research"}
REQUEST_JSON = {"fullName": "Lee", "organization": "Uni", "intendedUse": "Research"}

PRIVATE = {"dataset_id": "@private.id"}
PRIVATE_V1 = {"dataset_id": "@private.id", "number": "1"}
PROVENANCE_V1 = {"id": "@private.id", "number": "1"}
DRAFT = {"submission_id": "@draft"}
ORG = {"slug": "@org"}
ALL_200 = (200,) * 7
ANY_KEY = (401, 200, 200, 200, 200, 200, 200)  # any valid API key, own data only
ANY_LOGIN = (LOGIN, 200, 200, 200, 200, 200, 200)  # any session, own data only
# A's private dataset: its members (any role) see it; nobody else learns it exists.
API_MEMBERS = (401, 404, 200, 200, 404, 200, 404)
PUBLIC_MEMBERS = (404, 404, 200, 200, 404, 200, 404)
# A's submissions: owners, admins and members submit for their organization; reviewers only review.
UPLOADERS = (401, 403, 200, 403, 403, 200, 403)
UPLOADERS_400 = (401, 403, 400, 403, 403, 400, 403)  # allowed, then the body is refused
PAGE_UPLOADERS = (LOGIN, 403, 200, 403, 403, 200, 403)
STAFF_PAGE = (LOGIN, 403, 403, 403, 403, 403, 200)
STAFF_API = (401, 403, 403, 403, 403, 403, 200)

# fmt: off
# Each answer tuple: anonymous, licensee, member, reviewer, other_admin, owner, staff.
CASES = [
    Case("GET", "healthz", {}, ALL_200),
    Case("GET", "api-schema", {}, ALL_200),
    Case("GET", "api-docs", {}, ALL_200),
    # --- /api/v1/: licensing -------------------------------------------------------------------
    Case("GET", "api-me", {}, ANY_KEY),
    Case("GET", "api-me-earnings", {}, ANY_KEY),
    Case("GET", "api-me-invoices", {}, ANY_KEY),
    Case("GET", "api-me-access-requests", {}, ANY_KEY),
    Case("GET", "api-grants", {}, ANY_KEY),
    Case("GET", "api-grant-receipt", {"grant_id": "@grant"}, (401, 200, 404, 404, 404, 404, 404)),
    Case("GET", "api-dataset-terms", PRIVATE, API_MEMBERS),
    Case("POST", "api-dataset-grants", PRIVATE, (401, 404, 201, 201, 404, 201, 404),
         body={"termsSha256": "@private.terms"}),
    # Accepting on behalf of organization A takes a membership of A.
    Case("POST", "api-dataset-grants", {"dataset_id": "@public.id"}, (401, 400, 201, 201, 400, 201, 400),
         body={"termsSha256": "@public.terms", "organization": "@org"}, variant="for A"),
    # Accepting the terms of A's restricted dataset is open to whoever sees it: the approved request
    # is checked at the download (below), which refuses B's admin and staff, who have none.
    Case("POST", "api-dataset-grants", {"dataset_id": "@restricted.id"}, (401, 201, 201, 201, 201, 201, 201),
         body={"termsSha256": "@restricted.terms"}, variant="restricted"),
    Case("POST", "api-dataset-purchases", PRIVATE, (401, 404, 400, 400, 404, 400, 404), variant="free private"),
    Case("POST", "api-dataset-purchases", {"dataset_id": "@paid.id"}, (401, 200, 201, 201, 201, 201, 201),
         variant="paid"),
    Case("POST", "api-invoice-payment", {"invoice_id": "@invoice"}, (401, 403, 404, 404, 404, 200, 200),
         body={"reference": "bank-1"}),
    # Marking a paid invoice paid again returns the first payment (idempotent), to those who may.
    Case("POST", "api-invoice-payment", {"invoice_id": "@paid_invoice"}, (401, 404, 404, 404, 404, 200, 200),
         body={"reference": "bank-2"}, variant="paid already"),
    # Refunds are staff's: the invoice's licensee and the selling organization's managers see it
    # (403), nobody else learns it exists (404). The paid invoice is the buyer's, who is not in the
    # matrix; the licensee's open one was never paid (409 to staff).
    Case("POST", "api-invoice-refund", {"invoice_id": "@paid_invoice"}, (401, 404, 404, 404, 404, 403, 201),
         body={"reason": "Bought twice."}),
    Case("POST", "api-invoice-refund", {"invoice_id": "@invoice"}, (401, 403, 404, 404, 404, 403, 409),
         body={"reason": "Never paid."}, variant="open"),
    # Voiding an open invoice: its licensee, the organization's owners and admins, staff.
    Case("POST", "api-invoice-void", {"invoice_id": "@invoice"}, (401, 200, 404, 404, 404, 200, 200),
         body={"reason": "Changed my mind."}),
    Case("POST", "api-invoice-void", {"invoice_id": "@paid_invoice"}, (401, 404, 404, 404, 404, 409, 409),
         variant="paid"),
    Case("POST", "api-payout-cancellation", {"batch_id": "@batch"}, (401, 403, 403, 403, 403, 403, 200),
         body={"reason": "Wrong account."}),
    Case("GET", "api-access-requests", {"dataset_id": "@restricted.id"}, ANY_KEY, variant="restricted"),
    Case("POST", "api-access-requests", {"dataset_id": "@restricted.id"}, (401, 201, 201, 201, 201, 201, 201),
         body=REQUEST_JSON, variant="restricted"),
    Case("GET", "api-access-requests", PRIVATE, API_MEMBERS, variant="private"),
    Case("POST", "api-access-requests", PRIVATE, (401, 404, 400, 400, 404, 400, 404), body=REQUEST_JSON,
         variant="private"),
    Case("POST", "api-access-decision", {"request_id": "@access_request", "action": "approve"},
         (401, 404, 404, 404, 404, 200, 404)),
    Case("POST", "api-access-decision", {"request_id": "@approved_request", "action": "revoke"},
         (401, 404, 404, 404, 404, 200, 404), body={"reason": "Terms broken."}, variant="the licensee's, approved"),
    Case("GET", "api-version-files", PRIVATE_V1, API_MEMBERS),
    Case("POST", "api-version-file-download", {**PRIVATE_V1, "kind": "archive"}, API_MEMBERS, variant="private"),
    Case("POST", "api-version-file-download", {"dataset_id": "@public.id", "number": "@public.version",
         "kind": "archive"}, (401, 200, 200, 200, 403, 200, 403), variant="public"),
    # Version 1 of the public dataset lost a contributor's consent: gone for everyone, grant or not.
    Case("POST", "api-version-file-download", {"dataset_id": "@public.id", "number": "1", "kind": "archive"},
         (401, 410, 410, 410, 410, 410, 410), variant="public, consent withdrawn"),
    # GET is Croissant's contentUrl: the same decision, answered with a redirect to the bytes.
    Case("GET", "api-version-file-download", {**PRIVATE_V1, "kind": "archive"},
         (401, 404, SIGNED, SIGNED, 404, SIGNED, 404), variant="private"),
    Case("GET", "api-version-file-download", {"dataset_id": "@public.id", "number": "@public.version",
         "kind": "archive"}, (401, SIGNED, SIGNED, SIGNED, 403, SIGNED, 403), variant="public"),
    Case("GET", "api-version-file-download", {"dataset_id": "@public.id", "number": "1", "kind": "archive"},
         (401, 410, 410, 410, 410, 410, 410), variant="public, consent withdrawn"),
    # A delta is decided as a download of the version it goes to: hidden with the private dataset
    # (its one version against itself is 400 only to those who see it); for the public one, the
    # archive's download answers; a delta to the withdrawn version 1 is gone for everyone.
    Case("POST", "api-version-delta", {**PRIVATE_V1, "to": "1"}, (401, 404, 400, 400, 404, 400, 404),
         variant="private"),
    Case("POST", "api-version-delta", {"dataset_id": "@public.id", "number": "2", "to": "3"},
         (401, 200, 200, 200, 403, 200, 403), variant="public"),
    Case("POST", "api-version-delta", {"dataset_id": "@public.id", "number": "3", "to": "1"},
         (401, 410, 410, 410, 410, 410, 410), variant="public, to the withdrawn version"),
    # A's member holds the revenue share of the private dataset (they uploaded it), so withdraws as
    # its contributor; A's reviewer holds none.
    Case("POST", "api-dataset-withdrawals", PRIVATE, (401, 404, 201, 403, 404, 201, 404),
         body={"version": 1, "recordIds": ["r1"]}),
    Case("GET", "api-dataset-removals", PRIVATE, PUBLIC_MEMBERS),
    # The re-release jobs and who acknowledged a withdrawal: the dataset's owners and admins. The
    # licensee downloaded version 1 of the public dataset before its withdrawal, so only they were
    # told of it and acknowledge deleting the records.
    Case("GET", "api-dataset-rereleases", PRIVATE, (401, 404, 403, 403, 404, 200, 404), variant="private"),
    Case("GET", "api-dataset-rereleases", {"dataset_id": "@public.id"}, (401, 403, 403, 403, 403, 200, 403),
         variant="public"),
    Case("POST", "api-removal-acknowledgement", {"dataset_id": "@public.id", "withdrawal_id": "@withdrawal"},
         (401, 200, 404, 404, 404, 404, 404)),
    Case("GET", "api-removal-acknowledgements", {"dataset_id": "@public.id", "withdrawal_id": "@withdrawal"},
         (401, 403, 403, 403, 403, 200, 403)),
    Case("GET", "api-me-removal-notices", {}, ANY_KEY),
    # --- Contributors: claims, my contributions, withdrawing oneself, the organization's export ---
    Case("GET", "api-me-contributions", {}, ANY_KEY),
    # Nobody in the matrix holds a contributor id: withdrawing finds nothing to withdraw, and says so.
    Case("POST", "api-me-contribution-withdrawals", {}, (401, 400, 400, 400, 400, 400, 400), body={}),
    Case("POST", "api-claim-accept", {}, (401, 400, 400, 400, 400, 400, 400), body={"token": "no-such-token"}),
    Case("POST", "api-organization-claims", ORG, (401, 403, 403, 403, 403, 201, 403), body={"contributorId": "c-1"}),
    Case("GET", "api-organization-export", ORG, (401, 403, 403, 403, 403, 200, 403), query="archives=reference"),
    # Moving an organization: staff import (a JSON body is refused: the bundle is gzip), anyone reads
    # their own imports, the lookup is public, only owners say where theirs moved (nowhere reachable).
    Case("POST", "api-organization-imports", {}, (401, 403, 403, 403, 403, 403, 400), body={"bundle": "x"}),
    Case("GET", "api-organization-imports", {}, ANY_KEY),
    Case("GET", "api-organization-import", {"id": "1"}, (401, 404, 404, 404, 404, 404, 404)),
    Case("GET", "api-organization-import-lookup", {}, (404,) * 7, query="origin=http://elsewhere.example&organization=x"),
    Case("POST", "api-organization-moved", ORG, (401, 403, 403, 403, 403, 400, 403),
         body={"newHome": "http://127.0.0.1:9"}),
    Case("GET", "organization-imports", {}, STAFF_PAGE),
    Case("POST", "organization-imports", {}, (LOGIN, 403, 403, 403, 403, 403, 400), body={"owner": "nobody"}),
    Case("GET", "organization-move", ORG, (LOGIN, 403, 403, 403, 403, 200, 403)),
    Case("POST", "organization-move", ORG, (LOGIN, 403, 403, 403, 403, 400, 403),
         body={"new_home": "http://127.0.0.1:9", "confirm": "on"}),
    # A license transfer link without its signed token: nothing to attach, said to whoever opens it.
    Case("GET", "moved-grants", {}, (LOGIN, 400, 400, 400, 400, 400, 400)),
    Case("POST", "moved-grants", {}, (LOGIN, 400, 400, 400, 400, 400, 400)),
    Case("GET", "claim", {"token": "no-such-token"}, (404,) * 7),
    Case("POST", "claim", {"token": "no-such-token"}, (404,) * 7),
    Case("GET", "my-contributions", {}, ANY_LOGIN),
    Case("GET", "my-contributions-withdraw-all", {}, ANY_LOGIN),
    Case("POST", "my-contributions-withdraw-all", {}, (LOGIN, 400, 400, 400, 400, 400, 400), body={"confirm": "on"}),
    Case("GET", "my-contribution-withdraw", {"dataset_id": "@public.id"}, ANY_LOGIN),
    Case("POST", "my-contribution-withdraw", {"dataset_id": "@public.id"}, (LOGIN, 400, 400, 400, 400, 400, 400),
         body={"confirm": "on"}),
    Case("GET", "organization-contributors", ORG, (LOGIN, 403, 403, 403, 403, 200, 403)),
    Case("POST", "organization-contributors", ORG, (LOGIN, 403, 403, 403, 403, 200, 403),
         body={"contributor_id": "c-1"}),
    # One's own payout details and data: every key reaches its own, nobody another's (there is no id
    # to name). Nobody in the world has given payout details yet.
    Case("GET", "api-me-payout-details", {}, (401, 404, 404, 404, 404, 404, 404)),
    Case("PUT", "api-me-payout-details", {}, (401, 201, 201, 201, 201, 201, 201),
         body={"method": "paypal", "accountHolder": "Lee", "account": "lee@example.org"}),
    Case("GET", "api-me-export", {}, ANY_KEY),
    # --- /api/v1/: provenance ------------------------------------------------------------------
    Case("GET", "api-provenance-keys", {}, ALL_200),
    Case("GET", "api-provenance-key-pem", {"key_id": "@signing_key"}, ALL_200),
    Case("GET", "api-log-entries", {}, ALL_200),
    Case("GET", "api-log-inclusion", {"index": "0"}, ALL_200),
    Case("GET", "api-log-consistency", {}, ALL_200, query="first=1"),
    Case("GET", "api-log-tree-head", {}, ALL_200),
    # --- /api/v1/: federation and witnessing (issue 20): peers are staff's; what they list, the
    # cosignatures this instance made and the alarms it raised are public evidence.
    Case("GET", "api-federation-peers", {}, STAFF_API),
    Case("POST", "api-federation-peers", {}, (401, 403, 403, 403, 403, 403, 201),
         body={"url": "https://another.example.org", "following": True}),
    Case("GET", "api-federation-peer", {"peer_id": "@peer"}, STAFF_API),
    Case("PATCH", "api-federation-peer", {"peer_id": "@peer"}, STAFF_API, body={"following": False}),
    Case("POST", "api-federation-peer-sync", {"peer_id": "@peer"}, (401, 403, 403, 403, 403, 403, 202)),
    Case("GET", "api-federation-datasets", {}, ALL_200),
    Case("GET", "api-witness-cosignatures", {}, ALL_200),
    Case("GET", "api-provenance-alarms", {}, ALL_200),
    Case("GET", "api-version-manifest", PROVENANCE_V1, PUBLIC_MEMBERS),
    Case("GET", "api-version-inclusion-proof", PROVENANCE_V1, PUBLIC_MEMBERS),
    Case("GET", "api-version-croissant", PROVENANCE_V1, PUBLIC_MEMBERS),
    # The viewer of A's private dataset: its members read the archive's tables, everyone else 404.
    Case("GET", "api-viewer-splits", PROVENANCE_V1, PUBLIC_MEMBERS),
    Case("GET", "api-viewer-rows", PROVENANCE_V1, PUBLIC_MEMBERS, query="split=train"),
    Case("GET", "api-viewer-search", PROVENANCE_V1, PUBLIC_MEMBERS, query="split=train&query=clips"),
    Case("GET", "api-viewer-filter", PROVENANCE_V1, PUBLIC_MEMBERS, query="split=train&where=path%20IS%20NOT%20NULL"),
    Case("GET", "api-viewer-statistics", PROVENANCE_V1, PUBLIC_MEMBERS, query="split=train"),
    Case("GET", "api-viewer-parquet", PROVENANCE_V1, PUBLIC_MEMBERS),
    # A Parquet file (the Croissant contentUrl): members are sent to a presigned URL, others 404.
    Case("GET", "api-viewer-parquet-file", {**PROVENANCE_V1, "index": "0"},
         (404, 404, SIGNED, SIGNED, 404, SIGNED, 404)),
    # A diff has its manifests' visibility: the private dataset's is hidden before the versions are
    # looked at (its one version against itself is 400 only to those who see it); the public one's
    # is everyone's.
    Case("GET", "api-version-diff", {**PROVENANCE_V1, "to": "1"}, (404, 404, 400, 400, 404, 400, 404),
         variant="private"),
    Case("GET", "api-version-diff", {"id": "@public.id", "number": "1", "to": "3"}, ALL_200, variant="public"),
    # --- /api/v1/: catalog and submissions -----------------------------------------------------
    Case("GET", "api-dataset-list", {}, ALL_200),
    Case("GET", "api-dataset-detail", {"id": "@private.id"}, PUBLIC_MEMBERS),
    Case("GET", "api-dataset-detail", {"id": "@other_private.id"}, (404, 404, 404, 404, 200, 404, 404),
         variant="B's private"),
    Case("GET", "api-dataset-versions", {"id": "@private.id"}, PUBLIC_MEMBERS),
    # The draft of the next version: A's owners, admins and members; its reviewer sees the dataset
    # but does not submit; the rest do not learn it exists.
    Case("POST", "api-dataset-versions", {"id": "@private.id"}, (401, 404, 201, 403, 404, 201, 404)),
    Case("PUT", "api-submission-changelog", DRAFT, UPLOADERS, body={"changelog": "Fixed two transcripts."}),
    Case("PUT", "api-submission-record-id-column", DRAFT, UPLOADERS, body={"recordIdColumn": "path"}),
    Case("GET", "api-organization-list", {}, ALL_200),
    Case("GET", "api-organization-detail", ORG, ALL_200),
    Case("GET", "api-license-list", {}, ALL_200),
    Case("GET", "api-license-detail", {"pk": "@license"}, ALL_200, variant="SPDX"),
    # Custom terms of a private dataset are as private as the dataset.
    Case("GET", "api-license-detail", {"pk": "@in_house.license"}, PUBLIC_MEMBERS, variant="custom terms of A"),
    Case("GET", "api-license-detail", {"pk": "@public_custom_license"}, ALL_200, variant="custom terms of a public"),
    Case("DELETE", "api-upload", {"file_upload_id": "@doomed_upload"}, (401, 403, 204, 403, 403, 204, 403)),
    Case("GET", "api-upload-parts", {"file_upload_id": "@upload"}, UPLOADERS),
    Case("GET", "api-submission", DRAFT, UPLOADERS),
    # Allowed roles get 404: no archive upload of the draft has completed yet.
    Case("GET", "api-submission-validation", DRAFT, (401, 403, 404, 403, 403, 404, 403)),
    Case("PUT", "api-consent", DRAFT, UPLOADERS, body=CONSENT),
    Case("POST", "api-consent-records", DRAFT, UPLOADERS_400, body={"records": []}),
    Case("PUT", "api-revenue-split", DRAFT, UPLOADERS,
         body={"contributors": [{"username": "@member.username", "basisPoints": 10_000}]}),
    Case("PUT", "api-parents", DRAFT, UPLOADERS, body={"parents": []}),
    # B's admin cannot name A's private dataset as a parent of B's draft: it is unknown to them.
    Case("PUT", "api-parents", {"submission_id": "@other_draft"}, (401, 403, 403, 403, 400, 403, 403),
         body={"parents": [{"dataset": "@private.id", "version": 1}]}, variant="B's draft, A's private parent"),
    # --- /api/: the MDC SDK contract -------------------------------------------------------------
    Case("GET", "mdc-health", {}, ALL_200),
    Case("GET", "mdc-dataset-list", {}, ALL_200),
    Case("GET", "mdc-dataset-filters", {}, ALL_200),
    # E3 serves a private dataset to anyone by its exact id (the SDK sends no key), never by slug.
    Case("GET", "mdc-dataset-detail", {"id_or_slug": "@private.id"}, ALL_200, variant="private id"),
    Case("GET", "mdc-dataset-detail", {"id_or_slug": "@private.slug"}, (404,) * 7, variant="private slug"),
    # A private dataset taken down: 410 by its id, as E3 serves it by id; its slug stays unknown.
    Case("GET", "mdc-dataset-detail", {"id_or_slug": "@removed.id"}, (410,) * 7, variant="removed private id"),
    Case("GET", "mdc-dataset-detail", {"id_or_slug": "@removed.slug"}, (404,) * 7, variant="removed private slug"),
    # The world's takedown is of a public dataset (of a third organization): gone, and said so, to all.
    Case("GET", "mdc-dataset-detail", {"id_or_slug": "@taken_down.id"}, (410,) * 7, variant="removed public id"),
    Case("GET", "mdc-dataset-detail", {"id_or_slug": "@taken_down.slug"}, (410,) * 7, variant="removed public slug"),
    # Croissant metadata: as the dataset's own answers, but a private dataset only to its members.
    Case("GET", "mdc-dataset-metadata", {"id_or_slug": "@public.id"}, ALL_200, variant="public"),
    Case("GET", "mdc-dataset-metadata", {"id_or_slug": "@private.id"}, PUBLIC_MEMBERS, variant="private"),
    Case("POST", "mdc-dataset-download", {"id_or_slug": "@removed.slug"}, (401, 404, 404, 404, 404, 404, 404),
         variant="removed private slug"),
    Case("POST", "mdc-dataset-download", {"id_or_slug": "@private.id"}, API_MEMBERS, variant="private"),
    Case("POST", "mdc-dataset-download", {"id_or_slug": "@public.id"}, (401, 200, 200, 200, 403, 200, 403),
         variant="public"),
    # The licensee's request for A's restricted dataset was approved, which lets them accept its
    # terms (above), not yet download; B's restricted and paid one is B's alone until a request is
    # approved and an invoice paid; A's paid one waits for payment (402) of the licensee's invoice.
    Case("POST", "mdc-dataset-download", {"id_or_slug": "@restricted.id"}, (401, 403, 200, 200, 403, 200, 403),
         variant="restricted"),
    Case("POST", "mdc-dataset-download", {"id_or_slug": "@restricted_paid.id"}, (401, 403, 403, 403, 200, 403, 403),
         variant="restricted and paid, of B"),
    Case("POST", "mdc-dataset-download", {"id_or_slug": "@paid.id"}, (401, 402, 200, 200, 402, 200, 402),
         variant="paid"),
    Case("POST", "mdc-sample-download", {"id_or_slug": "@in_house.id"}, API_MEMBERS, variant="private"),
    Case("POST", "mdc-sample-download", {"id_or_slug": "@public.id"}, ANY_KEY, variant="public"),
    # other_admin's organization B is approved to upload: the draft is B's.
    Case("POST", "mdc-submission-create", {}, (401, 403, 200, 403, 200, 200, 403), body={"name": "New"}),
    Case("GET", "mdc-submission", DRAFT, UPLOADERS),
    Case("PATCH", "mdc-submission", DRAFT, UPLOADERS, body={"name": "Renamed"}),
    Case("POST", "mdc-submission", DRAFT, UPLOADERS_400, body={"agreeToSubmit": True}),  # 400: incomplete
    Case("DELETE", "mdc-submission", DRAFT, (401, 403, 204, 403, 403, 204, 403)),
    Case("POST", "mdc-upload-start", {}, UPLOADERS, body=START),
    Case("POST", "mdc-upload-complete", {"file_upload_id": "@upload"}, UPLOADERS_400, body=COMPLETE),
    Case("GET", "mdc-upload-part", {"file_upload_id": "@upload", "part_number": "1"}, UPLOADERS),
    Case("POST", "mdc-sample-start", DRAFT, UPLOADERS, body={**START, "filename": "sample.tar.gz"}),
    Case("POST", "mdc-sample-complete", {**DRAFT, "file_upload_id": "@sample_upload"}, UPLOADERS_400, body=COMPLETE),
    Case("GET", "mdc-sample-part", {**DRAFT, "file_upload_id": "@sample_upload", "part_number": "1"}, UPLOADERS),
    # B's admin, through B's own draft, cannot reach A's upload.
    Case("GET", "mdc-sample-part", {"submission_id": "@other_draft", "file_upload_id": "@sample_upload",
         "part_number": "1"}, (401, 403, 403, 403, 404, 403, 403), variant="B's draft, A's upload"),
    Case("POST", "mdc-sample-complete", {"submission_id": "@other_draft", "file_upload_id": "@sample_upload"},
         (401, 403, 403, 403, 404, 403, 403), body=COMPLETE, variant="B's draft, A's upload"),
    # --- Pages: account, licenses, earnings, payouts ---------------------------------------------
    Case("POST", "api-key-create", {}, ANY_LOGIN, body={"name": "k", "scopes": ["read"], "expires_in_days": "30"}),
    Case("POST", "api-key-revoke", {"key_id": "@owner_key"}, (LOGIN, 404, 404, 404, 404, ASKS, 404),
         variant="unconfirmed"),
    Case("POST", "api-key-revoke", {"key_id": "@owner_key"}, (LOGIN, 404, 404, 404, 404, 302, 404),
         body={"confirm": "yes"}),
    Case("GET", "grant-list", {}, ANY_LOGIN),
    Case("GET", "my-invoices", {}, ANY_LOGIN),
    Case("GET", "my-access-requests", {}, ANY_LOGIN),
    Case("GET", "notifications", {}, ANY_LOGIN),
    Case("POST", "notifications-read", {}, (LOGIN, 302, 302, 302, 302, 302, 302)),
    # The language switcher answers everyone; a signed-in person's choice is kept for their emails.
    Case("POST", "set_language", {}, (302,) * 7, body={"language": "es", "next": "/"}),
    Case("GET", "grant-receipt", {"grant_id": "@grant"}, (LOGIN, 200, 404, 404, 404, 404, 404)),
    Case("GET", "earnings", {}, ANY_LOGIN),
    Case("GET", "earnings-statement", {}, ANY_LOGIN),
    Case("GET", "payout-details", {}, ANY_LOGIN),
    Case("POST", "payout-details", {}, (LOGIN, 302, 302, 302, 302, 302, 302),
         body={"method": "bank", "account_holder": "Lee", "account": "GB82 WEST 1234 5698 7654 32"}),
    Case("GET", "my-data", {}, ANY_LOGIN),
    Case("GET", "my-data-export", {}, ANY_LOGIN),
    Case("GET", "account-delete", {}, ANY_LOGIN),
    # Nobody deletes an account without its password (A's owner is also its only owner).
    Case("POST", "account-delete", {}, (LOGIN, 400, 400, 400, 400, 400, 400),
         body={"password": "not-the-password", "confirm": "on"}),
    Case("GET", "payouts", {}, STAFF_PAGE),
    Case("POST", "payouts", {}, (LOGIN, 403, 403, 403, 403, 403, 400), body={"currency": "usd"}),  # no amount
    Case("GET", "payout-batch", {"batch_id": "@batch"}, STAFF_PAGE),
    # Federation's staff pages (issue 20): an empty form is 400 for staff, refused for the rest.
    Case("GET", "federation-peers", {}, STAFF_PAGE),
    Case("POST", "federation-peers", {}, (LOGIN, 403, 403, 403, 403, 403, 400)),
    Case("POST", "federation-peer-action", {"peer_id": "@peer"}, (LOGIN, 403, 403, 403, 403, 403, 302),
         body={"action": "unfollow"}),
    Case("GET", "federation-alarms", {}, STAFF_PAGE),
    Case("GET", "payout-batch-cancel", {"batch_id": "@batch"}, STAFF_PAGE),
    Case("POST", "payout-batch-cancel", {"batch_id": "@batch"}, (LOGIN, 403, 403, 403, 403, 403, 302),
         body={"reason": "Wrong account.", "confirm": "yes"}),
    Case("GET", "invoice-refund", {"invoice_id": "@paid_invoice"}, STAFF_PAGE),
    Case("POST", "invoice-refund", {"invoice_id": "@paid_invoice"}, (LOGIN, 403, 403, 403, 403, 403, 302),
         body={"reason": "Bought twice.", "confirm": "yes"}),
    # The void page: the invoice's licensee, the selling organization's owners and admins, staff.
    Case("GET", "invoice-void", {"invoice_id": "@invoice"}, (LOGIN, 200, 404, 404, 404, 200, 200)),
    Case("POST", "invoice-void", {"invoice_id": "@invoice"}, (LOGIN, 302, 404, 404, 404, 302, 302)),
    Case("GET", "takedowns", {}, STAFF_PAGE),
    Case("POST", "takedowns", {}, (LOGIN, 403, 403, 403, 403, 403, 302),
         body={"dataset": "@public.id", "reason": "A court order.", "confirm": "yes"}),
    Case("POST", "payout-batch", {"batch_id": "@batch"}, (LOGIN, 403, 403, 403, 403, 403, 302),
         body={"reference": "SEPA-1"}),
    # --- Pages: a dataset's access panel ---------------------------------------------------------
    Case("POST", "dataset-accept", {"slug": "@private.slug"}, (LOGIN, 404, 302, 302, 404, 302, 404),
         body={"accept_license": "on", "terms_sha256": "@private.terms"}),
    Case("POST", "dataset-accept", {"slug": "@public.slug"}, (LOGIN, 400, 302, 302, 400, 302, 400),
         body={"accept_license": "on", "terms_sha256": "@public.terms", "organization": "@org"}, variant="for A"),
    # Members are told a private dataset needs no request (400); nobody else learns it exists.
    Case("POST", "dataset-request-access", {"slug": "@private.slug"}, (LOGIN, 404, 400, 400, 404, 400, 404),
         body=REQUEST_FORM, variant="private"),
    Case("POST", "dataset-request-access", {"slug": "@restricted.slug"}, (LOGIN, 302, 302, 302, 302, 302, 302),
         body=REQUEST_FORM, variant="restricted"),
    Case("POST", "dataset-buy", {"slug": "@private.slug"}, (LOGIN, 404, NOOP, NOOP, 404, NOOP, 404),
         variant="free private"),
    Case("POST", "dataset-buy", {"slug": "@paid.slug"}, (LOGIN, 302, 302, 302, 302, 302, 302), variant="paid"),
    Case("POST", "dataset-download", {"slug": "@private.slug"}, (LOGIN, 404, SIGNED, SIGNED, 404, SIGNED, 404),
         variant="private"),
    Case("POST", "dataset-download", {"slug": "@public.slug"}, (LOGIN, SIGNED, SIGNED, SIGNED, BACK, SIGNED, BACK),
         variant="public"),
    # --- Pages: the organization's side ----------------------------------------------------------
    Case("GET", "organization-access-requests", ORG, (LOGIN, 403, 403, 403, 403, 200, 403)),
    Case("POST", "organization-access-decision", {**ORG, "request_id": "@access_request", "action": "approve"},
         (LOGIN, 403, 403, 403, 403, 302, 403)),
    # B's admin, with B's slug and A's object, finds nothing (no IDOR through one's own organization).
    Case("POST", "organization-access-decision",
         {"slug": "@other_org", "request_id": "@access_request", "action": "approve"},
         (LOGIN, 403, 403, 403, 404, 403, 403), variant="own org"),
    Case("GET", "organization-invoices", ORG, (LOGIN, 403, 403, 403, 403, 200, 200)),
    Case("GET", "organization-withdrawals", ORG, (LOGIN, 403, 403, 403, 403, 200, 403)),
    Case("POST", "organization-withdrawals", ORG, (LOGIN, 403, 403, 403, 403, 302, 403),
         body={"withdrawal_releases": "review"}),
    Case("POST", "organization-invoice-paid", {**ORG, "invoice_id": "@invoice"}, (LOGIN, 403, 403, 403, 403, 302, 302),
         body={"reference": "bank-1"}),
    Case("POST", "organization-invoice-paid", {"slug": "@other_org", "invoice_id": "@invoice"},
         (LOGIN, 403, 403, 403, 404, 403, 404), body={"reference": "bank-1"}, variant="own org"),
    Case("GET", "organization-revenue", ORG, (LOGIN, 403, 403, 403, 403, 200, 200)),
    Case("GET", "organization-dashboard", ORG, (LOGIN, 403, 403, 403, 403, 200, 200)),
    Case("GET", "organization-downloads", ORG, (LOGIN, 403, 200, 200, 403, 200, 200)),
    # --- Pages: catalog, organizations ---------------------------------------------------------
    Case("GET", "home", {}, ALL_200),
    Case("GET", "catalog", {}, ALL_200),
    Case("GET", "dataset-detail", {"slug": "@private.slug"}, PUBLIC_MEMBERS, variant="private"),
    # "New version": to the draft's edit page for A's uploaders.
    Case("POST", "dataset-new-version", {"slug": "@private.slug"},
         (LOGIN, 404, Answer(302, "/submissions/"), 403, 404, Answer(302, "/submissions/"), 404)),
    Case("GET", "dataset-detail", {"slug": "@removed.slug"}, (404, 404, 410, 410, 404, 410, 404),
         variant="removed private"),
    Case("GET", "dataset-detail", {"slug": "@taken_down.slug"}, (410,) * 7, variant="removed public"),
    # The changes between versions: the dataset page's visibility.
    Case("GET", "dataset-version-changes", {"slug": "@public.slug", "number": "2", "since": "1"}, ALL_200,
         variant="public"),
    Case("GET", "dataset-version-changes", {"slug": "@private.slug", "number": "1", "since": "1"},
         (404, 404, 400, 400, 404, 400, 404), variant="private"),
    Case("GET", "dataset-version-changes", {"slug": "@taken_down.slug", "number": "1", "since": "1"}, (410,) * 7,
         variant="removed public"),
    # The viewer: the dataset page's visibility; rows of the archive or the sample, by the license.
    Case("GET", "dataset-viewer", {"slug": "@public.slug"}, ALL_200, variant="public"),
    Case("GET", "dataset-viewer", {"slug": "@private.slug"}, PUBLIC_MEMBERS, variant="private"),
    Case("GET", "dataset-viewer", {"slug": "@taken_down.slug"}, (410,) * 7, variant="removed public"),
    Case("GET", "dataset-viewer", {"slug": "@removed.slug"}, (404, 404, 410, 410, 404, 410, 404),
         variant="removed private"),
    # No sample: everyone may look and is told why there are no rows (the buyer is not in the matrix).
    Case("GET", "dataset-viewer", {"slug": "@paid.slug"}, ALL_200, variant="paid"),
    Case("GET", "organization-create", {}, ANY_LOGIN),
    Case("POST", "organization-create", {}, (LOGIN, 302, 302, 302, 302, 302, 302),
         body={"name": "Fresh Org", "slug": "fresh-org"}),
    Case("GET", "organization-detail", ORG, ALL_200),
    # --- Feeds for harvesters and crawlers: the catalog's listed datasets, the same for everyone ---------
    Case("GET", "catalog-turtle", {}, ALL_200),
    Case("GET", "catalog-jsonld", {}, ALL_200),
    Case("GET", "catalog-feed", {}, (Answer(303, "/datasets/", writes=False),) * 7),
    Case("GET", "sitemap-index", {}, ALL_200),
    Case("GET", "sitemap-section", {"section": "datasets"}, ALL_200),
    Case("GET", "robots-txt", {}, ALL_200),
    Case("GET", "organization-members", ORG, (LOGIN, 403, 403, 403, 403, 200, 403)),
    Case("POST", "organization-members", ORG, (LOGIN, 403, 403, 403, 403, 302, 403),
         body={"email": "new@example.org", "role": "member"}),
    Case("POST", "organization-member-remove", {**ORG, "membership_id": "@membership"},
         (LOGIN, 403, 403, 403, 403, ASKS, 403), variant="unconfirmed"),
    Case("POST", "organization-member-remove", {**ORG, "membership_id": "@membership"},
         (LOGIN, 403, 403, 403, 403, 302, 403), body={"confirm": "yes"}),
    Case("POST", "organization-member-remove", {"slug": "@other_org", "membership_id": "@membership"},
         (LOGIN, 403, 403, 403, NOOP, 403, 403), body={"confirm": "yes"}, variant="own org"),
    Case("POST", "invitation-revoke", {**ORG, "invitation_id": "@invitation"}, (LOGIN, 403, 403, 403, 403, ASKS, 403),
         variant="unconfirmed"),
    Case("POST", "invitation-revoke", {**ORG, "invitation_id": "@invitation"}, (LOGIN, 403, 403, 403, 403, 302, 403),
         body={"confirm": "yes"}),
    Case("POST", "invitation-revoke", {"slug": "@other_org", "invitation_id": "@invitation"},
         (LOGIN, 403, 403, 403, 404, 403, 403), body={"confirm": "yes"}, variant="own org"),
    # Leaving works for A's members once confirmed; the others are told at once that they are not in it
    # (and A's only owner, that they cannot leave).
    Case("POST", "organization-leave", ORG, (LOGIN, NOOP, ASKS, ASKS, NOOP, NOOP, NOOP), variant="unconfirmed"),
    Case("POST", "organization-leave", ORG, (LOGIN, NOOP, 302, 302, NOOP, NOOP, NOOP), body={"confirm": "yes"}),
    Case("POST", "organization-approve", ORG, (LOGIN, 403, 403, 403, 403, 403, 302)),
    # Nobody in the matrix is the invitee: the page shows, accepting is refused.
    Case("GET", "invitation-accept", {"token": "@invitation.token"}, ANY_LOGIN),
    Case("POST", "invitation-accept", {"token": "@invitation.token"}, (LOGIN, 400, 400, 400, 400, 400, 400)),
    # --- Pages: submissions and review -------------------------------------------------------------
    Case("GET", "submission-list", {}, ANY_LOGIN),
    Case("GET", "submission-create", {}, ANY_LOGIN),
    Case("POST", "submission-create", {}, (LOGIN, 400, 302, 400, 302, 302, 400), body={"name": "New"}),
    Case("GET", "submission-edit", DRAFT, PAGE_UPLOADERS),
    Case("POST", "submission-edit", DRAFT, (LOGIN, 403, 302, 403, 403, 302, 403),
         body={"name": "Renamed", "visibility": "public"}),
    # The page's one form: a POST carrying none of its parts saves nothing (302 "nothing had changed").
    Case("POST", "submission-consent", DRAFT, (LOGIN, 403, NOOP, 403, 403, NOOP, 403)),
    Case("POST", "submission-consent-records", DRAFT, (LOGIN, 403, NOOP, 403, 403, NOOP, 403)),
    Case("POST", "submission-contributors", DRAFT, (LOGIN, 403, 400, 403, 403, 400, 403),
         body={"shares-TOTAL_FORMS": "1", "shares-INITIAL_FORMS": "0", "shares-0-share": "50"}),
    # Opened on its own (no htmx request) the validation fragment leads to its submission page.
    Case("GET", "submission-validation", DRAFT, (LOGIN, 403, 302, 403, 403, 302, 403)),
    Case("POST", "submission-parents", DRAFT, (LOGIN, 403, 302, 403, 403, 302, 403), body={"parents": ""}),
    Case("POST", "submission-submit", DRAFT, (LOGIN, 403, 400, 403, 403, 400, 403)),  # 400: incomplete
    Case("POST", "submission-delete", DRAFT, (LOGIN, 403, ASKS, 403, 403, ASKS, 403), variant="unconfirmed"),
    Case("POST", "submission-delete", DRAFT, (LOGIN, 403, 302, 403, 403, 302, 403), body={"confirm": "yes"}),
    Case("GET", "review-queue", {}, ANY_LOGIN),
    # The member wrote the waiting submission: nobody reviews their own work.
    Case("GET", "review", {"submission_id": "@waiting"}, (LOGIN, 403, 403, 200, 403, 200, 200)),
    Case("POST", "review", {"submission_id": "@waiting"}, (LOGIN, 403, 403, 302, 403, 302, 302),
         body={"decision": "reject", "reason": "Not yet."}),
    # A draft is its contributors' until submitted: no reviewer (nor staff) reads it on the review page.
    Case("GET", "review", DRAFT, (LOGIN, 403, 403, 403, 403, 403, 403), variant="draft"),
    # --- Pages: signing up and in ------------------------------------------------------------------
    Case("GET", "signup", {}, (200, 302, 302, 302, 302, 302, 302)),
    Case("POST", "signup", {}, (200, 302, 302, 302, 302, 302, 302)),  # 200: the empty form's errors
    Case("PUT", "signup", {}, (200, 302, 302, 302, 302, 302, 302)),
    Case("GET", "login", {}, (200, 302, 302, 302, 302, 302, 302)),
    Case("POST", "login", {}, (200, 302, 302, 302, 302, 302, 302)),
    # Django's form views treat PUT as POST (ProcessFormView.put): an empty form, no login.
    Case("PUT", "login", {}, (200, 302, 302, 302, 302, 302, 302)),
    Case("POST", "logout", {}, (302,) * 7),
    Case("GET", "account", {}, ANY_LOGIN),
]
# fmt: on

# The admin site answers everyone but staff with its login page; these are its exceptions.
ADMIN_LOGIN = Answer(302, "/admin/login/?next=")
ADMIN_EXCEPTIONS = {
    "admin:login": Answer(200),
    "admin:logout": Answer(302, "/admin/"),  # not staff: back to the index, which asks to log in
}


# --- The shared world, in the matrix's roles ---------------------------------------------------------


@pytest.fixture
def matrix(world: World) -> Matrix:
    """The shared world of tests/world.py (its per-test transaction rolls back whatever a test
    writes), its people in the matrix's roles."""
    return Matrix(world)


def client_for(matrix: Matrix, role: str, *, api: bool) -> tuple[Client, dict[str, str]]:
    """A fresh client per request, so that no cookie (a message, a CSRF token) passes between roles."""
    client = Client()
    if role == "anonymous":
        return client, {}
    if api:
        return client, {"Authorization": f"Bearer {matrix.keys[role]}"}
    client.cookies[settings.SESSION_COOKIE_NAME] = matrix.session(role)
    return client, {}


def send(matrix: Matrix, role: str, method: str, path: str, body: dict[str, Any] | None, *, api: bool) -> Any:
    """``body`` resolved already (see Matrix: values are made outside a role's savepoint)."""
    client, headers = client_for(matrix, role, api=api)
    data = body
    if api:
        payload = json.dumps(data) if data is not None else ""
        return client.generic(method, path, payload, content_type="application/json", headers=headers)
    if method == "GET":
        return client.get(path)
    return client.generic(method, path) if data is None else client.post(path, data)


# allauth's own pages under /accounts/ (email addresses, password reset and change, second factors,
# single sign-on) are its views, with its own tests; tests/marketplace/accounts walks them as people
# do. Our sign-in and sign-up paths (login, signup) stay in the table.
ROUTES = {route.key: route for route in all_routes() if not route.pattern.startswith("accounts/")}


def path_of(matrix: Matrix, case: Case) -> str:
    path = fill(ROUTES[case.route].pattern, matrix.resolve(case.args))
    return f"{path}?{case.query}" if case.query else path


def mismatch(response: Any, expected: Answer) -> str | None:
    """What is wrong with the answer, or None."""
    location = response.get("Location", "")
    got = f"{response.status_code} {location}".strip()
    if response.status_code != expected.status:
        return f"expected {expected.status}, got {got}"
    if expected is not LOGIN and "/login/?next=" in location:
        return f"sent to log in: {got}"
    if expected.location not in location:
        return f"expected a redirect to …{expected.location}…, got {got}"
    return None


# --- The table against the URLconf -------------------------------------------------------------------


def test_every_route_has_expectations_and_every_expectation_a_route() -> None:
    routes = {key for key, route in ROUTES.items() if not route.is_admin}
    named = {case.route for case in CASES}
    assert sorted(routes - named) == [], "routes without an expected answer per role: add them to CASES"
    assert sorted(named - set(ROUTES)) == [], "CASES names routes that no longer exist"
    assert all(len(case.expect) == len(ROLES) for case in CASES), "each case needs one answer per role"
    assert len({case.id for case in CASES}) == len(CASES), "a case is listed twice"


# The admin group is checked as a whole, below.
@pytest.mark.parametrize(
    "key", sorted(key for key, route in ROUTES.items() if route.class_methods is not None and not route.is_admin)
)
def test_class_based_views_serve_exactly_the_listed_methods(key: str) -> None:
    route = ROUTES[key]
    listed = {case.method for case in CASES if case.route == key}
    assert listed == route.class_methods, f"{key}: the view serves {sorted(route.class_methods or ())}"


# The login and signup pages send a signed-in visitor away whatever the method: probe it as a visitor.
# Staff-only API views refuse everyone else before DRF looks at the method: probe them as staff.
PROBE_AS = {"login": "anonymous", "signup": "anonymous", "api-federation-peers": "staff",
            "api-federation-peer": "staff", "api-federation-peer-sync": "staff"}  # fmt: skip


@pytest.mark.parametrize("key", sorted(key for key, route in ROUTES.items() if not route.is_admin))
def test_methods_a_route_does_not_list_answer_405(matrix: Matrix, key: str) -> None:
    """As A's owner (signed in, every scope), so that only the method can be refused."""
    listed = {case.method for case in CASES if case.route == key}
    case = next(case for case in CASES if case.route == key)
    for method in sorted(set(METHODS) - listed):
        role = PROBE_AS.get(key, "owner")
        response = send(matrix, role, method, path_of(matrix, case), None, api=ROUTES[key].is_api)
        assert response.status_code == 405, f"{method} {key}: expected 405, got {response.status_code}"


# --- The matrix -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_matrix(matrix: Matrix, case: Case) -> None:
    """Each role in its own savepoint, so that what one allowed role changes, the next does not see.
    The path, the body and the sessions are made before: a savepoint's rollback would take them."""
    path, body, api = path_of(matrix, case), matrix.resolve(case.body), ROUTES[case.route].is_api
    if not api:
        for role in ROLES[1:]:
            matrix.session(role)
    wrong = []
    for role, item in zip(ROLES, case.expect, strict=True):
        expected = answer(item)
        with transaction.atomic():
            before = fingerprint() if case.method != "GET" and not expected.writes else None
            response = send(matrix, role, case.method, path, body, api=api)
            problem = mismatch(response, expected)
            if problem is None and before is not None and fingerprint() != before:
                problem = "refused, yet the database changed"
            transaction.set_rollback(True)
        if problem:
            wrong.append(f"as {role}: {problem}")
    assert wrong == [], f"{case.id}\n" + "\n".join(wrong)


@pytest.mark.parametrize(("role", "listed"), [("anonymous", False), ("other_admin", False), ("member", True)])
def test_custom_terms_of_private_datasets_are_listed_to_members_only(matrix: Matrix, role: str, listed: bool) -> None:
    """A's in-house terms name a private dataset; Harbor's research terms, a public one."""
    matrix.value("in_house.license")
    response = send(matrix, role, "GET", "/api/v1/licenses", None, api=True)
    names = {item["name"] for item in response.json()}
    assert response.status_code == 200 and {"CC-BY-4.0 terms", "Harbor Research Terms"} <= names
    assert ("Valley in-house terms" in names) is listed


def required_scope(case: Case) -> str | None:
    """The API key scope the view asks for (HasScope), or None for a view that asks none."""
    view_class = getattr(ROUTES[case.route].view, "view_class", None)
    if view_class is None or HasScope not in getattr(view_class, "permission_classes", []):
        return None
    view = view_class()
    view.request = SimpleNamespace(method=case.method)  # AccessRequestListApi's scope depends on it
    return str(view.required_scope)


SCOPED = [case for case in CASES if ROUTES[case.route].is_api and required_scope(case)]


@pytest.mark.parametrize("case", SCOPED, ids=lambda case: case.id)
def test_a_key_needs_the_scope_of_the_endpoint_and_no_other(matrix: Matrix, case: Case) -> None:
    """A's owner, with a key lacking the endpoint's scope: 403 before anything changes; with a
    key of that scope alone: the answer of the matrix."""
    scope = required_scope(case)
    owner = matrix.users["owner"]
    path = path_of(matrix, case)
    data = json.dumps(matrix.resolve(case.body)) if case.body is not None else ""
    _, lacking = create_api_key(user=owner, name="lacking", scopes=[s for s in ApiKey.Scope.values if s != scope])
    _, only = create_api_key(user=owner, name="only", scopes=[str(scope)])
    before = fingerprint()
    refused = Client().generic(
        case.method, path, data, content_type="application/json", headers={"Authorization": f"Bearer {lacking}"}
    )
    assert refused.status_code == 403 and f"lacks the '{scope}' scope" in refused.json()["message"]
    assert fingerprint() == before
    allowed = Client().generic(
        case.method, path, data, content_type="application/json", headers={"Authorization": f"Bearer {only}"}
    )
    assert mismatch(allowed, answer(case.expect[ROLES.index("owner")])) is None


def test_the_fingerprint_sees_a_changed_column_and_nothing_else(matrix: Matrix) -> None:
    """The proof that a refused request changed nothing is only as good as the fingerprint."""
    before = fingerprint()
    assert fingerprint() == before
    with transaction.atomic():
        Membership.objects.filter(id=matrix.value("membership")).update(role="reviewer")
        assert fingerprint() != before
        transaction.set_rollback(True)
    with transaction.atomic():
        ApiKey.objects.filter(user=matrix.users["owner"]).update(last_used_at=timezone.now())  # volatile
        assert fingerprint() == before
        transaction.set_rollback(True)


@pytest.mark.parametrize("role", [role for role in ROLES if role != "staff"])
def test_the_admin_site_is_for_staff_only(matrix: Matrix, role: str) -> None:
    admin_routes = [route for route in ROUTES.values() if route.is_admin]
    client, _ = client_for(matrix, role, api=False)
    assert len(admin_routes) > 20  # the admin's own routes and one set per registered model
    failures = []
    for route in admin_routes:
        expected = ADMIN_EXCEPTIONS.get(route.key, ADMIN_LOGIN)
        response = client.get(admin_path(route))
        location = response.get("Location", "")
        if response.status_code != expected.status or expected.location not in location:
            failures.append(f"{route.key}: {response.status_code} {location}")
    assert failures == []


def test_staff_reach_the_admin_site(matrix: Matrix) -> None:
    response = send(matrix, "staff", "GET", "/admin/", None, api=False)
    assert response.status_code == 200


# --- Lists in a busy world: each visible item exactly once, for everyone -------------------------------

# Beyond the matrix's roles: a second member of A, A's admin, B's member and outsiders with a paid
# grant or nothing, so that every list is read by someone with several co-members in each organization.
LIST_READERS = (
    "anonymous", "licensee", "buyer", "newcomer", "valley.member", "valley.member2", "valley.reviewer",
    "valley.admin", "valley.owner", "harbor.admin", "harbor.member", "staff",
)  # fmt: skip
UPLOADER_ROLES, MANAGER_ROLES, REVIEWER_ROLES = (
    {"owner", "admin", "member"},
    {"owner", "admin"},
    {"owner", "admin", "reviewer"},
)


def role_in_org(person: str, org: str) -> str | None:
    """The person's role in a world organization, from their handle ("valley.member2" is a member)."""
    handle_org, _, role = person.partition(".")
    return role.rstrip("2") if handle_org == org and role else None


def api_json(world: World, person: str, path: str) -> Any:
    headers = {} if person == "anonymous" else {"Authorization": f"Bearer {world.key(person)}"}
    response = Client().get(path, headers=headers)
    assert response.status_code == 200, f"{path} as {person}: {response.status_code}"
    return response.json()


def page_as(world: World, person: str, path: str, **headers: str) -> Any:
    client = Client()
    if person != "anonymous":
        client.force_login(world.people[person])
    return client.get(path, headers=headers)


def links(html: str, pattern: str) -> Counter[str]:
    """How often each id or slug appears in ``pattern``'s group on the page."""
    return Counter(re.findall(pattern, html))


def counted(items: Any) -> Counter[str]:
    """How often each id comes back (ids as text: pages and JSON spell them differently)."""
    return Counter(str(item) for item in items)


def once(items: Any) -> dict[str, int]:
    return dict.fromkeys((str(item) for item in items), 1)


CARD_SLUGS = r'<li class="card">\s*<h3><a href="/datasets/([\w-]+)/"'


@pytest.mark.parametrize("person", LIST_READERS)
def test_dataset_lists_name_each_listed_dataset_once(world: World, person: str) -> None:
    """The catalog's lists (API, SDK contract, pages, searches) hold every listed dataset of the
    world once, whoever asks: never once per member, grant or version."""
    listed = Dataset.objects.filter(
        status=Dataset.Status.PUBLISHED, visibility__in=[Dataset.Visibility.PUBLIC, Dataset.Visibility.RESTRICTED]
    )
    assert listed.count() >= 6
    # The point of the world: several people of each role in each organization, whom a join through
    # memberships, grants or versions would repeat each dataset for.
    assert all(Membership.objects.filter(organization=org).count() >= 5 for org in world.orgs.values())
    ids, slugs = once(listed.values_list("id", flat=True)), once(listed.values_list("slug", flat=True))
    v1 = api_json(world, person, "/api/v1/datasets?limit=100")
    assert counted(item["id"] for item in v1["results"]) == ids
    mdc = api_json(world, person, "/api/datasets?limit=100")
    assert counted(item["id"] for item in mdc["items"]) == ids and mdc["total"] == len(ids)
    assert links(page_as(world, person, "/datasets/").content.decode(), CARD_SLUGS) == slugs
    for org in world.orgs.values():
        own = once(listed.filter(organization=org).values_list("slug", flat=True))
        assert links(page_as(world, person, f"/organizations/{org.slug}/").content.decode(), CARD_SLUGS) == own
    # A search ranks a candidate set: the same dataset must not come back once per matching row.
    searched = [
        [item["id"] for item in api_json(world, person, "/api/v1/datasets?q=speech&limit=100")["results"]],
        [item["id"] for item in api_json(world, person, "/api/datasets?q=speech&limit=100")["items"]],
    ]
    for found in searched:
        assert found and len(found) == len(set(found)) and set(found) <= set(ids)
    found_slugs = links(page_as(world, person, "/datasets/?q=speech").content.decode(), CARD_SLUGS)
    assert found_slugs and set(found_slugs.values()) == {1} and set(found_slugs) <= set(slugs)


@pytest.mark.parametrize("person", LIST_READERS)
def test_own_lists_name_each_item_once(world: World, person: str) -> None:
    """Grants, access requests, invoices, submissions and the review queue: each item the person
    may see, once, and nothing else."""
    user = world.people.get(person)
    if user is None:  # anonymous: nothing of their own to list
        assert page_as(world, person, "/account/licenses/").status_code == 302
        return
    mine = once(LicenseGrant.objects.filter(user=user).values_list("id", flat=True))
    assert counted(item["grantId"] for item in api_json(world, person, "/api/v1/grants")["items"]) == mine
    grant_page = page_as(world, person, "/account/licenses/").content.decode()
    assert links(grant_page, r'href="/account/licenses/(\d+)/receipt.json"') == mine

    for handle in ("valley-gated", "harbor-notes"):  # the restricted datasets, A's free and B's paid
        dataset = world.datasets[handle]
        requests = AccessRequest.objects.filter(dataset=dataset)
        manages = role_in_org(person, handle.split("-")[0]) in MANAGER_ROLES
        expected = once((requests if manages else requests.filter(user=user)).values_list("id", flat=True))
        got = api_json(world, person, f"/api/v1/datasets/{dataset.id}/access-requests")["items"]
        assert counted(item["id"] for item in got) == expected, handle

    for key, org in world.orgs.items():
        role = role_in_org(person, key)
        requests_page = page_as(world, person, f"/organizations/{org.slug}/access-requests/")
        invoices_page = page_as(world, person, f"/organizations/{org.slug}/invoices/")
        if role in MANAGER_ROLES:
            org_requests = AccessRequest.objects.filter(dataset__organization=org).values_list("id", flat=True)
            assert links(requests_page.content.decode(), r'<tr id="request-(\d+)"') == once(org_requests)
        else:
            assert requests_page.status_code == 403
        if role in MANAGER_ROLES or user.is_staff:
            org_invoices = Invoice.objects.filter(dataset__organization=org).values_list("id", flat=True)
            assert links(invoices_page.content.decode(), r'<tr id="invoice-(\w+)"') == once(org_invoices)
        else:
            assert invoices_page.status_code == 403

    uploading = [org for key, org in world.orgs.items() if role_in_org(person, key) in UPLOADER_ROLES]
    own_submissions = Submission.objects.filter(organization__in=uploading).exclude(status=Submission.Status.DELETED)
    submission_page = page_as(world, person, "/submissions/").content.decode()
    assert links(submission_page, r'<td[^>]*><a href="/submissions/(\w+)/">') == once(
        own_submissions.values_list("id", flat=True)
    )
    reviewing = [org for key, org in world.orgs.items() if role_in_org(person, key) in REVIEWER_ROLES]
    waiting = Submission.objects.filter(status=Submission.Status.SUBMITTED).exclude(created_by=user)
    if not user.is_staff:
        waiting = waiting.filter(organization__in=reviewing)
    queue = page_as(world, person, "/review/").content.decode()
    assert links(queue, r'href="/review/(\w+)/"') == once(waiting.values_list("id", flat=True))


# --- A second member of the same organization ------------------------------------------------------

# Owners, admins and members of an organization work on its submissions together; reviewers and
# other organizations do not see them, and nobody reviews a submission without a reviewing role.
# (reader, submission, the draft's page and API, its review page)
SHARED_WORK = [
    ("valley.member2", "valley-uploading", 200, 403),  # a co-member's draft, with an upload under way
    ("valley.member2", "valley-failed", 200, 403),
    ("valley.member2", "valley-rejected", 200, 403),
    ("valley.member2", "valley-in-review", 200, 403),  # may read it, may not review it
    ("valley.member", "valley-draft", 200, 403),  # and the other way round
    ("valley.admin", "valley-in-review", 200, 200),
    ("valley.reviewer", "valley-draft", 403, 403),  # reviewers review, and only what was submitted
    ("valley.reviewer", "valley-in-review", 403, 200),
    ("harbor.member", "valley-draft", 403, 403),
    ("harbor.admin", "valley-in-review", 403, 403),
    ("harbor.reviewer", "valley-in-review", 403, 403),
]


@pytest.mark.parametrize(("reader", "handle", "work", "review"), SHARED_WORK)
def test_members_of_one_organization_share_its_submissions(
    world: World, reader: str, handle: str, work: int, review: int
) -> None:
    submission = world.submissions[handle]
    assert page_as(world, reader, f"/submissions/{submission.id}/").status_code == work
    validation = page_as(world, reader, f"/submissions/{submission.id}/validation/", HX_Request="true")
    assert validation.status_code == work
    if work == 200:  # the fragment opened on its own leads to its page
        alone = page_as(world, reader, f"/submissions/{submission.id}/validation/")
        assert (alone.status_code, alone["Location"]) == (302, f"/submissions/{submission.id}/")
    key = {"Authorization": f"Bearer {world.key(reader)}"}
    response = Client().get(f"/api/v1/submissions/{submission.id}", headers=key)
    assert response.status_code == work
    if work == 200:
        assert response.json()["submission"]["id"] == submission.id
    assert Client().get(f"/api/submissions/{submission.id}", headers=key).status_code == work  # the SDK's read
    assert page_as(world, reader, f"/review/{submission.id}/").status_code == review


# --- Keys limited to one organization or to some datasets (licensing/keys/limits.py) ---------------

API_CASES = [case for case in CASES if ROUTES[case.route].is_api]
# Values of the world that are not organization A's: B's draft and datasets, the third
# organization's taken-down dataset, the custom terms of B's public dataset.
NOT_OF_A = {"@other_draft", "@restricted_paid", "@other_private", "@taken_down", "@public_custom_license"}
REFUSED = Answer(404, writes=False)
NEEDS_FULL_KEY = Answer(403, writes=False)


def test_every_api_route_says_what_a_limited_key_reaches() -> None:
    """A route missing from limits.ROUTES refuses limited keys (safe), but must be decided."""
    api_routes = {key for key, route in ROUTES.items() if route.is_api}
    assert sorted(api_routes - set(limits.ROUTES)) == [], "add these API routes to licensing.keys.limits.ROUTES"
    assert sorted(set(limits.ROUTES) - api_routes) == [], "limits.ROUTES names routes that no longer exist"


def names_another_organization(case: Case) -> bool:
    return bool(NOT_OF_A & {str(value).split(".")[0] for value in case.args.values()})


def answer_outside_the_limit(case: Case) -> Answer:
    """What A's owner gets with a key limited to something the case is not about."""
    rule = limits.ROUTES[case.route]
    if rule in (limits.OPEN, limits.LIST):
        return answer(case.expect[ROLES.index("owner")])
    if rule == limits.AS_ANYONE:
        return answer(case.expect[ROLES.index("anonymous")])
    if rule == limits.ACCOUNT or case.route == "mdc-submission-create":
        return NEEDS_FULL_KEY
    if isinstance(rule, limits.About) and rule.public and case.method == "GET":
        return answer(case.expect[ROLES.index("anonymous")])  # the public catalog, as without a key
    return REFUSED


def answer_inside_organization_a(case: Case) -> Answer:
    """What A's owner gets with a key limited to A."""
    rule = limits.ROUTES[case.route]
    if rule == limits.ACCOUNT:
        return NEEDS_FULL_KEY
    if rule == limits.AS_ANYONE:  # licenses: read as without a key, whatever the limit
        return answer(case.expect[ROLES.index("anonymous")])
    if isinstance(rule, limits.About) and names_another_organization(case):
        return answer_outside_the_limit(case)
    return answer(case.expect[ROLES.index("owner")])


def subject_dataset(matrix: Matrix, case: Case) -> Dataset | None:
    """The one dataset a case acts on, when it has one."""
    rule = limits.ROUTES[case.route]
    if not isinstance(rule, limits.About):
        return None
    value = matrix.resolve(case.args)[rule.kwarg]
    if rule.kind == "dataset":
        return Dataset.objects.filter(Q(id=value) | Q(slug=value)).first()
    owners: dict[str, Any] = {"grant": LicenseGrant, "invoice": Invoice, "access_request": AccessRequest}
    if rule.kind in owners:
        return owners[rule.kind].objects.get(id=value).dataset
    return None


def send_with(key: str, case: Case, path: str, body: Any) -> Any:
    payload = json.dumps(body) if body is not None else ""
    return Client().generic(
        case.method, path, payload, content_type="application/json", headers={"Authorization": f"Bearer {key}"}
    )


@pytest.mark.parametrize("case", API_CASES, ids=lambda case: case.id)
def test_limited_keys_reach_their_limit_and_nothing_else(matrix: Matrix, case: Case) -> None:
    """A's owner with three keys of every scope: limited to a dataset of B (every route about A's
    things refuses it, and nothing changes), limited to A (the owner's answer of the matrix, but
    account-wide routes refuse it), and limited to the very dataset the case is about (the owner's
    answer)."""
    owner, world = matrix.users["owner"], matrix.world
    path, body = path_of(matrix, case), matrix.resolve(case.body)
    scopes = list(ApiKey.Scope.values)
    _, elsewhere = create_api_key(user=owner, name="elsewhere", scopes=scopes, datasets=[world.datasets["harbor-open"]])
    _, in_a = create_api_key(user=owner, name="A", scopes=scopes, organization=world.orgs["valley"])
    keys = [("limited to a dataset of B", elsewhere, answer_outside_the_limit(case))]
    keys.append(("limited to A", in_a, answer_inside_organization_a(case)))
    dataset = subject_dataset(matrix, case)
    of_a = dataset is not None and dataset.organization_id == world.orgs["valley"].id
    if dataset is not None and of_a and not names_another_organization(case):
        if visible_datasets(user=owner).filter(id=dataset.id).exists():
            _, exact = create_api_key(user=owner, name="exact", scopes=scopes, datasets=[dataset])
            keys.append((f"limited to {dataset.slug}", exact, answer(case.expect[ROLES.index("owner")])))
        else:  # taken down: no key can be limited to it
            with pytest.raises(ValidationError):
                create_api_key(user=owner, name="exact", scopes=scopes, datasets=[dataset])
    wrong = []
    for label, key, expected in keys:
        with transaction.atomic():
            before = fingerprint() if case.method != "GET" and not expected.writes else None
            response = send_with(key, case, path, body)
            problem = mismatch(response, expected)
            if problem is None and before is not None and fingerprint() != before:
                problem = "refused, yet the database changed"
            if problem is None and (expected is REFUSED or expected is NEEDS_FULL_KEY):
                message = response.json()["message"]
                if "This API key is limited to" not in message:
                    problem = f"refused without saying why: {message}"
            transaction.set_rollback(True)
        if problem:
            wrong.append(f"{label}: {problem}")
    assert wrong == [], f"{case.id}\n" + "\n".join(wrong)
