"""The one comparison of a license's permissions with the contributors' consent."""

from __future__ import annotations

from licensing.consent.scope import compare, license_beyond_consent
from licensing.licenses import Permissions
from licensing.models import ConsentTerms

EVERYTHING = Permissions(
    commercial_use=True, ai_training=True, derivatives=True, redistribution=True, attribution=True, share_alike=False
)


def consent(**flags: bool) -> ConsentTerms:
    given = {"commercial_use": True, "ai_training": True, "research_only": False, "redistribution": True,
             "derivatives": True, **flags}  # fmt: skip
    return ConsentTerms(**given)


def test_a_license_within_the_consent_has_no_conflict() -> None:
    assert license_beyond_consent(consent=consent(), license=EVERYTHING, license_name="CC0-1.0") == []
    nothing = Permissions(False, False, False, False, True, False)
    narrow = consent(commercial_use=False, ai_training=False, redistribution=False, derivatives=False)
    assert license_beyond_consent(consent=narrow, license=nothing, license_name="Closed") == []


def test_each_permission_beyond_the_consent_is_named_in_words() -> None:
    narrow = consent(commercial_use=False, ai_training=False, redistribution=False, derivatives=False)
    conflicts = license_beyond_consent(consent=narrow, license=EVERYTHING, license_name="CC-BY-4.0")
    assert conflicts == [
        f"the license CC-BY-4.0 allows {label}, but the contributors' consent does not allow it: choose a license "
        f"without {label}, or record consent that allows it"
        for label in ("commercial use", "AI training", "redistribution", "derivatives")
    ]
    assert not any("_" in conflict for conflict in conflicts)  # words, never field names


def test_research_only_consent_allows_no_commercial_use() -> None:
    research = consent(commercial_use=False, research_only=True)
    assert license_beyond_consent(consent=research, license=EVERYTHING, license_name="CC-BY-4.0") == [
        "the license CC-BY-4.0 allows commercial use, but the contributors consented to research only: choose a "
        "non-commercial license, or record consent that allows commercial use"
    ]
    rows = {row.name: (row.license_allows, row.consent_allows) for row in compare(consent=research, license=EVERYTHING)}
    assert rows == {
        "commercial_use": (True, False),
        "ai_training": (True, True),
        "redistribution": (True, True),
        "derivatives": (True, True),
    }
