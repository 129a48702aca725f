"""Versions published before provenance existed get their signed manifest on upgrade."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from marketplace.models import DatasetVersion
from provenance.manifests import verified_statement
from provenance.models import LogEntry, Manifest
from tests import factories

pytestmark = pytest.mark.django_db


def test_versions_without_a_manifest_are_signed_once() -> None:
    dataset = factories.published_dataset("older-speech")
    signed_by_publish = Manifest.objects.count()
    terms = factories.license_for()
    # A version written as an instance without provenance wrote it (no manifest).
    legacy = DatasetVersion.objects.create(
        dataset=dataset, number=2, archive_key="published/legacy.tar.gz", filename="older-speech-v2.tar.gz",
        size_bytes=10, sha256=hashlib.sha256(b"legacy").hexdigest(), license=terms,
        license_text_sha256=terms.text_sha256, published_at=timezone.now(),
    )  # fmt: skip
    out = io.StringIO()
    call_command("sign_missing_manifests", stdout=out)
    assert out.getvalue().strip() == "Signed 1 manifest."
    statement = verified_statement(Manifest.objects.get(version=legacy))
    assert any(subject["digest"]["sha256"] == legacy.sha256 for subject in statement["subject"])
    assert LogEntry.objects.filter(kind=LogEntry.Kind.PUBLISH).count() == signed_by_publish + 1

    call_command("sign_missing_manifests", stdout=io.StringIO())  # a second run signs nothing
    assert Manifest.objects.count() == signed_by_publish + 1
