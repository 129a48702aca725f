"""Single sign-on with OpenID Connect against a real provider: a second Django running
django-oauth-toolkit (tests/oidc_provider/) as a server process with its own database and RSA key.
A person starts at our sign-in page, signs in at the provider, consents, and comes back signed in:
as a new account, or linked to the account that already holds the address the provider vouches for."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from marketplace.models import User
from tests.conftest import database_url_of_test_db
from tests.oidc_provider.server import OidcProvider

pytestmark = pytest.mark.django_db
CALLBACK = "http://testserver/accounts/oidc/oidc/login/callback/"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory, django_db_setup: Any) -> Iterator[OidcProvider]:
    started = OidcProvider(Path(tmp_path_factory.mktemp("oidc")), database_url=database_url_of_test_db()).start()
    started.add_client("data-collective", "a-client-secret-for-tests", CALLBACK)
    started.add_person("grace", "grace@idp.example.org", "grace-at-the-idp")
    started.add_person("alan", "alan@example.org", "alan-at-the-idp")
    yield started
    started.stop()


@pytest.fixture
def configured(provider: OidcProvider, settings: Any) -> OidcProvider:
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "OAUTH_PKCE_ENABLED": True,
            "APPS": [
                {
                    "provider_id": "oidc",
                    "name": "Company sign-in",
                    "client_id": "data-collective",
                    "secret": "a-client-secret-for-tests",
                    "settings": {"server_url": provider.issuer},
                }
            ],
        }
    }
    return provider


def _csrf(html: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def _hidden_fields(html: str) -> dict[str, str]:
    found = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)
    return {name: unescape(value) for name, value in found}


def _sign_in_through(provider: OidcProvider, ours: Client, username: str, password: str) -> Any:
    """Our page's button, the provider's sign-in and consent pages, then back to our callback."""
    page = ours.get("/login/").content.decode()
    assert "Company sign-in" in page
    start = ours.post("/accounts/oidc/oidc/login/")
    assert start.status_code == 302 and start["Location"].startswith(f"{provider.issuer}/authorize/")
    browser = requests.Session()
    login_page = browser.get(start["Location"], timeout=30)
    assert urlsplit(login_page.url).path == "/login/"
    consent = browser.post(
        login_page.url,
        data={"username": username, "password": password, "csrfmiddlewaretoken": _csrf(login_page.text),
              "next": _hidden_fields(login_page.text)["next"]},
        timeout=30,
    )  # fmt: skip
    assert "Authorize" in consent.text, consent.text[:2000]
    fields = _hidden_fields(consent.text)
    back = browser.post(consent.url, data={**fields, "allow": "Authorize"}, allow_redirects=False, timeout=30)
    assert back.status_code == 302 and back.headers["Location"].startswith(CALLBACK), back.text[:2000]
    callback = urlsplit(back.headers["Location"])
    return ours.get(f"{callback.path}?{callback.query}", follow=True)


def test_a_person_new_here_signs_in_with_the_provider_and_gets_an_account(configured: OidcProvider) -> None:
    ours = Client()
    landed = _sign_in_through(configured, ours, "grace", "grace-at-the-idp")
    assert landed.status_code == 200
    user = User.objects.get(email="grace@idp.example.org")
    assert SocialAccount.objects.filter(user=user, provider="oidc").exists()
    account = ours.get("/account/").content.decode()
    assert f"Signed in as <strong>{user.username}</strong>" in account
    assert "Company sign-in" in account  # listed among the connected sign-in providers
    assert EmailAddress.objects.get(user=user, email="grace@idp.example.org").verified


def test_an_existing_account_with_the_verified_address_is_linked_not_duplicated(
    configured: OidcProvider, make_user: Any
) -> None:
    alan = make_user("alan-here", verified=False)  # its address is made below
    User.objects.filter(id=alan.id).update(email="alan@example.org")
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=alan, email="alan@example.org", verified=True, primary=True)
    ours = Client()
    _sign_in_through(configured, ours, "alan", "alan-at-the-idp")
    assert "Signed in as <strong>alan-here</strong>" in ours.get("/account/").content.decode()
    assert SocialAccount.objects.get(provider="oidc").user_id == alan.id
    assert User.objects.filter(email__iexact="alan@example.org").count() == 1
