"""Lineage: parents are declared on a submission, their licenses are checked at submit, and the
child's signed manifest names each parent's manifest digest."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from provenance import dsse, signing
from provenance.models import Manifest
from tests.factories import license_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_child_names_its_parents_manifest_and_an_incompatible_license_is_refused(publish_real: Any) -> None:
    license_for("CC-BY-NC-4.0", commercial_use=False)
    license_for("CC-BY-SA-4.0", share_alike=True)
    commercial = publish_real("Commercial parent")
    non_commercial = publish_real("NC parent", licenseAbbreviation="CC-BY-NC-4.0")
    share_alike = publish_real("SA parent", licenseAbbreviation="CC-BY-SA-4.0")

    child = publish_real("Child", parents=[{"dataset": commercial.version.dataset_id, "version": 1}])
    envelope = Manifest.objects.get(version=child.version).envelope
    parents = json.loads(dsse.open_envelope(envelope, signing.public_keys())[1])["predicate"]["parents"]
    parent_digest = Manifest.objects.get(version=commercial.version).statement_sha256
    assert parents == [{"dataset": commercial.version.dataset_id, "version": 1,
                        "archiveSha256": commercial.version.sha256, "manifestSha256": parent_digest}]  # fmt: skip

    with pytest.raises(ValidationError, match="NC parent v1 \\(CC-BY-NC-4.0\\) is non-commercial"):
        publish_real("Commercial child", parents=[{"dataset": non_commercial.version.dataset_id, "version": 1}])
    with pytest.raises(ValidationError, match="SA parent v1 \\(CC-BY-SA-4.0\\) is share-alike"):
        publish_real("Relicensed child", parents=[{"dataset": share_alike.version.dataset_id, "version": 1}])
    same = publish_real("SA child", licenseAbbreviation="CC-BY-SA-4.0",
                        parents=[{"dataset": share_alike.version.dataset_id, "version": 1}])  # fmt: skip
    assert same.version.license.spdx_id == "CC-BY-SA-4.0"
    with pytest.raises(ValidationError, match="no published version"):
        publish_real("Orphan", parents=[{"dataset": "nope", "version": 1}])
