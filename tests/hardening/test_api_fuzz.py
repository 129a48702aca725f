"""Schemathesis over the whole published schema (/api/v1/schema: our /api/v1 and the MDC
contract's /api/), against the real app on a live server with real PostgreSQL and storage.

Every answer must be no 5xx, a documented status code, the documented content type and headers,
and a body that matches its documented shape. Run once with a real API key of a user who owns
realistic data (an organization, published datasets with real archives and samples, a submission
with an upload, a grant, an invoice, an access request) and once without a key. Valid requests
and invalid ones (schemathesis' negative mode) alike.

Half of the cases keep their random path parameters (which must give a clean 404); the other half
are steered to the ids of that data (``cases`` below), so that the fuzzer reaches the views behind
the lookups, which the tests check it did. The cases are derandomized (the same in every run) and
bounded per operation, with no deadline and no shrinking: CI time is bounded, not each request's,
and a failure prints the request to reproduce it. Reads run first and deletions last, in one
transactional test per mode, so that the data stays there for the operations that need it.

The bugs these runs found are pinned down by the plain tests at the end of this file.

Rate limits: the schema documents 429 (with Retry-After) on every operation, and test_api_schema
checks that; here the limits are raised instead, since a fuzzer that gets throttled stops
exercising the views behind the throttle.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from rest_framework.test import APIClient
from schemathesis import APIOperation, BaseSchema, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from licensing import access, consent, grants
from licensing.models import AccessRequest, ConsentRecord, License, LicenseGrant
from licensing.revenue import payments
from marketplace import submissions, uploads
from marketplace.models import Dataset, Membership, RevenueShare, Upload, User
from marketplace.services import approve_organization
from provenance import signing
from tests.factories import organization, published_dataset, stored_dataset, tar_gz

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 12
METHOD_ORDER = ["get", "put", "patch", "post", "delete"]
SDK_CALLS = {
    "GET /api/datasets", "GET /api/datasets/filters", "GET /api/datasets/{id_or_slug}",
    "POST /api/datasets/{id_or_slug}/download", "POST /api/datasets/{id_or_slug}/sample-download",
    "POST /api/submissions", "GET /api/uploads/{file_upload_id}/parts/{part_number}",
}  # fmt: skip


@dataclass
class World:
    """The ids a path parameter may be steered to, by parameter name."""

    raw_key: str
    ids: dict[str, list[Any]] = field(default_factory=dict)

    def for_path(self, path: str, names: list[str]) -> dict[str, list[Any]]:
        chosen = {name: self.ids[name] for name in names if name in self.ids}
        if path.startswith("/api/v1/licenses/") and "id" in names:
            chosen["id"] = self.ids["license_id"]
        return chosen


def consent_payload() -> dict[str, Any]:
    return {
        "aiTraining": True, "commercialUse": True, "researchOnly": False, "redistribution": False,
        "scope": "speech", "consentText": "I agree that my recordings train speech models.",
        "collectionStart": "2026-01-01", "collectionEnd": "2026-06-30",
        "withdrawalProcess": "Write to privacy@example.org.",
    }  # fmt: skip


@pytest.fixture
def world(bearer: Callable[..., tuple[User, str]], make_user: Callable[..., User]) -> World:
    user, raw_key = bearer("read", "download", "upload")
    lab = approve_organization(organization=organization("fuzz-lab", owner=user))
    other = organization("other-co")
    archive = tar_gz({"train.tsv": b"path\tsentence\nclips/a.wav\thello\n", "clips/a.wav": b"RIFF0000"})
    own = stored_dataset("lab-speech", archive, sample=tar_gz({"a.wav": b"RIFF"}), org=lab, task="ASR", locale="en")
    gated = published_dataset("lab-gated", org=lab, visibility=Dataset.Visibility.RESTRICTED)
    free = published_dataset("open-words", org=other, sample=True)
    paid = published_dataset("paid-corpus", org=other, is_paid=True, base_price_cents=25_000)

    # Someone asked for access to the lab's gated dataset; the user manages it.
    asker = make_user()
    request = access.request_access(
        user=asker, dataset=gated, full_name="Ada Asker", organization_name="Uni", intended_use="Research."
    )
    terms = grants.terms_for(dataset=free, version=grants.current_version(free))
    grant = grants.accept_terms(user=user, dataset=free, terms_sha256=terms.sha256, source=LicenseGrant.Source.API)
    invoice, _ = payments.open_invoice(user=user, dataset=paid)

    submission = submissions.create_submission(user=user, name="Fuzzed speech")
    consent.set_consent_terms(submission=submission, user=user, payload=consent_payload())
    upload = uploads.start_upload(
        submission=submission, user=user, kind=Upload.Kind.ARCHIVE, filename="speech.tar.gz",
        file_size=len(archive), mime_type="application/gzip",
    )  # fmt: skip
    assert Membership.objects.filter(organization=lab, user=user).exists()

    datasets = [own.id, gated.id, free.id, paid.id]
    return World(
        raw_key=raw_key,
        ids={
            "id": datasets,
            "dataset_id": datasets,
            "id_or_slug": [*datasets, own.slug, free.slug],
            "number": [1],
            "slug": [lab.slug, other.slug],
            "license_id": list(License.objects.values_list("id", flat=True)),
            "grant_id": [grant.id],
            "invoice_id": [invoice.id],
            "request_id": [request.id],
            "submission_id": [submission.id],
            "file_upload_id": [upload.id],
            "part_number": [1],
            "key_id": [signing.current_key().key_id],
            "index": [0],
        },
    )


@pytest.fixture
def api_schema(live_server: Any, settings: Any) -> BaseSchema:
    """The schema the server publishes, as clients fetch it."""
    settings.API_RATE_PER_KEY = settings.API_RATE_PER_IP = "1000000/minute"
    config = schemathesis.Config.from_dict({"base-url": live_server.url})
    return schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema", config=config)


def cases(operation: APIOperation, world: World) -> st.SearchStrategy[schemathesis.Case]:
    """Valid and invalid requests; half of them with path parameters steered to real ids."""
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    generated = [operation.as_strategy(generation_mode=mode) for mode in modes]
    names = [parameter.name for parameter in operation.path_parameters]
    known = world.for_path(operation.path, names)
    if not known:
        return st.one_of(generated)
    real = st.fixed_dictionaries({name: st.sampled_from(values) for name, values in known.items()})

    def steered(mode: GenerationMode) -> st.SearchStrategy[schemathesis.Case]:
        return real.flatmap(lambda ids: operation.as_strategy(generation_mode=mode, path_parameters=ids))

    return st.one_of(*generated, *(steered(mode) for mode in modes))


@dataclass
class Outcome:
    operations: int = 0
    failures: list[str] = field(default_factory=list)
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))

    def succeeded(self) -> set[str]:
        return {label for label, codes in self.statuses.items() if any(200 <= code < 300 for code in codes)}


def fuzz(schema: BaseSchema, world: World, headers: dict[str, str]) -> Outcome:
    """Call and check the cases of every operation; all failures are collected, not just the first."""
    outcome = Outcome()
    operations = [result.ok() for result in schema.get_all_operations()]
    # Reads first and deletions last, so that the data stays there for the operations that need it.
    operations.sort(key=lambda operation: METHOD_ORDER.index(operation.method.lower()))
    for operation in operations:
        outcome.operations += 1

        @hypothesis.settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck),
        )
        @hypothesis.given(case=cases(operation, world))
        def run(case: schemathesis.Case) -> None:
            if case.headers:  # a generated (random) key; the run's own key, or none, is sent instead
                case.headers.pop("Authorization", None)
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            outcome.statuses[case.operation.label][response.status_code] += 1

        try:
            run()
        except (Exception, schemathesis.errors.FailureGroup) as exc:
            outcome.failures.append(f"{operation.label}: {exc}")
    return outcome


@pytest.mark.django_db(transaction=True)
def test_with_an_api_key(api_schema: BaseSchema, world: World) -> None:
    outcome = fuzz(api_schema, world, {"Authorization": f"Bearer {world.raw_key}"})
    assert not outcome.failures, "\n\n".join(outcome.failures)
    assert outcome.operations >= 50
    # The steering works: the fuzzer got past the lookups, to the SDK's main calls among others.
    assert SDK_CALLS <= outcome.succeeded()
    assert len(outcome.succeeded()) >= 35, sorted(set(outcome.statuses) - outcome.succeeded())


@pytest.mark.django_db(transaction=True)
def test_without_a_key(api_schema: BaseSchema, world: World) -> None:
    outcome = fuzz(api_schema, world, {})
    assert not outcome.failures, "\n\n".join(outcome.failures)
    assert outcome.operations >= 50
    # Public reads answer; everything behind a key is refused (and was checked to be a documented 401).
    assert {"GET /api/datasets", "GET /api/datasets/{id_or_slug}", "GET /api/v1/datasets/{id}"} <= outcome.succeeded()
    assert "POST /api/datasets/{id_or_slug}/download" not in outcome.succeeded()


# --- What the fuzzer found, pinned down ----------------------------------------------------------


@pytest.fixture
def key_client(bearer: Callable[..., tuple[User, str]]) -> tuple[User, APIClient]:
    user, raw_key = bearer("read", "download", "upload")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return user, client


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/api/v1/datasets/nope", "/api/v1/datasets/nope/versions", "/api/v1/organizations/nope", "/api/v1/licenses/999"],
)
def test_a_lookup_that_finds_nothing_answers_the_error_body(path: str) -> None:
    # These views raise Django's Http404 (get_object_or_404), which answered DRF's {"detail"}.
    response = APIClient().get(path)
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == body["message"] and "matches the given query" in body["message"]
    assert "detail" not in body


@pytest.mark.django_db
def test_a_nul_character_in_a_body_is_refused_before_the_database(key_client: tuple[User, APIClient]) -> None:
    # PostgreSQL text cannot hold NUL: this was a 500 from the INSERT.
    gated = published_dataset("gated-nul", visibility=Dataset.Visibility.RESTRICTED)
    _, client = key_client
    response = client.post(
        f"/api/v1/datasets/{gated.id}/access-requests",
        {"fullName": "Ada\x00", "organization": "Uni", "intendedUse": "Research."},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["message"] == "Text in the request cannot contain the NUL character (\\u0000)."
    assert not AccessRequest.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("\rhÈ".encode(), "The CSV does not parse at line 1: new-line character seen in unquoted field"),
        (b"contributor_id,terms_sha256,given_at\n\xff\xfe", "The CSV must be UTF-8 text: invalid start byte"),
        (b"contributor_id,terms_sha256,given_at\nc-1\x00,x,y\n", "cannot contain the NUL character"),
    ],
)
def test_a_consent_csv_that_does_not_parse_is_a_clear_400(
    key_client: tuple[User, APIClient], body: bytes, message: str
) -> None:
    user, client = key_client
    lab = approve_organization(organization=organization("csv-lab", owner=user))
    assert Membership.objects.filter(organization=lab, user=user).exists()
    submission = submissions.create_submission(user=user, name="CSV")
    consent.set_consent_terms(submission=submission, user=user, payload=consent_payload())
    response = client.post(f"/api/v1/submissions/{submission.id}/consent/records", body, content_type="text/csv")
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert not ConsentRecord.objects.exists()


# A NUL in a path segment or a query value reached PostgreSQL as a lookup or a filter (500); the
# fuzzer does not put NUL in URLs, so every kind of place it can sit is listed here.
NUL_URLS = [
    "/api/datasets?task=%00", "/api/datasets?locale=a%00", "/api/datasets?license=%00", "/api/datasets/%00",
    "/api/v1/datasets?task=%00", "/api/v1/datasets/%00", "/api/v1/datasets/%00/versions",
    "/api/v1/datasets/%00/terms", "/api/v1/datasets/%00/removals", "/api/v1/provenance/keys/%00.pem",
    "/api/v1/organizations/a%00b", "/api/v1/datasets?%00=1",
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("url", NUL_URLS)
def test_a_nul_character_in_the_url_is_refused(url: str, key_client: tuple[User, APIClient]) -> None:
    _, client = key_client
    response = client.get(url)
    assert response.status_code == 400
    assert response.json() == {
        "error": "The URL cannot contain the NUL character (%00).",
        "message": "The URL cannot contain the NUL character (%00).",
    }


@pytest.mark.django_db
def test_a_nul_character_in_a_page_url_is_refused_as_text() -> None:
    response = APIClient().get("/datasets/?task=%00")
    assert response.status_code == 400
    assert response.content.decode() == "The URL cannot contain the NUL character (%00)."


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/datasets?page=99999999999999999999999", "/api/v1/datasets?page=10000001"])
def test_a_page_beyond_any_catalog_is_a_clear_400(url: str) -> None:
    # (page - 1) * limit overflowed the SQL OFFSET: a 500.
    response = APIClient().get(url)
    assert response.status_code == 400
    assert "must be at most 10000000" in response.json()["message"]


@pytest.mark.django_db
def test_an_impossible_date_is_a_clear_400(key_client: tuple[User, APIClient]) -> None:
    # Django's date parsers raise on well-formed impossible dates (2024-13-01): this was a 500.
    user, client = key_client
    approve_organization(organization=organization("date-lab", owner=user))
    submission = submissions.create_submission(user=user, name="Dates")
    url = f"/api/v1/submissions/{submission.id}"
    response = client.put(f"{url}/consent", {**consent_payload(), "collectionStart": "2024-13-01"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"collectionStart": ["must be a date as YYYY-MM-DD"]}
    assert client.put(f"{url}/consent", consent_payload(), format="json").status_code == 200

    terms = consent.current_terms(submission)
    assert terms is not None
    record = {"contributorId": "c-1", "termsSha256": terms.consent_text_sha256, "givenAt": "2025-02-30T10:00:00Z"}
    response = client.post(f"{url}/consent/records", {"records": [record]}, format="json")
    assert response.status_code == 400
    assert "record 1" in response.json()["message"]
    assert not ConsentRecord.objects.exists()


@pytest.mark.django_db
def test_text_longer_than_its_column_is_a_clear_400(key_client: tuple[User, APIClient]) -> None:
    # A datasheet text, an upload's filename or a payee's name over the column's length failed in the
    # INSERT (500). The schema now documents the limits, so the fuzzer's invalid cases send such texts.
    user, client = key_client
    approve_organization(organization=organization("long-lab", owner=user))
    submission = submissions.create_submission(user=user, name="Long")
    response = client.patch(
        f"/api/submissions/{submission.id}", {"name": "n" * 256, "locale": "en", "format": "f" * 51}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "name": ["is longer than 255 characters"],  # the platform document's limit
        "format": ["is longer than 50 characters"],
    }
    submission.refresh_from_db()
    assert (submission.name, submission.locale, submission.format) == ("Long", "", "")

    start = {"submissionId": submission.id, "filename": "a" * 250 + ".tar.gz", "fileSize": 10}
    response = client.post("/api/uploads", {**start, "mimeType": "application/gzip"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"filename": ["is longer than 255 characters"]}
    assert not Upload.objects.exists()

    payee = {"name": "n" * 201, "email": "ann@example.org", "basisPoints": 10_000}
    response = client.put(f"/api/v1/submissions/{submission.id}/contributors", {"contributors": [payee]}, format="json")
    assert response.status_code == 400
    assert "contributor 1: the name is longer than 200 characters" in response.json()["message"]
    assert not RevenueShare.objects.exists()
