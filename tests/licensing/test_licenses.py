"""licensing.licenses: the rule that custom terms permit no more than the contributors consented
to, and the lookup of the instance's SPDX licenses."""

from __future__ import annotations

import pytest

from licensing.licenses import Permissions, custom_terms_permissions, spdx_license
from licensing.models import ConsentTerms
from tests.factories import license_for


def test_custom_terms_permit_no_more_than_the_consent() -> None:
    consent = ConsentTerms(commercial_use=True, ai_training=False, research_only=False, redistribution=True)
    assert custom_terms_permissions(consent) == Permissions(
        commercial_use=True, ai_training=False, derivatives=False, redistribution=True, attribution=True,
        share_alike=False,
    )  # fmt: skip
    assert custom_terms_permissions(None) == Permissions(
        commercial_use=False, ai_training=False, derivatives=False, redistribution=False, attribution=True,
        share_alike=False,
    )  # fmt: skip


@pytest.mark.django_db
def test_spdx_license_finds_the_instance_license_of_that_identifier() -> None:
    known = license_for("CC-BY-4.0")
    assert spdx_license("CC-BY-4.0") == known
    assert spdx_license("Custom-1.0") is None
    assert spdx_license("") is None
