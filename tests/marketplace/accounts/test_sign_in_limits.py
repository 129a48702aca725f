"""Password guessing and mass sign-ups through the pages are refused with 429 and Retry-After."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from marketplace.models import User
from tests.conftest import wait_until

PASSWORD = "a-long-test-password"


def _sign_in(client: Client, username: str, password: str, address: str = "203.0.113.7") -> Any:
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.django_db
@override_settings(LOGIN_FAILURES_PER_ACCOUNT=3, LOGIN_FAILURES_PER_IP=100)
def test_an_account_stops_checking_passwords_after_too_many_failures(make_user: Any) -> None:
    make_user("ada")
    make_user("grace")
    client = Client()
    for _ in range(3):
        response = _sign_in(client, "ada", "wrong password")
        assert response.status_code == 200 and "That username and password do not match an account." in response.text
    blocked = _sign_in(client, "ADA ", PASSWORD)  # the right password, the same account written otherwise
    assert blocked.status_code == 429
    assert 1 <= int(blocked["Retry-After"]) <= 901
    assert "Too many failed sign-ins. Try again in 15 minutes." in blocked.text
    assert not _signed_in(client)
    other = _sign_in(Client(), "grace", PASSWORD)  # another account from the same address is not held up
    assert other.status_code == 302


@pytest.mark.django_db
@override_settings(LOGIN_FAILURES_PER_ACCOUNT=3, LOGIN_FAILURES_PER_IP=100)
def test_a_successful_sign_in_clears_the_count(make_user: Any) -> None:
    make_user("ada")
    for _ in range(2):
        assert _sign_in(Client(), "ada", "wrong password").status_code == 200
    assert _sign_in(Client(), "ada", PASSWORD).status_code == 302
    for _ in range(2):
        assert _sign_in(Client(), "ada", "wrong password").status_code == 200
    client = Client()
    assert _sign_in(client, "ada", PASSWORD).status_code == 302 and _signed_in(client)


@pytest.mark.django_db
@override_settings(LOGIN_FAILURES_PER_ACCOUNT=100, LOGIN_FAILURES_PER_IP=4)
def test_one_address_guessing_many_accounts_is_held_up(make_user: Any) -> None:
    make_user("ada")
    for n in range(4):
        assert _sign_in(Client(), f"someone-{n}", "guess").status_code == 200
    assert _sign_in(Client(), "ada", PASSWORD).status_code == 429
    forged = Client().post(
        "/login/",
        {"username": "ada", "password": PASSWORD},
        REMOTE_ADDR="203.0.113.7",
        HTTP_X_FORWARDED_FOR="192.0.2.1",
    )
    assert forged.status_code == 429  # no proxy is trusted: a forged X-Forwarded-For changes nothing
    assert _sign_in(Client(), "ada", PASSWORD, address="198.51.100.9").status_code == 302


@pytest.mark.django_db
@override_settings(LOGIN_FAILURES_PER_ACCOUNT=1, LOGIN_FAILURE_WINDOW_SECONDS=5)
def test_the_hold_ends_with_the_window(make_user: Any) -> None:
    make_user("ada")
    assert _sign_in(Client(), "ada", "wrong password").status_code == 200
    assert _sign_in(Client(), "ada", PASSWORD).status_code == 429
    assert wait_until(lambda: _sign_in(Client(), "ada", PASSWORD).status_code == 302, timeout=30, interval=1)


@pytest.mark.django_db
@override_settings(SIGNUPS_PER_IP_PER_HOUR=2)
def test_sign_ups_per_address_are_limited_and_a_refused_one_creates_nothing() -> None:
    def sign_up(name: str) -> Any:
        form = {"username": name, "email": f"{name}@example.org", "password1": PASSWORD, "password2": PASSWORD}
        return Client().post("/signup/", form, REMOTE_ADDR="203.0.113.8")

    assert sign_up("first").status_code == 302
    assert sign_up("second").status_code == 302
    refused = sign_up("third")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert "Too many new accounts from your address. Try again in 60 minutes." in refused.text
    assert not User.objects.filter(username="third").exists()
    assert User.objects.filter(username__in=["first", "second"]).count() == 2
