"""How the OpenAPI schema (drf-spectacular) describes the answers every API view shares.

Each view declares its own successes and the refusals only it makes (402, 409, 410, ...). The
refusals that come from the machinery around the views are added here, from the same classes that
produce them, so that the schema cannot forget one: 401 from our API-key authentication (a missing,
malformed, expired or revoked key), 403 from a key that lacks the view's scope, 404 from a path
that names nothing or a cursor that does not decode, 400 from a body that does not parse or a URL
with a NUL character, 429 with ``Retry-After`` from the rate limits, 503 with ``Retry-After`` when
the database or object storage cannot be reached. All of them carry the error body of
config/api_errors.py.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import CursorPagination

# Every API error (config/api_errors.py): one sentence, twice, as the MDC SDK reads either. Built
# from a dict: a declared field named `errors` would hide Serializer.errors.
ErrorShape = inline_serializer(
    "Error",
    {
        "error": serializers.CharField(),
        "message": serializers.CharField(),
        "errors": serializers.JSONField(required=False, help_text="Per-field messages of a validation error."),
    },
)


# A serializer that only describes an answer (the views build their answers themselves).
Shape = serializers.Serializer


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """The documented refusals of an operation, each answered with the one error shape."""
    return {code: OpenApiResponse(ErrorShape) for code in codes}


def nullable_text(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(allow_null=True, **kwargs)


# int64 as a digit string, as the platform's document has it.
DIGITS = r"^\d+$"


RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before the next request.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}


class AutoSchema(SpectacularAutoSchema):
    def shared_error_codes(self) -> set[int]:
        from licensing.keys.authentication import ApiKeyAuthentication, HasScope

        codes: set[int] = set()
        if any(isinstance(a, ApiKeyAuthentication) for a in self.view.get_authenticators()):
            codes.add(401)
        if any(isinstance(p, HasScope) for p in self.view.get_permissions()):
            codes.add(403)
        paginator = self._get_paginator()
        if "{" in self.path or isinstance(paginator, CursorPagination):
            codes.add(404)
        codes.add(400)  # a NUL character in the URL (config/middleware.py) or a body that does not parse
        if self.view.get_throttles():
            codes.add(429)
        codes.add(503)  # the database or storage is down (config/api_errors.py)
        return codes

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in sorted(self.shared_error_codes()):
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(ErrorShape, str(code), direction=direction)
        for retried in ("429", "503"):
            if retried in responses:
                responses[retried].setdefault("headers", {}).update(RETRY_AFTER)
        return responses


# --- Links: where an answer leads next (OpenAPI 3.0.3, Link Object) ---------------------------------
# A client, and schemathesis' stateful tests, follow them: a new submission to its datasheet, its
# upload and its part URLs, consent and contributors; a dataset to its versions, their evidence
# (manifest, Croissant, inclusion proof), files and downloads; terms to a grant; an access request
# to its decision; a purchase to its payment. Added after generation, by operationId, so that no
# view module has to know which others follow it; a link to an operation or a parameter that does
# not exist is a warning, which `spectacular --fail-on-warn` turns into a failure.

Link = dict[str, Any]


def _link(
    operation_id: str,
    description: str,
    *,
    body: dict[str, Any] | None = None,
    query: dict[str, Any] | None = None,
    **path: Any,
) -> Link:
    """A link to an operation: its path parameters by name, its query parameters and body fields."""
    link: dict[str, Any] = {"operationId": operation_id, "description": description}
    parameters = {**path, **{f"query.{name}": value for name, value in (query or {}).items()}}
    if parameters:
        link["parameters"] = parameters
    if body is not None:
        link["requestBody"] = body
    return link


def _datasheet_links(submission: str) -> dict[str, Link]:
    """The steps on a draft besides its archive, given where the submission's id is."""
    return {
        "GetSubmission": _link(
            "v1_submissions_retrieve", "Its status, uploads and problems.", submission_id=submission
        ),
        "SetConsentTerms": _link("v1_submissions_consent_update", "State its consent terms.", submission_id=submission),
        "AddConsentRecords": _link(
            "v1_submissions_consent_records_create", "Record contributors' consent.", submission_id=submission
        ),
        "SetContributors": _link("v1_submissions_contributors_update", "Split its revenue.", submission_id=submission),
        "GetValidation": _link(
            "v1_submissions_validation_retrieve", "The validation report of its archive.", submission_id=submission
        ),
    }


def _submission_links(submission: str) -> dict[str, Link]:
    return {
        **_datasheet_links(submission),
        "UpdateSubmission": _link("mdc_update_submission", "Write its datasheet (E8).", submission_id=submission),
        "StartUpload": _link("mdc_start_upload", "Upload its archive (E11).", body={"submissionId": submission}),
        "StartSampleUpload": _link("mdc_start_sample_upload", "Upload its sample.", submission_id=submission),
        "SetParents": _link("v1_submissions_parents_update", "Name its lineage.", submission_id=submission),
        "SubmitSubmission": _link(
            "mdc_submit_submission",
            "Submit it for review (E9).",
            body={"agreeToSubmit": True},
            submission_id=submission,
        ),
        "DeleteSubmission": _link("mdc_delete_submission", "Delete the draft (E10).", submission_id=submission),
    }


def _upload_links(upload: str, *, submission: str, sample: bool) -> dict[str, Link]:
    if sample:
        parts = _link(
            "mdc_sample_part_url",
            "A presigned URL for its first part.",
            submission_id=submission,
            file_upload_id=upload,
            part_number=1,
        )
        complete = _link(
            "mdc_complete_sample_upload",
            "Complete it once its parts are stored.",
            submission_id=submission,
            file_upload_id=upload,
        )
    else:
        parts = _link(
            "mdc_upload_part_url", "A presigned URL for its first part (E12).", file_upload_id=upload, part_number=1
        )
        complete = _link("mdc_complete_upload", "Complete it once its parts are stored (E14).", file_upload_id=upload)
    return {
        "GetPartUrl": parts,
        "ListStoredParts": _link("v1_uploads_parts_retrieve", "The parts storage holds.", file_upload_id=upload),
        "CompleteUpload": complete,
        "AbortUpload": _link("v1_uploads_destroy", "Give the upload up.", file_upload_id=upload),
    }


def _version_links(dataset: str, number: str) -> dict[str, Link]:
    return {
        "GetManifest": _link(
            "v1_datasets_versions_manifest_retrieve", "Its signed manifest.", id=dataset, number=number
        ),
        "GetCroissant": _link(
            "v1_datasets_versions_croissant_retrieve", "Its Croissant metadata.", id=dataset, number=number
        ),
        "GetInclusionProof": _link(
            "v1_datasets_versions_inclusion_proof_retrieve", "Its entry's inclusion proof.", id=dataset, number=number
        ),
        "ListFiles": _link("v1_datasets_versions_files_retrieve", "Its files.", dataset_id=dataset, number=number),
        "DownloadVersion": _archive_link("Download its archive.", dataset, number),
    }


def _archive_link(description: str, dataset: str, number: str) -> Link:
    return _link(
        "v1_datasets_versions_files_download_create", description, dataset_id=dataset, number=number, kind="archive"
    )


def _dataset_links(dataset: str) -> dict[str, Link]:
    return {
        "GetDataset": _link("v1_datasets_retrieve", "The dataset's details.", id=dataset),
        "ListVersions": _link("v1_datasets_versions_list", "Its published versions.", id=dataset),
        "GetTerms": _link("v1_datasets_terms_retrieve", "The terms to accept.", dataset_id=dataset),
        "Purchase": _link("v1_datasets_purchases_create", "Buy it (paid datasets).", dataset_id=dataset),
        "RequestAccess": _link(
            "v1_datasets_access_requests_create", "Ask for access (restricted datasets).", dataset_id=dataset
        ),
        "ListAccessRequests": _link("v1_datasets_access_requests_retrieve", "Its access requests.", dataset_id=dataset),
        "GetRemovals": _link("v1_datasets_removals_retrieve", "What licensees must delete.", dataset_id=dataset),
        "Download": _link("mdc_download_dataset", "Download its current version (E4).", id_or_slug=dataset),
        "DownloadSample": _link("mdc_download_sample", "Download its sample (E5).", id_or_slug=dataset),
    }


def _grant_links(dataset: str, number: str) -> dict[str, Link]:
    return {
        "Download": _link("mdc_download_dataset", "Download the current version (E4).", id_or_slug=dataset),
        "DownloadVersion": _archive_link("Download the licensed version.", dataset, number),
    }


def _decision_link(request: str) -> dict[str, Link]:
    return {
        "DecideAccessRequest": _link("v1_access_requests_create", "Approve, reject or revoke it.", request_id=request)
    }


BODY = "$response.body#"
CREATED_SUBMISSION = f"{BODY}/submission/id"
LINKS: dict[tuple[str, str], dict[str, Link]] = {
    # A submission: the MDC flow (E7, E8, E11, E12, E14, E9), and from its state everything a draft takes.
    **{
        (operation_id, "200"): {
            name: link
            for name, link in _submission_links(CREATED_SUBMISSION).items()
            if name in ("GetSubmission", "UpdateSubmission", "StartUpload", "SubmitSubmission")
        }
        for operation_id in ("mdc_create_submission", "mdc_update_submission")
    },
    ("v1_submissions_retrieve", "200"): _submission_links(CREATED_SUBMISSION),
    ("mdc_start_upload", "200"): {
        **_upload_links(f"{BODY}/fileUploadId", submission="$request.body#/submissionId", sample=False),
        "GetSubmission": _submission_links("$request.body#/submissionId")["GetSubmission"],
    },
    ("mdc_start_sample_upload", "200"): {
        **_upload_links(f"{BODY}/fileUploadId", submission="$request.path.submission_id", sample=True),
        "GetSubmission": _submission_links("$request.path.submission_id")["GetSubmission"],
    },
    ("mdc_upload_part_url", "200"): {
        "ListStoredParts": _link(
            "v1_uploads_parts_retrieve", "The parts storage holds.", file_upload_id="$request.path.file_upload_id"
        ),
        "CompleteUpload": _link(
            "mdc_complete_upload",
            "Complete it once its parts are stored (E14).",
            file_upload_id="$request.path.file_upload_id",
        ),
    },
    ("v1_submissions_consent_update", "200"): {
        "AddConsentRecords": _link(
            "v1_submissions_consent_records_create",
            "Record consent under these terms.",
            body={"records": [{"terms_sha256": f"{BODY}/consent/consentTextSha256"}]},
            submission_id="$request.path.submission_id",
        ),
    },
    # A dataset, from the catalog to its versions, their evidence and downloads.
    ("mdc_list_datasets", "200"): {
        "GetMdcDataset": _link("mdc_get_dataset", "The first dataset's details (E3).", id_or_slug=f"{BODY}/items/0/id"),
        **_dataset_links(f"{BODY}/items/0/id"),
    },
    ("mdc_get_dataset", "200"): _dataset_links(f"{BODY}/id"),
    ("v1_datasets_list", "200"): {
        **_dataset_links(f"{BODY}/results/0/id"),
        **_version_links(f"{BODY}/results/0/id", f"{BODY}/results/0/current_version/number"),
    },
    ("v1_datasets_retrieve", "200"): {
        **_dataset_links(f"{BODY}/id"),
        **_version_links(f"{BODY}/id", f"{BODY}/current_version/number"),
    },
    ("v1_datasets_versions_list", "200"): _version_links("$request.path.id", f"{BODY}/0/number"),
    ("v1_datasets_versions_files_retrieve", "200"): {
        "DownloadFile": _link(
            "v1_datasets_versions_files_download_create",
            "Download this file.",
            dataset_id="$request.path.dataset_id",
            number="$request.path.number",
            kind=f"{BODY}/files/0/kind",
        ),
    },
    # Licensing: terms to a grant and its downloads, access requests to decisions, purchases to payments.
    ("v1_datasets_terms_retrieve", "200"): {
        "AcceptTerms": _link(
            "v1_datasets_grants_create",
            "Accept exactly these terms.",
            body={"termsSha256": f"{BODY}/termsSha256"},
            dataset_id="$request.path.dataset_id",
        ),
        "Purchase": _link(
            "v1_datasets_purchases_create", "Buy it (paid datasets).", dataset_id="$request.path.dataset_id"
        ),
    },
    ("v1_datasets_grants_create", "201"): {
        "GetGrant": _link("v1_grants_retrieve", "The license receipt.", grant_id=f"{BODY}/grantId"),
        **_grant_links(f"{BODY}/dataset/id", f"{BODY}/version/number"),
    },
    ("v1_grants_list", "200"): {
        "GetGrant": _link("v1_grants_retrieve", "The first receipt.", grant_id=f"{BODY}/items/0/grantId"),
        **_grant_links(f"{BODY}/items/0/dataset/id", f"{BODY}/items/0/version/number"),
    },
    ("v1_grants_retrieve", "200"): _grant_links(f"{BODY}/dataset/id", f"{BODY}/version/number"),
    ("v1_datasets_access_requests_create", "201"): {
        **_decision_link(f"{BODY}/id"),
        "ListAccessRequests": _link(
            "v1_datasets_access_requests_retrieve", "The dataset's access requests.", dataset_id=f"{BODY}/datasetId"
        ),
    },
    ("v1_datasets_access_requests_retrieve", "200"): _decision_link(f"{BODY}/items/0/id"),
    ("v1_access_requests_create", "200"): {
        "Download": _link(
            "mdc_download_dataset", "Download once access is approved (E4).", id_or_slug=f"{BODY}/datasetId"
        ),
    },
    **{
        ("v1_datasets_purchases_create", status): {
            "PayInvoice": _link("v1_invoices_payment_create", "Record its payment.", invoice_id=f"{BODY}/invoiceId"),
        }
        for status in ("200", "201")
    },
    ("v1_invoices_payment_create", "200"): {
        "Download": _link("mdc_download_dataset", "Download the bought dataset (E4).", id_or_slug=f"{BODY}/datasetId"),
    },
    # Directories and provenance.
    ("v1_organizations_list", "200"): {
        "GetOrganization": _link("v1_organizations_retrieve", "The first organization.", slug=f"{BODY}/results/0/slug"),
    },
    ("v1_licenses_list", "200"): {
        "GetLicense": _link("v1_licenses_retrieve", "The first license's text.", id=f"{BODY}/0/id"),
    },
    ("v1_provenance_keys_retrieve", "200"): {
        "GetPublicKeyPem": _link(
            "v1_provenance_keys_.pem_retrieve", "The newest key as PEM.", key_id=f"{BODY}/keys/0/keyId"
        ),
    },
    ("v1_provenance_log_entries_retrieve", "200"): {
        "GetInclusionProof": _link(
            "v1_provenance_log_entries_inclusion_proof_retrieve",
            "The first entry's proof.",
            index=f"{BODY}/entries/0/index",
        ),
    },
    ("v1_provenance_log_tree_head_retrieve", "200"): {
        "GetConsistencyProof": _link(
            "v1_provenance_log_consistency_proof_retrieve",
            "Prove the tree of the first entry a prefix of this one.",
            query={"first": 1, "second": f"{BODY}/treeSize"},
        ),
    },
}


# What the views demand of a JSON body beyond its fields' shapes, which drf-spectacular cannot see:
# a key they do not know is refused (400 naming it), and an update must change something. Said in
# the schema, so that clients (and the fuzzer's valid cases) do not send what is always refused.
CLOSED = {"additionalProperties": False}
REQUEST_BODY_RULES: dict[str, dict[str, Any]] = {
    "mdc_create_submission": CLOSED,  # "A new submission takes only a name"
    "mdc_update_submission": {**CLOSED, "minProperties": 1},  # inputs.DatasheetChanges.from_json
    "mdc_submit_submission": CLOSED,  # 'Submitting takes exactly {"agreeToSubmit": true}'
    "v1_submissions_consent_update": CLOSED,  # consent.set_consent_terms: "Unknown field(s)"
    "v1_submissions_parents_update": CLOSED,  # 'Setting parents takes exactly {"parents": [...]}'
}


def postprocess(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: add REQUEST_BODY_RULES and LINKS."""
    from drf_spectacular.drainage import warn

    operations = {
        operation["operationId"]: operation
        for item in result.get("paths", {}).values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    components = result.get("components", {}).get("schemas", {})
    for operation_id, rules in REQUEST_BODY_RULES.items():
        body = operations.get(operation_id, {}).get("requestBody", {}).get("content", {}).get("application/json", {})
        name = body.get("schema", {}).get("$ref", "").rpartition("/")[2]
        if name not in components:
            warn(f"{operation_id} has no JSON request body (a component) to apply {rules} to.")
            continue
        components[name].update(rules)
    for (source, status), links in LINKS.items():
        response = operations.get(source, {}).get("responses", {}).get(status)
        if response is None:
            warn(f"Links from {source} {status}: no such operation or response.")
            continue
        for name, link in links.items():
            target = operations.get(link["operationId"])
            names = {parameter["name"] for parameter in (target or {}).get("parameters", [])}
            unknown = {parameter.split(".")[-1] for parameter in link.get("parameters", {})} - names
            if target is None or unknown:
                warn(f"Link {name} from {source}: no operation {link['operationId']} with parameters {unknown}.")
                continue
            response.setdefault("links", {})[name] = link
    return result
