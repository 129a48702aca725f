"""Sign up, log in, log out."""

from __future__ import annotations

from django.test import Client

from marketplace.models import User


def test_signup_logs_in_and_lands_on_account(client: Client, db: None) -> None:
    response = client.post(
        "/signup/",
        {
            "username": "newbie",
            "email": "newbie@example.org",
            "password1": "correct-horse-42",
            "password2": "correct-horse-42",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/account/"
    assert "Welcome, newbie" in response.content.decode()
    user = User.objects.get(username="newbie")
    assert user.check_password("correct-horse-42")


def test_signup_errors_are_shown_beside_fields(client: Client, make_user) -> None:
    make_user("taken")
    response = client.post(
        "/signup/", {"username": "taken", "email": "TAKEN@example.org", "password1": "short", "password2": "other"}
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "This password is too short." in text
    response = client.post(
        "/signup/",
        {
            "username": "other",
            "email": "other@example.org",
            "password1": "correct-horse-42",
            "password2": "other-horse-42",
        },
    )
    assert "You must type the same password each time." in response.content.decode()
    response = client.post(
        "/signup/",
        {"username": "taken", "email": "TAKEN@example.org", "password1": "password", "password2": "password"},
    )
    text = response.content.decode()
    assert "That username is taken." in text
    assert "This password is too common." in text
    assert User.objects.filter(username="taken").count() == 1


def test_login_and_logout(client: Client, make_user) -> None:
    make_user("returning", password="a-long-test-password")
    bad = client.post("/login/", {"username": "returning", "password": "wrong"})
    assert "That username and password do not match an account." in bad.content.decode()
    good = client.post("/login/", {"username": "returning", "password": "a-long-test-password"})
    assert good.status_code == 302 and good["Location"] == "/account/"
    assert client.get("/account/").status_code == 200
    client.post("/logout/")
    assert client.get("/account/").status_code == 302


def test_unknown_page_is_a_plain_404_and_api_is_json(client: Client, db: None) -> None:
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert "Traceback" not in page.content.decode()
    api = client.get("/api/no/such/endpoint")
    assert api.status_code == 404
    assert api.json()["message"] == "Nothing is published at /api/no/such/endpoint."
