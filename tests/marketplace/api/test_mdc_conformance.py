"""The MDC routes (``/api/...``) against the MDC platform's own OpenAPI document
(``/work/shared/mdc-openapi.json``, OpenAPI 3.2): every answer we can provoke, successes and the
documented refusals, is validated with ``jsonschema`` against the schema the document gives for
that operation, status and content type. The data is the shared realistic world (tests/world.py:
three organizations of five, datasets of every visibility and price that went through submission
and review, real archives in storage), plus what a test creates through the services for its
person; every dataset of the world is asked for by keys of several roles, and the official SDK
makes its calls as well.

OpenAPI 3.2 schemas are JSON Schema 2020-12; what is OpenAPI-specific is handled here, by name:

- ``$ref``s point into the document (``#/components/schemas/...``): the whole document is one
  resource of a ``referencing`` Registry, so JSON pointers resolve inside it.
- ``format`` is an annotation in 2020-12; we assert it, with checkers written here for the
  standard formats the document uses (date-time, uri, email, uuid) and for its own (cuid,
  sha256_hex, int64, decimal, download_token).
- A nullable reference is written ``allOf: [{$ref}, {type: [string, null]}]`` (the idiom of
  OpenAPI 3.0 generators, where a ``$ref`` could not carry ``nullable``); read literally it admits
  no null, which its second branch plainly intends. It is rewritten to ``anyOf: [{$ref}, null]``.
- Where we deliberately differ (README, "The MDC routes and the platform's document"), the
  difference is an entry of ``DEVIATIONS`` or ``UNDOCUMENTED``, each with its reason; nothing else
  is relaxed.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import datacollective
import pytest
import requests
from datacollective.models import DatasetSubmission
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from rest_framework.test import APIClient

from licensing.access import access_requests as access
from licensing.access import grants
from licensing.consent.inputs import ConsentTermsInput
from licensing.consent.terms import add_consent_records, set_consent_terms
from licensing.models import LicenseGrant
from licensing.revenue import payments
from marketplace.models import Dataset, Membership, Submission, Upload, User
from marketplace.submissions import drafts, review, uploads, validation
from marketplace.submissions.inputs import Share
from tests.archive_builders import wav_bytes
from tests.factories import published_dataset, tar_gz
from tests.world import World

DOCUMENT_PATH = Path("/work/shared/mdc-openapi.json")
BASE = "urn:mdc-openapi"
METHODS = ("get", "put", "post", "patch", "delete")

# Our deliberate differences from the document, as overrides of its schemas (README lists them).
DEVIATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    # We build Croissant 1.1 (provenance/croissant.py, checked by mlcroissant); claiming 1.0 for it
    # would be false. The document pins 1.0.
    "CroissantMetadata.conformsTo": lambda schemas: schemas["CroissantMetadata"]["properties"]["conformsTo"].update(
        enum=["http://mlcommons.org/croissant/1.0", "http://mlcommons.org/croissant/1.1"]
    ),
}
# Answers the document does not list for an operation, with the reason; they carry ApiError.
UNDOCUMENTED: dict[tuple[str, int], str] = {
    # The SDK maps 410 to ResourceRemovedError (and drops its upload state on it): removed
    # datasets, deleted submissions and failed uploads answer 410, as the SDK expects.
    ("getDataset", 410): "a removed dataset",
    ("getDatasetCroissantMetadata", 410): "a removed dataset, as getDataset",
    ("createDatasetDownload", 410): "a removed dataset",
    ("createSampleDownload", 410): "a removed dataset, as createDatasetDownload",
    ("getSubmission", 410): "a deleted submission",
    ("updateSubmission", 410): "a deleted submission",
    ("submitSubmissionForReview", 409): "a submission already approved cannot be submitted",
    ("updateSubmission", 409): "an approved submission's datasheet is fixed",
    ("getFileUploadPartUrl", 409): "the upload is completed: no more parts",
    ("getSampleFileUploadPartUrl", 409): "the upload is completed: no more parts",
    ("createSampleDownload", 400): "a NUL in the URL, refused before any view",
    ("getDatasetCroissantMetadata", 400): "a NUL in the URL, refused before any view",
    ("getSubmission", 400): "a NUL in the URL, refused before any view",
    # deleteSubmission is not in the document; the SDK 0.7.0 calls it (delete_submission).
    ("deleteSubmission", 204): "the SDK's delete_submission",
    ("deleteSubmission", 410): "already deleted",
}


# --- The document as a validator ------------------------------------------------------------------


def _nullable_refs(node: Any) -> Any:
    """``allOf: [{$ref}, {type: [X, "null"]}]`` -> ``anyOf: [{$ref}, {type: "null"}]`` (see above)."""
    if isinstance(node, list):
        return [_nullable_refs(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable_refs(value) for key, value in node.items()}
    branches = node.get("allOf")
    if (
        isinstance(branches, list)
        and len(branches) == 2
        and "$ref" in branches[0]
        and set(branches[1]) == {"type"}
        and "null" in branches[1]["type"]
    ):
        del node["allOf"]
        node["anyOf"] = [branches[0], {"type": "null"}]
    return node


RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time")
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return bool(RFC3339.match(value)) and datetime.fromisoformat(value.replace("Z", "+00:00")) is not None


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    return not isinstance(value, str) or bool(urlsplit(value).scheme in {"http", "https"} and urlsplit(value).netloc)


@FORMATS.checks("email")
def _email(value: object) -> bool:
    return not isinstance(value, str) or bool(re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value))


@FORMATS.checks("uuid", raises=ValueError)
def _uuid(value: object) -> bool:
    return not isinstance(value, str) or str(uuid.UUID(value)) == value.lower()


@FORMATS.checks("cuid")
def _cuid(value: object) -> bool:
    return not isinstance(value, str) or bool(re.fullmatch(r"[cC][0-9a-z]{6,}", value))


@FORMATS.checks("sha256_hex")
def _sha256_hex(value: object) -> bool:
    return not isinstance(value, str) or bool(re.fullmatch(r"[0-9a-fA-F]{64}", value))


@FORMATS.checks("int64")
def _int64(value: object) -> bool:
    return not isinstance(value, str) or (value.isdigit() and int(value) < 2**63)


@FORMATS.checks("decimal")
def _decimal(value: object) -> bool:
    return not isinstance(value, str) or bool(re.fullmatch(r"-?\d+(\.\d+)?", value))


@FORMATS.checks("download_token")
def _download_token(value: object) -> bool:
    return not isinstance(value, str) or (value.startswith("dlt_") and _uuid(value[4:]))


def load_document() -> dict[str, Any]:
    document: dict[str, Any] = _nullable_refs(json.loads(DOCUMENT_PATH.read_text()))
    for apply in DEVIATIONS.values():
        apply(document["components"]["schemas"])
    return document


DOCUMENT = load_document()
REGISTRY: Registry[Any] = Registry().with_resource(BASE, Resource.from_contents(DOCUMENT, DRAFT202012))
OPERATIONS = {
    operation["operationId"]: (method, path, operation)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
    if method in METHODS
}


def validator(pointer: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{BASE}#{pointer}"}, registry=REGISTRY, format_checker=FORMATS)


def schema_pointer(schema: dict[str, Any]) -> str:
    ref = schema["$ref"]
    assert ref.startswith("#/components/schemas/"), ref
    return str(ref[1:])


def problems(pointer: str, instance: Any) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
            for error in validator(pointer).iter_errors(instance)]  # fmt: skip


@dataclass
class Recorder:
    """Checks each answer against the document and remembers which (operation, status) it saw."""

    seen: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))

    def check(self, operation_id: str, response: Any, *, body: Any = None) -> Any:
        status = response.status_code
        self.seen[operation_id].add(status)
        content_type = response.headers.get("Content-Type", "").split(";")[0]
        if status == 204:
            assert (operation_id, status) in UNDOCUMENTED, f"{operation_id} {status}"
            return None
        data = response.json()
        documented = OPERATIONS[operation_id][2]["responses"] if operation_id in OPERATIONS else {}
        if str(status) in documented:
            content = documented[str(status)]["content"]
            assert content_type in content, f"{operation_id} {status}: {content_type} not in {list(content)}"
            pointer = schema_pointer(content[content_type]["schema"])
        else:
            assert (operation_id, status) in UNDOCUMENTED, f"{operation_id} answered {status}: {data}"
            assert content_type == "application/json"
            pointer = "/components/schemas/ApiError"
        found = problems(pointer, data)
        assert not found, f"{operation_id} {status} against {pointer}:\n" + "\n".join(found)
        if status >= 400:  # our error body, which the SDK reads: one sentence, twice
            assert data["error"] == data["message"] and data["message"], data
        return data


def request_fits(operation_id: str, body: Any) -> None:
    """A request body we send as valid is one the document's request schema accepts."""
    schema = OPERATIONS[operation_id][2]["requestBody"]["content"]["application/json"]["schema"]
    found = problems(schema_pointer(schema), body)
    assert not found, f"{operation_id} request:\n" + "\n".join(found)


def request_refused_by_document(operation_id: str, body: Any) -> None:
    schema = OPERATIONS[operation_id][2]["requestBody"]["content"]["application/json"]["schema"]
    assert problems(schema_pointer(schema), body), f"{operation_id}: the document accepts {body}"


def test_the_document_is_what_we_validate_against() -> None:
    # Every schema of the document is a valid 2020-12 schema once its $refs resolve.
    for name in DOCUMENT["components"]["schemas"]:
        Draft202012Validator.check_schema(DOCUMENT["components"]["schemas"][name])
    # The rewrite of nullable references happened, and only there.
    task = DOCUMENT["components"]["schemas"]["SubmissionEnvelope"]["properties"]["submission"]["properties"]["task"]
    assert task == {"anyOf": [{"$ref": "#/components/schemas/DatasetTask"}, {"type": "null"}]}
    assert problems("/components/schemas/DatasetTask", None)  # a plain DatasetTask is not nullable
    # The checkers assert formats (they are annotations in 2020-12 otherwise).
    assert problems("/components/schemas/HealthStatus", {"status": "down"})
    session = {"downloadUrl": "not a url", "expiresAt": "yesterday", "sizeBytes": "12", "contentType": "x",
               "filename": "a.tar.gz", "checksum": None, "accessRecordId": "1", "downloadToken": "tok"}  # fmt: skip
    found = " ".join(problems("/components/schemas/DownloadSession", session))
    for name in ("downloadUrl", "expiresAt", "accessRecordId", "downloadToken"):
        assert name in found


# --- The world ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cast:
    """The shared world (tests/world.py) in the roles these tests give its people and datasets:
    Valley's owner meets Valley's own datasets and Northwind's of every visibility and price, and a
    member of Harbor is a stranger to all of them."""

    owner: User  # valley.owner
    key: str
    stranger_key: str  # harbor.member's
    own: Dataset  # valley-speech: Valley's, three versions, real archive and sample
    free: Dataset  # north-corpus: another organization's, public, free (CC0), with a sample
    paid: Dataset  # north-paid: public, paid
    gated: Dataset  # north-gated: restricted
    unsampled: Dataset  # harbor-open: public, free, no sample
    secret: Dataset  # harbor-private: another organization's private dataset
    lab_private: Dataset  # valley-private
    removed: Dataset  # north-removed: taken down


def cast(world: World) -> Cast:
    d = world.datasets
    return Cast(
        owner=world.people["valley.owner"], key=world.key("valley.owner"), stranger_key=world.key("harbor.member"),
        own=d["valley-speech"], free=d["north-corpus"], paid=d["north-paid"], gated=d["north-gated"],
        unsampled=d["harbor-open"], secret=d["harbor-private"], lab_private=d["valley-private"],
        removed=d["north-removed"],
    )  # fmt: skip


def is_listed(dataset: Dataset) -> bool:
    """In the catalog (marketplace.catalog.listed_datasets): published, public or restricted."""
    return dataset.status == Dataset.Status.PUBLISHED and dataset.visibility != Dataset.Visibility.PRIVATE


def client_for(key: str | None) -> APIClient:
    client = APIClient()
    if key:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


# --- Catalog, details, metadata, downloads --------------------------------------------------------

CATALOG_OPERATIONS = {
    "getHealth", "listDatasets", "listDatasetFilters", "getDataset", "getDatasetCroissantMetadata",
    "createDatasetDownload", "createSampleDownload",
}  # fmt: skip


# A member of the organization that owns most of the world, an admin of another, the licensee
# (grants, an open invoice, access approved and pending), someone in no situation yet, and no key.
SWEEP_CALLERS = ("valley.member", "harbor.admin", "licensee", "newcomer", None)
# What each of them may download of each dataset of the world, its archive and its sample, by id
# (licensing.access.downloads.decide; 404 for a sample that does not exist). By slug the same, but for a
# private dataset, which the MDC routes find by its exact id only.
DOWNLOADS = {
    #                   valley.member harbor.admin  licensee    newcomer    no key
    "valley-speech":  ((200, 200), (403, 200), (200, 200), (403, 200), (401, 401)),
    "valley-paid":    ((200, 404), (402, 404), (402, 404), (402, 404), (401, 401)),
    "valley-gated":   ((200, 404), (403, 404), (403, 404), (403, 404), (401, 401)),  # licensee: terms next
    "valley-private": ((200, 404), (404, 404), (404, 404), (404, 404), (401, 401)),
    "harbor-notes":   ((403, 404), (200, 404), (403, 404), (403, 404), (401, 401)),  # licensee: pending
    "harbor-private": ((404, 404), (200, 404), (404, 404), (404, 404), (401, 401)),
    "harbor-open":    ((403, 404), (200, 404), (403, 404), (403, 404), (401, 401)),
    "north-corpus":   ((403, 200), (403, 200), (200, 200), (403, 200), (401, 401)),
    "north-paid":     ((402, 200), (402, 200), (402, 200), (402, 200), (401, 401)),
    "north-gated":    ((403, 404), (403, 404), (403, 404), (403, 404), (401, 401)),
    "north-removed":  ((410, 410), (410, 410), (410, 410), (410, 410), (401, 401)),
}  # fmt: skip


@pytest.mark.django_db
def test_every_dataset_of_the_world_answers_every_caller_as_the_document_says(world: World, settings: Any) -> None:
    """The catalog, details, metadata and both downloads of every dataset of the world, by id and
    by slug, with keys of several roles and none: every answer, whatever its status, is one the
    document gives (or one of the deviations above), and says what the caller may do."""
    settings.API_RATE_PER_IP = settings.API_RATE_PER_KEY = "100000/minute"  # the limits are not the subject
    assert set(DOWNLOADS) == set(world.datasets)
    seen, listable = Recorder(), sorted(d.slug for d in world.datasets.values() if is_listed(d))
    for column, caller in enumerate(SWEEP_CALLERS):
        client = client_for(world.key(caller) if caller else None)
        member_of = {m.organization_id for m in Membership.objects.filter(user=world.people[caller])} if caller else ()
        listed = seen.check("listDatasets", client.get("/api/datasets", {"limit": 100}))["items"]
        assert sorted(item["slug"] for item in listed) == listable, caller  # each once, whoever asks
        for handle, dataset in world.datasets.items():
            private = dataset.visibility == Dataset.Visibility.PRIVATE
            for ref in (dataset.id, dataset.slug):
                where, hidden = f"{caller} {handle} {ref}", private and ref == dataset.slug
                detail = client.get(f"/api/datasets/{ref}")
                seen.check("getDataset", detail)
                assert detail.status_code == (404 if hidden else 410 if handle == "north-removed" else 200), where
                metadata = client.get(f"/api/datasets/{ref}/metadata")
                seen.check("getDatasetCroissantMetadata", metadata)
                unseen = private and dataset.organization_id not in member_of
                assert metadata.status_code == (404 if unseen else 410 if handle == "north-removed" else 200), where
                archive = client.post(f"/api/datasets/{ref}/download")
                sample = client.post(f"/api/datasets/{ref}/sample-download")
                archive_body = seen.check("createDatasetDownload", archive)
                sample_body = seen.check("createSampleDownload", sample)
                statuses = (404, 404) if hidden and caller else DOWNLOADS[handle][column]
                assert (archive.status_code, sample.status_code) == statuses, where
                if ref == dataset.id and archive.status_code == 200:  # the bytes of the current version
                    got = requests.get(archive_body["downloadUrl"], timeout=30).content
                    assert got == world.archives[handle], where
                if ref == dataset.id and sample.status_code == 200:
                    assert requests.get(sample_body["downloadUrl"], timeout=30).content == world.samples[handle], where
    # The licensee's access to valley-gated was approved: what stands between them and it is the terms.
    refused = client_for(world.key("licensee")).post(f"/api/datasets/{world.datasets['valley-gated'].id}/download")
    assert "You have not accepted the terms" in refused.json()["message"]
    assert seen.seen == {
        "listDatasets": {200}, "getDataset": {200, 404, 410}, "getDatasetCroissantMetadata": {200, 404, 410},
        "createDatasetDownload": {200, 401, 402, 403, 404, 410}, "createSampleDownload": {200, 401, 404, 410},
    }  # fmt: skip


@pytest.mark.django_db(transaction=True)  # the SDK calls a live server: the world is restored after
def test_catalog_and_download_answers_match_the_document(
    world: World, live_server: Any, monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path
) -> None:
    roles, seen = cast(world), Recorder()
    anonymous, owner, stranger = client_for(None), client_for(roles.key), client_for(roles.stranger_key)
    # What the world lacks for Valley's owner, through the services: Northwind's free terms
    # accepted, an invoice for its paid dataset left open, access to its restricted one requested.
    terms = grants.terms_for(dataset=roles.free, version=grants.current_version(roles.free))
    grants.accept_terms(user=roles.owner, dataset=roles.free, terms_sha256=terms.sha256, source=LicenseGrant.Source.API)
    payments.open_invoice(user=roles.owner, dataset=roles.paid)
    access.request_access(user=roles.owner, dataset=roles.gated, full_name="Valley Owner",
                          organization_name="Valley Voices Lab", intended_use="ASR.")  # fmt: skip
    # A dataset without a locale cannot come through a submission (its datasheet requires one).
    no_locale = published_dataset("no-locale", org=world.orgs["valley"], task="ASR", locale="", format="TSV",
                                  short_description="Read speech in a language nobody named.")  # fmt: skip
    # The catalog lists each public and restricted dataset of the world once (organizations of
    # five: a join through memberships would repeat them), and none private or removed.
    listable = {d.slug for d in world.datasets.values() if is_listed(d)} | {no_locale.slug}

    assert seen.check("getHealth", anonymous.get("/api/health")) == {"status": "ok"}

    listed = seen.check("listDatasets", anonymous.get("/api/datasets", {"limit": 100}))
    slugs = {item["slug"] for item in listed["items"]}
    assert slugs == listable and len(listed["items"]) == listed["total"] == len(listable)
    assert {roles.own.slug, roles.free.slug, roles.paid.slug, roles.gated.slug} <= slugs
    assert not slugs & {roles.secret.slug, roles.lab_private.slug, roles.removed.slug}
    free_item = next(item for item in listed["items"] if item["slug"] == roles.free.slug)
    assert free_item["pricing"] == {"isPaid": False, "basePriceCents": None, "currency": None,
                                    "platformFeeRate": None, "platformFeeCents": None,
                                    "totalPriceCents": None}  # fmt: skip
    assert all("submissionId" not in item for item in listed["items"])  # absent, not null
    seen.check("listDatasets", anonymous.get("/api/datasets", {"task": "ASR", "pricing": "compensated"}))
    seen.check("listDatasets", anonymous.get("/api/datasets", {"sort": "sideways"}))  # 400
    seen.check("listDatasetFilters", anonymous.get("/api/datasets/filters"))

    for dataset in (roles.own, roles.paid, roles.gated, roles.secret):  # E3 serves private by exact id
        detail = seen.check("getDataset", anonymous.get(f"/api/datasets/{dataset.id}"))
        assert detail["id"] == dataset.id
    seen.check("getDataset", anonymous.get(f"/api/datasets/{roles.own.slug}"))
    seen.check("getDataset", anonymous.get("/api/datasets/cnosuchdataset000000000000"))  # 404
    seen.check("getDataset", anonymous.get(f"/api/datasets/{roles.removed.id}"))  # 410
    seen.check("getDataset", anonymous.get("/api/datasets/%00"))  # 400

    metadata = seen.check("getDatasetCroissantMetadata", anonymous.get(f"/api/datasets/{roles.own.id}/metadata"))
    current = roles.own.versions.get(number=3)  # the current of three
    assert metadata["inLanguage"] == "cy" and metadata["contentSize"] == str(current.size_bytes)
    # A submission's datasheet carries no tags, so the world's datasets have none: the task alone.
    assert metadata["keywords"] == [*roles.own.tags, "ASR"] == ["ASR"] and metadata["rai:mlTask"] == "ASR"
    seen.check("getDatasetCroissantMetadata", owner.get(f"/api/datasets/{roles.lab_private.id}/metadata"))
    assert anonymous.get(f"/api/datasets/{roles.own.id}/metadata")["Cache-Control"] == "public, max-age=3600"
    for hidden in (roles.secret.id, "cnosuchdataset000000000000"):  # private to another organization: 404
        assert seen.check("getDatasetCroissantMetadata", owner.get(f"/api/datasets/{hidden}/metadata")) is not None
    assert owner.get(f"/api/datasets/{roles.secret.id}/metadata").status_code == 404
    assert anonymous.get(f"/api/datasets/{roles.lab_private.id}/metadata").status_code == 404
    unready = seen.check("getDatasetCroissantMetadata", anonymous.get(f"/api/datasets/{no_locale.id}/metadata"))
    assert "names no language (locale)" in unready["message"]
    seen.check("getDatasetCroissantMetadata", anonymous.get(f"/api/datasets/{roles.removed.id}/metadata"))  # 410
    seen.check("getDatasetCroissantMetadata", anonymous.get("/api/datasets/%00/metadata"))  # 400

    session = seen.check("createDatasetDownload", owner.post(f"/api/datasets/{roles.free.id}/download"))
    free_archive = world.archives["north-corpus"]
    assert session["checksum"] == hashlib.sha256(free_archive).hexdigest()
    assert session["sizeBytes"] == str(len(free_archive))
    assert requests.get(session["downloadUrl"], timeout=30).content == free_archive
    mine = seen.check("createDatasetDownload", owner.post(f"/api/datasets/{roles.own.id}/download"))  # a member
    assert (mine["version"], mine["checksum"]) == (3, hashlib.sha256(world.archives["valley-speech"]).hexdigest())
    seen.check("createDatasetDownload", anonymous.post(f"/api/datasets/{roles.free.id}/download"))  # 401
    seen.check("createDatasetDownload", owner.post(f"/api/datasets/{roles.paid.id}/download"))  # 402
    seen.check("createDatasetDownload", owner.post(f"/api/datasets/{roles.gated.id}/download"))  # 403
    seen.check("createDatasetDownload", owner.post(f"/api/datasets/{roles.secret.id}/download"))  # 404
    seen.check("createDatasetDownload", owner.post(f"/api/datasets/{roles.removed.id}/download"))  # 410
    seen.check("createDatasetDownload", owner.post("/api/datasets/%00/download"))  # 400

    sample = seen.check("createSampleDownload", owner.post(f"/api/datasets/{roles.free.id}/sample-download"))
    assert requests.get(sample["downloadUrl"], timeout=30).status_code == 200
    seen.check("createSampleDownload", anonymous.post(f"/api/datasets/{roles.free.id}/sample-download"))  # 401
    seen.check("createSampleDownload", owner.post(f"/api/datasets/{roles.unsampled.id}/sample-download"))  # 404
    seen.check("createSampleDownload", owner.post(f"/api/datasets/{roles.removed.id}/sample-download"))  # 410
    sample_of_another = stranger.post(f"/api/datasets/{roles.own.id}/sample-download")
    assert seen.check("createSampleDownload", sample_of_another)["filename"]  # a sample needs no terms
    seen.check("createSampleDownload", owner.post("/api/datasets/%00/sample-download"))  # 400

    # The rate limits: 429 with Retry-After, in the document's error shapes.
    settings.API_RATE_PER_IP = settings.API_RATE_PER_KEY = "1/minute"
    from django.core.cache import cache

    cache.clear()
    anonymous.get("/api/datasets")
    throttled = anonymous.get("/api/datasets")
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
    seen.check("listDatasets", throttled)
    seen.check("listDatasetFilters", anonymous.get("/api/datasets/filters"))
    owner.post(f"/api/datasets/{roles.free.id}/download")
    seen.check("createDatasetDownload", owner.post(f"/api/datasets/{roles.free.id}/download"))
    seen.check("getDataset", anonymous.get(f"/api/datasets/{roles.own.id}"))
    assert seen.check("getHealth", anonymous.get("/api/health")) == {"status": "ok"}  # never throttled
    settings.API_RATE_PER_IP = settings.API_RATE_PER_KEY = "1000/minute"
    cache.clear()

    expected = {
        "getHealth": {200}, "listDatasets": {200, 400, 429}, "listDatasetFilters": {200, 429},
        "getDataset": {200, 400, 404, 410, 429}, "getDatasetCroissantMetadata": {200, 400, 404, 410, 422},
        "createDatasetDownload": {200, 400, 401, 402, 403, 404, 410, 429},
        "createSampleDownload": {200, 400, 401, 404, 410},
    }  # fmt: skip
    assert dict(seen.seen) == expected

    # The official SDK reads the same answers.
    monkeypatch.setenv("MDC_API_URL", f"{live_server.url}/api")
    monkeypatch.setenv("MDC_API_KEY", roles.key)
    assert {d.slug for d in datacollective.list_datasets(results_per_page=100)} == slugs
    details = datacollective.get_dataset_details(roles.free.id)
    assert details.pricing is not None and details.pricing.currency is None and "submissionId" not in details
    path = datacollective.download_dataset(roles.free.id, str(tmp_path), show_progress=False)
    assert path.read_bytes() == free_archive
    assert datacollective.download_sample(roles.free.id, str(tmp_path), show_progress=False).exists()


# --- Submissions and uploads ----------------------------------------------------------------------

SUBMISSION_OPERATIONS = {
    "createSubmission", "getSubmission", "updateSubmission", "submitSubmissionForReview", "createFileUpload",
    "getFileUploadPartUrl", "completeFileUpload", "createSampleFileUpload", "getSampleFileUploadPartUrl",
    "completeSampleFileUpload",
}  # fmt: skip

CONSENT = {
    "aiTraining": True, "commercialUse": True, "researchOnly": False, "redistribution": True, "derivatives": True,
    "scope": "Speech models.", "consentText": "My recordings may train speech models.",
    "collectionStart": "2025-01-01", "collectionEnd": "2025-06-30", "withdrawalProcess": "Email us your id.",
}  # fmt: skip


def upload_through(
    seen: Recorder, client: APIClient, data: bytes, *, submission_id: str, sample: bool, mime_type: str
) -> str:
    """E11, E12 (one part, PUT straight to storage), E14 with an upper-case checksum (the document
    accepts either case); every answer checked. Returns the fileUploadId."""
    prefix = f"/api/submissions/{submission_id}/sample" if sample else "/api/uploads"
    names = ("createSampleFileUpload", "getSampleFileUploadPartUrl", "completeSampleFileUpload") if sample else (
        "createFileUpload", "getFileUploadPartUrl", "completeFileUpload")  # fmt: skip
    start = {"submissionId": submission_id, "filename": "speech.tar.gz", "fileSize": len(data), "mimeType": mime_type}
    request_fits(names[0], start)
    started = seen.check(names[0], client.post(prefix, start, format="json"))
    file_upload_id = started["fileUploadId"]
    base = f"{prefix}/{file_upload_id}"
    part = seen.check(names[1], client.get(f"{base}/parts/1"))
    put = requests.put(part["url"], data=data, timeout=30)
    assert put.status_code == 200, put.text
    completion = {"uploadId": started["uploadId"], "parts": [{"partNumber": 1, "etag": put.headers["ETag"]}],
                  "checksum": hashlib.sha256(data).hexdigest().upper()}  # fmt: skip
    request_fits(names[2], completion)
    malformed = {**completion, "parts": []}  # refused before storage is asked: the upload stays open
    request_refused_by_document(names[2], malformed)
    assert (
        "parts: must list at least one" in seen.check(names[2], client.post(base, malformed, format="json"))["message"]
    )
    done = seen.check(names[2], client.post(base, completion, format="json"))
    assert done == {**done, "success": True, "fileUploadId": file_upload_id, "status": "completed"}
    seen.check(names[1], client.get(f"{base}/parts/1"))  # 409: completed
    seen.check(names[1], client.get(f"{base}/parts/10001"))  # 400
    seen.check(names[2], client.post(base, {**completion, "checksum": "0" * 64}, format="json"))  # 409: done
    return str(file_upload_id)


@pytest.mark.django_db(transaction=True)  # the SDK calls a live server: the world is restored after
def test_submission_answers_match_the_document(
    world: World, live_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen = Recorder()
    member, reviewer = world.people["valley.member"], world.people["valley.reviewer"]
    author, anonymous = client_for(world.key("valley.member")), client_for(None)
    stranger = client_for(world.key("harbor.member"))  # a member of another organization
    outsider = client_for(world.key("newcomer"))  # a member of none

    create = {"name": "Valley Speech", "longDescription": "Read speech from the valleys."}
    request_fits("createSubmission", create)
    created = seen.check("createSubmission", author.post("/api/submissions", create, format="json"))["submission"]
    submission_id = created["id"]
    assert (created["status"], created["longDescription"], created["task"]) == (
        "draft",
        create["longDescription"],
        None,
    )
    assert created["createdBy"] == member.public_id
    seen.check("createSubmission", author.post("/api/submissions", {"name": ""}, format="json"))  # 400
    seen.check("createSubmission", anonymous.post("/api/submissions", create, format="json"))  # 401
    seen.check("createSubmission", outsider.post("/api/submissions", create, format="json"))  # 403

    url = f"/api/submissions/{submission_id}"
    seen.check("getSubmission", author.get(url))
    seen.check("getSubmission", anonymous.get(url))  # 401
    seen.check("getSubmission", stranger.get(url))  # 403
    seen.check("getSubmission", author.get("/api/submissions/cnosuchsubmission00000000"))  # 404

    changes = {
        "shortDescription": "Welsh read speech.", "locale": "cy", "task": "ASR", "format": "TSV, WAV",
        "licenseAbbreviation": "CC-BY-4.0", "intendedUsage": "ASR.", "pointOfContactFullName": "Ann",
        "pointOfContactEmail": "ann@example.org", "exclusivityOptOut": True, "isPaid": True, "basePriceCents": 25_000,
        "currency": "usd", "fundedByEmail": "fund@example.org",
    }  # fmt: skip
    request_fits("updateSubmission", changes)
    updated = seen.check("updateSubmission", author.patch(url, changes, format="json"))["submission"]
    assert updated["exclusivityOptOut"] is not None and updated["currency"] == "usd"
    seen.check("updateSubmission", author.patch(url, {"name": "n" * 256}, format="json"))  # 400
    seen.check("updateSubmission", anonymous.patch(url, changes, format="json"))  # 401
    seen.check("updateSubmission", stranger.patch(url, changes, format="json"))  # 403
    seen.check("updateSubmission", author.patch("/api/submissions/cnosuchsubmission00000000", changes, format="json"))
    free = {"isPaid": False, "basePriceCents": None, "currency": None}
    request_fits("updateSubmission", free)
    assert seen.check("updateSubmission", author.patch(url, free, format="json"))["submission"]["currency"] is None

    seen.check("submitSubmissionForReview", author.post(url, {"agreeToSubmit": True}, format="json"))  # 400: no file
    seen.check("submitSubmissionForReview", anonymous.post(url, {"agreeToSubmit": True}, format="json"))  # 401
    seen.check("submitSubmissionForReview", stranger.post(url, {"agreeToSubmit": True}, format="json"))  # 403
    seen.check("submitSubmissionForReview", author.post("/api/submissions/cnosuchsubmission00000000",
                                                       {"agreeToSubmit": True}, format="json"))  # 404  # fmt: skip

    archive = tar_gz({"train.tsv": b"path\tsentence\na.wav\thello\n", "clips/a.wav": wav_bytes(),
                      "README.md": b"# Valley Speech\n"})  # fmt: skip
    upload_through(seen, author, archive, submission_id=submission_id, sample=False, mime_type="application/x-tar")
    # The sample is a smaller archive of the same kind of files (validation checks it like one).
    upload_through(seen, author, archive, submission_id=submission_id, sample=True, mime_type="application/gzip")
    for name, prefix in (("createFileUpload", "/api/uploads"), ("createSampleFileUpload", f"{url}/sample")):
        bad = {"submissionId": submission_id, "filename": "speech.zip", "fileSize": 10, "mimeType": "text/plain"}
        request_refused_by_document(name, bad)
        refused = seen.check(name, author.post(prefix, bad, format="json"))  # 400
        assert "filename" in refused["message"] and "mimeType" in refused["message"]
        seen.check(name, anonymous.post(prefix, bad, format="json"))  # 401
        seen.check(name, stranger.post(prefix, {**bad, "filename": "a.tgz", "mimeType": "application/gzip"},
                                       format="json"))  # 403  # fmt: skip
    seen.check("createFileUpload", author.post("/api/uploads", {"submissionId": "cnosuch00000000", "filename": "a.tgz",
                                                                "fileSize": 1, "mimeType": "application/gzip"},
                                              format="json"))  # 404  # fmt: skip
    seen.check("createSampleFileUpload", author.post("/api/submissions/cnosuch00000000/sample",
                                                    {"filename": "a.tgz", "fileSize": 1, "mimeType": "application/gzip",
                                                     "submissionId": "cnosuch00000000"}, format="json"))  # fmt: skip
    for name, base in (("getFileUploadPartUrl", "/api/uploads"), ("getSampleFileUploadPartUrl", f"{url}/sample")):
        seen.check(name, author.get(f"{base}/cnosuchupload000000/parts/1"))  # 404
        seen.check(name, anonymous.get(f"{base}/cnosuchupload000000/parts/1"))  # 401
    for name, base in (("completeFileUpload", "/api/uploads"), ("completeSampleFileUpload", f"{url}/sample")):
        seen.check(name, author.post(f"{base}/cnosuchupload000000", {}, format="json"))  # 404
        seen.check(name, anonymous.post(f"{base}/cnosuchupload000000", {}, format="json"))  # 401
    archive_upload = Upload.objects.get(submission_id=submission_id, kind=Upload.Kind.ARCHIVE)
    seen.check("getFileUploadPartUrl", stranger.get(f"/api/uploads/{archive_upload.id}/parts/1"))  # 403
    seen.check("completeFileUpload", stranger.post(f"/api/uploads/{archive_upload.id}", {}, format="json"))  # 403
    seen.check("completeFileUpload", author.post(f"/api/uploads/{archive_upload.id}",
                                                {"uploadId": archive_upload.s3_upload_id, "parts": [{"partNumber": 1,
                                                 "etag": "x"}], "checksum": "a" * 64}, format="json"))  # fmt: skip

    # Validation (the worker's service), consent and the split, then review: every status we map.
    for upload in Upload.objects.filter(submission_id=submission_id, status=Upload.Status.COMPLETED):
        validation.run_validation(upload_id=upload.id)
    submission = Submission.objects.get(id=submission_id)
    terms = set_consent_terms(submission=submission, user=member, terms=ConsentTermsInput.from_json(CONSENT))
    add_consent_records(terms=terms, rows=[{"contributorId": "c-1", "givenAt": "2025-02-01T10:00:00Z",
                                            "termsSha256": terms.consent_text_sha256}])  # fmt: skip
    drafts.set_revenue_split(submission=submission, shares=[Share(username=member.username, basis_points=10_000)])
    body = seen.check("submitSubmissionForReview", author.post(url, {"agreeToSubmit": True}, format="json"))
    assert body.get("submission", {}).get("status") == "submitted", body
    assert body["submission"]["agreeToSubmit"] is not None
    review.reject_submission(submission=submission, reviewer=reviewer, reason="Add the speakers' ages.")
    assert seen.check("getSubmission", author.get(url))["submission"]["status"] == "edits_requested"
    seen.check("updateSubmission", author.patch(url, {"other": "Ages 20-60."}, format="json"))
    seen.check("submitSubmissionForReview", author.post(url, {"agreeToSubmit": True}, format="json"))
    version = review.approve_submission(submission=submission, reviewer=reviewer)
    approved = seen.check("getSubmission", author.get(url))["submission"]
    assert (approved["status"], approved["approvedDatasetId"]) == ("approved", version.dataset_id)
    assert approved["sampleFileReference"]["currentVersion"]["fileUpload"]["status"] == "completed"
    seen.check("updateSubmission", author.patch(url, {"locale": "en"}, format="json"))  # 409
    seen.check("submitSubmissionForReview", author.post(url, {"agreeToSubmit": True}, format="json"))  # 409

    # A deleted submission (the SDK's delete_submission): 204, then 410 everywhere.
    doomed = seen.check("createSubmission", author.post("/api/submissions", {"name": "Doomed"}, format="json"))
    doomed_url = f"/api/submissions/{doomed['submission']['id']}"
    seen.check("deleteSubmission", author.delete(doomed_url))
    seen.check("deleteSubmission", author.delete(doomed_url))
    seen.check("getSubmission", author.get(doomed_url))
    seen.check("updateSubmission", author.patch(doomed_url, {"locale": "cy"}, format="json"))
    seen.check("getSubmission", author.get("/api/submissions/%00"))  # 400

    expected = {
        "createSubmission": {200, 400, 401, 403}, "getSubmission": {200, 400, 401, 403, 404, 410},
        "updateSubmission": {200, 400, 401, 403, 404, 409, 410},
        "submitSubmissionForReview": {200, 400, 401, 403, 404, 409},
        "createFileUpload": {200, 400, 401, 403, 404}, "createSampleFileUpload": {200, 400, 401, 403, 404},
        "getFileUploadPartUrl": {200, 400, 401, 403, 404, 409}, "getSampleFileUploadPartUrl": {200, 400, 401, 404, 409},
        "completeFileUpload": {200, 400, 401, 403, 404, 409}, "completeSampleFileUpload": {200, 400, 401, 404, 409},
        "deleteSubmission": {204, 410},
    }  # fmt: skip
    assert dict(seen.seen) == expected

    # The official SDK: a draft, its datasheet, the archive and sample uploads.
    monkeypatch.setenv("MDC_API_URL", f"{live_server.url}/api")
    monkeypatch.setenv("MDC_API_KEY", world.key("valley.member"))
    draft = datacollective.create_submission_draft(DatasetSubmission(name="SDK speech"))["submission"]["id"]
    datacollective.update_submission(draft, DatasetSubmission(locale="cy", licenseAbbreviation=""))
    path = tmp_path / "sdk.tar.gz"
    path.write_bytes(archive)
    state = datacollective.upload_dataset_file(str(path), draft, show_progress=False)
    sample_state = datacollective.upload_sample_file(str(path), draft, show_progress=False)
    read = seen.check("getSubmission", author.get(f"/api/submissions/{draft}"))["submission"]
    assert read["fileUploadId"] == state.fileUploadId
    assert read["sampleFileReference"]["currentVersion"]["fileUpload"]["id"] == sample_state.fileUploadId


# --- What the document's request schemas accept ---------------------------------------------------


@pytest.mark.django_db
def test_requests_the_document_accepts_are_accepted(world: World) -> None:
    seen = Recorder()
    author = client_for(world.key("valley.member"))
    submission_id = drafts.create_submission(user=world.people["valley.member"], name="Clearable").id
    url = f"/api/submissions/{submission_id}"
    filled = {
        "shortDescription": "Short.", "longDescription": "Long.", "task": "ASR", "locale": "cy", "format": "TSV",
        "licenseAbbreviation": "My Terms", "license": "My terms, in full", "licenseUrl": "https://example.org/t",
        "restrictions": "None.", "forbiddenUsage": "Surveillance.", "other": "Other.", "additionalConditions": "Cite.",
        "pointOfContactFullName": "Ann", "pointOfContactEmail": "ann@example.org", "fundedByFullName": "Fund",
        "fundedByEmail": "fund@example.org", "legalContactFullName": "Lee", "legalContactEmail": "lee@example.org",
        "createdByFullName": "Cy", "createdByEmail": "cy@example.org", "intendedUsage": "ASR.",
        "ethicalReviewProcess": "Board.", "exclusivityOptOut": True, "isPaid": True, "basePriceCents": 10_000,
    }  # fmt: skip
    request_fits("updateSubmission", filled)
    seen.check("updateSubmission", author.patch(url, filled, format="json"))

    # null where the document allows it, "" where it allows that: both clear the field.
    nullable = (
        "shortDescription", "licenseUrl", "other", "additionalConditions", "fundedByFullName", "fundedByEmail",
        "legalContactFullName", "legalContactEmail", "createdByFullName", "createdByEmail", "intendedUsage",
        "ethicalReviewProcess", "exclusivityOptOut", "basePriceCents", "currency",
    )  # fmt: skip
    clearable = (
        "longDescription", "task", "locale", "format", "licenseAbbreviation", "license", "restrictions",
        "forbiddenUsage", "pointOfContactFullName", "pointOfContactEmail",
    )  # fmt: skip
    nulls = dict.fromkeys(nullable)
    empties = dict.fromkeys(clearable, "")
    cleared = {**nulls, **empties, "isPaid": False}
    request_fits("updateSubmission", cleared)
    body = seen.check("updateSubmission", author.patch(url, cleared, format="json"))["submission"]
    for name in nulls.keys() - {"exclusivityOptOut", "basePriceCents", "currency"}:
        assert body[name] is None, name
    assert (body["longDescription"], body["locale"], body["task"], body["licenseAbbreviation"]) == ("", "", None, None)
    assert (body["exclusivityOptOut"], body["basePriceCents"], body["currency"]) == (None, None, None)
    stored = Submission.objects.get(id=submission_id)
    assert (stored.short_description, stored.task, stored.exclusivity_opt_out, stored.exclusivity_opted_out_at) == (
        "", "", False, None
    )  # fmt: skip

    # The document's length limits, both ways: at the limit accepted, one over refused by name.
    limits = {"name": 255, "shortDescription": 160, "longDescription": 7500, "locale": 20, "format": 50,
              "licenseAbbreviation": 25, "restrictions": 7500, "forbiddenUsage": 7500, "other": 25_000,
              "additionalConditions": 7500, "intendedUsage": 7500, "ethicalReviewProcess": 7500}  # fmt: skip
    at_limit = {name: "x" * limit for name, limit in limits.items()}
    request_fits("updateSubmission", at_limit)
    assert seen.check("updateSubmission", author.patch(url, at_limit, format="json"))["submission"]["name"] == "x" * 255
    over = {name: "x" * (limit + 1) for name, limit in limits.items()}
    request_refused_by_document("updateSubmission", over)
    refused = seen.check("updateSubmission", author.patch(url, over, format="json"))
    for name, limit in limits.items():
        assert f"{name}: is longer than {limit} characters" in refused["message"]
    name_only = {"name": "y" * 255, "longDescription": "z" * 7500}
    request_fits("createSubmission", name_only)
    seen.check("createSubmission", author.post("/api/submissions", name_only, format="json"))
    too_long = {"name": "y" * 256}
    request_refused_by_document("createSubmission", too_long)
    refused = seen.check("createSubmission", author.post("/api/submissions", too_long, format="json"))
    assert refused["message"] == "name: is longer than 255 characters"

    # null where the document does not allow it: a clear 400 naming the field.
    for name, value in (("name", None), ("longDescription", None), ("task", None), ("isPaid", None)):
        request_refused_by_document("updateSubmission", {name: value})
        message = seen.check("updateSubmission", author.patch(url, {name: value}, format="json"))["message"]
        assert message.startswith(f"{name}: "), message

    # Every media type the document names for an archive, and nothing else.
    for mime_type in ("application/gzip", "application/x-gzip", "application/tar", "application/x-tar"):
        start = {"submissionId": submission_id, "filename": "a.tgz", "fileSize": 10, "mimeType": mime_type}
        request_fits("createFileUpload", start)
        seen.check("createFileUpload", author.post("/api/uploads", start, format="json"))
    start = {"submissionId": submission_id, "filename": "a.tgz", "fileSize": 10, "mimeType": "application/zip"}
    request_refused_by_document("createFileUpload", start)
    refused = seen.check("createFileUpload", author.post("/api/uploads", start, format="json"))
    assert refused["message"] == (
        "mimeType: must be application/gzip, application/x-gzip, application/tar or application/x-tar, "
        "not 'application/zip'"
    )
    assert Upload.objects.filter(submission_id=submission_id).count() == 4
    assert uploads.ARCHIVE_TYPES == ("application/gzip", "application/x-gzip", "application/tar", "application/x-tar")


def test_every_operation_of_the_document_is_exercised() -> None:
    assert set(OPERATIONS) == CATALOG_OPERATIONS | SUBMISSION_OPERATIONS
