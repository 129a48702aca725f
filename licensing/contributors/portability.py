"""A person's rights over what the instance holds about them: to take it with them (GDPR
Art. 20, data portability: ``export_for``, one versioned JSON document) and to leave
(Art. 17, erasure: ``delete_account``).

Deleting an account anonymizes the person and keeps the pseudonymous evidence other people rely
on: license grants, payments and ledger entries (money law and the licensees' proof), the claims
binding contributor ids, the consent records and withdrawals (the consent's proof), download
records (the organizations' audit). Those rows keep pointing at the anonymized user. Nobody is
deleted while they owe an organization its only owner, or while we owe them money."""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from licensing.contributors.payouts import payable_accounts_of, payout_details_of
from licensing.models import (
    AccessRequest,
    ApiKey,
    ConsentRecord,
    ConsentWithdrawal,
    ContributorClaim,
    DownloadRecord,
    Invoice,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    LicenseGrant,
    Payment,
    PayoutBatch,
    PayoutDetails,
)
from licensing.revenue.earnings import earnings_for
from licensing.revenue.ledger import money
from marketplace.models import Invitation, Membership, Organization, User
from provenance import events as provenance_events

EXPORT_FORMAT = "datacollective-personal-data/1"
DELETED_NAME = "Deleted account"


def _at(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


# --- Export ---------------------------------------------------------------------------------------


def _claims(user: User) -> list[ContributorClaim]:
    return list(
        ContributorClaim.objects.filter(claimed_by=user, claimed_at__isnull=False)
        .select_related("organization")
        .order_by("claimed_at", "id")
    )


def _of_claimed_ids(claims: list[ContributorClaim], organization_field: str) -> Q | None:
    """Rows of the organizations' pseudonymous ids this person claimed; None when they claimed none."""
    held = [Q(**{organization_field: c.organization_id, "contributor_id": c.contributor_id}) for c in claims
            if c.contributor_id]  # fmt: skip
    return reduce(or_, held) if held else None


def _consent_records(claims: list[ContributorClaim]) -> list[dict[str, Any]]:
    where = _of_claimed_ids(claims, "terms__submission__organization_id")
    if where is None:
        return []
    records = (
        ConsentRecord.objects.filter(where)
        .select_related("terms__submission__dataset", "terms__submission__version")
        .order_by("given_at", "id")
    )
    items = []
    for record in records:
        submission = record.terms.submission
        items.append(
            {
                "contributorId": record.contributor_id,
                "organization": submission.organization_id,
                "dataset": {"id": submission.dataset_id, "name": submission.dataset.name if submission.dataset else
                            submission.name},
                "version": submission.version.number if submission.version else None,
                "scope": record.scope,
                "consentText": record.terms.consent_text,
                "consentTextSha256": record.terms.consent_text_sha256,
                "givenAt": _at(record.given_at),
            }
        )  # fmt: skip
    return items


def _withdrawals(user: User, claims: list[ContributorClaim]) -> list[dict[str, Any]]:
    where = Q(recorded_by=user)
    held = _of_claimed_ids(claims, "dataset__organization_id")
    if held is not None:
        where |= held
    rows = ConsentWithdrawal.objects.filter(where).select_related("dataset", "version").order_by("created_at", "id")
    return [
        {
            "id": w.id,
            "dataset": {"id": w.dataset_id, "name": w.dataset.name},
            "version": w.version.number,
            "contributorId": w.contributor_id,
            "recordIds": list(w.record_ids),
            "reason": w.reason,
            "recordedByYou": w.recorded_by_id == user.id,
            "onBehalf": w.on_behalf,
            "recordedAt": _at(w.created_at),
        }
        for w in rows
    ]


def _earnings(user: User) -> dict[str, Any]:
    figures = earnings_for(payable_accounts_of(user))
    return {
        "totals": [
            {"currency": t.currency, "earnedCents": t.earned, "refundedCents": t.refunded, "paidOutCents": t.paid_out,
             "balanceCents": t.balance}
            for t in figures.totals
        ],
        "datasets": [
            {"datasetId": d.dataset_id, "name": d.name, "currency": d.currency, "payments": d.payments,
             "earnedCents": d.earned, "refundedCents": d.refunded, "netCents": d.net,
             "months": [{"month": p, "netCents": cents} for p, cents in sorted(d.periods.items())]}
            for d in figures.datasets
        ],
        "payouts": [
            {"batchId": p["batch"], "amountCents": p["amount"], "currency": p["currency"], "status": p["status"],
             "createdAt": _at(p["created_at"]), "paidAt": _at(p["paid_at"]), "reference": p["reference"]}
            for p in figures.payouts
        ],
    }  # fmt: skip


def _payout_details(details: PayoutDetails | None) -> dict[str, Any] | None:
    if details is None:
        return None
    return {
        "method": details.method,
        "accountHolder": details.account_holder,
        "account": details.account,
        "bankName": details.bank_name,
        "notes": details.notes,
        "updatedAt": _at(details.updated_at),
    }


def export_for(user: User) -> dict[str, Any]:
    """Everything the instance holds about ``user``, as one JSON-ready document. A fixed number of
    queries (about twenty), whatever the number of rows. API key hashes are never included."""
    claims = _claims(user)
    payments = Payment.objects.filter(invoice__user=user).select_related("invoice__dataset").order_by("created_at")
    downloads = (
        DownloadRecord.objects.filter(user=user)
        .values("dataset_id", "dataset__name", "kind")
        .annotate(count=Count("id"))
        .order_by("dataset__name", "kind")
    )
    return {
        "format": EXPORT_FORMAT,
        "exportedAt": timezone.now().isoformat(),
        "account": {
            "id": user.public_id,
            "username": user.get_username(),
            "email": user.email,
            "firstName": user.first_name,
            "lastName": user.last_name,
            "joinedAt": _at(user.date_joined),
            "lastLoginAt": _at(user.last_login),
            "active": user.is_active,
        },
        "memberships": [
            {
                "organization": {"id": m.organization_id, "slug": m.organization.slug, "name": m.organization.name},
                "role": m.role,
                "since": _at(m.created_at),
            }
            for m in Membership.objects.filter(user=user).select_related("organization").order_by("created_at")
        ],  # fmt: skip
        "claims": [
            {
                "organization": {"id": c.organization_id, "name": c.organization.name},
                "contributorId": c.contributor_id,
                "payeeEmail": c.payee_email,
                "claimedAt": _at(c.claimed_at),
            }
            for c in claims
        ],  # fmt: skip
        "consentRecords": _consent_records(claims),
        "withdrawals": _withdrawals(user, claims),
        "earnings": _earnings(user),
        "payoutDetails": _payout_details(payout_details_of(user)),
        "licenseGrants": [
            {
                "id": g.id,
                "dataset": {"id": g.dataset_id, "name": g.dataset.name},
                "version": g.version.number,
                "license": g.license.abbreviation,
                "organization": g.organization_id,
                "termsSha256": g.terms_sha256,
                "source": g.source,
                "acceptedAt": _at(g.created_at),
            }
            for g in LicenseGrant.objects.filter(user=user).select_related("dataset", "version", "license")
        ],  # fmt: skip
        "invoices": [
            {
                "id": i.id,
                "dataset": {"id": i.dataset_id, "name": i.dataset.name},
                "amountCents": i.amount_cents,
                "currency": i.currency,
                "status": i.status,
                "createdAt": _at(i.created_at),
                "paidAt": _at(i.paid_at),
            }
            for i in Invoice.objects.filter(user=user).select_related("dataset").order_by("created_at")
        ],  # fmt: skip
        "payments": [
            {
                "invoiceId": p.invoice_id,
                "dataset": {"id": p.invoice.dataset_id, "name": p.invoice.dataset.name},
                "amountCents": p.amount_cents,
                "currency": p.currency,
                "provider": p.provider,
                "reference": p.reference,
                "paidAt": _at(p.created_at),
            }
            for p in payments
        ],  # fmt: skip
        "accessRequests": [
            {
                "id": r.id,
                "dataset": {"id": r.dataset_id, "name": r.dataset.name},
                "fullName": r.full_name,
                "organizationName": r.organization_name,
                "intendedUse": r.intended_use,
                "status": r.status,
                "reason": r.reason,
                "requestedAt": _at(r.created_at),
                "decidedAt": _at(r.decided_at),
            }
            for r in AccessRequest.objects.filter(user=user).select_related("dataset").order_by("created_at")
        ],  # fmt: skip
        "apiKeys": [
            {
                "name": k.name,
                "prefix": k.prefix,
                "scopes": list(k.scopes),
                # What the key may reach: "all", or one organization, or some datasets.
                "limit": {
                    "kind": k.limit,
                    "organization": k.organization.slug if k.organization else None,
                    "datasets": sorted(d.slug for d in k.datasets.all()),
                },
                "createdAt": _at(k.created_at),
                "expiresAt": _at(k.expires_at),
                "revokedAt": _at(k.revoked_at),
                "lastUsedAt": _at(k.last_used_at),
            }
            for k in ApiKey.objects.filter(user=user)
            .select_related("organization")
            .prefetch_related("datasets")
            .order_by("created_at")
        ],  # fmt: skip
        "downloads": [
            {
                "dataset": {"id": row["dataset_id"], "name": row["dataset__name"]},
                "kind": row["kind"],
                "count": row["count"],
            }
            for row in downloads
        ],  # fmt: skip
    }


# --- Deletion -------------------------------------------------------------------------------------


class Refusal(enum.Enum):
    UNCONFIRMED = "unconfirmed"  # the password did not confirm it is them
    ONLY_OWNER = "only_owner"
    STILL_OWED = "still_owed"
    PAYOUT_PENDING = "payout_pending"


@dataclass(frozen=True)
class Reason:
    refusal: Refusal
    message: str


class DeletionRefused(Exception):
    """The account was not deleted, for these reasons (all of them at once); nothing changed."""

    def __init__(self, reasons: list[Reason]) -> None:
        super().__init__(" ".join(r.message for r in reasons))
        self.reasons = reasons

    @property
    def refusals(self) -> set[Refusal]:
        return {r.refusal for r in self.reasons}


def _sole_owned(user: User) -> list[Organization]:
    owned = Membership.objects.filter(user=user, role=Membership.Role.OWNER).values("organization_id")
    shared = (
        Membership.objects.filter(organization_id__in=owned, role=Membership.Role.OWNER)
        .exclude(user=user)
        .values("organization_id")
    )
    return list(Organization.objects.filter(id__in=owned).exclude(id__in=shared).order_by("name"))


def _balances(accounts: list[int]) -> dict[str, int]:
    """currency -> cents we owe on these accounts (only what is above zero)."""
    owed: dict[str, int] = defaultdict(int)
    rows = LedgerEntry.objects.filter(account_id__in=accounts).values("transaction__currency").annotate(t=Sum("amount"))
    for row in rows:
        owed[row["transaction__currency"]] -= row["t"]
    return {currency: cents for currency, cents in sorted(owed.items()) if cents > 0}


def refusals_of(user: User) -> list[Reason]:
    """Why ``user`` cannot delete their account now (their password aside); empty when they can."""
    reasons = [
        Reason(
            Refusal.ONLY_OWNER,
            f"You are the only owner of {org.name}: make another member an owner, or ask staff to close the "
            "organization, before you delete your account.",
        )
        for org in _sole_owned(user)
    ]
    accounts = list(payable_accounts_of(user).values_list("id", flat=True))
    owed = _balances(accounts)
    if owed:
        amounts = " and ".join(money(cents, currency) for currency, cents in owed.items())
        reasons.append(
            Reason(
                Refusal.STILL_OWED,
                f"You are still owed {amounts}: set your payout details and wait for the payout before you "
                "delete your account.",
            )
        )
    pending = PayoutBatch.objects.filter(
        status=PayoutBatch.Status.PENDING,
        transactions__kind=LedgerTransaction.Kind.PAYOUT,
        transactions__entries__account_id__in=accounts,
    ).distinct()
    if accounts and pending.exists():
        reasons.append(
            Reason(
                Refusal.PAYOUT_PENDING,
                "A payout to you is on its way and not yet confirmed: delete your account once it has arrived.",
            )
        )
    return reasons


def _scrub_account_names(user: User) -> None:
    """Ledger accounts are evidence the database refuses to change, but for the display name of a
    payable account in a transaction that says it anonymizes someone (migration 0010)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('datacollective.anonymizing', 'on', true)")
        LedgerAccount.objects.filter(id__in=payable_accounts_of(user).values("id")).update(
            name=f"{DELETED_NAME} {user.public_id}"
        )
        cursor.execute("SELECT set_config('datacollective.anonymizing', 'off', true)")


@transaction.atomic
def delete_account(*, user: User, password: str) -> User:
    """Anonymize ``user`` and close their account, in one transaction, or raise ``DeletionRefused``
    and change nothing. Their sessions end with it: Django checks a session against a hash of the
    password, which is replaced, and an inactive user is never signed in."""
    locked = User.objects.select_for_update().get(id=user.id)
    if not locked.is_active:
        raise DeletionRefused([Reason(Refusal.UNCONFIRMED, "This account is already deleted.")])
    if not password or not locked.check_password(password):
        raise DeletionRefused([Reason(Refusal.UNCONFIRMED, "That is not your password.")])
    # Lock what is owed to them, so that a payout or a refund cannot move it while we look.
    list(payable_accounts_of(locked).select_for_update().order_by("id").values_list("id", flat=True))
    reasons = refusals_of(locked)
    if reasons:
        raise DeletionRefused(reasons)

    now = timezone.now()
    ApiKey.objects.filter(user=locked, revoked_at__isnull=True).update(revoked_at=now)
    Membership.objects.filter(user=locked).delete()
    # Invitations name the person by email address: those they accepted, and those still open to them.
    invited = (
        Q(accepted_by=locked) | Q(email__iexact=locked.email, accepted_at__isnull=True)
        if locked.email
        else Q(accepted_by=locked)
    )
    Invitation.objects.filter(invited).delete()
    PayoutDetails.objects.filter(user=locked).delete()
    Invoice.objects.filter(user=locked, status=Invoice.Status.OPEN).update(
        status=Invoice.Status.VOID, closed_at=timezone.now(), closed_reason="The licensee deleted their account."
    )
    pending = list(
        AccessRequest.objects.filter(user=locked, status=AccessRequest.Status.PENDING).values_list("id", flat=True)
    )
    # Pending -> rejected is the state machine's only way out of pending but approval; the reason
    # says the requester withdrew it. Conditional, as every move of a request.
    AccessRequest.objects.filter(id__in=pending, status=AccessRequest.Status.PENDING).update(
        status=AccessRequest.Status.REJECTED,
        decided_by=locked,
        decided_at=now,
        reason="Withdrawn: the requester deleted their account.",
    )
    for access in AccessRequest.objects.filter(id__in=pending, status=AccessRequest.Status.REJECTED):
        provenance_events.access_decided(access)
    AccessRequest.objects.filter(user=locked).update(full_name=DELETED_NAME)
    _scrub_account_names(locked)

    locked.username = f"deleted-{locked.public_id}"
    locked.email = ""
    locked.first_name = ""
    locked.last_name = ""
    locked.password = make_password(None)  # unusable: no sign-in, and every session's hash stops matching
    locked.is_active = False
    locked.is_staff = False
    locked.is_superuser = False
    locked.save()
    return locked
