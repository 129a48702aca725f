"""Claiming: an organization hands each contributor a link that binds an account to the
pseudonymous id of their consent records (and, when emailed to a revenue-share payee, to the
balance owed to that address).

The organization knows who is behind each id; the instance learns only that some account holds
it, and licensees learn nothing. A link carries a random token whose SHA-256 alone is kept; it is
single-use (claimed by a conditional update), expires, and a new link for the same id revokes the
open one. An id, or a payee address, is held by one account per organization (the database says
so). A payee address is claimed only through a link emailed to it: whoever opens it has shown they
read that mailbox, which an admin handing a link over has not.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from licensing.models import ConsentRecord, ContributorClaim
from marketplace.models import Organization, RevenueShare, User
from marketplace.notifications.messages import language_of
from marketplace.permissions import MANAGER_ROLES, role_in
from marketplace.templatetags.languages import long_date

CLAIM_LIFETIME = timedelta(days=30)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def manages(user: User, organization: Organization) -> bool:
    return role_in(user, organization) in MANAGER_ROLES


def known_contributor(organization: Organization, contributor_id: str) -> bool:
    """Whether a consent record of the organization's submissions names the id."""
    return ConsentRecord.objects.filter(
        terms__submission__organization=organization, contributor_id=contributor_id
    ).exists()


def known_payee(organization: Organization, email: str) -> bool:
    return RevenueShare.objects.filter(submission__organization=organization, payee_email__iexact=email).exists()


@transaction.atomic
def issue_claim(
    *,
    organization: Organization,
    by: User,
    contributor_id: str = "",
    payee_email: str = "",
    send_to: str = "",
    claim_url: Callable[[str], str],
) -> tuple[ContributorClaim, str]:
    """A new claim link for one contributor id and/or payee address; the link is returned once (the
    admin hands it over) and, when ``send_to`` is given, emailed there after commit."""
    if not manages(by, organization):
        raise PermissionDenied(
            _("Only owners and admins of %(organization)s send claim links.") % {"organization": organization.name}
        )
    contributor_id, payee_email, send_to = contributor_id.strip(), payee_email.strip().lower(), send_to.strip()
    errors: dict[str, str] = {}
    if not contributor_id and not payee_email:
        errors["contributor_id"] = _(
            "Name the contributor id of the consent records, a payee's email address, or both."
        )
    if contributor_id and not known_contributor(organization, contributor_id):
        errors["contributor_id"] = _("No consent record of %(organization)s names the contributor id %(id)s.") % {
            "organization": organization.name,
            "id": contributor_id,
        }
    if payee_email and not known_payee(organization, payee_email):
        errors["payee_email"] = _("No revenue split of %(organization)s pays %(email)s.") % {
            "organization": organization.name,
            "email": payee_email,
        }
    if payee_email and send_to.lower() != payee_email:
        errors["send_to"] = _(
            "A payee's balance is claimed only through a link emailed to that address: send it to %(email)s."
        ) % {"email": payee_email}
    held = ContributorClaim.objects.filter(organization=organization, claimed_at__isnull=False)
    if contributor_id and held.filter(contributor_id=contributor_id).exists():
        errors["contributor_id"] = _("The contributor id %(id)s is already claimed by an account.") % {
            "id": contributor_id
        }
    if payee_email and held.filter(payee_email__iexact=payee_email).exists():
        errors["payee_email"] = _("The balance of %(email)s is already claimed by an account.") % {"email": payee_email}
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    replaced = ContributorClaim.objects.filter(
        organization=organization, claimed_at__isnull=True, revoked_at__isnull=True
    )
    if contributor_id:
        replaced.filter(contributor_id=contributor_id).update(revoked_at=now)
    if payee_email:
        replaced.filter(payee_email__iexact=payee_email).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    claim = ContributorClaim.objects.create(
        organization=organization,
        contributor_id=contributor_id,
        payee_email=payee_email,
        sent_to=send_to,
        token_hash=token_hash(token),
        created_by=by,
        created_at=now,
        expires_at=now + CLAIM_LIFETIME,
    )
    link = claim_url(token)
    if send_to:
        # In the recipient's language when they have an account here, else in the sender's.
        recipient = User.objects.filter(email__iexact=send_to).first()
        with translation.override(language_of(recipient) if recipient else translation.get_language()):
            words = {"organization": organization.name, "site": settings.SITE_NAME}
            subject = _("%(organization)s invites you to see your contributions on %(site)s") % words
            body = _(
                "%(organization)s holds data you contributed. Open this link within %(days)s days to see which "
                "datasets hold it, the consent you gave, what it earned, and to withdraw if you wish:\n\n"
                "%(link)s\n\n"
                "You can sign up or sign in with any account; the organization is not told which one, and licensees "
                "never learn who you are. The link works once."
            ) % {**words, "days": CLAIM_LIFETIME.days, "link": link}
        transaction.on_commit(lambda: send_mail(subject, body, None, [send_to]))
    return claim, link


MAX_BULK = 10_000


def parse_bulk(text: str) -> list[tuple[str, str]]:
    """Lines of ``contributor id[, email]`` (a header line naming contributor_id is skipped)."""
    rows: list[tuple[str, str]] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = [part.strip() for part in line.replace(";", ",").split(",")]
        if not parts[0] or (number == 1 and parts[0].lower() in ("contributor_id", "contributor id")):
            continue
        if len(parts) > 2:
            problems.append(
                _("line %(number)s: write a contributor id and at most one email address") % {"number": number}
            )
            continue
        email = parts[1] if len(parts) == 2 else ""
        if email:
            try:
                validate_email(email)
            except ValidationError:
                problems.append(
                    _("line %(number)s: '%(email)s' is not an email address") % {"number": number, "email": email}
                )
                continue
        rows.append((parts[0], email))
        if len(problems) >= 20:
            break
    if problems:
        raise ValidationError(_("No link was made: %(problems)s.") % {"problems": "; ".join(problems)})
    if not rows:
        raise ValidationError(
            _("Write one contributor id per line, optionally followed by a comma and an email address.")
        )
    if len(rows) > MAX_BULK:
        raise ValidationError(_("At most %(count)s contributors at a time.") % {"count": f"{MAX_BULK:,}"})
    return rows


@transaction.atomic
def issue_claims(
    *, organization: Organization, by: User, rows: list[tuple[str, str]], claim_url: Callable[[str], str]
) -> list[tuple[ContributorClaim, str]]:
    """A link for each ``(contributor id, email)``, emailed where an address is given; all or
    nothing, every refused line named."""
    made: list[tuple[ContributorClaim, str]] = []
    problems: list[str] = []
    seen: set[str] = set()
    for number, (contributor_id, email) in enumerate(rows, start=1):
        if contributor_id in seen:
            problems.append(_("line %(number)s: %(id)s appears twice") % {"number": number, "id": contributor_id})
            continue
        seen.add(contributor_id)
        try:
            with transaction.atomic():
                made.append(
                    issue_claim(
                        organization=organization, by=by, contributor_id=contributor_id, send_to=email,
                        claim_url=claim_url,
                    )
                )  # fmt: skip
        except ValidationError as exc:
            problems.append(_("line %(number)s: %(problem)s") % {"number": number, "problem": " ".join(exc.messages)})
        if len(problems) >= 20:
            break
    if problems:
        raise ValidationError(_("No link was made: %(problems)s.") % {"problems": "; ".join(problems)})
    return made


def claim_for_token(token: str) -> ContributorClaim | None:
    return ContributorClaim.objects.select_related("organization").filter(token_hash=token_hash(token)).first()


def why_unusable(claim: ContributorClaim | None, user: User | None = None) -> str:
    """Why the link cannot be claimed now, or "" when it can."""
    if claim is None:
        return _(
            "This claim link is not valid. Check that you copied all of it, or ask the organization for a new one."
        )
    if claim.claimed_at is not None:
        if user is not None and claim.claimed_by_id == user.id:
            return ""
        return _("This claim link was used already. Ask the organization for a new one if that was not you.")
    if claim.revoked_at is not None:
        return _("This claim link was replaced or cancelled by the organization. Use the newest link they sent you.")
    if claim.expires_at <= timezone.now():
        return _("This claim link expired on %(day)s. Ask %(organization)s for a new one.") % {
            "day": long_date(claim.expires_at),
            "organization": claim.organization.name,
        }
    return ""


def accept_claim(*, token: str, user: User) -> ContributorClaim:
    """Bind the signed-in account to what the link names. Opening a link you claimed already is
    no error; anybody else's is."""
    claim = claim_for_token(token)
    reason = why_unusable(claim, user)
    if reason or claim is None:
        raise ValidationError(reason)
    if claim.claimed_by_id == user.id:
        return claim
    now = timezone.now()
    try:
        with transaction.atomic():
            taken = ContributorClaim.objects.filter(
                id=claim.id, claimed_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
            ).update(claimed_at=now, claimed_by=user)
    except IntegrityError:
        raise ValidationError(
            _("What this link names is held by another account already. Ask the organization for help.")
        ) from None
    claim.refresh_from_db()
    if not taken:
        raise ValidationError(why_unusable(claim, user) or _("This claim link cannot be used any more."))
    return claim


def revoke_claim(*, claim: ContributorClaim, by: User) -> None:
    if not manages(by, claim.organization):
        raise PermissionDenied(
            _("Only owners and admins of %(organization)s cancel claim links.")
            % {"organization": claim.organization.name}
        )
    ContributorClaim.objects.filter(id=claim.id, claimed_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def held_by(user: User) -> QuerySet[ContributorClaim]:
    """The claims the person holds, oldest first."""
    return ContributorClaim.objects.filter(claimed_by=user).select_related("organization").order_by("claimed_at", "id")


def claims_of(organization: Organization) -> QuerySet[ContributorClaim]:
    """The organization's claim links, newest first (for its owners and admins)."""
    return ContributorClaim.objects.filter(organization=organization).select_related("claimed_by")
