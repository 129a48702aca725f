"""A realistic world for the suites that judge the app as its users meet it.

Built once per test session through the same services people go through (a draft, its datasheet,
consent terms and records, a revenue split, archives uploaded part by part to real storage on
presigned URLs, validation, submission, review and approval), then kept: ``ensure_world``
restores it from a snapshot whenever a transactional test flushed the database.

Three organizations, each with five members of every role; datasets public, restricted and
private, free, paid and both restricted and paid; a dataset with three versions; a consent
withdrawal and a takedown; lineage; grants from acceptance, approval and payment; invoices open
and paid; access requests in every state; downloads; submissions in every state a draft passes
through. A fixture with one member and one dataset hides join bugs that every real user meets
(a dataset listed once per member once answered 500 to every signed-in caller).

Handles name what each object is, so a test reads as the situation it checks:
``world.people["valley.reviewer"]``, ``world.datasets["valley-paid"]``, ``world.key("licensee")``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import requests
from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, transaction

from licensing.access import access_requests as access
from licensing.access import grants
from licensing.access.downloads import Kind as DownloadKind
from licensing.access.downloads import issue as issue_download
from licensing.consent import terms as consent
from licensing.consent import withdrawals
from licensing.consent.inputs import ConsentTermsInput
from licensing.keys.services import create_api_key
from licensing.models import AccessRequest, ApiKey, Invoice, LicenseGrant, Payment
from licensing.revenue import payments
from marketplace import storage
from marketplace.models import Dataset, DatasetVersion, Membership, Organization, Submission, Upload, User
from marketplace.organizations.services import add_member, approve_organization, create_organization
from marketplace.publishing import takedown_dataset
from marketplace.submissions import drafts, review, uploads, validation
from marketplace.submissions.inputs import DatasheetChanges, shares_from_json
from marketplace.viewer import exports
from provenance import members
from provenance.lineage import parent_refs, set_parents
from tests.archive_builders import wav_bytes
from tests.factories import license_for, tar_gz, verify_email
from tests.second_factor import enroll_second_factor

ROLES = ("owner", "admin", "member", "member2", "reviewer")
ORGANIZATIONS = {
    "valley": ("Valley Voices Lab", "valley-voices"),
    "harbor": ("Harbor Health Data", "harbor-health"),
    "north": ("Northwind Text Collective", "northwind-text"),
}
# People outside every organization, each in one situation a licensee can be in.
OUTSIDERS = ("licensee", "buyer", "requester", "refused", "revoked", "newcomer", "staff")
PASSWORD = "a-long-world-password"
CONSENT = {
    "aiTraining": True,
    "commercialUse": True,
    "researchOnly": False,
    "redistribution": True,
    "derivatives": True,
    "scope": "Speech and language models.",
    "consentText": "My recordings and texts may train models.",
    "collectionStart": "2025-01-01",
    "collectionEnd": "2025-06-30",
    "withdrawalProcess": "Write to us with your id.",
}
RESTRICTED_CONSENT = {**CONSENT, "commercialUse": False, "researchOnly": True}


@dataclass
class World:
    """The handles of everything the world holds, and every person's raw API key (all scopes)."""

    orgs: dict[str, Organization] = field(default_factory=dict)
    people: dict[str, User] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    datasets: dict[str, Dataset] = field(default_factory=dict)
    submissions: dict[str, Submission] = field(default_factory=dict)
    uploads: dict[str, Upload] = field(default_factory=dict)
    grants: dict[str, LicenseGrant] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    access_requests: dict[str, AccessRequest] = field(default_factory=dict)
    archives: dict[str, bytes] = field(default_factory=dict)  # dataset handle -> its current archive's bytes
    samples: dict[str, bytes] = field(default_factory=dict)  # dataset handle -> its current sample's bytes

    def key(self, person: str) -> str:
        return self.keys[person]

    def member(self, org: str, role: str) -> User:
        return self.people[f"{org}.{role}"]

    def version(self, dataset: str, number: int) -> DatasetVersion:
        return self.datasets[dataset].versions.get(number=number)

    def refresh(self) -> None:
        """Reload every object from the database (after a restore, or a test's own change)."""
        for group in (
            self.orgs,
            self.people,
            self.datasets,
            self.submissions,
            self.uploads,
            self.grants,
            self.invoices,
            self.payments,
            self.access_requests,
        ):
            objects: dict[str, Any] = group
            for obj in objects.values():
                obj.refresh_from_db()


def speech_files(name: str, *, clips: int = 3) -> dict[str, bytes]:
    rows = "".join(f"clips/{name}-{i}.wav\tsentence {i} of {name}\tc-{i}\n" for i in range(clips))
    return {
        "train.tsv": f"path\tsentence\tcontributor_id\n{rows}".encode(),
        **{f"clips/{name}-{i}.wav": wav_bytes(frames=200 + i) for i in range(clips)},
        "README.md": f"# {name}\n".encode(),
    }


def text_files(name: str) -> dict[str, bytes]:
    lines = "".join(f'{{"id": {i}, "text": "note {i} of {name}"}}\n' for i in range(5))
    return {"notes.jsonl": lines.encode(), "labels.csv": b"id,label\n0,a\n1,b\n", "README.md": f"# {name}\n".encode()}


class Builder:
    """Builds the world through the services, in the order things happen on a real instance."""

    def __init__(self) -> None:
        self.world = World()

    # --- people and organizations ------------------------------------------------------------

    def person(self, handle: str, **extra: Any) -> User:
        username = "w-" + handle.replace(".", "-")
        user = User.objects.create_user(
            username=username, email=f"{username}@world.example.org", password=PASSWORD, **extra
        )
        verify_email(user)  # as the mailed link leaves it: buying, access, submissions and keys need it
        _, raw = create_api_key(user=user, name=f"{handle}'s key", scopes=list(ApiKey.Scope.values))
        self.world.people[handle] = user
        self.world.keys[handle] = raw
        if handle == "staff" or handle.endswith((".owner", ".admin", ".reviewer")):
            enroll_second_factor(user)  # they move money and approve: the site asks them for one
        return user

    def organizations(self) -> None:
        for org, (name, slug) in ORGANIZATIONS.items():
            owner = self.person(f"{org}.owner")
            organization = approve_organization(organization=create_organization(name=name, slug=slug, owner=owner))
            for role in ROLES[1:]:
                add_member(organization=organization, user=self.person(f"{org}.{role}"), role=role.rstrip("2"))
            self.world.orgs[org] = organization
        for handle in OUTSIDERS:
            self.person(handle, is_staff=handle == "staff")

    # --- the contributor's journey -----------------------------------------------------------

    def upload(
        self,
        submission: Submission,
        author: User,
        data: bytes,
        *,
        kind: str = Upload.Kind.ARCHIVE,
        complete: bool = True,
        validate: bool = True,
    ) -> Upload:
        """E11, a part PUT on its presigned URL, E14, and the validation task's service."""
        upload = uploads.start_upload(
            submission=submission,
            user=author,
            kind=kind,
            filename=f"{submission.name.lower().replace(' ', '-')}.tar.gz",
            file_size=len(data),
            mime_type="application/gzip",
        )
        if not complete:
            return upload
        response = requests.put(uploads.part_url(upload=upload, part_number=1), data=data, timeout=30)
        response.raise_for_status()
        completion = uploads.parse_completion(
            {
                "uploadId": upload.s3_upload_id,
                "parts": [{"partNumber": 1, "etag": response.headers["ETag"]}],
                "checksum": hashlib.sha256(data).hexdigest(),
            }
        )
        upload = uploads.complete_upload(upload=upload, completion=completion)
        if validate:
            validation.run_validation(upload_id=upload.id)
        upload.refresh_from_db()
        return upload

    def draft(
        self,
        handle: str,
        *,
        org: str,
        author_role: str = "member",
        name: str,
        task: str = "ASR",
        license: str = "CC-BY-4.0",
        consent_terms: dict[str, Any] = CONSENT,
        split: list[dict[str, Any]] | None = None,
        **datasheet: Any,
    ) -> Submission:
        author = self.world.member(org, author_role)
        submission = drafts.create_submission(user=author, name=name)
        fields = {
            "shortDescription": f"{name}, short.",
            "longDescription": f"{name}: what it holds and how it was made.",
            "locale": "en",
            "task": task,
            "format": "TSV, WAV" if task == "ASR" else "JSONL, CSV",
            "licenseAbbreviation": license,
            "intendedUsage": "Training and evaluating models.",
            "pointOfContactFullName": "Pat Contact",
            "pointOfContactEmail": f"contact@{org}.example.org",
            **datasheet,
        }
        drafts.update_submission(submission=submission, changes=DatasheetChanges.from_json(fields))
        terms = consent.set_consent_terms(
            submission=submission, user=author, terms=ConsentTermsInput.from_json(consent_terms)
        )
        consent.add_consent_records(
            terms=terms,
            rows=[
                {"contributorId": f"c-{i}", "givenAt": "2025-02-01T10:00:00Z", "termsSha256": terms.consent_text_sha256}
                for i in range(3)
            ],
        )
        split = split or [{"username": author.username, "basisPoints": 10_000}]
        drafts.set_revenue_split(submission=submission, shares=shares_from_json({"contributors": split}))
        submission.refresh_from_db()
        self.world.submissions[handle] = submission
        return submission

    def publish(
        self,
        handle: str,
        *,
        org: str,
        files: dict[str, bytes],
        sample: dict[str, bytes] | None = None,
        of: str | None = None,
        parents: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> Dataset:
        """A dataset (or, with ``of``, its next version) published the whole way: draft, uploads,
        validation, submit, a reviewer's approval."""
        submission = self.draft(f"{handle}-v{self._next_number(of)}", org=org, **kwargs)
        author = submission.created_by
        if of is not None:
            # A draft that names the dataset it revises: approval publishes its next version (the
            # flow of drafts.open_version_draft, with this world's own datasheet, consent and split).
            number = self._next_number(of)
            Submission.objects.filter(id=submission.id).update(
                dataset=self.world.datasets[of], changelog=f"Version {number}: {number + 3} clips."
            )
        if parents:
            set_parents(submission=submission, parents=parent_refs(parents), user=author)
        archive = tar_gz(files)
        self.upload(submission, author, archive)
        self.world.archives[of or handle] = archive
        if sample is not None:
            sample_archive = tar_gz(sample)
            self.upload(submission, author, sample_archive, kind=Upload.Kind.SAMPLE)
            self.world.samples[of or handle] = sample_archive
        submission.refresh_from_db()
        drafts.submit_submission(submission=submission)
        version = review.approve_submission(submission=submission, reviewer=self.world.member(org, "reviewer"))
        dataset = Dataset.objects.get(id=version.dataset_id)
        self.world.datasets[of or handle] = dataset
        self.world.submissions[f"{of or handle}-v{version.number}"] = Submission.objects.get(id=submission.id)
        return dataset

    def _next_number(self, of: str | None) -> int:
        return 1 if of is None else self.world.datasets[of].versions.count() + 1

    def datasets(self) -> None:
        """Each row is one dataset's first version: handle, organization, name, then what sets it apart."""
        w = self.world
        valley_split = [
            {"username": w.member("valley", "member").username, "basisPoints": 5_000},
            {"username": w.member("valley", "owner").username, "basisPoints": 3_000},
            {"name": "Rosa Recorder", "email": "rosa@contributors.example.org", "basisPoints": 2_000},
        ]
        speech: dict[str, Any] = {
            "files": speech_files("speech-1"),
            "sample": speech_files("sample", clips=1),
            "locale": "cy",
        }
        nlp: dict[str, Any] = {"task": "NLP"}
        rows: list[tuple[str, str, str, dict[str, Any]]] = [
            ("valley-speech", "valley", "Valley Speech", speech),
            ("valley-paid", "valley", "Valley Studio Speech", {"files": speech_files("studio"), "author_role": "admin",
             "isPaid": True, "basePriceCents": 15_000, "split": valley_split}),
            ("valley-gated", "valley", "Valley Children's Speech", {"files": speech_files("children"),
             "visibility": "restricted"}),
            ("valley-private", "valley", "Valley Internal Prompts", {"files": speech_files("internal"),
             "visibility": "private"}),
            ("harbor-notes", "harbor", "Harbor Clinical Notes", {**nlp, "files": text_files("notes"),
             "license": "CC-BY-NC-4.0", "consent_terms": RESTRICTED_CONSENT, "visibility": "restricted",
             "isPaid": True, "basePriceCents": 40_000}),
            ("harbor-private", "harbor", "Harbor Ward Audit", {**nlp, "files": text_files("audit"),
             "visibility": "private"}),
            ("harbor-open", "harbor", "Harbor Open Triage", {**nlp, "files": text_files("triage"),
             "license": "Harbor Research Terms", "licenseText": "Use for research only; cite Harbor Health Data.",
             "consent_terms": RESTRICTED_CONSENT}),
            ("north-corpus", "north", "Northwind Web Text", {**nlp, "files": text_files("web"),
             "sample": text_files("web-sample"), "license": "CC0-1.0", "parents": [("valley-speech", 3)]}),
            ("north-paid", "north", "Northwind News Summaries", {**nlp, "files": text_files("news"),
             "sample": text_files("news-sample"), "isPaid": True, "basePriceCents": 25_000}),
            ("north-gated", "north", "Northwind Forum Threads", {**nlp, "files": text_files("threads"),
             "visibility": "restricted"}),
            ("north-removed", "north", "Northwind Scraped Forum", {**nlp, "files": text_files("forum")}),
        ]  # fmt: skip
        for handle, org, name, fields in rows:
            if "parents" in fields:
                fields = {**fields, "parents": [{"dataset": w.datasets[parent].id, "version": number}
                                                for parent, number in fields["parents"]]}  # fmt: skip
            self.publish(handle, org=org, name=name, **fields)
            if handle == "valley-speech":  # versions 2 and 3, each with more clips
                for n in (2, 3):
                    more = {**speech, "files": speech_files(f"speech-{n}", clips=3 + n)}
                    self.publish(handle, of=handle, org=org, name=name, **more)

    def unfinished_submissions(self) -> None:
        """One draft in each state before approval, in Valley's queue and Harbor's."""
        w = self.world
        self.draft("valley-draft", org="valley", author_role="member2", name="Valley Street Noise")
        uploading = self.draft("valley-uploading", org="valley", name="Valley Half Uploaded")
        w.uploads["valley-uploading"] = self.upload(
            uploading, uploading.created_by, tar_gz(speech_files("half")), complete=False
        )
        failed = self.draft("valley-failed", org="valley", name="Valley Broken Archive")
        w.uploads["valley-failed"] = self.upload(failed, failed.created_by, b"\x1f\x8b this is not gzip at all")
        for handle, org in (
            ("valley-in-review", "valley"),
            ("harbor-in-review", "harbor"),
            ("valley-rejected", "valley"),
        ):
            submission = self.draft(handle, org=org, name=handle.replace("-", " ").title(), task="ASR")
            w.uploads[handle] = self.upload(submission, submission.created_by, tar_gz(speech_files(handle)))
            submission.refresh_from_db()
            drafts.submit_submission(submission=submission)
        review.reject_submission(
            submission=w.submissions["valley-rejected"],
            reviewer=w.member("valley", "reviewer"),
            reason="The clips are cut off at the end; upload whole clips.",
        )
        for handle in w.submissions:
            w.submissions[handle].refresh_from_db()

    # --- the licensee's journey --------------------------------------------------------------

    def licensing(self) -> None:
        w = self.world
        speech, paid, gated = w.datasets["valley-speech"], w.datasets["valley-paid"], w.datasets["valley-gated"]
        for handle, dataset in (
            ("licensee@valley-speech", speech),
            ("licensee@north-corpus", w.datasets["north-corpus"]),
        ):
            terms = grants.terms_for(dataset=dataset, version=grants.current_version(dataset))
            w.grants[handle] = grants.accept_terms(
                user=w.people["licensee"], dataset=dataset, terms_sha256=terms.sha256, source=LicenseGrant.Source.API
            )
        # A sale, paid and posted to the ledger; and an invoice still open.
        invoice, _ = payments.open_invoice(user=w.people["buyer"], dataset=paid)
        w.payments["buyer@valley-paid"] = payments.record_payment(
            invoice_id=invoice.id, recorded_by=w.member("valley", "admin"), reference="TRANSFER-0001"
        )
        w.invoices["buyer@valley-paid"] = Invoice.objects.get(id=invoice.id)
        w.invoices["licensee@valley-paid"], _ = payments.open_invoice(user=w.people["licensee"], dataset=paid)
        w.invoices["buyer@harbor-notes"], _ = payments.open_invoice(
            user=w.people["buyer"], dataset=w.datasets["harbor-notes"]
        )
        # Access requests in every state.
        for handle in ("licensee", "requester", "refused", "revoked"):
            w.access_requests[f"{handle}@valley-gated"] = access.request_access(
                user=w.people[handle],
                dataset=gated,
                full_name=f"{handle.title()} Person",
                organization_name="Open University",
                intended_use="Benchmarking speech recognition.",
            )
        w.access_requests["licensee@harbor-notes"] = access.request_access(
            user=w.people["licensee"],
            dataset=w.datasets["harbor-notes"],
            full_name="Licensee Person",
            organization_name="Open University",
            intended_use="Clinical summarisation research.",
        )
        admin = w.member("valley", "admin")
        for handle in ("licensee", "revoked"):
            access.approve(request_id=w.access_requests[f"{handle}@valley-gated"].id, by=admin)
        access.reject(request_id=w.access_requests["refused@valley-gated"].id, by=admin, reason="No research purpose.")
        access.revoke(request_id=w.access_requests["revoked@valley-gated"].id, by=admin, reason="Terms broken.")
        for handle in w.access_requests:
            w.access_requests[handle].refresh_from_db()
        # Downloads on record: the archive and the sample of the current version, an old version.
        for version, kind in (
            (w.version("valley-speech", 3), DownloadKind.ARCHIVE),
            (w.version("valley-speech", 3), DownloadKind.SAMPLE),
            (w.version("valley-speech", 1), DownloadKind.ARCHIVE),
        ):
            issue_download(
                user=w.people["licensee"],
                api_key=None,
                dataset=speech,
                version=version,
                kind=kind,
                page_url="",
                ip_address="127.0.0.1",
                user_agent="world",
            )

    def endings(self) -> None:
        """A contributor's consent withdrawn from an old version; a dataset taken down."""
        w = self.world
        withdrawals.withdraw_consent(
            by=w.member("valley", "owner"),
            dataset=w.datasets["valley-speech"],
            version_number=1,
            record_ids=["c-1"],
            file_hashes=[hashlib.sha256(speech_files("speech-1")["clips/speech-1-1.wav"]).hexdigest()],
            contributor_id="c-1",
            reason="",
        )
        w.datasets["north-removed"] = takedown_dataset(
            dataset=w.datasets["north-removed"], reason="A court order names the forum's posts.", by=w.people["staff"]
        )


def build() -> World:
    storage.ensure_bucket()
    license_for("CC-BY-4.0")
    license_for("CC0-1.0", attribution=False)
    license_for("CC-BY-NC-4.0", commercial_use=False)
    builder = Builder()
    with transaction.atomic():
        builder.organizations()
    builder.datasets()
    builder.unfinished_submissions()
    builder.licensing()
    builder.endings()
    for version in DatasetVersion.objects.filter(published_at__isnull=False).order_by("created_at"):
        members.store_members(version_id=version.id)  # what the worker does after each publication
        exports.export_version(version_id=version.id)  # and after each validation: the viewer's Parquet
    builder.world.refresh()
    return builder.world


# --- keeping it across flushes ---------------------------------------------------------------

SENTINEL_SLUG = ORGANIZATIONS["valley"][1]


WORLD_APPS = ("marketplace", "licensing", "provenance", "mfa", "account")  # account: verified addresses


def world_models() -> list[type[Any]]:
    """The project's models: Django's own (content types, permissions, sessions) are made anew by
    the flush under other ids, and the world holds none of them."""
    return [model for label in WORLD_APPS for model in apps.get_app_config(label).get_models()]


def world_tables() -> list[str]:
    """The tables of the project's models, with the many-to-many tables Django makes for them."""
    return [
        model._meta.db_table
        for label in WORLD_APPS
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    ]


SNAPSHOT_SCHEMA = "world_snapshot"


def snapshot() -> str:
    """Copy every row of the project's tables into a schema of the test database beside them
    (the objects in storage are not touched by a flush and stay where they are), and return the
    schema's name. A flush leaves the copy alone: Django flushes only the tables it sees on its
    search path. Copying rows inside PostgreSQL puts the world back in a fraction of a second,
    where deserializing and saving each object took one or two."""
    schema = connection.ops.quote_name(SNAPSHOT_SCHEMA)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        cursor.execute(f"CREATE SCHEMA {schema}")
        for table in world_tables():
            name = connection.ops.quote_name(table)
            cursor.execute(f"CREATE TABLE {schema}.{name} AS TABLE {name}")
    return SNAPSHOT_SCHEMA


def is_present() -> bool:
    return Organization.objects.filter(slug=SENTINEL_SLUG).exists() and Membership.objects.exists()


def restore(snapshot_schema: str) -> None:
    """Put the snapshot back after a transactional test's flush, and move every sequence past the
    restored ids, so rows that tests create next do not collide with them."""
    # Foreign keys are DEFERRABLE INITIALLY DEFERRED in PostgreSQL, and so are the ledger's balance
    # checks: tables fill in any order and are checked when the transaction commits. The rows go
    # through the triggers as any insert does; the catalog's search trigger adds a dataset's words to
    # the vocabulary again, whose copied rows then skip the words already there.
    schema = connection.ops.quote_name(snapshot_schema)
    with transaction.atomic(), connection.cursor() as cursor:
        for table in world_tables():
            name = connection.ops.quote_name(table)
            cursor.execute(f"INSERT INTO {name} SELECT * FROM {schema}.{name} ON CONFLICT DO NOTHING")  # noqa: S608
        for statement in connection.ops.sequence_reset_sql(no_style(), world_models()):
            cursor.execute(statement)
