"""Accounts people trust, through the pages a person uses (allauth under our URLs): the verification
mail and its link, password reset by mail and password change, an authenticator app (TOTP) turned
on and asked for at sign-in, a recovery code, and the second factor that money and approvals need,
on pages and through the API."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from licensing.models import Invoice
from licensing.revenue import payments
from marketplace.models import User
from tests.licensing.revenue.test_ledger import licensee, paid_dataset
from tests.second_factor import TOTP_SECRET, enroll_second_factor, fresh_code, pass_second_factor

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-test-password"


def _link(message: Any) -> str:
    found = re.search(r"https?://[^/\s]+(/\S+)", message.body)
    assert found, message.body
    return found.group(1)


def _signed_in_as(client: Client) -> str | None:
    response = client.get("/account/")
    if response.status_code != 200:
        return None
    return re.search(r"Signed in as <strong>([^<]+)</strong>", response.content.decode()).group(1)  # type: ignore[union-attr]


def test_a_new_account_gets_a_mail_whose_link_verifies_the_address() -> None:
    client = Client()
    response = client.post(
        "/signup/",
        {"username": "verifier", "email": "verifier@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    address = EmailAddress.objects.get(email="verifier@example.org")
    assert not address.verified
    assert "not verified yet" in client.get("/account/").content.decode()
    [message] = mail.outbox
    assert message.to == ["verifier@example.org"]
    link = _link(message)
    assert link.startswith("/accounts/confirm-email/")
    assert client.get(link).status_code == 200  # a page with a button: a mail scanner's GET changes nothing
    assert not EmailAddress.objects.get(id=address.id).verified
    assert client.post(link).status_code == 302
    assert EmailAddress.objects.get(id=address.id).verified
    assert "not verified yet" not in client.get("/account/").content.decode()


def test_an_email_address_signs_in_as_well_as_the_username(make_user: Any) -> None:
    make_user("ada", password=PASSWORD)
    client = Client()
    assert client.post("/login/", {"username": "ada@example.org", "password": PASSWORD}).status_code == 302
    assert _signed_in_as(client) == "ada"


def test_a_forgotten_password_is_reset_through_the_mailed_link(make_user: Any) -> None:
    make_user("forgetful", password=PASSWORD)
    client = Client()
    assert client.post("/accounts/password/reset/", {"email": "forgetful@example.org"}).status_code == 302
    [message] = mail.outbox
    link = _link(message)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    set_password_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
    done = client.post(set_password_url, {"password1": "a-brand-new-secret", "password2": "a-brand-new-secret"})
    assert done.status_code == 302
    assert not Client().post("/login/", {"username": "forgetful", "password": PASSWORD}).status_code == 302
    fresh = Client()
    assert fresh.post("/login/", {"username": "forgetful", "password": "a-brand-new-secret"}).status_code == 302
    # The link works once.
    assert (
        Client().post(set_password_url, {"password1": "x-third-one-42", "password2": "x-third-one-42"}).status_code
        != 302
    )


def test_a_password_is_changed_on_its_page(make_user: Any) -> None:
    user = make_user("changer", password=PASSWORD)
    client = Client()
    client.post("/login/", {"username": "changer", "password": PASSWORD})
    wrong = client.post(
        "/accounts/password/change/",
        {"oldpassword": "not-it", "password1": "another-long-one", "password2": "another-long-one"},
    )
    assert wrong.status_code == 200
    changed = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "another-long-one", "password2": "another-long-one"},
    )
    assert changed.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another-long-one")


def _turn_on_totp(client: Client, password: str = PASSWORD) -> str:
    """Through the pages: confirm the password, read the secret the page shows, answer its code."""
    page = client.get("/accounts/2fa/totp/activate/", follow=True)
    if page.redirect_chain and "/reauthenticate/" in page.redirect_chain[-1][0]:
        page = client.post(page.redirect_chain[-1][0], {"password": password}, follow=True)
    secret = page.context["form"].secret
    assert secret in page.content.decode()  # shown, for apps that cannot scan the QR code
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    done = client.post("/accounts/2fa/totp/activate/", {"code": code}, follow=True)
    assert done.status_code == 200
    return secret


def test_an_authenticator_app_turned_on_is_asked_for_at_sign_in_and_a_recovery_code_works_once(make_user: Any) -> None:
    user = make_user("careful", password=PASSWORD)
    client = Client()
    client.post("/login/", {"username": "careful", "password": PASSWORD})
    secret = _turn_on_totp(client)
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    codes = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES).wrap().get_unused_codes()
    assert len(codes) >= 8
    assert "On: Recovery codes, TOTP Authenticator." in client.get("/account/").content.decode()
    client.post("/logout/")

    again = Client()
    asked = again.post("/login/", {"username": "careful", "password": PASSWORD})
    assert asked.status_code == 302 and asked["Location"] == "/accounts/2fa/authenticate/"
    assert _signed_in_as(again) is None  # the password alone does not sign in
    assert again.post("/accounts/2fa/authenticate/", {"code": "000000"}).status_code == 200
    assert _signed_in_as(again) is None
    code = fresh_code(user, secret)
    assert again.post("/accounts/2fa/authenticate/", {"code": code}).status_code == 302
    assert _signed_in_as(again) == "careful"

    by_recovery = Client()
    by_recovery.post("/login/", {"username": "careful", "password": PASSWORD})
    assert by_recovery.post("/accounts/2fa/authenticate/", {"code": codes[0]}).status_code == 302
    assert _signed_in_as(by_recovery) == "careful"
    reused = Client()
    reused.post("/login/", {"username": "careful", "password": PASSWORD})
    assert reused.post("/accounts/2fa/authenticate/", {"code": codes[0]}).status_code == 200
    assert _signed_in_as(reused) is None


def _open_invoice() -> tuple[Invoice, str]:
    dataset = paid_dataset(price_cents=1_500)
    invoice, _ = payments.open_invoice(user=licensee(), dataset=dataset)
    return invoice, f"/organizations/{dataset.organization.slug}/invoices/{invoice.id}/paid/"


def _staff() -> User:
    return User.objects.create_user(username="cashier", email="cashier@example.org", password=PASSWORD, is_staff=True)


def test_staff_cannot_mark_an_invoice_paid_on_the_page_without_a_second_factor() -> None:
    invoice, url = _open_invoice()
    staff = _staff()
    client = Client()
    client.post("/login/", {"username": "cashier", "password": PASSWORD})
    refused = client.post(url, {"reference": "bank 1"}, follow=True)
    assert refused.redirect_chain[0][0] == "/accounts/2fa/"
    assert "Moving money and approving need a second factor." in refused.content.decode()
    assert Invoice.objects.get(id=invoice.id).status == Invoice.Status.OPEN

    enroll_second_factor(staff)
    # Signed in before the app was on: the session has not passed a second factor, so it is asked,
    # and the suspended POST carries on once the code is right.
    asked = client.post(url, {"reference": "bank 1"})
    assert asked.status_code == 302 and asked["Location"].startswith("/accounts/2fa/reauthenticate/?next=")
    assert Invoice.objects.get(id=invoice.id).status == Invoice.Status.OPEN
    assert client.post(asked["Location"], {"code": "123456"}).status_code == 200  # a wrong code
    assert Invoice.objects.get(id=invoice.id).status == Invoice.Status.OPEN
    client.post(asked["Location"], {"code": fresh_code(staff, TOTP_SECRET)})
    assert Invoice.objects.get(id=invoice.id).status == Invoice.Status.PAID


def test_a_session_that_passed_the_second_factor_marks_paid_at_once() -> None:
    invoice, url = _open_invoice()
    staff = _staff()
    client = Client()
    pass_second_factor(client, staff)
    assert client.post(url, {"reference": "bank 2"}).status_code == 302
    assert Invoice.objects.get(id=invoice.id).status == Invoice.Status.PAID


def test_the_api_refuses_a_staff_key_without_a_second_factor_and_says_where_to_turn_one_on(bearer: Any) -> None:
    invoice, _ = _open_invoice()
    staff = _staff()
    _, key = bearer("read", user=staff)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    refused = api.post(f"/api/v1/invoices/{invoice.id}/payment", {"reference": "bank 3"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["message"] == (
        "Turn on a second factor for your account at http://testserver/accounts/2fa/ before moving money or "
        "approving through the API."
    )
    assert Invoice.objects.get(id=invoice.id).status == Invoice.Status.OPEN
    assert api.get("/api/v1/me").status_code == 200  # reading is not refused
    enroll_second_factor(staff)
    paid = api.post(f"/api/v1/invoices/{invoice.id}/payment", {"reference": "bank 3"}, format="json")
    assert paid.status_code == 200 and paid.json()["status"] == "paid"


def _security_key(user: User, name: str = "blue key") -> Authenticator:
    """A registered WebAuthn key as allauth stores it (the browser test registers one for real, with
    chromium's virtual authenticator: tests/browser/test_security_key_browser.py)."""
    return Authenticator.objects.create(
        user=user, type=Authenticator.Type.WEBAUTHN, data={"name": name, "credential": {}}
    )


def test_the_security_key_list_answers_and_names_each_key(make_user: Any) -> None:
    user = make_user("keyholder", password=PASSWORD)
    _security_key(user)
    client = Client()
    client.force_login(user)
    page = client.get("/accounts/2fa/webauthn/")
    assert page.status_code == 200  # allauth's own list needed django.contrib.humanize: a 500 here
    assert "blue key" in page.content.decode()
    assert client.get("/accounts/2fa/").status_code == 200


def test_a_security_key_alone_counts_as_the_second_factor_on_pages_and_the_api(bearer: Any) -> None:
    invoice, url = _open_invoice()
    staff = _staff()
    _security_key(staff)
    client = Client()
    client.force_login(staff)  # a session that skipped the second step
    # Not sent to turn one on, but asked to confirm with the key: no code could pass.
    asked = client.post(url, {"reference": "bank 4"})
    assert asked.status_code == 302 and asked["Location"].startswith("/accounts/2fa/webauthn/reauthenticate/?next=")
    assert Invoice.objects.get(id=invoice.id).status == Invoice.Status.OPEN

    _, key = bearer("read", user=staff)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    paid = api.post(f"/api/v1/invoices/{invoice.id}/payment", {"reference": "bank 4"}, format="json")
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
