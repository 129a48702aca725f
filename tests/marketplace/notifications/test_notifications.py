"""Notifications (marketplace/notifications) written by the real services at each state change a
person cares about, listed on /notifications/, and emailed in the recipient's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from licensing.access import access_requests
from licensing.consent.withdrawals import withdraw_consent
from marketplace import tasks
from marketplace.models import Membership, Notification, Submission, User
from marketplace.publishing import takedown_dataset
from marketplace.submissions.review import reject_submission
from tests.factories import organization, published_dataset
from tests.licensing.revenue.test_ledger import licensee, paid_dataset, pay
from tests.second_factor import pass_second_factor

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def kinds_of(user: User) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("kind", flat=True))


def test_approving_an_access_request_on_its_page_tells_the_requester(make_user: Callable[..., User]) -> None:
    owner = make_user("gatekeeper")
    dataset = published_dataset("gated", org=organization("gate-co", owner=owner), visibility="restricted")
    requester = make_user("asker")
    item = access_requests.request_access(
        user=requester, dataset=dataset, full_name="Ada", organization_name="Lab", intended_use="Research"
    )
    deciding = signed_in(owner)
    pass_second_factor(deciding, owner)  # approvals ask the owner's authenticator app first
    response = deciding.post(f"/organizations/gate-co/access-requests/{item.id}/approve/")
    assert response.status_code == 302
    notification = Notification.objects.get(user=requester)
    assert notification.kind == Notification.Kind.ACCESS_APPROVED
    assert notification.link == "/datasets/gated/"
    assert kinds_of(owner) == []


def test_a_refusal_carries_its_reason_to_the_requester(make_user: Callable[..., User]) -> None:
    owner = make_user("refuser")
    dataset = published_dataset("gated-2", org=organization("gate-2", owner=owner), visibility="restricted")
    requester = make_user("hopeful")
    item = access_requests.request_access(
        user=requester, dataset=dataset, full_name="Ada", organization_name="Lab", intended_use="Research"
    )
    access_requests.reject(request_id=item.id, by=owner, reason="Only for clinical partners.")
    page = signed_in(requester).get("/notifications/").content.decode()
    assert "Only for clinical partners." in page
    assert "Access to Gated-2 refused" in page


def test_a_recorded_payment_tells_the_licensee_and_emails_them_in_their_language(
    django_capture_on_commit_callbacks: Any,
) -> None:
    dataset = paid_dataset(price_cents=15_000)  # and a 5 % fee
    buyer = licensee()
    User.objects.filter(id=buyer.id).update(language="ko")
    with django_capture_on_commit_callbacks(execute=False):
        pay(dataset, buyer)
    notification = Notification.objects.get(user=buyer)
    assert notification.kind == Notification.Kind.INVOICE_PAID
    assert notification.params["amount"].startswith("157.50")
    # The task the commit queued, run here as a worker would run it.
    assert tasks.email_notifications([notification.id]) == 1
    assert tasks.email_notifications([notification.id]) == 0  # at most once
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [buyer.email]
    assert dataset.name in message.subject
    assert "결제" in message.body  # Korean, the language the licensee chose
    notification.refresh_from_db()
    assert notification.emailed_at is not None


def test_an_english_reader_gets_english_email(make_user: Callable[..., User]) -> None:
    dataset = paid_dataset(price_cents=1_000)
    buyer = licensee()
    pay(dataset, buyer)
    tasks.email_notifications(list(Notification.objects.filter(user=buyer).values_list("id", flat=True)))
    assert "Your payment of 10.50 USD" in mail.outbox[0].body


def test_the_language_switcher_remembers_a_signed_in_persons_choice(make_user: Callable[..., User]) -> None:
    person = make_user("polyglot")
    response = signed_in(person).post("/i18n/setlang/", {"language": "es", "next": "/"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.language == "es"
    signed_in(person).post("/i18n/setlang/", {"language": "xx", "next": "/"})
    person.refresh_from_db()
    assert person.language == "es"  # a language the site does not speak is not kept


def test_a_rejected_review_tells_the_submitter_and_the_admins_but_not_the_reviewer(
    make_user: Callable[..., User],
) -> None:
    owner = make_user("org-owner")
    org = organization("review-co", owner=owner)
    admin, author, reviewer, member = (make_user(name) for name in ("org-admin", "author", "reviewer", "bystander"))
    for user, role in ((admin, "admin"), (author, "member"), (reviewer, "reviewer"), (member, "member")):
        Membership.objects.create(organization=org, user=user, role=role)
    submission = Submission.objects.create(
        organization=org,
        created_by=author,
        name="Street sounds",
        status=Submission.Status.SUBMITTED,
        submitted_at=timezone.now(),
    )
    reject_submission(submission=submission, reviewer=reviewer, reason="The consent form is missing.")
    for told in (owner, admin, author):
        assert kinds_of(told) == [Notification.Kind.REVIEW_REJECTED]
    assert kinds_of(reviewer) == []
    assert kinds_of(member) == []
    notification = Notification.objects.get(user=author)
    assert notification.params == {"submission": "Street sounds", "reason": "The consent form is missing."}


def test_a_consent_withdrawal_tells_every_licensee_once(make_user: Callable[..., User]) -> None:
    dataset = paid_dataset(price_cents=1_000)
    buyers = [licensee(), licensee()]
    for buyer in buyers:
        pay(dataset, buyer)
    Notification.objects.all().delete()
    owner = dataset.organization.memberships.get().user
    withdraw_consent(by=owner, dataset=dataset, version_number=1, record_ids=["clip-7"], reason="Asked by speaker")
    assert sorted(Notification.objects.values_list("user_id", flat=True)) == sorted(buyer.id for buyer in buyers)
    assert set(Notification.objects.values_list("kind", flat=True)) == {Notification.Kind.CONSENT_WITHDRAWN}


def test_a_takedown_tells_every_licensee(make_user: Callable[..., User]) -> None:
    dataset = paid_dataset(price_cents=1_000)
    buyer = licensee()
    pay(dataset, buyer)
    takedown_dataset(dataset=dataset, reason="A court order.", by=make_user("moderator", is_staff=True))
    notification = Notification.objects.get(user=buyer, kind=Notification.Kind.TAKEN_DOWN)
    assert notification.params["reason"] == "A court order."


def test_the_page_lists_unread_first_and_marks_all_read(
    make_user: Callable[..., User], django_assert_max_num_queries: Any
) -> None:
    from marketplace.notifications.services import notify

    reader = make_user("reader")
    for number in range(30):
        notify(users=[reader], kind=Notification.Kind.TAKEN_DOWN, params={"dataset": f"Set {number}", "reason": "x"})
    Notification.objects.filter(user=reader, params__dataset="Set 29").update(read_at="2026-01-01T00:00:00Z")
    client = signed_in(reader)
    with django_assert_max_num_queries(8):
        page = client.get("/notifications/").content.decode()
    assert page.index("Set 28") < page.index("Set 0") < page.index("Set 29")  # unread first, newest first
    assert "29 unread" in page
    client.post("/notifications/read/")
    assert not Notification.objects.filter(user=reader, read_at__isnull=True).exists()
    assert "unread" not in client.get("/notifications/").content.decode()


def test_notifications_are_private() -> None:
    assert Client().get("/notifications/").status_code == 302


def test_an_email_the_mail_server_refused_is_sent_on_the_next_try(settings: Any) -> None:
    dataset = paid_dataset(price_cents=1_000)
    buyer = licensee()
    pay(dataset, buyer)
    ids = list(Notification.objects.filter(user=buyer).values_list("id", flat=True))
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2  # nothing listens there
    with pytest.raises(OSError):
        tasks.email_notifications(ids)
    assert Notification.objects.get(id=ids[0]).emailed_at is None  # not claimed: it was not sent
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert tasks.email_notifications(ids) == 1
    assert mail.outbox[-1].to == [buyer.email]
