"""``manage.py seed_demo``: demo users, organizations, licenses and small but real datasets.

Idempotent: a second run finds everything in place and changes nothing. Archives are
real gzip tars built here (deterministic bytes), stored in object storage and hashed.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import math
import secrets
import struct
import tarfile
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from licensing.models import License
from licensing.services import Permissions, create_license
from marketplace import storage
from marketplace.ids import new_id
from marketplace.models import Dataset, Membership, Organization, User
from marketplace.services import add_member, approve_organization, create_dataset, publish_version

USERS = [
    # username, password, staff
    ("admin", "admin-password", True),
    ("demo-owner", "demo-owner-password", False),
    ("demo-reviewer", "demo-reviewer-password", False),
    ("demo-licensee", "demo-licensee-password", False),
]

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


def _license_text(name: str, url: str) -> str:
    return f"{name}.\n\nThe full legal code applies, as published at {url}.\n"


def _tar_gz(files: dict[str, bytes]) -> bytes:
    """A gzip tar with fixed times and owners, so the same content gives the same bytes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path in sorted(files):
            info = tarfile.TarInfo(path)
            info.size = len(files[path])
            info.mtime = 1_700_000_000
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(files[path]))
    return gzip.compress(raw.getvalue(), mtime=0)


def _wav(frequency: float, seconds: float = 0.4, rate: int = 16000) -> bytes:
    frames = int(seconds * rate)
    samples = b"".join(
        struct.pack("<h", int(12000 * math.sin(2 * math.pi * frequency * i / rate))) for i in range(frames)
    )
    header = b"RIFF" + struct.pack("<I", 36 + len(samples)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return header + fmt + b"data" + struct.pack("<I", len(samples)) + samples


def speech_archive() -> bytes:
    sentences = ["Bore da.", "Diolch yn fawr.", "Sut mae?", "Nos da.", "Croeso i Gymru."]
    rows = ["path\tsentence"] + [f"clip{i}.wav\t{s}" for i, s in enumerate(sentences)]
    files = {"train.tsv": ("\n".join(rows) + "\n").encode()}
    for i in range(len(sentences)):
        files[f"clips/clip{i}.wav"] = _wav(220.0 + 55 * i)
    return _tar_gz(files)


def speech_sample_archive() -> bytes:
    return _tar_gz({"train.tsv": b"path\tsentence\nclip0.wav\tBore da.\n", "clips/clip0.wav": _wav(220.0)})


def dialogues_archive() -> bytes:
    lines = [
        {"id": i, "text": f"Customer: my order {1000 + i} is late. Agent: I am sorry, let me check order {1000 + i}."}
        for i in range(40)
    ]
    return _tar_gz({"dialogues.jsonl": "".join(json.dumps(line) + "\n" for line in lines).encode()})


def notes_archive() -> bytes:
    rows = ["id,note"] + [
        f"{i},Synthetic note {i}: patient reports mild symptoms; follow up in {i % 7 + 1} days." for i in range(30)
    ]
    return _tar_gz({"notes.csv": ("\n".join(rows) + "\n").encode()})


def parallel_archive() -> bytes:
    pairs = [("Hello", "Bonjour"), ("Thank you", "Merci"), ("Good night", "Bonne nuit"), ("Welcome", "Bienvenue")]
    body = "".join(json.dumps({"en": en, "fr": fr}) + "\n" for en, fr in pairs)
    return _tar_gz({"train.jsonl": body.encode(), "README.txt": b"English-French sentence pairs.\n"})


DATASETS: list[dict[str, Any]] = [
    {
        "slug": "tiny-welsh-speech",
        "name": "Tiny Welsh Speech",
        "short_description": "Five short Welsh utterances with transcripts, for testing ASR pipelines.",
        "long_description": "A **small** speech corpus: `train.tsv` lists `clips/*.wav` files and their sentences.",
        "locale": "cy",
        "task": "ASR",
        "format": "TSV",
        "license": "CC-BY-4.0",
        "visibility": Dataset.Visibility.PUBLIC,
        "intended_usage": "Training and evaluating speech recognition for Welsh.",
        "tags": ["speech", "welsh", "asr", "low-resource"],
        "archive": speech_archive,
        "sample": speech_sample_archive,
    },
    {
        "slug": "parallel-en-fr-mini",
        "name": "Parallel Sentences en-fr (mini)",
        "short_description": "English-French sentence pairs in JSON Lines.",
        "long_description": "Hand-checked pairs for machine translation smoke tests.",
        "locale": "fr",
        "task": "MT",
        "format": "JSONL",
        "license": "CC0-1.0",
        "visibility": Dataset.Visibility.PUBLIC,
        "tags": ["translation", "french", "english"],
        "archive": parallel_archive,
    },
    {
        "slug": "support-dialogues",
        "name": "Customer Support Dialogues",
        "short_description": "Forty anonymised support conversations for fine-tuning assistants.",
        "long_description": "Collected with consent from support agents; order numbers are synthetic.",
        "locale": "en",
        "task": "LLM",
        "format": "JSONL",
        "license": "CC-BY-4.0",
        "visibility": Dataset.Visibility.PUBLIC,
        "is_paid": True,
        "base_price_cents": 25000,
        "archive": dialogues_archive,
    },
    {
        "slug": "synthetic-clinical-notes",
        "name": "Synthetic Clinical Notes",
        "short_description": "Synthetic clinical notes; access on request for research use.",
        "long_description": "Generated notes that mimic clinical language. Research use only.",
        "locale": "en",
        "task": "NLP",
        "format": "CSV",
        "license": "CC-BY-NC-4.0",
        "visibility": Dataset.Visibility.RESTRICTED,
        "restrictions": "Research use only; no re-identification attempts.",
        "forbidden_usage": "Clinical decision making.",
        "archive": notes_archive,
    },
    {
        "slug": "internal-qa-prompts",
        "name": "Internal QA Prompts",
        "short_description": "Prompts the organization uses to check its own models; members only.",
        "long_description": "Private: visible and downloadable by members of Common Voices only.",
        "locale": "en",
        "task": "LLM",
        "format": "JSONL",
        "license": "CC-BY-4.0",
        "visibility": Dataset.Visibility.PRIVATE,
        "archive": dialogues_archive,
    },
]


class Command(BaseCommand):
    help = "Create demo users, organizations, licenses and datasets (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        storage.ensure_bucket()
        users = self._users()
        licenses = self._licenses()
        voices = self._organization("common-voices", "Common Voices", users, approved=True)
        created = 0
        for spec in DATASETS:
            if not Dataset.objects.filter(slug=spec["slug"]).exists():
                self._dataset(voices, spec, licenses)
                created += 1
        self._licensing(users["demo-licensee"])
        self.stdout.write(f"Demo data ready: {len(users)} users, {len(DATASETS)} datasets ({created} new).")

    def _licensing(self, licensee: User) -> None:
        """What the licensing pages show out of the box: demo-licensee has accepted the terms of
        Tiny Welsh Speech, has an open invoice for the paid dialogues (demo-owner marks it paid on
        the organization's invoices page, or `manage.py mark_invoice_paid ID`), and a pending
        access request for the restricted notes (demo-owner approves it). Each only once."""
        from licensing import access, grants, payments
        from licensing.models import AccessRequest, Invoice, LicenseGrant

        speech = Dataset.objects.select_related("current_version__license", "organization").get(
            slug="tiny-welsh-speech"
        )
        if not LicenseGrant.objects.filter(user=licensee, dataset=speech).exists():
            terms = grants.terms_for(dataset=speech, version=grants.current_version(speech))
            grants.accept_terms(
                user=licensee, dataset=speech, terms_sha256=terms.sha256, source="web", user_agent="seed_demo"
            )
        dialogues = Dataset.objects.select_related("current_version__license", "organization").get(
            slug="support-dialogues"
        )
        if not Invoice.objects.filter(user=licensee, dataset=dialogues).exists():
            payments.open_invoice(user=licensee, dataset=dialogues, user_agent="seed_demo")
        notes = Dataset.objects.get(slug="synthetic-clinical-notes")
        if not AccessRequest.objects.filter(user=licensee, dataset=notes).exists():
            access.request_access(
                user=licensee,
                dataset=notes,
                full_name="Demo Licensee",
                organization_name="Example University",
                intended_use="Evaluating clinical named-entity recognition on synthetic text.",
            )

    def _users(self) -> dict[str, User]:
        users = {}
        for username, password, staff in USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(
                    username=username,
                    email=f"{username}@example.org",
                    password=password,
                    is_staff=staff,
                    is_superuser=staff,
                )
            users[username] = user
        return users

    def _licenses(self) -> dict[str, License]:
        licenses = {}
        for spec in LICENSES:
            found = License.objects.filter(spdx_id=spec["spdx_id"]).first()
            licenses[spec["spdx_id"]] = found or create_license(
                spdx_id=spec["spdx_id"],
                name=spec["name"],
                url=spec["url"],
                text=_license_text(spec["name"], spec["url"]),
                permissions=spec["permissions"],
            )
        return licenses

    @transaction.atomic
    def _organization(self, slug: str, name: str, users: dict[str, User], *, approved: bool) -> Organization:
        organization, _ = Organization.objects.get_or_create(
            slug=slug, defaults={"name": name, "description": "A community that records and shares speech and text."}
        )
        add_member(organization=organization, user=users["demo-owner"], role=Membership.Role.OWNER)
        add_member(organization=organization, user=users["demo-reviewer"], role=Membership.Role.REVIEWER)
        if approved and not organization.approved_to_upload:
            approve_organization(organization=organization)
        return organization

    def _dataset(self, organization: Organization, spec: dict[str, Any], licenses: dict[str, License]) -> None:
        fields = {k: v for k, v in spec.items() if k not in {"slug", "name", "archive", "sample", "license"}}
        license = licenses[spec["license"]]
        build: Callable[[], bytes] = spec["archive"]
        archive = build()
        # Storage first, then the rows in one transaction: a failed upload leaves no row behind,
        # and a re-run starts the dataset afresh.
        dataset_id = new_id()
        token = secrets.token_hex(8)
        key = f"published/{dataset_id}/{token}.tar.gz"
        storage.put_stream(key, io.BytesIO(archive), content_type="application/gzip")
        sample_key, sample_size = "", None
        if "sample" in spec:
            sample = spec["sample"]()
            sample_key, sample_size = f"published/{dataset_id}/{token}-sample.tar.gz", len(sample)
            storage.put_stream(sample_key, io.BytesIO(sample), content_type="application/gzip")
        with transaction.atomic():
            dataset = create_dataset(
                organization=organization,
                slug=spec["slug"],
                name=spec["name"],
                license=license,
                id=dataset_id,
                **fields,
            )
            publish_version(
                dataset=dataset,
                archive_key=key,
                size_bytes=len(archive),
                sha256=hashlib.sha256(archive).hexdigest(),
                license=license,
                sample_key=sample_key,
                sample_size_bytes=sample_size,
            )
