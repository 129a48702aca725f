"""Content Security Policy on every page, and the deployment check that storage refuses strangers."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings

from marketplace.checks import storage_refuses_anonymous_requests
from marketplace.models import Membership
from marketplace.services import approve_organization
from marketplace.submissions import create_submission
from tests import factories

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.I)


@pytest.mark.django_db
def test_pages_send_a_policy_and_carry_no_inline_script(client: Client, make_user: Any) -> None:
    dataset = factories.published_dataset("welsh-speech", name="Welsh speech")
    user = make_user("contributor")
    org = approve_organization(organization=factories.organization("speech-co"))
    Membership.objects.create(organization=org, user=user, role="member")
    submission = create_submission(user=user, name="Draft")
    client.force_login(user)
    storage_origin = re.match(r"https?://[^/]+", settings.S3_PUBLIC_ENDPOINT_URL).group(0)  # type: ignore[union-attr]
    pages = ["/", "/datasets/", f"/datasets/{dataset.slug}/", "/submissions/", f"/submissions/{submission.id}/"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        policy = response["Content-Security-Policy"]
        assert "script-src 'self' 'wasm-unsafe-eval'" in policy and "frame-ancestors 'none'" in policy
        assert f"connect-src 'self' {storage_origin}" in policy  # the upload widget PUTs parts there
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), (path, INLINE_SCRIPT.search(html))
        assert not INLINE_HANDLER.search(html), (path, INLINE_HANDLER.search(html))


class _OpenGateway(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # an S3 endpoint that lists the bucket to anyone
        body = b"<ListBucketResult><Name>datacollective</Name></ListBucketResult>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def open_gateway() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OpenGateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_deploy_check_passes_on_storage_that_wants_credentials() -> None:
    assert storage_refuses_anonymous_requests() == []  # the embedded SeaweedFS of the test session


def test_deploy_check_refuses_a_gateway_that_answers_strangers(open_gateway: str) -> None:
    with override_settings(S3_ENDPOINT_URL=open_gateway):
        [error] = storage_refuses_anonymous_requests()
    assert error.id == "marketplace.E003" and "anonymous requests (HTTP 200)" in error.msg


def test_deploy_check_names_unreachable_storage() -> None:
    with override_settings(S3_ENDPOINT_URL="http://127.0.0.1:9"):
        [error] = storage_refuses_anonymous_requests()
    assert error.id == "marketplace.E002" and "cannot be reached" in error.msg
