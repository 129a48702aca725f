"""An organization's export bundle, downloaded over HTTP as an owner would and checked offline with
the standalone verifier (standard library and ``cryptography`` only): every file signed, every
manifest and its log entry verified, archives byte for byte; a changed byte, a dropped file or
another instance's key fails it."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from marketplace.models import Membership, User
from provenance import dsse, verify
from tests.provenance.conftest import Published

pytestmark = pytest.mark.django_db(transaction=True)


def _members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def _write(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_an_owner_exports_a_bundle_that_verifies_offline_and_refuses_tampering(
    publish_real: Any, bearer: Any, make_user: Any, tmp_path: Path
) -> None:
    first: Published = publish_real("Valley Speech")
    second: Published = publish_real("Hill Speech")
    organization = first.version.dataset.organization
    owner, owner_key = bearer("read", user=make_user("owner-ann"))
    Membership.objects.create(organization=organization, user=owner, role="owner")
    _, member_key = bearer(
        "read", user=User.objects.get(memberships__organization=organization, memberships__role="member")
    )

    with requests.Session() as session:
        refused = session.get(f"{first.base_url}/api/v1/organizations/{organization.slug}/export",
                              headers={"Authorization": f"Bearer {member_key}"}, timeout=30)  # fmt: skip
        assert refused.status_code == 403 and "Only owners and admins" in refused.text
        response = session.get(f"{first.base_url}/api/v1/organizations/{organization.slug}/export",
                               headers={"Authorization": f"Bearer {owner_key}"}, timeout=60)  # fmt: skip
        keys = session.get(f"{first.base_url}/api/v1/provenance/keys", timeout=30).json()
    assert response.status_code == 200, response.text[:500]
    assert response.headers["Content-Type"] == "application/gzip"
    assert response.headers["Content-Disposition"].startswith(f'attachment; filename="{organization.slug}-bundle-')
    bundle = tmp_path / "bundle.tar.gz"
    bundle.write_bytes(response.content)

    members = _members(response.content)
    assert members["bundle/FORMAT"] == b"datacollective-organization-bundle/1\n"
    assert json.loads(members["bundle/organization.json"])["slug"] == organization.slug
    for published in (first, second):
        version = published.version
        folder = f"bundle/datasets/{version.dataset_id}/versions/1"
        assert members[f"{folder}/archive"] == published.archive.read_bytes()
        consent = json.loads(members[f"{folder}/consent.json"])
        assert [r["contributorId"] for r in consent["records"]] == ["c-1"]
        assert json.loads(members[f"{folder}/version.json"])["sha256"] == version.sha256
    assert list(members)[-1] == "bundle/bundle.dsse.json"

    # Offline, with the key the origin publishes: every file, manifest and log entry checks.
    [pem] = [key["publicKeyPem"] for key in keys["keys"]]
    key_file = tmp_path / "origin.pem"
    key_file.write_text(pem)
    public = dsse.load_public_pem(pem.encode())
    assert verify.verify_bundle(bundle, [public]).startswith("OK: ")
    command = [sys.executable, "-m", "provenance.verify", "bundle", str(bundle), "--public-key", str(key_file)]
    cli = subprocess.run(command, capture_output=True, text=True, check=False)
    assert cli.returncode == 0 and "2 version manifests" in cli.stdout, cli.stderr

    # One changed byte of an archive, a dropped consent file, another key: each is named.
    archive_name = f"bundle/datasets/{first.version.dataset_id}/versions/1/archive"
    changed = dict(members)
    changed[archive_name] = members[archive_name][:-1] + bytes([members[archive_name][-1] ^ 1])
    with pytest.raises(verify.Mismatch, match=f"{archive_name.removeprefix('bundle/')}: size and SHA-256"):
        verify.verify_bundle(_write(tmp_path / "changed.tar.gz", changed), [public])
    dropped = {name: data for name, data in members.items() if not name.endswith("/consent.json")}
    with pytest.raises(verify.Mismatch, match="consent.json: signed but not in the bundle"):
        verify.verify_bundle(_write(tmp_path / "dropped.tar.gz", dropped), [public])
    stranger = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(verify.Mismatch, match="bundle"):
        verify.verify_bundle(bundle, [stranger])


def test_a_bundle_by_reference_names_the_archives_without_their_bytes(
    publish_real: Any, bearer: Any, make_user: Any
) -> None:
    published: Published = publish_real("Valley Speech")
    organization = published.version.dataset.organization
    owner, key = bearer("read", user=make_user("owner-ann"))
    Membership.objects.create(organization=organization, user=owner, role="admin")
    url = f"{published.base_url}/api/v1/organizations/{organization.slug}/export"
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {key}"
        bad = session.get(url, params={"archives": "some"}, timeout=30)
        response = session.get(url, params={"archives": "reference"}, timeout=30)
    assert bad.status_code == 400 and "include" in bad.text
    members = _members(response.content)
    folder = f"bundle/datasets/{published.version.dataset_id}/versions/1"
    assert f"{folder}/archive" not in members
    version = json.loads(members[f"{folder}/version.json"])
    assert version["archive"] is None and version["sha256"] == published.version.sha256
    assert version["archiveUrl"].endswith(f"/datasets/{published.version.dataset.slug}/")
