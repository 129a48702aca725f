"""Every publish gets a signed manifest and a log entry; licensing events append entries; the
database refuses to change or delete provenance rows."""

from __future__ import annotations

import json

import pytest
from django.db import DatabaseError, connection, transaction

from licensing.access import access_requests as access
from licensing.access import grants
from licensing.consent import withdrawals
from marketplace.models import Dataset
from provenance import dsse, log, merkle, signing, statement
from provenance.models import LogEntry, Manifest, SignedTreeHead
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_published_version_gets_a_signed_manifest_and_a_publish_entry() -> None:
    dataset = factories.published_dataset("tiny-speech")
    version = dataset.current_version
    manifest = Manifest.objects.get(version=version)
    payload_type, payload, key_id = dsse.open_envelope(manifest.envelope, signing.public_keys())
    assert payload_type == dsse.IN_TOTO_PAYLOAD_TYPE
    assert key_id == signing.current_key().key_id
    stated = json.loads(payload)
    assert stated["_type"] == statement.STATEMENT_TYPE
    assert stated["predicateType"] == statement.PREDICATE_TYPE
    assert stated["subject"][0] == {"name": version.filename, "digest": {"sha256": version.sha256}}
    assert stated["predicate"]["license"] == {"id": "CC-BY-4.0", "textSha256": version.license_text_sha256}
    entry = LogEntry.objects.get(kind="publish")
    assert entry.subject == f"dataset:{dataset.id}/version:1"
    assert entry.payload["manifestSha256"] == manifest.statement_sha256


def test_grants_access_decisions_and_withdrawals_append_in_order(make_user) -> None:
    owner = make_user()
    org = factories.organization("voices", owner=owner)
    dataset = factories.published_dataset("restricted-notes", org=org, visibility="restricted")
    licensee = make_user()
    assert dataset.current_version is not None
    terms = grants.terms_for(dataset=dataset, version=dataset.current_version)
    grants.accept_terms(user=licensee, dataset=dataset, terms_sha256=terms.sha256, source="api")
    request = access.request_access(
        user=licensee, dataset=dataset, full_name="A Person", organization_name="Lab", intended_use="ASR research"
    )
    assert not LogEntry.objects.filter(kind="access").exists()  # a pending request is no decision
    access.approve(request_id=request.id, by=owner)
    withdrawals.withdraw_consent(by=owner, dataset=dataset, version_number=1, record_ids=["rec-1", "rec-2"])
    kinds = list(LogEntry.objects.order_by("index").values_list("kind", flat=True))
    assert kinds == ["publish", "grant", "access", "withdrawal"]
    assert list(LogEntry.objects.order_by("index").values_list("index", flat=True)) == [0, 1, 2, 3]
    withdrawal = LogEntry.objects.get(kind="withdrawal")
    assert withdrawal.payload["recordCount"] == 2
    assert "rec-1" not in withdrawal.leaf_data  # record ids stay in the removal feed, not the public log


def test_the_database_refuses_to_change_or_delete_provenance_rows() -> None:
    factories.published_dataset("immutable")
    log.signed_tree_head()
    for statement_sql in (
        "UPDATE provenance_logentry SET kind = 'grant'",
        "DELETE FROM provenance_logentry",
        "UPDATE provenance_manifest SET statement_sha256 = repeat('0', 64)",
        "DELETE FROM provenance_manifest",
        "DELETE FROM provenance_signedtreehead",
        "DELETE FROM provenance_signingkey",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement_sql)
    assert LogEntry.objects.count() == 1 and SignedTreeHead.objects.count() == 1


def test_a_leaf_hash_that_does_not_match_its_text_is_refused() -> None:
    with pytest.raises(DatabaseError, match="logentry_leaf_hash_matches"), transaction.atomic():
        LogEntry.objects.create(index=0, kind="publish", subject="x", payload={}, leaf_data="{}",
                                leaf_hash=merkle.leaf_hash(b"other").hex())  # fmt: skip


def test_a_takedown_hook_appends_an_entry() -> None:
    from provenance import events

    dataset = factories.published_dataset("taken-down")
    Dataset.objects.filter(id=dataset.id).update(status="removed", removed_at=dataset.published_at)
    dataset.refresh_from_db()
    entry = events.dataset_taken_down(dataset)
    assert (entry.index, entry.kind, entry.payload) == (1, "takedown", {"status": "removed"})


def test_rotation_keeps_old_signatures_verifiable(settings) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    old_dataset = factories.published_dataset("before-rotation")
    old_key = signing.current_key().key_id
    new_private = Ed25519PrivateKey.generate()
    settings.PROVENANCE_SIGNING_KEY = new_private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    new_dataset = factories.published_dataset("after-rotation")
    new_key = signing.current_key().key_id
    assert new_key != old_key and new_key == dsse.key_id(new_private.public_key())
    keys = signing.public_keys()
    for dataset, expected in ((old_dataset, old_key), (new_dataset, new_key)):
        envelope = Manifest.objects.get(version__dataset=dataset).envelope
        assert dsse.open_envelope(envelope, keys)[2] == expected
    with pytest.raises(dsse.EnvelopeError, match="no signature by the given public key"):
        dsse.open_envelope(Manifest.objects.get(version__dataset=old_dataset).envelope, [new_private.public_key()])
