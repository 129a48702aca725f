"""Content Security Policy on every page, `check --deploy` under production settings, and production's
refusal to start on storage that answers strangers."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings

from marketplace.checks import storage_refuses_anonymous_requests
from marketplace.models import Membership
from marketplace.organizations.services import approve_organization
from marketplace.submissions.drafts import create_submission
from tests import factories
from tests.conftest import REPO_DIR

# An inline script that would run: a data block (schema.org's application/ld+json) is not one.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/ld\+json\")[^>]*>", re.I)
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


def _production(*command: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """A command under production settings with a real secret and the test session's storage
    credentials, as an operator would run it."""
    inherited = {name: value for name, value in os.environ.items() if name != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {
        **inherited,  # less what the browser tests' live server sets for itself
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "data.example.org",
        **extra_env,
    }
    return subprocess.run(
        [sys.executable, *command], cwd=REPO_DIR, env=environment, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_under_production_settings() -> None:
    done = _production("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


def test_production_pages_carry_hsts_secure_cookies_and_csp(django_db_setup: None) -> None:
    # The sign-in page reads the database (the single sign-on providers): the test database's.
    db = connection.settings_dict
    url = f"postgresql://{quote(db['USER'])}:{quote(db['PASSWORD'])}@{db['HOST']}:{db['PORT']}/{quote(db['NAME'])}"
    script = """
import django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="data.example.org")
plain = client.get("/login/")
print("plain", plain.status_code, plain.get("Location"))
page = client.get("/login/", secure=True)
print("status", page.status_code)
print("hsts", page["Strict-Transport-Security"])
print("csp", page["Content-Security-Policy"])
print("cookie", page.cookies["csrftoken"]["secure"], page.cookies["csrftoken"]["samesite"])
"""
    done = _production("-c", script, DATABASE_URL=url)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert lines["plain"] == "301 https://data.example.org/login/"
    assert lines["status"] == "200"
    assert lines["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert "default-src 'self'" in lines["csp"] and "frame-ancestors 'none'" in lines["csp"]
    assert lines["cookie"] == "True Lax"


def test_production_web_refuses_to_start_on_an_open_gateway(open_gateway: str) -> None:
    done = _production("-c", "import config.wsgi", S3_ENDPOINT_URL=open_gateway)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert f"Storage at {open_gateway} lists bucket" in done.stderr and "anonymous requests (HTTP 200)" in done.stderr
    started = _production("-c", "import config.wsgi")  # the session's SeaweedFS wants credentials
    assert started.returncode == 0, started.stderr


def test_production_worker_refuses_to_start_on_an_open_gateway(open_gateway: str) -> None:
    done = _production(
        "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--without-gossip", "--without-mingle",
        S3_ENDPOINT_URL=open_gateway,
    )  # fmt: skip
    assert done.returncode != 0
    assert f"Storage at {open_gateway} lists bucket" in done.stdout + done.stderr
