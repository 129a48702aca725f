"""What a license lets licensees do, against what the contributors consented to: the one comparison
that submitting and approving a submission check (a license may allow no more than the consent)
and that the dataset page shows. Pure: it reads flags, from models or from anything shaped like them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class LicenseFlags(Protocol):
    @property
    def commercial_use(self) -> bool: ...
    @property
    def ai_training(self) -> bool: ...
    @property
    def redistribution(self) -> bool: ...
    @property
    def derivatives(self) -> bool: ...


class ConsentFlags(LicenseFlags, Protocol):
    @property
    def research_only(self) -> bool: ...


# The permissions both a license and consent terms speak of, in the words people use for them.
PERMISSIONS = (
    ("commercial_use", "commercial use"),
    ("ai_training", "AI training"),
    ("redistribution", "redistribution"),
    ("derivatives", "derivatives"),
)


@dataclass(frozen=True)
class Permission:
    name: str
    label: str
    license_allows: bool
    consent_allows: bool

    @property
    def beyond_consent(self) -> bool:
        return self.license_allows and not self.consent_allows


def compare(*, consent: ConsentFlags, license: LicenseFlags) -> list[Permission]:
    """Each permission: what the license allows and what the contributors consented to. Research-only
    consent allows no commercial use, whatever its commercial flag says."""
    return [
        Permission(
            name=name,
            label=label,
            license_allows=getattr(license, name),
            consent_allows=getattr(consent, name) and not (name == "commercial_use" and consent.research_only),
        )
        for name, label in PERMISSIONS
    ]


def license_beyond_consent(*, consent: ConsentFlags, license: LicenseFlags, license_name: str) -> list[str]:
    """Each thing the license allows that the contributors did not consent to, in words a contributor
    and a reviewer act on; empty when the license stays within the consent."""
    conflicts = []
    for permission in compare(consent=consent, license=license):
        if not permission.beyond_consent:
            continue
        label = permission.label
        if permission.name == "commercial_use" and consent.research_only:
            conflicts.append(
                f"the license {license_name} allows commercial use, but the contributors consented to research "
                "only: choose a non-commercial license, or record consent that allows commercial use"
            )
        else:
            conflicts.append(
                f"the license {license_name} allows {label}, but the contributors' consent does not allow it: "
                f"choose a license without {label}, or record consent that allows it"
            )
    return conflicts
