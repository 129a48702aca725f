"""The published OpenAPI schema (/api/v1/schema) is complete and truthful: drf-spectacular
generates it without a warning or an error, it is valid OpenAPI, it documents every API route
(our /api/v1 and the MDC contract's /api/), and every operation names the refusals the machinery
around the views makes. test_api_fuzz.py then checks the answers against it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.test import APIClient

METHODS = ("get", "put", "post", "patch", "delete")


def api_routes() -> set[str]:
    """Every route under /api/ as an OpenAPI path template, but the schema's own pages."""

    def walk(patterns: list[Any], prefix: str) -> set[str]:
        found: set[str] = set()
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                found |= walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                found.add("/" + route)
        return found

    routes = {r for r in walk(get_resolver().url_patterns, "") if r.startswith("/api/")}
    routes -= {"/api/v1/schema", "/api/v1/docs"}
    # <int:number> -> {number}, as OpenAPI writes a path parameter; drf-spectacular names a pk "id".
    return {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route).replace("{pk}", "{id}") for route in routes}


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path: Path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    GENERATOR_STATS.reset()
    # What CI and a maintainer run: warnings fail, and the result is validated against OpenAPI 3.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    assert not GENERATOR_STATS, "drf-spectacular reported warnings or errors (printed above)"
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_every_api_route_is_in_the_schema(schema: dict[str, Any]) -> None:
    assert set(schema["paths"]) == api_routes()
    # The MDC contract's routes are API endpoints the SDK calls: they are documented, with the SDK's names.
    assert schema["paths"]["/api/datasets/{id_or_slug}/download"]["post"]["operationId"] == "mdc_download_dataset"
    assert {"get", "patch", "post", "delete"} <= set(schema["paths"]["/api/submissions/{submission_id}"])
    # The operations the MDC platform's document adds to the SDK's contract, tagged as the rest.
    for path, method in (("/api/health", "get"), ("/api/datasets/{id_or_slug}/metadata", "get"),
                         ("/api/submissions/{submission_id}", "get")):  # fmt: skip
        assert schema["paths"][path][method]["tags"] == ["mdc"], path
    metadata = schema["paths"]["/api/datasets/{id_or_slug}/metadata"]["get"]["responses"]
    assert set(metadata["200"]["content"]) == {"application/ld+json"} and "422" in metadata


def test_operation_ids_are_unique(schema: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(schema)]
    assert len(ids) == len(set(ids))


def test_api_keys_are_a_bearer_scheme(schema: dict[str, Any]) -> None:
    assert schema["components"]["securitySchemes"]["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key from your account page: `Authorization: Bearer dck_…`.",
    }
    download = schema["paths"]["/api/datasets/{id_or_slug}/download"]["post"]
    assert {"apiKey": []} in download["security"]
    assert {} not in download["security"]  # a key is required, not optional
    # E1-E3 read no key at all (the SDK sends none).
    assert schema["paths"]["/api/datasets"]["get"]["security"] == [{}]


def test_every_operation_documents_its_refusals(schema: dict[str, Any]) -> None:
    error = {"$ref": "#/components/schemas/Error"}
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        where = f"{method.upper()} {path}"
        # The success: an answer, or (Croissant's contentUrl) the redirect to a presigned GET of the bytes.
        assert any(code.startswith("2") or code == "302" for code in responses), where
        if path == "/api/health":
            # The one exception: a liveness probe counts nothing (the rate limits count in the
            # database, which it must not need) and reads no key; /healthz checks dependencies.
            assert set(responses) == {"200", "400", "503"}, responses
            continue
        # Every view is rate limited: 429 with the error body and Retry-After.
        assert responses["429"]["content"]["application/json"]["schema"] == error, where
        assert responses["429"]["headers"]["Retry-After"]["required"] is True, where
        if any("apiKey" in requirement for requirement in operation.get("security", [])):
            assert responses["401"]["content"]["application/json"]["schema"] == error, where
        if "{" in path:
            assert "404" in responses, where
        assert "400" in responses, where  # a body that does not parse, a NUL in the URL
        for code, response in responses.items():
            if code[0] in "45":
                assert "content" in response, f"{where} {code} has no body"


def test_the_served_schema_is_the_generated_one(schema: dict[str, Any], db: None) -> None:
    response = APIClient().get("/api/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi")
    assert response.status_code == 200
    served = yaml.safe_load(response.content)
    assert served["paths"] == schema["paths"]


def test_answers_link_to_the_calls_that_follow_them(schema: dict[str, Any]) -> None:
    # OpenAPI links (config/api_schema.py): clients and the stateful fuzz follow them from one answer
    # to the next call; each names an operation that exists, by parameters it has.
    by_id = {operation["operationId"]: operation for _, _, operation in operations(schema)}
    followed = 0
    for _, _, operation in operations(schema):
        for response in operation["responses"].values():
            for link in response.get("links", {}).values():
                target = by_id[link["operationId"]]
                names = {parameter["name"] for parameter in target.get("parameters", [])}
                assert {name.rpartition(".")[2] for name in link.get("parameters", {})} <= names, link
                followed += 1
    assert followed >= 100
    created = schema["paths"]["/api/submissions"]["post"]["responses"]["200"]["links"]
    assert created["StartUpload"]["requestBody"] == {"submissionId": "$response.body#/submission/id"}
    started = schema["paths"]["/api/uploads"]["post"]["responses"]["200"]["links"]
    assert started["GetPartUrl"]["parameters"] == {"file_upload_id": "$response.body#/fileUploadId", "part_number": 1}
    terms = schema["paths"]["/api/v1/datasets/{dataset_id}/terms"]["get"]["responses"]["200"]["links"]
    assert terms["AcceptTerms"]["requestBody"] == {"termsSha256": "$response.body#/termsSha256"}


def test_bodies_the_views_close_say_so(schema: dict[str, Any]) -> None:
    # The views refuse keys they do not know; E8 refuses an empty change.
    shapes = schema["components"]["schemas"]
    assert shapes["SubmissionNameShape"]["additionalProperties"] is False
    assert shapes["PatchedSubmissionChanges"]["minProperties"] == 1
    upload = shapes["UploadStartShape"]["properties"]
    assert upload["filename"]["pattern"] == r"^[^/\\]+\.(tar\.gz|tgz)$"
