"""The offline verifier and the API against a version published the real way, and tampering of
every kind: a byte of a file, of the archive, of the manifest, a swapped signature, a dropped or
reordered log entry. A third party (securesystemslib) verifies our DSSE envelope too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey

from provenance import dsse, signing
from provenance.verify import Mismatch, verify
from tests.archive_builders import write_tar
from tests.factories import published_dataset

pytestmark = pytest.mark.django_db(transaction=True)
REPO = Path(__file__).resolve().parents[2]


def download(base: str, version: Any, folder: Path) -> dict[str, Path]:
    """The manifest, the key and the inclusion proof as a licensee fetches them."""
    prefix = f"{base}/api/v1/datasets/{version.dataset_id}/versions/{version.number}"
    manifest = requests.get(f"{prefix}/manifest", timeout=10)
    proof = requests.get(f"{prefix}/inclusion-proof", timeout=10)
    keys = requests.get(f"{base}/api/v1/provenance/keys", timeout=10).json()["keys"]
    assert manifest.status_code == proof.status_code == 200
    key_id = manifest.json()["signatures"][0]["keyid"]
    pem = requests.get(f"{base}/api/v1/provenance/keys/{key_id}.pem", timeout=10)
    assert pem.text == next(k["publicKeyPem"] for k in keys if k["keyId"] == key_id)
    paths = {"manifest": folder / "manifest.json", "proof": folder / "proof.json", "key": folder / "key.pem"}
    paths["manifest"].write_bytes(manifest.content)
    paths["proof"].write_bytes(proof.content)
    paths["key"].write_text(pem.text)
    return paths


def run_cli(archive: Path, paths: dict[str, Path]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "provenance.verify", str(archive), "--manifest", str(paths["manifest"]),
               "--public-key", str(paths["key"]), "--inclusion-proof", str(paths["proof"])]  # fmt: skip
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60, check=False)


def test_a_published_version_verifies_offline_and_every_tampering_is_named(publish_real: Any, tmp_path: Path) -> None:
    published = publish_real()
    paths = download(published.base_url, published.version, tmp_path)
    ok = run_cli(published.archive, paths)
    assert ok.returncode == 0, ok.stderr
    assert "OK:" in ok.stdout and "3 files" in ok.stdout and "transparency log" in ok.stdout
    predicate = json.loads(dsse.open_envelope(json.loads(paths["manifest"].read_text()), signing.public_keys())[1])[
        "predicate"
    ]
    assert predicate["consent"]["recordDigests"] and "c-1" not in paths["manifest"].read_text()
    assert predicate["validationReportSha256"] and predicate["revenueSplitSha256"]

    # One byte of one file: the archive's hash catches it first, so rebuild a consistent archive
    # whose member differs, to see the member named.
    members = dict(published.members)
    members["clips/a.wav"] = members["clips/a.wav"][:-1] + bytes([members["clips/a.wav"][-1] ^ 1])
    forged = write_tar(tmp_path / "forged.tar.gz", members)
    with pytest.raises(Mismatch, match="archive: forged.tar.gz has SHA-256"):
        verify(forged, paths["manifest"], paths["key"])
    failed = run_cli(forged, paths)
    assert failed.returncode == 1 and "FAILED: archive" in failed.stderr

    # A flipped byte of the archive itself.
    data = bytearray(published.archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    flipped = tmp_path / "flipped.tar.gz"
    flipped.write_bytes(bytes(data))
    with pytest.raises(Mismatch, match="^archive:"):
        verify(flipped, paths["manifest"], paths["key"])

    # A flipped byte of the manifest's payload, re-encoded so the JSON stays valid.
    envelope = json.loads(paths["manifest"].read_text())
    payload = bytearray(__import__("base64").b64decode(envelope["payload"]))
    payload[payload.index(b'"version":') + 10] ^= 0x01
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps({**envelope, "payload": __import__("base64").b64encode(payload).decode()}))
    with pytest.raises(Mismatch, match="manifest signature: the signature of key .* does not match"):
        verify(published.archive, tampered, paths["key"])

    # A signature swapped for one by another key with the same key id claimed.
    other = Ed25519PrivateKey.generate()
    swapped = dsse.sign_envelope(envelope["payloadType"], __import__("base64").b64decode(envelope["payload"]), other)
    swapped["signatures"][0]["keyid"] = envelope["signatures"][0]["keyid"]
    (tmp_path / "swapped.json").write_text(json.dumps(swapped))
    with pytest.raises(Mismatch, match="manifest signature"):
        verify(published.archive, tmp_path / "swapped.json", paths["key"])

    # An inclusion proof whose audit path was altered.
    proof = json.loads(paths["proof"].read_text())
    if proof["auditPath"]:
        proof["auditPath"][0] = "00" * 32
    else:
        proof["treeSize"] += 1
    (tmp_path / "bad-proof.json").write_text(json.dumps(proof))
    with pytest.raises(Mismatch, match="inclusion proof|tree head"):
        verify(published.archive, paths["manifest"], paths["key"], tmp_path / "bad-proof.json")


def test_securesystemslib_verifies_our_envelope_with_its_own_code(publish_real: Any, tmp_path: Path) -> None:
    published = publish_real()
    envelope = requests.get(
        f"{published.base_url}/api/v1/datasets/{published.version.dataset_id}/versions/1/manifest", timeout=10
    ).json()
    public_key = signing.private_key().public_key()
    key = SSlibKey.from_crypto(public_key, keyid=dsse.key_id(public_key))
    theirs = Envelope.from_dict(json.loads(json.dumps(envelope)))
    accepted = theirs.verify([key], 1)
    assert list(accepted) == [dsse.key_id(public_key)]
    assert json.loads(theirs.payload)["subject"][0]["digest"]["sha256"] == published.version.sha256
    theirs.payload = theirs.payload.replace(b'"version":1', b'"version":2')
    with pytest.raises(Exception, match="Verification failed|threshold"):
        theirs.verify([key], 1)


def _without_triggers(sql: str) -> None:
    """Act as a superuser who bypasses the append-only triggers: the tampering the checks exist for."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql)
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")


@pytest.mark.parametrize("tampering", ["drop", "reorder"])
def test_a_dropped_or_reordered_log_entry_is_caught_by_the_api_and_a_consistency_check(
    tampering: str, live_server: Any
) -> None:
    for slug in ("one", "two", "three"):
        published_dataset(slug)
    head = requests.get(f"{live_server.url}/api/v1/provenance/log/tree-head", timeout=10).json()
    assert head["treeSize"] == 3
    if tampering == "drop":
        _without_triggers("DELETE FROM provenance_logentry WHERE index = 1")
    else:
        _without_triggers("UPDATE provenance_logentry SET index = index + 100 WHERE index IN (1, 2)")
        _without_triggers("UPDATE provenance_logentry SET index = 3 - (index - 100) WHERE index >= 100")
    for url in ("provenance/log/tree-head", "provenance/log/entries/0/inclusion-proof",
                "provenance/log/consistency-proof?first=1"):  # fmt: skip
        response = requests.get(f"{live_server.url}/api/v1/{url}", timeout=10)
        body = response.json()
        assert response.status_code == 500 and body["error"] == "log_inconsistent", body
        assert "missing" in body["message"] or "leaf hash" in body["message"] or "signed tree head" in body["message"]


def test_a_manifest_altered_in_the_database_is_not_served(live_server: Any) -> None:
    dataset = published_dataset("altered")
    _without_triggers(
        "UPDATE provenance_manifest SET envelope = jsonb_set(envelope, '{payloadType}', '\"text/plain\"')"
    )
    response = requests.get(f"{live_server.url}/api/v1/datasets/{dataset.id}/versions/1/manifest", timeout=10)
    assert response.status_code == 500
    assert response.json()["error"] == "manifest_invalid" and "signature" in response.json()["message"]
