"""Who may download which version, and the downloads themselves: a decision, a record, a URL.

``decide`` is the one place that says whether a user may download a version and, if not, why:
a ``Refusal`` (a domain reason, not an HTTP status: licensing.access.http_statuses maps it for the
API and the pages) with the plain-language why and, apart, the instruction that says what to do:

- SIGN_IN: nobody is signed in;
- NOT_VISIBLE: a private dataset of an organization the user is not in (its existence is not told);
- TAKEN_DOWN, WITHDRAWN: the dataset was taken down, or the version was withdrawn (the message
  names the replacement, when there is one);
- ACCESS_NOT_APPROVED: access to a restricted dataset is not approved;
- PAYMENT_DUE: a paid dataset the user has not paid for;
- REFUNDED: a paid dataset whose purchase was refunded (its grant revoked), not bought again;
- TERMS_NOT_ACCEPTED: the current terms are not accepted (the instruction names the page where
  they are);
- NO_SAMPLE: the sample asked for does not exist.

Members of the dataset's organization download without a grant (it is their data); samples
need no grant (they exist to decide whether to license). Everything else needs a grant for the
version's current terms hash. Bytes never pass through Django: a download is a presigned GET.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from licensing.access import access_requests
from licensing.access.grants import terms_for
from licensing.consent.withdrawals import gone_message
from licensing.models import ApiKey, DownloadRecord, LicenseGrant
from licensing.revenue import payments, refunds
from marketplace import storage
from marketplace.models import Dataset, DatasetVersion, User
from marketplace.publishing import takedown_sentence

Kind = DownloadRecord.Kind


class Refusal(enum.Enum):
    """Why a download is refused."""

    SIGN_IN = "sign-in"
    NOT_VISIBLE = "not-visible"
    TAKEN_DOWN = "taken-down"
    WITHDRAWN = "withdrawn"
    ACCESS_NOT_APPROVED = "access-not-approved"
    PAYMENT_DUE = "payment-due"
    REFUNDED = "refunded"
    TERMS_NOT_ACCEPTED = "terms-not-accepted"
    NO_SAMPLE = "no-sample"


@dataclass(frozen=True)
class Verdict:
    """Allowed (``refusal`` None, with the ``basis`` and the ``grant_id`` it rests on) or refused: the
    ``refusal``, ``why`` in plain words, and the ``instruction`` that says what to do about it."""

    refusal: Refusal | None = None
    why: str = ""
    instruction: str = ""
    basis: str = ""
    grant_id: int | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None

    @property
    def message(self) -> str:
        """The whole sentence a refused caller reads: the why, then the instruction."""
        return " ".join(part for part in (self.why, self.instruction) if part)


def decide(*, user: object, dataset: Dataset, version: DatasetVersion, kind: str, page_url: str) -> Verdict:
    """May ``user`` download ``kind`` of ``version``? ``page_url`` is the dataset page the
    messages send people to (absolute for API callers).

    Membership, withdrawal and the grant are read in one query (``_facts``), exact at the time
    of the call: nothing of the decision is cached."""
    if not isinstance(user, User) or not user.is_authenticated:
        return Verdict(Refusal.SIGN_IN, instruction=_("Sign in, or send an API key with the 'download' scope."))
    terms = terms_for(dataset=dataset, version=version)
    member, withdrawn, grant_id = _facts(user=user, dataset=dataset, version=version, terms_sha256=terms.sha256)
    if dataset.visibility == Dataset.Visibility.PRIVATE and not member:
        return Verdict(Refusal.NOT_VISIBLE, _("No dataset with id '%(id)s'.") % {"id": dataset.id})
    if dataset.status == Dataset.Status.REMOVED:
        return Verdict(Refusal.TAKEN_DOWN, takedown_sentence(dataset.name, dataset.removal_reason))
    if withdrawn:
        return Verdict(Refusal.WITHDRAWN, gone_message(version))
    if member:
        return Verdict(basis="member")
    if kind == Kind.SAMPLE:
        return Verdict(basis="sample")
    restricted = dataset.visibility == Dataset.Visibility.RESTRICTED
    if restricted and not access_requests.has_access(user=user, dataset=dataset):
        latest = access_requests.latest_request(user=user, dataset=dataset)
        state = {
            "pending": _("Your access request is pending: the owner has not decided yet."),
            "rejected": _("Your access request was rejected: %(reason)s") % {"reason": latest.reason if latest else ""},
            "revoked": _("Your access was revoked: %(reason)s") % {"reason": latest.reason if latest else ""},
        }.get(latest.status if latest else "", _("Access to this dataset is granted on request."))
        return Verdict(Refusal.ACCESS_NOT_APPROVED, state, _("Request access at %(url)s#access") % {"url": page_url})
    if dataset.is_paid and not payments.has_paid(user=user, dataset=dataset):
        refund = refunds.refunded_purchase(user=user, dataset=dataset)
        if refund is not None:
            return Verdict(
                Refusal.REFUNDED,
                refunds.refund_sentence(refund, dataset.name),
                _("Buy it again at %(url)s#access to download it.") % {"url": page_url},
            )
        return Verdict(
            Refusal.PAYMENT_DUE,
            _("%(name)s is paid and you have not bought it.") % {"name": dataset.name},
            _(
                "Buy it at %(url)s#access or with POST /api/v1/datasets/%(id)s/purchases; "
                "the download opens once the payment is recorded."
            )
            % {"url": page_url, "id": dataset.id},
        )
    if grant_id is None:
        earlier = LicenseGrant.objects.filter(user=user, dataset=dataset).exists()
        why = _("The terms changed since you accepted them.") if earlier else _("You have not accepted the terms.")
        return Verdict(
            Refusal.TERMS_NOT_ACCEPTED,
            why,
            _(
                "Read and accept them at %(url)s#access (or POST /api/v1/datasets/%(id)s/grants "
                'with {"termsSha256": "%(sha)s"}).'
            )
            % {"url": page_url, "id": dataset.id, "sha": terms.sha256},
        )
    return Verdict(basis="grant", grant_id=grant_id)


# One statement for the three facts every download needs, as the ORM's
# access_requests.is_member, consent.withdrawals.withdrawn_versions and grants.grants_covering
# define them (tests/licensing/access/test_download_facts.py holds them equal). Plain SQL: the
# same query built by the ORM costs about 7 ms of Python per call, its execution 0.2 ms.
_FACTS_SQL = """
SELECT
    EXISTS (SELECT 1 FROM marketplace_membership m
            WHERE m.organization_id = %(organization)s AND m.user_id = %(user)s),
    EXISTS (SELECT 1 FROM licensing_consentwithdrawal w
            WHERE w.dataset_id = %(dataset)s AND w.version_id = %(version)s)
    OR EXISTS (SELECT 1 FROM licensing_rerelease r
               WHERE r.dataset_id = %(dataset)s AND r.source_version_id = %(version)s
                 AND NOT (r.removed_files = '[]'::jsonb AND r.removed_rows = '{}'::jsonb)),
    (SELECT g.id FROM licensing_licensegrant g
     WHERE g.user_id = %(user)s AND g.dataset_id = %(dataset)s AND g.terms_sha256 = %(terms)s
       AND NOT EXISTS (SELECT 1 FROM licensing_refund f WHERE f.grant_id = g.id)
     ORDER BY g.created_at DESC, g.id DESC LIMIT 1)
"""


def _facts(
    *, user: User, dataset: Dataset, version: DatasetVersion, terms_sha256: str
) -> tuple[bool, bool, int | None]:
    """Whether ``user`` is a member of the dataset's organization, whether ``version`` is
    withdrawn, and the newest grant covering these terms, in one round trip. Read at the time of
    the call, never cached: a revoked grant or a withdrawal stops the next download."""
    parameters: dict[str, str | int] = {
        "organization": dataset.organization_id,
        "user": user.pk,
        "dataset": dataset.id,
        "version": version.id,
        "terms": terms_sha256,
    }
    with connection.cursor() as cursor:
        cursor.execute(_FACTS_SQL, parameters)
        member, withdrawn, grant_id = cursor.fetchone()
    return bool(member), bool(withdrawn), grant_id


@dataclass(frozen=True)
class IssuedDownload:
    url: str
    filename: str
    size_bytes: int
    sha256: str | None
    expires_at: datetime
    record: DownloadRecord


class DownloadRefused(Exception):
    """A refused download; the message is the verdict's whole sentence."""

    def __init__(self, verdict: Verdict) -> None:
        if verdict.refusal is None:
            raise ValueError("An allowed verdict is no refusal.")
        super().__init__(verdict.message)
        self.verdict = verdict
        self.refusal: Refusal = verdict.refusal


def admit(*, user: object, dataset: Dataset, version: DatasetVersion, kind: str, page_url: str) -> Verdict:
    """``decide``, raising ``DownloadRefused`` unless the download is allowed."""
    verdict = decide(user=user, dataset=dataset, version=version, kind=kind, page_url=page_url)
    if not verdict.allowed:
        raise DownloadRefused(verdict)
    return verdict


def record(
    *,
    verdict: Verdict,
    user: object,
    api_key: ApiKey | None,
    dataset: Dataset,
    version: DatasetVersion,
    kind: str,
    ip_address: str | None,
    user_agent: str,
) -> DownloadRecord:
    """The download record of an admitted download, written before any URL is signed."""
    if not verdict.allowed or not isinstance(user, User):  # admit() refused these already; this tells mypy
        raise DownloadRefused(
            verdict if not verdict.allowed else Verdict(Refusal.SIGN_IN, instruction="Sign in first.")
        )
    return DownloadRecord.objects.create(
        user=user,
        api_key=api_key,
        dataset=dataset,
        version=version,
        grant_id=verdict.grant_id,
        kind=kind,
        basis=verdict.basis,
        ip_address=ip_address,
        user_agent=user_agent[:500],
    )


def issue(
    *,
    user: object,
    api_key: ApiKey | None,
    dataset: Dataset,
    version: DatasetVersion,
    kind: str,
    page_url: str,
    ip_address: str | None,
    user_agent: str,
) -> IssuedDownload:
    """Decide, record the download, and sign a short-lived GET for it. Raises DownloadRefused.

    The URL's expiry (``DOWNLOAD_URL_SECONDS``) only bounds when a request may *start*: storage
    checks it then, so a long download runs to the end, and a resume asks for a new URL."""
    verdict = admit(user=user, dataset=dataset, version=version, kind=kind, page_url=page_url)
    if kind == Kind.SAMPLE:
        if not version.sample_key:
            raise DownloadRefused(Verdict(Refusal.NO_SAMPLE, f"{dataset.name} version {version.number} has no sample."))
        key, filename, size, sha256 = version.sample_key, version.sample_filename, version.sample_size_bytes, None
    else:
        key, filename, size, sha256 = version.archive_key, version.filename, version.size_bytes, version.sha256
    row = record(verdict=verdict, user=user, api_key=api_key, dataset=dataset, version=version, kind=kind,
                 ip_address=ip_address, user_agent=user_agent)  # fmt: skip
    seconds = settings.DOWNLOAD_URL_SECONDS
    url = storage.presigned_get(key, filename=filename, expires_in=seconds)
    return IssuedDownload(url, filename, int(size or 0), sha256, row.created_at + timedelta(seconds=seconds), row)


def archive_download_count(*, dataset: Dataset) -> int:
    """How many times the dataset's archives were downloaded (every version; samples apart)."""
    return DownloadRecord.objects.filter(dataset=dataset, kind=Kind.ARCHIVE).count()


@dataclass(frozen=True)
class DailyCount:
    day: date
    count: int


@dataclass(frozen=True)
class Analytics:
    days: list[DailyCount]
    by_dataset: list[tuple[str, str, int, int]]  # name, slug, archive downloads, distinct licensees
    total: int
    peak: int


def analytics(*, organization_id: str, days: int = 30) -> Analytics:
    """Downloads of the organization's datasets: per day over ``days`` days (every day present,
    zeros included, for the chart) and per dataset. Three queries whatever the volume."""
    today = timezone.now().date()
    start = today - timedelta(days=days - 1)
    records: QuerySet[DownloadRecord] = DownloadRecord.objects.filter(
        dataset__organization_id=organization_id, created_at__date__gte=start
    )
    per_day = dict(
        records.annotate(day=TruncDate("created_at")).values("day").annotate(n=Count("id")).values_list("day", "n")
    )
    series = [DailyCount(start + timedelta(days=i), per_day.get(start + timedelta(days=i), 0)) for i in range(days)]
    per_dataset = (
        DownloadRecord.objects.filter(dataset__organization_id=organization_id, kind=Kind.ARCHIVE)
        .values("dataset__name", "dataset__slug")
        .annotate(n=Count("id"), users=Count("user", distinct=True))
        .order_by("-n", "dataset__name")
    )
    rows = [(row["dataset__name"], row["dataset__slug"], row["n"], row["users"]) for row in per_dataset]
    return Analytics(series, rows, sum(d.count for d in series), max((d.count for d in series), default=0))
