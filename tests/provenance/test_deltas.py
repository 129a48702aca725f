"""Delta downloads (provenance/deltas.py, POST /api/v1/datasets/{id}/versions/{n}/delta/{m}) in the
realistic world, whose ``valley-speech`` went through three submissions (version 1: clips
speech-1-*, version 2: speech-2-*, version 3: speech-3-*; each with its own train.tsv and
README.md), and whose versions' files were stored one by one as the worker does after publishing."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from django.test import Client

from licensing.models import DownloadRecord
from marketplace.models import Dataset
from provenance import dsse, signing, verify
from provenance.models import Manifest, VersionMembers
from tests.conftest import REPO_DIR
from tests.world import World, speech_files


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _post(world: World, path: str, person: str | None = "licensee") -> Any:
    headers = {"Authorization": f"Bearer {world.key(person)}"} if person else {}
    return Client().post(path, headers=headers)


def _payload(envelope: dict[str, Any]) -> dict[str, Any]:
    return json.loads(base64.b64decode(envelope["payload"]))


@pytest.mark.django_db
def test_the_delta_lists_only_the_changes_signed_with_links_to_the_new_bytes(world: World) -> None:
    dataset = world.datasets["valley-speech"]
    v1, v2 = speech_files("speech-1"), speech_files("speech-2", clips=5)
    licensee = world.people["licensee"]
    before = DownloadRecord.objects.filter(user=licensee, version=world.version("valley-speech", 2)).count()

    response = _post(world, f"/api/v1/datasets/{dataset.id}/versions/1/delta/2")

    assert response.status_code == 200, response.content
    body = response.json()
    payload_type, payload, key_id = dsse.open_envelope(body["delta"], signing.public_keys())
    assert (payload_type, key_id) == ("application/vnd.datacollective.delta+json", signing.current_key().key_id)
    delta = json.loads(payload)
    manifests = {n: Manifest.objects.get(version=world.version("valley-speech", n)) for n in (1, 2)}
    assert delta["dataset"] == {"id": dataset.id, "slug": "valley-speech", "name": dataset.name}
    assert delta["from"] == {"version": 1, "archiveSha256": world.version("valley-speech", 1).sha256,
                             "manifestSha256": manifests[1].statement_sha256}  # fmt: skip
    assert delta["to"]["manifestSha256"] == manifests[2].statement_sha256
    clips = sorted(path for path in v2 if path.startswith("clips/"))
    assert delta["added"] == [{"path": p, "size": len(v2[p]), "sha256": _sha(v2[p])} for p in clips]
    assert delta["removed"] == [
        {"path": p, "size": len(v1[p]), "sha256": _sha(v1[p])} for p in sorted(v1) if p.startswith("clips/")
    ]
    state = {p: {"size": len(v1[p]), "sha256": _sha(v1[p])} for p in v1}
    assert delta["changed"] == [
        {"path": p, "old": state[p], "new": {"size": len(v2[p]), "sha256": _sha(v2[p])}}
        for p in ("README.md", "train.tsv")
    ]
    # One link per file to fetch, none for what was removed; each fetches exactly the new bytes,
    # named by the file's base name.
    wanted = {_sha(v2[p]): p for p in [*clips, "README.md", "train.tsv"]}
    assert set(body["downloads"]) == set(wanted)
    for digest, url in body["downloads"].items():
        got = requests.get(url, timeout=30)
        assert got.status_code == 200 and _sha(got.content) == digest
        assert Path(wanted[digest]).name in got.headers["Content-Disposition"]
    # The licensee is a recorded downloader of version 2.
    after = DownloadRecord.objects.filter(user=licensee, version=world.version("valley-speech", 2)).count()
    assert after == before + 1


@pytest.mark.django_db
def test_a_tampered_delta_fails_the_offline_check_and_a_true_one_passes(world: World, tmp_path: Path) -> None:
    dataset = world.datasets["valley-speech"]
    body = _post(world, f"/api/v1/datasets/{dataset.id}/versions/2/delta/3").json()
    public_key = dsse.load_public_pem(signing.current_key().public_pem.encode())
    assert verify.check_delta(body, public_key)["to"]["version"] == 3

    delta = _payload(body["delta"])
    delta["removed"] = []  # keep a file the new version dropped
    forged = {**body["delta"], "payload": base64.b64encode(dsse.canonical_json(delta)).decode()}
    with pytest.raises(verify.Mismatch, match="signature"):
        verify.check_delta(forged, public_key)
    manifest = Manifest.objects.get(version=world.version("valley-speech", 1))
    with pytest.raises(verify.Mismatch, match="payloadType"):
        verify.check_delta(manifest.envelope, public_key)


@pytest.mark.django_db
def test_the_delta_of_a_paid_version_is_refused_without_a_purchase_as_its_download_is(world: World) -> None:
    dataset = world.datasets["valley-speech"]
    Dataset.objects.filter(id=dataset.id).update(is_paid=True, base_price_cents=1500)
    records = DownloadRecord.objects.count()
    archive = _post(world, f"/api/v1/datasets/{dataset.id}/versions/2/files/archive/download")
    delta = _post(world, f"/api/v1/datasets/{dataset.id}/versions/1/delta/2")
    assert archive.status_code == delta.status_code == 402
    assert delta.json()["message"] == archive.json()["message"]
    anonymous = _post(world, f"/api/v1/datasets/{dataset.id}/versions/1/delta/2", person=None)
    assert anonymous.status_code == 401
    assert DownloadRecord.objects.count() == records


@pytest.mark.django_db
def test_before_the_files_are_stored_the_delta_answers_409_with_retry_after(world: World) -> None:
    dataset = world.datasets["valley-speech"]
    VersionMembers.objects.filter(version=world.version("valley-speech", 3)).update(
        status=VersionMembers.Status.PENDING, ready_at=None
    )
    records = DownloadRecord.objects.count()
    response = _post(world, f"/api/v1/datasets/{dataset.id}/versions/2/delta/3")
    assert response.status_code == 409, response.content
    assert response["Retry-After"] == "30"
    assert "still being prepared" in response.json()["message"]
    assert DownloadRecord.objects.count() == records  # nothing was handed out
    # Back to older versions, which need only removals and a few files of version 2: served.
    assert _post(world, f"/api/v1/datasets/{dataset.id}/versions/1/delta/2").status_code == 200


@pytest.mark.django_db
def test_unknown_versions_and_the_same_version_twice_are_refused_by_name(world: World) -> None:
    dataset = world.datasets["valley-speech"]
    missing = _post(world, f"/api/v1/datasets/{dataset.id}/versions/1/delta/9")
    assert missing.status_code == 404 and "has no published version 9" in missing.json()["message"]
    assert _post(world, f"/api/v1/datasets/{dataset.id}/versions/2/delta/2").status_code == 400


def _readme_block(after: str, language: str) -> str:
    text = (REPO_DIR / "README.md").read_text()
    section = text[text.index(after) :]
    found = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert found is not None
    return found.group(1)


@pytest.mark.django_db(transaction=True)  # the README's code calls a live server: the world is restored after
def test_the_readme_python_applies_a_delta_to_a_local_copy_that_the_verifier_then_accepts(
    world: World, live_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    dataset = world.datasets["valley-speech"]
    local = tmp_path / "valley-speech"
    for path, data in speech_files("speech-1").items():  # version 1, unpacked
        (local / path).parent.mkdir(parents=True, exist_ok=True)
        (local / path).write_bytes(data)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MDC_API_URL", f"{live_server.url}/api")
    monkeypatch.setenv("MDC_API_KEY", world.key("licensee"))
    monkeypatch.setenv("DATASET_ID", dataset.id)

    exec(compile(_readme_block("**Delta download**", "python"), "README.md", "exec"), {})  # noqa: S102

    held = {p.relative_to(local).as_posix(): p.read_bytes() for p in local.rglob("*") if p.is_file()}
    assert held == speech_files("speech-2", clips=5)
    # The verifier's command line accepts the result, and refuses it once a file is altered.
    (tmp_path / "key.pem").write_text(signing.current_key().public_pem)
    manifest = Manifest.objects.get(version=world.version("valley-speech", 2))
    (tmp_path / "manifest-v2.json").write_text(json.dumps(manifest.envelope))
    command = [sys.executable, "-m", "provenance.verify", "delta", "delta.json", "--public-key", "key.pem",
               "--dir", "valley-speech", "--manifest", "manifest-v2.json"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO_DIR)}
    ok = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    assert ok.returncode == 0, ok.stderr
    assert "3 added" not in ok.stdout and "5 added, 2 changed, 3 removed" in ok.stdout
    (local / "clips" / "speech-1-0.wav").write_bytes(b"left behind")
    stale = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    assert stale.returncode == 1 and "clips/speech-1-0.wav: still there" in stale.stderr
