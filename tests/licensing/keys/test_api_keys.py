"""API keys: created on the account page or by command, shown once, hashed, scoped, expiring, revocable."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from licensing.keys.services import create_api_key, hash_api_key, revoke_api_key
from licensing.models import ApiKey
from marketplace.models import User
from tests.conftest import REPO_DIR

KEY_PATTERN = re.compile(r"dck_[A-Za-z0-9_-]{43}")


def _me(api_client: APIClient, raw_key: str | None, scheme: str = "Bearer"):
    if raw_key is None:
        return api_client.get("/api/v1/me")
    return api_client.get("/api/v1/me", HTTP_AUTHORIZATION=f"{scheme} {raw_key}")


def _assert_401(response, message: str) -> None:
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == body["message"]
    assert message in body["message"]


def test_key_is_stored_hashed_and_authenticates(api_client: APIClient, make_user: Callable[..., User]) -> None:
    user = make_user("pipeline-owner")
    api_key, raw = create_api_key(user=user, name="cluster", scopes=["read", "download"])
    assert KEY_PATTERN.fullmatch(raw)
    assert api_key.key_hash == hash_api_key(raw) and raw not in api_key.key_hash
    assert not ApiKey.objects.filter(key_hash=raw).exists()
    assert api_key.expires_at - api_key.created_at == timedelta(days=90)

    response = _me(api_client, raw)
    assert response.status_code == 200
    assert response.json()["username"] == "pipeline-owner"
    assert response.json()["apiKey"]["scopes"] == ["download", "read"]
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


def test_missing_malformed_and_unknown_keys_get_401(api_client: APIClient, db: None) -> None:
    _assert_401(_me(api_client, None), "Authentication credentials were not provided")
    _assert_401(_me(api_client, "dck_" + "x" * 43), "Invalid API key")
    _assert_401(_me(api_client, ""), "Malformed Authorization header")


def test_expired_key_gets_401(api_client: APIClient, bearer) -> None:
    user, raw = bearer("read")
    now = timezone.now()
    ApiKey.objects.filter(user=user).update(created_at=now - timedelta(days=2), expires_at=now - timedelta(seconds=1))
    _assert_401(_me(api_client, raw), "expired")


def test_revoked_key_gets_401(api_client: APIClient, bearer) -> None:
    user, raw = bearer("read")
    assert _me(api_client, raw).status_code == 200
    key = revoke_api_key(user=user, api_key_id=ApiKey.objects.get(user=user).id)
    first_revocation = key.revoked_at
    assert revoke_api_key(user=user, api_key_id=key.id).revoked_at == first_revocation
    _assert_401(_me(api_client, raw), "revoked")


def test_someone_elses_key_cannot_be_revoked(bearer, make_user) -> None:
    owner, _ = bearer("read")
    with pytest.raises(ApiKey.DoesNotExist):
        revoke_api_key(user=make_user(), api_key_id=ApiKey.objects.get(user=owner).id)
    assert ApiKey.objects.get(user=owner).revoked_at is None


def test_disabled_account_key_gets_401(api_client: APIClient, bearer) -> None:
    user, raw = bearer("read")
    User.objects.filter(id=user.id).update(is_active=False)
    _assert_401(_me(api_client, raw), "disabled")


def test_scope_is_enforced(api_client: APIClient, bearer) -> None:
    _, raw = bearer("upload")
    response = _me(api_client, raw)
    assert response.status_code == 403
    assert response.json()["message"] == "This API key lacks the 'read' scope."


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"name": " ", "scopes": ["read"]}, "name", "Give the key a name"),
        ({"name": "k", "scopes": []}, "scopes", "Choose at least one scope"),
        ({"name": "k", "scopes": ["admin"]}, "scopes", "Unknown scope admin"),
        ({"name": "k", "scopes": ["read"], "expires_at": "past"}, "expires_at", "must be in the future"),
        ({"name": "k", "scopes": ["read"], "expires_at": "far"}, "expires_at", "within 365 days"),
    ],
)
def test_bad_key_requests_say_what_is_wrong(make_user, kwargs, field, message) -> None:
    moments = {"past": timezone.now() - timedelta(days=1), "far": timezone.now() + timedelta(days=400)}
    if "expires_at" in kwargs:
        kwargs = {**kwargs, "expires_at": moments[kwargs["expires_at"]]}
    user = make_user()
    with pytest.raises(ValidationError) as error:
        create_api_key(user=user, **kwargs)
    assert message in " ".join(error.value.message_dict[field])
    assert not ApiKey.objects.filter(user=user).exists()


def test_account_page_creates_key_shown_once_then_revokes(client: Client, make_user) -> None:
    user = make_user("keyholder")
    client.force_login(user)
    response = client.post(
        "/account/keys/", {"name": "laptop", "scopes": ["read", "download"], "expires_in_days": "30"}
    )
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    raw = KEY_PATTERN.search(response.content.decode())
    assert raw is not None
    key = ApiKey.objects.get(user=user)
    assert (key.name, key.scopes) == ("laptop", ["download", "read"])
    assert timedelta(days=29, hours=23) < key.expires_at - key.created_at <= timedelta(days=30)

    account = client.get("/account/")
    assert raw.group(0) not in account.content.decode()
    assert key.prefix in account.content.decode()

    asked = client.post(f"/account/keys/{key.id}/revoke/")
    assert asked.status_code == 200 and "Revoke the key “laptop”?" in asked.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is None
    revoke = client.post(f"/account/keys/{key.id}/revoke/", {"confirm": "yes"}, follow=True)
    assert "is revoked" in revoke.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_account_page_shows_form_errors(client: Client, make_user) -> None:
    client.force_login(make_user())
    response = client.post("/account/keys/", {"name": "", "expires_in_days": "9999"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "This field is required." in text
    assert "Ensure this value is less than or equal to 365." in text


def test_revoking_anothers_key_via_page_is_404(client: Client, bearer, make_user) -> None:
    owner, _ = bearer("read")
    client.force_login(make_user())
    response = client.post(f"/account/keys/{ApiKey.objects.get(user=owner).id}/revoke/")
    assert response.status_code == 404
    assert ApiKey.objects.get(user=owner).revoked_at is None


def test_account_page_requires_login(client: Client, db: None) -> None:
    response = client.get("/account/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.django_db(transaction=True)
def test_create_api_key_command_prints_only_the_key(api_client: APIClient, make_user) -> None:
    from tests.conftest import database_url_of_test_db

    make_user("scripted")
    import os

    done = subprocess.run(
        [sys.executable, "manage.py", "create_api_key", "scripted", "--scope", "read", "--scope", "upload"],
        cwd=REPO_DIR,
        env={**os.environ, "DATABASE_URL": database_url_of_test_db()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert KEY_PATTERN.fullmatch(done.stdout.strip())
    assert done.stdout.count("\n") == 1
    response = _me(api_client, done.stdout.strip())
    assert response.status_code == 200
    assert response.json()["apiKey"]["scopes"] == ["read", "upload"]

    refused = subprocess.run(
        [sys.executable, "manage.py", "create_api_key", "nobody-here"],
        cwd=REPO_DIR,
        env={**os.environ, "DATABASE_URL": database_url_of_test_db()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0
    assert "No user named 'nobody-here'" in refused.stderr
    assert refused.stdout == ""
