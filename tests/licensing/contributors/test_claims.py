"""Claim links, through the organization's page and the claim page as their people use them: what a
link may name, once-only use, expiry, replacement, and payee addresses proven by email."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from licensing.consent.inputs import ConsentTermsInput
from licensing.consent.terms import add_consent_records, set_consent_terms
from licensing.contributors import claims
from licensing.models import ContributorClaim
from marketplace.models import Membership, Organization, Submission, User
from marketplace.submissions.drafts import set_revenue_split
from marketplace.submissions.inputs import shares_from_json
from tests.factories import organization
from tests.provenance.conftest import CONSENT

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(make_user: Any) -> Organization:
    """An organization with an admin, a plain member, consent records of c-1 and c-2, and a split
    paying bo@example.org by address."""
    found = organization("valley")
    admin, member = make_user("admin-ann"), make_user("member-mo")
    Membership.objects.create(organization=found, user=admin, role="admin")
    Membership.objects.create(organization=found, user=member, role="member")
    submission = Submission.objects.create(organization=found, created_by=admin, name="Valley Voices")
    terms = set_consent_terms(submission=submission, user=admin, terms=ConsentTermsInput.from_json(CONSENT))
    add_consent_records(
        terms=terms,
        rows=[
            {"contributorId": c, "givenAt": "2025-02-01T10:00:00Z", "termsSha256": terms.consent_text_sha256}
            for c in ("c-1", "c-2")
        ],
    )
    set_revenue_split(
        submission=submission,
        shares=shares_from_json(
            {"contributors": [{"username": "admin-ann", "basisPoints": 5_000},
                              {"name": "Bo", "email": "Bo@Example.org", "basisPoints": 5_000}]}
        ),
    )  # fmt: skip
    return found


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _link(response: Any) -> str:
    found = re.search(r"http://testserver(/claim/[^<\s]+/)", response.content.decode())
    assert found is not None, response.content.decode()[:2000]
    return found.group(1)


def test_an_admin_makes_a_link_on_the_page_and_a_person_claims_it(org: Organization, make_user: Any) -> None:
    admin = _signed_in(User.objects.get(username="admin-ann"))
    page = admin.post("/organizations/valley/contributors/", {"contributor_id": "c-2"})
    assert page.status_code == 200
    path = _link(page)
    assert "Claim link made: copy it below." in page.content.decode()

    # Anybody opening it first sees what it binds, and is asked to sign up or log in.
    anonymous = Client().get(path)
    assert anonymous.status_code == 200
    text = anonymous.content.decode()
    assert "c-2" in text and "Sign up to claim" in text and f"/signup/?next={path}" in text

    gwen = make_user("gwen")
    claimed = _signed_in(gwen).post(path)
    assert claimed.status_code == 302 and claimed["Location"] == "/account/contributions/"
    claim = ContributorClaim.objects.get(contributor_id="c-2")
    assert (claim.claimed_by, claim.state) == (gwen, "claimed")
    # Opening it again is no error for gwen; anybody else is told it was used.
    assert _signed_in(gwen).get(path).status_code == 302
    other = _signed_in(make_user("mallory")).post(path)
    assert other.status_code == 410 and "This claim link was used already." in other.content.decode()
    # The organization's page says c-2 is claimed, without saying by whom.
    listing = admin.get("/organizations/valley/contributors/").content.decode()
    assert re.search(r"<code>c-2</code>.*?yes, ", listing, re.S) and "gwen" not in listing
    # A new link for an id somebody holds is refused.
    again = admin.post("/organizations/valley/contributors/", {"contributor_id": "c-2"})
    assert (
        again.status_code == 400
        and "The contributor id c-2 is already claimed by an account." in again.content.decode()
    )


def test_what_a_link_may_name_is_checked_in_words(org: Organization) -> None:
    admin = User.objects.get(username="admin-ann")
    link = lambda token: f"http://testserver/claim/{token}/"  # noqa: E731
    with pytest.raises(ValidationError) as unknown:
        claims.issue_claim(organization=org, by=admin, contributor_id="c-9", claim_url=link)
    assert unknown.value.message_dict["contributor_id"] == ["No consent record of Valley names the contributor id c-9."]
    with pytest.raises(ValidationError) as nobody:
        claims.issue_claim(organization=org, by=admin, claim_url=link)
    assert "Name the contributor id" in nobody.value.message_dict["contributor_id"][0]
    with pytest.raises(ValidationError) as handed:
        claims.issue_claim(organization=org, by=admin, payee_email="bo@example.org", claim_url=link)
    assert handed.value.message_dict["send_to"] == [
        "A payee's balance is claimed only through a link emailed to that address: send it to bo@example.org."
    ]
    with pytest.raises(ValidationError) as stranger:
        claims.issue_claim(
            organization=org, by=admin, payee_email="eve@example.org", send_to="eve@example.org", claim_url=link
        )
    assert stranger.value.message_dict["payee_email"] == ["No revenue split of Valley pays eve@example.org."]
    member = _signed_in(User.objects.get(username="member-mo"))
    assert member.post("/organizations/valley/contributors/", {"contributor_id": "c-1"}).status_code == 403
    assert not ContributorClaim.objects.exists()


def test_links_expire_and_a_new_one_replaces_the_open_one(
    org: Organization, make_user: Any, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    admin = User.objects.get(username="admin-ann")
    with django_capture_on_commit_callbacks(execute=True):
        first, first_link = claims.issue_claim(
            organization=org, by=admin, contributor_id="c-1", payee_email="BO@example.org",
            send_to="bo@example.org", claim_url=lambda t: f"http://testserver/claim/{t}/",
        )  # fmt: skip
    [mail] = mailoutbox
    assert mail.to == ["bo@example.org"] and first_link in mail.body
    assert first.payee_email == "bo@example.org"
    _, second_link = claims.issue_claim(
        organization=org, by=admin, contributor_id="c-1", claim_url=lambda t: f"http://testserver/claim/{t}/"
    )
    first.refresh_from_db()
    assert first.state == "revoked"
    replaced = _signed_in(make_user("bo")).post(first_link.removeprefix("http://testserver"))
    assert replaced.status_code == 410
    assert "replaced or cancelled by the organization" in replaced.content.decode()

    ContributorClaim.objects.filter(token_hash=claims.token_hash(second_link.rstrip("/").rsplit("/", 1)[1])).update(
        expires_at=timezone.now() - timedelta(minutes=1), created_at=timezone.now() - timedelta(days=31)
    )
    expired = _signed_in(User.objects.get(username="bo")).post(second_link.removeprefix("http://testserver"))
    assert expired.status_code == 410 and "expired on" in expired.content.decode()
    assert "Ask Valley for a new one." in expired.content.decode()
    assert Client().get("/claim/not-a-token/").status_code == 404
    assert not ContributorClaim.objects.filter(claimed_at__isnull=False).exists()


def test_many_links_at_once_all_or_nothing_as_a_csv_of_links(
    org: Organization, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    admin = _signed_in(User.objects.get(username="admin-ann"))
    refused = admin.post(
        "/organizations/valley/contributors/", {"lines": "contributor_id,email\nc-1, one@example.org\nc-9\nc-2, two@"}
    )
    assert refused.status_code == 400
    text = refused.content.decode()
    assert "line 4: &#x27;two@&#x27; is not an email address" in text
    refused = admin.post("/organizations/valley/contributors/", {"lines": "c-1, one@example.org\nc-9"})
    assert "line 2: No consent record of Valley names the contributor id c-9." in refused.content.decode()
    assert not ContributorClaim.objects.exists() and not mailoutbox

    with django_capture_on_commit_callbacks(execute=True):
        made = admin.post("/organizations/valley/contributors/", {"lines": "c-1, one@example.org\nc-2\n"})
    assert made.status_code == 200 and made["Content-Disposition"] == 'attachment; filename="claim-links-valley.csv"'
    rows = [line.split(",") for line in made.content.decode().splitlines()]
    assert rows[0] == ["contributor_id", "emailed_to", "link", "expires_at"]
    assert [(r[0], r[1]) for r in rows[1:]] == [("c-1", "one@example.org"), ("c-2", "")]
    assert [m.to for m in mailoutbox] == [["one@example.org"]] and rows[1][2] in mailoutbox[0].body
    assert Client().get(rows[2][2].removeprefix("http://testserver")).status_code == 200
