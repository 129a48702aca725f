"""The demo world, built through the services the pages and the API call, as a busy instance's
data would be: archives uploaded to real storage on presigned part URLs, validated, submitted
with consent terms, records and a revenue split, reviewed; then licensed, bought, requested,
downloaded, withdrawn, taken down and paid out.

Every step first looks for what it would make, so a second run changes nothing: a dataset by
its slug, a submission by its organization and name, a request or a grant by its user and
dataset. A run that died half-way leaves at most an unfinished draft, and the next run carries
on with a fresh one.
"""

from __future__ import annotations

import hashlib
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.hashers import make_password
from django.utils.text import slugify

from licensing.access import access_requests as access
from licensing.access import downloads, grants
from licensing.consent import releases, withdrawals
from licensing.consent import terms as consent
from licensing.consent.inputs import ConsentTermsInput
from licensing.contributors import claims
from licensing.licenses import Permissions, create_license
from licensing.models import (
    AccessRequest,
    ConsentWithdrawal,
    ContributorClaim,
    DownloadRecord,
    LedgerAccount,
    License,
    LicenseGrant,
    PayoutBatch,
)
from licensing.revenue import ledger, payments
from marketplace import storage
from marketplace.demo import archives
from marketplace.demo.people import (
    CONTRIBUTOR,
    DEMO_TOTP_SECRET,
    ORGANIZATIONS,
    ROLES,
    SECOND_FACTOR_ROLES,
    STAFF,
    password_of,
    usernames,
)
from marketplace.models import Dataset, DatasetVersion, Organization, Submission, Upload, User
from marketplace.organizations.services import add_member, approve_organization, create_organization
from marketplace.publishing import takedown_dataset
from marketplace.submissions import drafts, review, uploads, validation
from marketplace.submissions.inputs import DatasheetChanges, shares_from_json
from marketplace.viewer import exports

LICENSES: list[dict[str, Any]] = [
    {
        "spdx_id": "CC-BY-4.0",
        "name": "Creative Commons Attribution 4.0 International",
        "url": "https://creativecommons.org/licenses/by/4.0/legalcode",
        "permissions": Permissions(True, True, True, True, True, False),
    },
    {
        "spdx_id": "CC-BY-NC-4.0",
        "name": "Creative Commons Attribution-NonCommercial 4.0 International",
        "url": "https://creativecommons.org/licenses/by-nc/4.0/legalcode",
        "permissions": Permissions(False, True, True, True, True, False),
    },
    {
        "spdx_id": "CC0-1.0",
        "name": "Creative Commons Zero v1.0 Universal",
        "url": "https://creativecommons.org/publicdomain/zero/1.0/legalcode",
        "permissions": Permissions(True, True, True, True, False, False),
    },
]

CONSENT = {
    "aiTraining": True, "commercialUse": True, "researchOnly": False, "redistribution": True, "derivatives": True,
    "scope": "Training and evaluating language and speech models.",
    "consentText": "I agree that my contributions may be used to train and evaluate language and speech models, "
                   "by anyone who licenses them, and that I may withdraw this consent at any time.",
    "collectionStart": "2025-01-06", "collectionEnd": "2025-06-30",
    "withdrawalProcess": "Email privacy@example.org with your contributor id; we re-release without your records.",
}  # fmt: skip
RESEARCH_CONSENT = {
    **CONSENT,
    "commercialUse": False,
    "researchOnly": True,
    "consentText": "I agree that my contributions may be used for non-commercial research only.",
}
SPEAKERS = [f"c-00{i + 1}" for i in range(len(archives.WELSH_SENTENCES))]
WITHDRAWN_CLIP = 3  # the speaker c-004 withdraws; version 2 is published without their clip


@dataclass(frozen=True)
class Story:
    """One submission, from draft to its outcome: ``approved`` (a published dataset),
    ``submitted`` (in the review queue), ``rejected`` (with ``reason``) or ``draft``."""

    name: str
    organization: str
    author: str
    outcome: str
    datasheet: dict[str, Any]
    archive: Callable[[], bytes] | None = None
    sample: Callable[[], bytes] | None = None
    reviewer: str = ""
    reason: str = ""
    split: list[dict[str, Any]] = field(default_factory=list)  # default: all to the author
    consent: dict[str, Any] = field(default_factory=lambda: CONSENT)
    records: list[str] = field(default_factory=lambda: ["c-001", "c-002", "c-003"])
    record_id_column: str = ""  # the index files' column naming each record (not in the MDC datasheet)
    contributor_id_column: str = ""  # and the one holding each record's contributor id

    @property
    def slug(self) -> str:
        return slugify(self.name)  # what approval names the dataset (``review._unique_slug``)


def _sheet(short: str, **fields: Any) -> dict[str, Any]:
    return {
        "shortDescription": short,
        "longDescription": short + " Built for the demo of this instance; every file is synthetic or consented.",
        "locale": "en", "task": "NLP", "format": "CSV", "licenseAbbreviation": "CC-BY-4.0",
        "intendedUsage": "Trying the marketplace: browse, license, download and verify.",
        "pointOfContactFullName": "Demo Contact", "pointOfContactEmail": "contact@example.org",
        **fields,
    }  # fmt: skip


STORIES = [
    # Common Voices
    Story("Tiny Welsh Speech", "common-voices", "voices-member", "approved", reviewer="demo-reviewer",
          archive=archives.speech, sample=archives.speech_sample, records=SPEAKERS, record_id_column="path",
          contributor_id_column="client_id",
          datasheet=_sheet("Five short Welsh utterances with transcripts, for testing ASR pipelines.",
                           longDescription="A **small** speech corpus: `train.tsv` lists `clips/*.wav` files, their "
                                           "sentences and each speaker's pseudonymous id.",
                           locale="cy", task="ASR", format="TSV, WAV",
                           intendedUsage="Training and evaluating speech recognition for Welsh.")),
    Story("Support Dialogues", "common-voices", "voices-member-2", "approved", reviewer="voices-reviewer",
          archive=archives.dialogues, sample=archives.dialogues_sample,
          split=[{"username": "demo-owner", "basisPoints": 5000}, {"username": "voices-member-2", "basisPoints": 3000},
                 {"name": "Ana Agent", "email": "ana.agent@example.org", "basisPoints": 2000}],
          datasheet=_sheet("Forty anonymised support conversations for fine-tuning assistants.",
                           task="LLM", format="JSONL", isPaid=True, basePriceCents=25_000)),
    Story("Synthetic Clinical Notes", "common-voices", "voices-admin", "approved", reviewer="demo-reviewer",
          archive=archives.clinical_notes, consent=RESEARCH_CONSENT,
          datasheet=_sheet("Synthetic clinical notes; access on request for research use.",
                           licenseAbbreviation="CC-BY-NC-4.0", visibility="restricted",
                           restrictions="Research use only; no re-identification attempts.",
                           forbiddenUsage="Clinical decision making.")),
    Story("Internal QA Prompts", "common-voices", "voices-admin-2", "approved", reviewer="demo-reviewer",
          archive=archives.qa_prompts,
          datasheet=_sheet("Prompts Common Voices uses to check its own models; members only.",
                           task="LLM", format="JSONL", visibility="private")),
    Story("Valley Voices", "common-voices", "voices-member", "submitted",
          archive=lambda: archives.speech(without=frozenset({0, 1})), records=SPEAKERS[2:],
          datasheet=_sheet("Three more Welsh utterances from the valleys, waiting for review.",
                           locale="cy", task="ASR", format="TSV, WAV")),
    Story("Ceredigion Dialect Notes", "common-voices", "voices-member-2", "draft", archive=archives.dialect_notes,
          datasheet=_sheet("Dialect words and their meanings, still a draft.", locale="cy")),
    # Open Text Lab
    Story("Parallel en-fr Mini", "open-text-lab", "textlab-member", "approved", reviewer="textlab-reviewer",
          archive=archives.parallel,
          datasheet=_sheet("English-French sentence pairs in JSON Lines.", locale="fr", task="MT", format="JSONL",
                           licenseAbbreviation="CC0-1.0")),
    Story("Newswire Headlines", "open-text-lab", "textlab-member-2", "approved", reviewer="textlab-reviewer-2",
          archive=archives.headlines,
          datasheet=_sheet("Twenty local news headlines; access on request, approved at once.",
                           visibility="restricted", autoApproveAccessRequests=True)),
    Story("Lab Eval Prompts", "open-text-lab", "textlab-admin", "approved", reviewer="textlab-reviewer",
          archive=archives.eval_prompts,
          datasheet=_sheet("The lab's held-out evaluation prompts; members only.", task="LLM", format="JSONL",
                           visibility="private")),
    Story("Scraped Forum Posts", "open-text-lab", "textlab-member", "rejected", reviewer="textlab-reviewer",
          archive=archives.forum_posts,
          reason="The forum's users never agreed to this use: collect consent first, then submit again.",
          datasheet=_sheet("Posts from a public forum.", format="JSONL")),
    Story("German-English Pairs", "open-text-lab", "textlab-member-2", "draft",
          datasheet=_sheet("Sentence pairs, no archive uploaded yet.", locale="de", task="MT", format="JSONL")),
    # Clinic Data Co-op
    Story("Clinical Trial Abstracts", "clinic-data-coop", "clinic-member", "approved", reviewer="clinic-reviewer",
          archive=archives.trial_abstracts, consent=RESEARCH_CONSENT,
          split=[{"username": "clinic-owner", "basisPoints": 7000}, {"username": "clinic-member", "basisPoints": 3000}],
          datasheet=_sheet("Synthetic trial abstracts: access on request, then paid.", visibility="restricted",
                           licenseAbbreviation="CC-BY-NC-4.0", isPaid=True, basePriceCents=15_000,
                           restrictions="Research use only.")),
    Story("Radiology Report Snippets", "clinic-data-coop", "clinic-member-2", "approved", reviewer="clinic-reviewer-2",
          archive=archives.radiology, datasheet=_sheet("Short synthetic radiology findings.")),
    Story("Co-op Member Survey", "clinic-data-coop", "clinic-admin", "approved", reviewer="clinic-reviewer",
          archive=archives.survey, datasheet=_sheet("What the co-op's members think of it; members only.",
                                                    visibility="private")),
    Story("Discharge Summaries", "clinic-data-coop", "clinic-member", "submitted", archive=archives.discharge_summaries,
          consent=RESEARCH_CONSENT, datasheet=_sheet("Synthetic discharge summaries, waiting for review.",
                                                     licenseAbbreviation="CC-BY-NC-4.0", visibility="restricted")),
    Story("Triage Chat Logs", "clinic-data-coop", "clinic-member-2", "rejected", reviewer="clinic-reviewer-2",
          archive=archives.dialogues, reason="These are support dialogues, not triage chats: upload the right archive.",
          datasheet=_sheet("Chats between patients and a triage nurse.", format="JSONL")),
]  # fmt: skip
TAKEDOWN = ("radiology-report-snippets", "A clinic withdrew its agreement to share these reports; the co-op's legal "
                                         "contact is reviewing it.")  # fmt: skip


class World:
    """Builds the demo; ``users`` and ``organizations`` are filled as it goes."""

    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.organizations: dict[str, Organization] = {}
        self.created: list[str] = []  # what this run added, for the report

    def build(self) -> None:
        storage.ensure_bucket()
        self._people()
        self._licenses()
        for story in STORIES:
            self._story(story)
        self._licensing()
        self._withdrawal_and_next_version()
        self._downloads()
        self._takedown()
        self._payout()
        self._parquet()
        self._claims()

    # --- People -------------------------------------------------------------------------------

    def _people(self) -> None:
        existing = {user.username: user for user in User.objects.filter(username__in=usernames())}
        missing = [name for name in usernames() if name not in existing]
        # PBKDF2 costs a third of a second per password by design; hashing them in threads (it
        # releases the GIL) keeps a first run's two dozen new users within a few seconds.
        with ThreadPoolExecutor(max_workers=4) as pool:
            hashes = list(pool.map(lambda name: make_password(password_of(name)), missing))
        for name, hashed in zip(missing, hashes, strict=True):
            staff = name == STAFF
            existing[name] = User.objects.create(
                username=name, email=f"{name}@example.org", password=hashed, is_staff=staff, is_superuser=staff
            )
            self.created.append(f"user {name}")
        self.users = existing
        for spec in ORGANIZATIONS:
            organization = Organization.objects.filter(slug=spec.slug).first()
            if organization is None:
                owner = self.users[spec.members["owner"][0]]
                organization = create_organization(
                    name=spec.name, slug=spec.slug, owner=owner, description=spec.description
                )
                self.created.append(f"organization {spec.slug}")
            for role in ROLES:
                for name in spec.members[role]:
                    add_member(organization=organization, user=self.users[name], role=role)
            self.organizations[spec.slug] = approve_organization(organization=organization)
        self._account_security()

    def _account_security(self) -> None:
        """Every demo address is verified; the people who move money and approve have an
        authenticator app holding DEMO_TOTP_SECRET, so the demo's money and approval pages work."""
        for user in self.users.values():
            EmailAddress.objects.update_or_create(
                user=user, email=user.email, defaults={"verified": True, "primary": True}
            )
        deciders = {STAFF} | {
            name for spec in ORGANIZATIONS for role in SECOND_FACTOR_ROLES for name in spec.members[role]
        }
        for name in sorted(deciders):
            if not Authenticator.objects.filter(user=self.users[name], type=Authenticator.Type.TOTP).exists():
                TOTP.activate(self.users[name], DEMO_TOTP_SECRET)
                self.created.append(f"authenticator app of {name}")

    def _licenses(self) -> None:
        for spec in LICENSES:
            if not License.objects.filter(spdx_id=spec["spdx_id"]).exists():
                create_license(
                    spdx_id=spec["spdx_id"],
                    name=spec["name"],
                    url=spec["url"],
                    text=f"{spec['name']}.\n\nThe full legal code applies, as published at {spec['url']}.\n",
                    permissions=spec["permissions"],
                )

    # --- Submissions --------------------------------------------------------------------------

    def _story(self, story: Story) -> None:
        organization = self.organizations[story.organization]
        if story.outcome == "approved":
            if Dataset.objects.filter(slug=story.slug).exists():
                return
        elif Submission.objects.filter(organization=organization, name=story.name).exclude(status="deleted").exists():
            return
        author = self.users[story.author]
        submission = drafts.create_submission(user=author, name=story.name)
        self._prepare(submission, story, author)
        self._finish(submission, story)
        self.created.append(f"submission {story.name} ({story.outcome})")

    def _prepare(self, submission: Submission, story: Story, author: User) -> None:
        """The datasheet, consent, split and uploads of a draft, as its contributor gives them."""
        if story.datasheet:  # a next version's draft comes with the dataset's datasheet
            drafts.update_submission(submission=submission, changes=DatasheetChanges.from_json(story.datasheet))
        if story.record_id_column or story.contributor_id_column:
            changes = DatasheetChanges.of(
                {"record_id_column": story.record_id_column, "contributor_id_column": story.contributor_id_column}
            )
            drafts.update_submission(submission=submission, changes=changes)
        terms = consent.set_consent_terms(
            submission=submission, user=author, terms=ConsentTermsInput.from_json(story.consent)
        )
        consent.add_consent_records(
            terms=terms,
            rows=[
                {"contributorId": contributor, "givenAt": f"2025-02-{day:02d}T10:00:00Z",
                 "termsSha256": terms.consent_text_sha256}
                for day, contributor in enumerate(story.records, start=1)
            ],
        )  # fmt: skip
        split = story.split or [{"username": story.author, "basisPoints": 10_000}]
        drafts.set_revenue_split(submission=submission, shares=shares_from_json({"contributors": split}))
        if story.archive is not None:
            self._upload(submission, author, Upload.Kind.ARCHIVE, story.archive())
        if story.sample is not None:
            self._upload(submission, author, Upload.Kind.SAMPLE, story.sample())

    def _upload(self, submission: Submission, author: User, kind: str, data: bytes) -> Upload:
        """What a client does (E11-E14: open, PUT the part to storage, complete), then what the
        worker does (read every byte, publish to the validated prefix), in this process."""
        upload = uploads.start_upload(
            submission=submission, user=author, kind=kind, filename=f"{submission.id}-{kind}.tar.gz",
            file_size=len(data), mime_type="application/gzip",
        )  # fmt: skip
        url = uploads.part_url(upload=upload, part_number=1)
        request = urllib.request.Request(url, data=data, method="PUT")  # noqa: S310 (our storage's signed URL)
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            etag = str(response.headers["ETag"]).strip('"')
        completion = uploads.Completion(
            upload_id=upload.s3_upload_id, parts=[(1, etag)], checksum=hashlib.sha256(data).hexdigest()
        )
        upload = uploads.complete_upload(upload=upload, completion=completion)
        validation.run_validation(upload_id=upload.id)
        return upload

    def _finish(self, submission: Submission, story: Story) -> None:
        if story.outcome == "draft":
            return
        submission.refresh_from_db()
        drafts.submit_submission(submission=submission)
        reviewer = self.users.get(story.reviewer)
        if story.outcome == "approved" and reviewer is not None:
            review.approve_submission(submission=submission, reviewer=reviewer)
        elif story.outcome == "rejected" and reviewer is not None:
            review.reject_submission(submission=submission, reviewer=reviewer, reason=story.reason)

    # --- Licensing ----------------------------------------------------------------------------

    def _dataset(self, slug: str) -> Dataset:
        return Dataset.objects.select_related("current_version__license", "organization").get(slug=slug)

    def _accept(self, username: str, slug: str, source: str = "web") -> None:
        dataset, user = self._dataset(slug), self.users[username]
        if LicenseGrant.objects.filter(user=user, dataset=dataset).exists():
            return
        terms = grants.terms_for(dataset=dataset, version=grants.current_version(dataset))
        grants.accept_terms(user=user, dataset=dataset, terms_sha256=terms.sha256, source=source, user_agent="demo")

    def _buy(self, username: str, slug: str, *, paid_by: str | None, organization: str | None = None) -> None:
        """Open an invoice (or find the one opened before) and, with ``paid_by``, record its payment:
        the grant and the ledger's split commit with it."""
        invoice, _ = payments.open_invoice(
            user=self.users[username], dataset=self._dataset(slug), user_agent="demo",
            organization=self.organizations[organization] if organization else None,
        )  # fmt: skip
        if paid_by is not None:
            payments.record_payment(
                invoice_id=invoice.id, recorded_by=self.users[paid_by], reference=f"DEMO-{username}"
            )

    def _request(self, username: str, slug: str, *, decide: tuple[tuple[str, str, str], ...] = ()) -> None:
        """Ask for access, then apply ``decide``: (action, manager, reason) in order."""
        dataset, user = self._dataset(slug), self.users[username]
        if AccessRequest.objects.filter(user=user, dataset=dataset).exists():
            return
        request = access.request_access(
            user=user, dataset=dataset, full_name=username.replace("-", " ").title(),
            organization_name="Example University", intended_use="Evaluating models on the demo data.",
        )  # fmt: skip
        for action, manager, reason in decide:
            by = self.users[manager]
            if action == "approve":
                access.approve(request_id=request.id, by=by)
            elif action == "reject":
                access.reject(request_id=request.id, by=by, reason=reason)
            else:
                access.revoke(request_id=request.id, by=by, reason=reason)

    def _licensing(self) -> None:
        self._accept("demo-licensee", "tiny-welsh-speech")
        self._accept("demo-researcher", "tiny-welsh-speech", source="api")
        self._accept("demo-researcher", "parallel-en-fr-mini", source="api")
        self._accept("textlab-owner", "tiny-welsh-speech")
        # Two sales of Support Dialogues (its split pays demo-owner), and one invoice left open.
        self._buy("demo-researcher", "support-dialogues", paid_by="demo-owner")
        self._buy("textlab-admin", "support-dialogues", paid_by="voices-admin", organization="open-text-lab")
        self._buy("demo-licensee", "support-dialogues", paid_by=None)
        notes = "synthetic-clinical-notes"
        self._request("demo-licensee", notes)
        self._request("demo-researcher", notes, decide=(("approve", "demo-owner", ""),))
        self._accept("demo-researcher", notes)
        self._request("textlab-member", notes, decide=(("reject", "voices-admin", "Say which study this is for."),))
        self._request("clinic-member", notes, decide=(("approve", "demo-owner", ""),
                                                      ("revoke", "voices-admin", "The study ended.")))  # fmt: skip
        self._request("demo-licensee", "newswire-headlines")  # approved at once: the dataset says so
        self._accept("demo-licensee", "newswire-headlines")
        # Gated and paid: access first, then the invoice.
        self._request("demo-researcher", "clinical-trial-abstracts", decide=(("approve", "clinic-owner", ""),))
        self._buy("demo-researcher", "clinical-trial-abstracts", paid_by="clinic-admin")
        self._request("textlab-reviewer", "clinical-trial-abstracts")

    def _withdrawal_and_next_version(self) -> None:
        """Two licensees download Tiny Welsh Speech version 1; speaker c-004 withdraws from it
        (demo-owner records it on their behalf); the re-release job, run here as the worker runs it,
        publishes version 2 without their clip and its row of train.tsv, so version 1 answers 410
        naming it. demo-licensee acknowledges deleting the clip; demo-researcher has not yet."""
        dataset = self._dataset("tiny-welsh-speech")
        owner = self.users["demo-owner"]
        if ConsentWithdrawal.objects.filter(dataset=dataset).exists():
            return
        version_1 = grants.current_version(dataset)
        for username in ("demo-licensee", "demo-researcher"):
            downloads.issue(
                user=self.users[username], api_key=None, dataset=dataset, version=version_1, kind="archive",
                page_url="/datasets/tiny-welsh-speech/", ip_address="127.0.0.1", user_agent="demo",
            )  # fmt: skip
        withdrawal = withdrawals.withdraw_consent(
            by=owner, dataset=dataset, version_number=1, record_ids=[f"clips/clip{WITHDRAWN_CLIP}.wav"],
            file_hashes=[hashlib.sha256(archives.welsh_clip(WITHDRAWN_CLIP)).hexdigest()],
            contributor_id=SPEAKERS[WITHDRAWN_CLIP], reason="The speaker asked us to remove their recording.",
        )  # fmt: skip
        outcome = releases.run_rerelease(rerelease_id=withdrawal.rerelease.id)
        withdrawals.acknowledge_removal(user=self.users["demo-licensee"], dataset=dataset, withdrawal_id=withdrawal.id)
        self.created.append(f"a consent withdrawal from {dataset.name}: {outcome}")

    def _downloads(self) -> None:
        """A few downloads, so the organizations' download analytics have something to show."""
        for username, slug, kind in [
            ("demo-licensee", "tiny-welsh-speech", DownloadRecord.Kind.ARCHIVE),
            ("demo-researcher", "support-dialogues", DownloadRecord.Kind.ARCHIVE),
            ("textlab-admin", "support-dialogues", DownloadRecord.Kind.ARCHIVE),
            ("demo-licensee", "support-dialogues", DownloadRecord.Kind.SAMPLE),
            ("demo-researcher", "clinical-trial-abstracts", DownloadRecord.Kind.ARCHIVE),
        ]:
            dataset, user = self._dataset(slug), self.users[username]
            if DownloadRecord.objects.filter(user=user, dataset=dataset, kind=kind).exists():
                continue
            version = grants.current_version(dataset)
            downloads.issue(
                user=user, api_key=None, dataset=dataset, version=version, kind=kind,
                page_url=f"/datasets/{slug}/", ip_address="127.0.0.1", user_agent="demo",
            )  # fmt: skip

    def _takedown(self) -> None:
        slug, reason = TAKEDOWN
        dataset = self._dataset(slug)
        if dataset.status == Dataset.Status.PUBLISHED:
            takedown_dataset(dataset=dataset, reason=reason, by=self.users[STAFF])

    def _parquet(self) -> None:
        """What the worker does after each validation: the tables as Parquet, for the viewer."""
        for version_id in DatasetVersion.objects.filter(published_at__isnull=False).values_list("id", flat=True):
            exports.export_version(version_id=version_id)

    def _claims(self) -> None:
        """Common Voices emails demo-contributor a claim link for speaker c-002 of Tiny Welsh
        Speech and the share of Support Dialogues paid to Ana Agent's address; they claim it."""
        person = self.users[CONTRIBUTOR]
        if ContributorClaim.objects.filter(claimed_by=person).exists():
            return
        _, link = claims.issue_claim(
            organization=self.organizations["common-voices"], by=self.users["voices-admin"],
            contributor_id=SPEAKERS[1], payee_email="ana.agent@example.org", send_to="ana.agent@example.org",
            claim_url=lambda token: f"/claim/{token}/",
        )  # fmt: skip
        claims.accept_claim(token=link.rstrip("/").rsplit("/", 1)[1], user=person)
        self.created.append(f"{CONTRIBUTOR} claimed speaker {SPEAKERS[1]} and Ana Agent's revenue share")

    def _payout(self) -> None:
        """Staff pay demo-owner half of what they are owed, so their earnings show a payout too."""
        if PayoutBatch.objects.exists():
            return
        account = LedgerAccount.objects.filter(user=self.users["demo-owner"], kind=LedgerAccount.Kind.PAYABLE).first()
        owed = ledger.owed(account, "usd") if account is not None else 0
        if account is None or owed < 2:
            return
        staff = self.users[STAFF]
        batch = ledger.create_payout_batch(amounts={account.id: owed // 2}, currency="usd", created_by=staff)
        ledger.mark_payout_batch_paid(batch_id=batch.id, reference="DEMO-TRANSFER-1", paid_by=staff)
