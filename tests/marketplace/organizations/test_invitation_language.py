"""An invitation email is written in the invitee's language when they have an account here
(User.language, kept by the language switcher), else in the inviter's."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.utils import translation

from marketplace.models import User
from marketplace.organizations.services import invite_member
from tests.factories import organization

pytestmark = pytest.mark.django_db


def test_an_invitation_reaches_a_korean_reader_in_korean_and_a_stranger_in_the_inviters_language(
    django_capture_on_commit_callbacks: Any,
) -> None:
    org = organization("speech-co")
    owner = User.objects.get(username="owner-of-speech-co")
    User.objects.create_user(username="minji", email="minji@example.org", language="ko")
    with django_capture_on_commit_callbacks(execute=True), translation.override("es"):
        invite_member(organization=org, email="minji@example.org", role="member", invited_by=owner,
                      accept_url=lambda token: f"https://data.example.org/invitations/{token}/")  # fmt: skip
        invite_member(organization=org, email="nadie@example.org", role="member", invited_by=owner,
                      accept_url=lambda token: f"https://data.example.org/invitations/{token}/")  # fmt: skip
    korean, spanish = mail.outbox
    assert korean.to == ["minji@example.org"] and "님이" in korean.subject and "초대했습니다" in korean.subject
    assert "14일 안에 수락하세요" in korean.body
    assert spanish.to == ["nadie@example.org"] and spanish.subject.startswith("owner-of-speech-co le invita a")
    assert "Acepte en un plazo de 14 días" in spanish.body
