"""The submission page keeps work (issue 22): one form whose every Save keeps every part, a part
with a mistake shown again as typed while the others are saved, an error summary at the top with a
link to each field, deleting only after a confirmation, and messages in the person's words."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from licensing.consent import terms as consent
from marketplace.models import Membership, RevenueShare, Submission, User
from marketplace.organizations.services import approve_organization
from marketplace.submissions import drafts
from tests import factories

pytestmark = pytest.mark.django_db

CONSENT = {
    "ai_training": "on",
    "consent_text": "I agree that my recordings train models.\r\n",
    "collection_start": "2025-01-01",
    "collection_end": "2025-06-30",
    "withdrawal_process": "Write to ada@example.org.",
}
EMPTY_SPLIT = {"shares-TOTAL_FORMS": "3", "shares-INITIAL_FORMS": "0"}


@pytest.fixture
def author(make_user: Any) -> User:
    factories.license_for("CC-BY-4.0")
    organization = approve_organization(organization=factories.organization("voices"))
    user = make_user()
    Membership.objects.create(organization=organization, user=user, role="member")
    return user


def page_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def whole_form(client: Client, submission: Submission) -> dict[str, Any]:
    """Every field of the page's one form as the browser would send it untouched: read from the
    page itself, so that a field the page drops is a field this test drops too."""
    page = client.get(f"/submissions/{submission.id}/").content.decode()
    form = page.split('id="submission-form"')[1].split("</form>")[0]
    data: dict[str, Any] = {}
    for tag in re.findall(r"<(?:input|select|textarea)[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if name is None or 'type="file"' in tag or 'type="submit"' in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="checkbox"' in tag:
            if "checked" in tag:
                data[name.group(1)] = "on"
            continue
        data[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        data[name] = html.unescape(text).removeprefix("\n")
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', options)
        data[name] = chosen.group(1) if chosen else ""
    return data


def test_a_short_description_typed_before_saving_the_consent_is_kept(author: User) -> None:
    submission = drafts.create_submission(user=author, name="Valley speech")
    client = page_for(author)
    form = whole_form(client, submission)
    assert {"name", "short_description", "consent_text", "shares-TOTAL_FORMS", "parents"} <= set(form)

    # The person types a short description, then fills the consent terms and presses their Save.
    typed = form | {"short_description": "Read speech from the valley."} | CONSENT | {"section": "consent"}
    saved = client.post(f"/submissions/{submission.id}/", typed, follow=True)
    assert saved.redirect_chain[-1][0].endswith("#consent")
    shown = html.unescape(saved.content.decode())
    assert "Datasheet saved." in shown and "Consent terms saved." in shown and "Saved at " in shown
    submission.refresh_from_db()
    assert submission.short_description == "Read speech from the valley."
    assert consent.current_terms(submission).consent_text == "I agree that my recordings train models.\n"
    assert 'value="Read speech from the valley."' in saved.content.decode()  # it comes back filled in

    # Saving again what is already saved writes nothing new (no second set of consent terms).
    again = client.post(f"/submissions/{submission.id}/", whole_form(client, submission), follow=True)
    assert "Nothing had changed" in again.content.decode()
    assert submission.consent_terms.count() == 1


def test_a_part_with_a_mistake_is_shown_as_typed_and_the_others_are_saved(author: User) -> None:
    submission = drafts.create_submission(user=author, name="Valley speech")
    client = page_for(author)
    typed = (
        whole_form(client, submission)
        | {
            "short_description": "Read speech.",
            "point_of_contact_email": "not-an-email",  # the datasheet fails ...
            "shares-0-username": author.username,
            "shares-0-share": "100",  # ... the split is saved
            "parents": "",
        }
        | {key: value for key, value in CONSENT.items() if key != "collection_end"}
    )  # the consent fails too
    answer = client.post(f"/submissions/{submission.id}/", typed)
    assert answer.status_code == 400
    page = html.unescape(answer.content.decode())

    # Summary first, before the page's heading, with a link to each field that failed.
    summary = page.split("data-error-summary")[1].split("</div>")[0]
    assert page.index("data-error-summary") < page.index("<h1")
    assert 'href="#id_point_of_contact_email"' in summary and 'href="#id_collection_end"' in summary
    assert "Point of contact email: Enter a valid email address." in summary
    assert "Collection end: This field is required." in summary
    assert 'tabindex="-1"' in page.split("data-error-summary")[0][-120:]  # the box can take the focus
    # The fields keep their own messages, and what was typed.
    assert 'id="id_collection_end_error"' in page and 'id="id_point_of_contact_email_error"' in page
    assert 'value="Read speech."' in page and 'value="not-an-email"' in page
    assert "I agree that my recordings train models." in page
    assert "Not saved: fix the problems listed at the top of the page." in page
    # The split had no mistake: saved.
    assert "Revenue split saved." in page
    assert list(RevenueShare.objects.filter(submission=submission).values_list("basis_points", flat=True)) == [10000]
    submission.refresh_from_db()
    assert submission.short_description == ""  # the failed part: nothing of it half-written
    assert consent.current_terms(submission) is None


def test_submitting_saves_what_was_typed_first_and_says_what_is_missing_in_words(author: User) -> None:
    submission = drafts.create_submission(user=author, name="Valley speech")
    client = page_for(author)
    typed = whole_form(client, submission) | {"short_description": "Read speech.", "agree": "on"}
    answer = client.post(f"/submissions/{submission.id}/submit/", typed)
    assert answer.status_code == 400
    submission.refresh_from_db()
    assert submission.short_description == "Read speech." and submission.status == "draft"
    page = html.unescape(answer.content.decode())
    summary = page.split("data-error-summary")[1].split("</div>")[0]
    assert "Cannot submit yet" in summary
    assert "Write the long description (datasheet)." in page and "Choose a license (datasheet)." in page
    for camel in ("shortDescription", "longDescription", "licenseAbbreviation", "basis points", "basePriceCents"):
        assert camel not in page
    # The API keeps the contract's field names (the SDK's users read those).
    assert any("longDescription is missing" in problem for problem in drafts.submission_problems(submission))


def test_deleting_asks_for_a_confirmation_away_from_submit(author: User) -> None:
    submission = drafts.create_submission(user=author, name="Valley speech")
    client = page_for(author)
    page = client.get(f"/submissions/{submission.id}/").content.decode()
    delete_url = f"/submissions/{submission.id}/delete/"
    # In its own section after "Submit for review", a button that asks for a confirmation page.
    assert page.index('id="submit"') < page.index('id="delete"') < page.index(f'action="{delete_url}"')
    assert 'name="confirm"' not in page.split('id="delete"')[1]

    confirm = client.post(delete_url)
    assert confirm.status_code == 200
    asked = confirm.content.decode()
    assert "It cannot be undone." in asked and 'name="confirm" value="yes"' in asked
    assert Submission.objects.get(id=submission.id).status == "draft"  # nothing deleted before confirming
    gone = client.post(delete_url, {"confirm": "yes"})
    assert gone.status_code == 302 and Submission.objects.get(id=submission.id).status == "deleted"


def test_prices_and_shares_are_typed_and_shown_in_dollars_and_percent(author: User, make_user: Any) -> None:
    submission = drafts.create_submission(user=author, name="Valley speech")
    client = page_for(author)
    typed = whole_form(client, submission) | {
        "is_paid": "on",
        "price": "157.50",
        "shares-0-username": author.username,
        "shares-0-share": "62.5",
        "shares-1-name": "Valley Choir",
        "shares-1-email": "choir@example.org",
        "shares-1-share": "37.5",
    }
    assert client.post(f"/submissions/{submission.id}/", typed).status_code == 302
    submission.refresh_from_db()
    assert submission.base_price_cents == 15750
    assert sorted(submission.revenue_shares.values_list("basis_points", flat=True)) == [3750, 6250]
    page = client.get(f"/submissions/{submission.id}/").content.decode()
    assert 'name="price" value="157.50"' in page and 'value="62.5"' in page
    assert "cents" not in page and "basis points" not in page

    reviewer = make_user()
    Membership.objects.create(organization=submission.organization, user=reviewer, role="reviewer")
    Submission.objects.filter(id=submission.id).update(status="submitted", submitted_at=timezone.now())
    review = page_for(reviewer).get(f"/review/{submission.id}/").content.decode()
    assert "157.50 USD" in review and "62.5 %" in review and "37.5 %" in review
    assert " bp" not in review


def test_someone_who_cannot_upload_is_told_what_to_do(make_user: Any) -> None:
    reviewer = make_user()
    page = html.unescape(page_for(reviewer).get("/submissions/").content.decode())
    assert "not an owner, admin or member" not in page
    assert "Create an organization" in page and 'href="/organizations/new/"' in page
    assert "ask the owner of one to invite you" in page

    waiting = make_user()
    Membership.objects.create(organization=factories.organization("waiting-co"), user=waiting, role="owner")
    page = html.unescape(page_for(waiting).get("/submissions/").content.decode())
    assert "Waiting Co is not approved to upload yet" in page or "is not approved to upload yet" in page


def test_the_page_speaks_spanish_and_korean(author: User) -> None:
    submission = drafts.create_submission(user=author, name="Valley speech")
    client = page_for(author)
    with translation.override("en"):  # the requests activate their language; leave none behind
        spanish = client.get(f"/submissions/{submission.id}/", headers={"accept-language": "es"}).content.decode()
        korean = client.get(f"/submissions/{submission.id}/", headers={"accept-language": "ko"}).content.decode()
    assert "Guardar borrador" in spanish and "Save draft" not in spanish
    assert "초안 저장" in korean and "Save draft" not in korean


def test_the_upload_widget_speaks_the_pages_language(author: User) -> None:
    # frontend/upload.js reads its own sentences and Uppy's from the widget's data attributes.
    submission = drafts.create_submission(user=author, name="Valley speech")
    korean = page_for(author).get(f"/submissions/{submission.id}/", headers={"accept-language": "ko"})
    widget = re.search(r"<div class=\"uploader\"[^>]*data-kind=\"archive\"[^>]*>", korean.content.decode())
    assert widget is not None
    attributes = {name: html.unescape(value) for name, value in re.findall(r'(data-[\w-]+)="([^"]*)"', widget.group(0))}
    assert attributes["data-text-hashing"] == "파일의 SHA-256 계산 중: {percent}%"  # the JS fills {percent}
    assert attributes["data-text-failed"] == "업로드 실패: {error}"
    uppy = json.loads(attributes["data-uppy-strings"])
    assert uppy["browseFiles"] == "파일 찾아보기"
    assert uppy["dropPasteFiles"] == "여기에 파일을 끌어다 놓거나 %{browseFiles}"  # Uppy's placeholder kept
