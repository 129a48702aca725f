"""Who is in the demo: pure data (no Django imports), read by ``seed_demo`` and its tests.

Every demo password is ``<username>-password``. Each organization has two people in every role,
so that pages and endpoints meet organizations with many members, as a real instance's do."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("owner", "admin", "member", "reviewer")


@dataclass(frozen=True)
class DemoOrganization:
    slug: str
    name: str
    description: str
    members: dict[str, tuple[str, str]]  # role -> two usernames


ORGANIZATIONS = [
    DemoOrganization(
        "common-voices",
        "Common Voices",
        "A community that records and shares speech and text.",
        {
            "owner": ("demo-owner", "voices-owner"),
            "admin": ("voices-admin", "voices-admin-2"),
            "member": ("voices-member", "voices-member-2"),
            "reviewer": ("demo-reviewer", "voices-reviewer"),
        },
    ),
    DemoOrganization(
        "open-text-lab",
        "Open Text Lab",
        "A university lab that publishes text corpora for translation and evaluation.",
        {role: (f"textlab-{role}", f"textlab-{role}-2") for role in ROLES},
    ),
    DemoOrganization(
        "clinic-data-coop",
        "Clinic Data Co-op",
        "Clinics that pool synthetic and consented clinical text for research.",
        {role: (f"clinic-{role}", f"clinic-{role}-2") for role in ROLES},
    ),
]
STAFF = "admin"
# The authenticator-app secret (base32, RFC 6238) of every demo person who moves money or approves
# (staff, and every organization's owners, admins and reviewers): add it to an authenticator app
# by hand, or take the current code from the `make run` banner. Demo only: never reuse it.
DEMO_TOTP_SECRET = "DEMODEMODEMODEMODEMODEMODEMODEMO"  # noqa: S105 (the demo's, printed in its banner)
SECOND_FACTOR_ROLES = ("owner", "admin", "reviewer")
# People in no organization who license, buy and ask for access.
LICENSEES = ("demo-licensee", "demo-researcher")
# A person whose data is in the demo: they claimed speaker c-002 of Tiny Welsh Speech and the share
# of Support Dialogues paid to ana.agent@example.org.
CONTRIBUTOR = "demo-contributor"

# What the login banner of `make run` says about the people a visitor is most likely to try.
FEATURED = {
    "demo-owner": "owner of Common Voices: earns from Support Dialogues, decides access requests and invoices",
    "demo-reviewer": "reviewer in Common Voices: Valley Voices waits in the review queue",
    "demo-licensee": "in no organization: a license, an open invoice, access requests pending and auto-approved",
    "demo-researcher": "in no organization: bought two datasets, access approved to two restricted ones",
    CONTRIBUTOR: "a contributor: claimed speaker c-002 of Tiny Welsh Speech and a revenue share; My contributions",
    STAFF: "staff (admin site at /admin/): took Radiology Report Snippets down, pays contributors out",
}


def password_of(username: str) -> str:
    return f"{username}-password"


def usernames() -> list[str]:
    """Every demo user, in the order the banner lists them."""
    names = [STAFF, *LICENSEES, CONTRIBUTOR]
    for organization in ORGANIZATIONS:
        names += [name for role in ROLES for name in organization.members[role]]
    return names


def role_of(username: str) -> tuple[str, str] | None:
    """(organization slug, role) of a demo user, or None for staff and licensees."""
    for organization in ORGANIZATIONS:
        for role, names in organization.members.items():
            if username in names:
                return organization.slug, role
    return None
