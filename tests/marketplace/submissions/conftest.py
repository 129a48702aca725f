"""What the submission tests through the official SDK share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from marketplace.models import Membership, Organization, User
from marketplace.organizations.services import approve_organization
from tests.factories import organization


@dataclass(frozen=True)
class SdkContributor:
    user: User
    organization: Organization
    key: str
    api_url: str  # the live server's /api, where the SDK points


@pytest.fixture
def sdk_contributor(live_server: Any, monkeypatch: pytest.MonkeyPatch, bearer) -> SdkContributor:  # type: ignore[no-untyped-def]
    """A member of the approved organization speech-co with an upload and read key; the official
    SDK points at the live server with that key."""
    org = approve_organization(organization=organization("speech-co"))
    user, key = bearer("upload", "read")
    Membership.objects.create(organization=org, user=user, role="member")
    api_url = f"{live_server.url}/api"
    monkeypatch.setenv("MDC_API_URL", api_url)
    monkeypatch.setenv("MDC_API_KEY", key)
    return SdkContributor(user, org, key, api_url)
