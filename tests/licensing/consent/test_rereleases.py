"""Consent withdrawal becomes a re-release, driven as users drive it: the official SDK and the HTTP
API against a live server, a real Celery worker (validation and the re-release job), real storage.

Version 1 holds four contributors' clips and a TSV index naming them; a licensee downloads it with
the SDK; two contributors withdraw (one by record id, one by file hash); the worker writes version 2
without their clips and rows. Version 1 then answers 410 naming version 2, the SDK downloads
version 2, the diff lists what went, the licensee acknowledges the deletion and the organization
sees it, and the removal entry's inclusion proof verifies offline against a signed tree head."""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import datacollective
import pytest
import requests
from datacollective.models import DatasetSubmission

from licensing.models import Rerelease
from marketplace.models import Dataset, Membership, Organization, Submission, User
from marketplace.organizations.services import approve_organization
from marketplace.submissions import review
from provenance import dsse, verify
from tests.archive_builders import wav_bytes, write_tar
from tests.conftest import wait_until
from tests.factories import license_for, organization
from tests.provenance.conftest import CONSENT

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

DATASHEET = {
    "shortDescription": "Short.", "longDescription": "Long.", "locale": "cy", "task": "ASR", "format": "TSV, WAV",
    "licenseAbbreviation": "CC-BY-4.0", "intendedUsage": "ASR.", "pointOfContactFullName": "Ann",
    "pointOfContactEmail": "ann@example.org",
}  # fmt: skip
CONTRIBUTORS = ["c-1", "c-2", "c-3", "c-4"]


def _clip(contributor: str, n: int) -> bytes:
    return wav_bytes(frames=400 + 40 * CONTRIBUTORS.index(contributor) + n)  # distinct bytes per clip


def _members() -> dict[str, bytes]:
    rows = ["path\tclient_id\tsentence"]
    members: dict[str, bytes] = {}
    for contributor in CONTRIBUTORS:
        for n in (1, 2):
            name = f"{contributor}-{n}.wav"
            members[f"clips/{name}"] = _clip(contributor, n)
            rows.append(f"{name}\t{contributor}\tsentence {n} of {contributor}")
    members["train.tsv"] = ("\n".join(rows) + "\n").encode()
    return members


class Api:
    def __init__(self, base: str, key: str) -> None:
        self.base, self.session = base, requests.Session()
        self.session.headers["Authorization"] = f"Bearer {key}"

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, f"{self.base}{path}", timeout=30, **kwargs)

    def close(self) -> None:
        """The live server's thread keeps a database connection while the HTTP connection stays
        open (keep-alive): closing it lets the test database go at the end of the session."""
        self.session.close()


@pytest.fixture
def world(
    live_server: Any, celery_worker_process: Any, monkeypatch: pytest.MonkeyPatch, bearer: Any, make_user: Any
) -> Iterator[dict[str, Any]]:
    org = approve_organization(organization=organization("voices"))
    owner, owner_key = bearer("upload", "read", "download")
    licensee, licensee_key = bearer("read", "download", user=make_user("licensee"))
    reviewer: User = make_user("reviewer")
    Membership.objects.create(organization=org, user=owner, role="owner")
    Membership.objects.create(organization=org, user=reviewer, role="reviewer")
    monkeypatch.setenv("MDC_API_URL", f"{live_server.url}/api")
    monkeypatch.setenv("MDC_API_KEY", owner_key)
    license_for("CC-BY-4.0")
    owner_api, licensee_api = Api(live_server.url, owner_key), Api(live_server.url, licensee_key)
    yield {
        "org": org, "owner": owner_api, "licensee": licensee_api,
        "licensee_key": licensee_key, "owner_key": owner_key, "reviewer": reviewer, "base": live_server.url,
        "owner_user": owner,
    }  # fmt: skip
    owner_api.close()
    licensee_api.close()


def _publish_v1(world: dict[str, Any], tmp_path: Path) -> str:
    """The contributor's path with the SDK and /api/v1; a reviewer approves (a person's decision)."""
    owner = world["owner"]
    draft_id = datacollective.create_submission_draft(DatasetSubmission(name="Valley Voices"))["submission"]["id"]
    datacollective.update_submission(draft_id, DatasetSubmission(**DATASHEET))
    assert owner("PUT", f"/api/v1/submissions/{draft_id}/record-id-column", json={"recordIdColumn": "path"}).ok
    terms = owner("PUT", f"/api/v1/submissions/{draft_id}/consent", json=CONSENT)
    assert terms.status_code == 200, terms.text
    digest = terms.json()["consent"]["consentTextSha256"]
    records = [{"contributorId": c, "givenAt": "2025-02-01T10:00:00Z", "termsSha256": digest} for c in CONTRIBUTORS]
    assert owner("POST", f"/api/v1/submissions/{draft_id}/consent/records", json={"records": records}).ok
    split = {"contributors": [{"username": world["owner_user"].username, "basisPoints": 10_000}]}
    assert owner("PUT", f"/api/v1/submissions/{draft_id}/contributors", json=split).ok
    archive = write_tar(tmp_path / "v1.tar.gz", _members())
    datacollective.upload_dataset_file(str(archive), draft_id, show_progress=False)
    assert wait_until(lambda: owner("GET", f"/api/v1/submissions/{draft_id}/validation").json().get("status")
                      == "passed", timeout=60)  # fmt: skip
    datacollective.submit_submission(draft_id, DatasetSubmission(agreeToSubmit=True))
    review.approve_submission(submission=Submission.objects.get(id=draft_id), reviewer=world["reviewer"])
    return str(Submission.objects.get(id=draft_id).dataset_id)


def _licensee_downloads(world: dict[str, Any], dataset_id: str, tmp_path: Path, monkeypatch: Any) -> Path:
    terms = world["licensee"]("GET", f"/api/v1/datasets/{dataset_id}/terms").json()
    assert world["licensee"]("POST", f"/api/v1/datasets/{dataset_id}/grants",
                             json={"termsSha256": terms["termsSha256"]}).status_code == 201  # fmt: skip
    monkeypatch.setenv("MDC_API_KEY", world["licensee_key"])
    path = datacollective.download_dataset(dataset_id, download_directory=str(tmp_path / "dl"), show_progress=False)
    monkeypatch.setenv("MDC_API_KEY", world["owner_key"])
    return Path(path)


def _rerelease_done(world: dict[str, Any], dataset_id: str, *states: str) -> dict[str, Any]:
    """The newest job, once every job of the dataset is in one of ``states`` (the message names
    every job's state and error otherwise)."""
    found: list[dict[str, Any]] = []

    def done() -> bool:
        items = world["owner"]("GET", f"/api/v1/datasets/{dataset_id}/rereleases").json()["items"]
        found[:] = items
        return bool(items) and all(item["status"] in states for item in items)

    assert wait_until(done, timeout=90, interval=0.5), [(i["id"], i["status"], i["error"]) for i in found]
    return found[0]


def _tar_members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def test_two_withdrawals_become_version_2_without_their_files_and_rows(
    world: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset_id = _publish_v1(world, tmp_path)
    v1_path = _licensee_downloads(world, dataset_id, tmp_path, monkeypatch)
    assert v1_path.name == "valley-voices-v1.tar.gz"
    owner = world["owner"]

    # c-2 withdraws by record ids (the clip paths); c-3's are named by file hash. The second may
    # arrive while the first's job runs: that job then gives way to the second's, which removes both.
    by_ids = owner(
        "POST",
        f"/api/v1/datasets/{dataset_id}/withdrawals",
        json={"version": 1, "recordIds": ["clips/c-2-1.wav", "clips/c-2-2.wav"], "contributorId": "c-2"},
    )
    assert by_ids.status_code == 201, by_ids.text
    hashes = [hashlib.sha256(_clip("c-3", n)).hexdigest() for n in (1, 2)]
    body = {"version": 1, "recordIds": ["c-3"], "fileHashes": hashes, "contributorId": "c-3"}
    by_hash = owner("POST", f"/api/v1/datasets/{dataset_id}/withdrawals", json=body)
    assert by_hash.status_code == 201, by_hash.text
    first = _rerelease_done(world, dataset_id, "published", "nothing_to_remove", "superseded")

    statuses = sorted(i["status"] for i in owner("GET", f"/api/v1/datasets/{dataset_id}/rereleases").json()["items"])
    assert "published" in statuses, statuses
    dataset = Dataset.objects.get(id=dataset_id)
    assert dataset.current_version is not None and dataset.current_version.number >= 2
    current = dataset.current_version.number
    assert first["status"] in ("published", "nothing_to_remove", "superseded")

    # Version 1 answers 410 and names its replacement.
    gone = world["licensee"]("POST", f"/api/v1/datasets/{dataset_id}/versions/1/files/archive/download")
    assert gone.status_code == 410, gone.text
    assert f"Use version {current} (valley-voices-v{current}.tar.gz)" in gone.text

    # The SDK downloads the clean version: no clips of c-2 or c-3, no rows naming them, the rest intact.
    monkeypatch.setenv("MDC_API_KEY", world["licensee_key"])
    path = Path(datacollective.download_dataset(dataset_id, download_directory=str(tmp_path / "v2"),
                                                show_progress=False))  # fmt: skip
    assert path.name == f"valley-voices-v{current}.tar.gz"
    members = _tar_members(path.read_bytes())
    original = _members()
    kept = {name for name in original if not name.startswith(("clips/c-2", "clips/c-3"))}
    assert set(members) == kept
    assert all(members[name] == original[name] for name in kept if name != "train.tsv")
    index = members["train.tsv"].decode().splitlines()
    assert index[0] == "path\tclient_id\tsentence"
    assert [row.split("\t")[1] for row in index[1:]] == ["c-1", "c-1", "c-4", "c-4"]

    # The diff lists what was removed.
    diff = world["licensee"]("GET", f"/api/v1/datasets/{dataset_id}/versions/1/diff/{current}").json()
    assert sorted(f["path"] for f in diff["removed"]) == [f"clips/c-{c}-{n}.wav" for c in (2, 3) for n in (1, 2)]
    assert [f["path"] for f in diff["changed"]] == ["train.tsv"]

    # The licensee was told, acknowledges by API; the organization sees who did.
    notices = world["licensee"]("GET", "/api/v1/me/removal-notices").json()["items"]
    assert sorted(n["withdrawalId"] for n in notices) == sorted([by_ids.json()["id"], by_hash.json()["id"]])
    withdrawal_id = by_ids.json()["id"]
    seen = owner("GET", f"/api/v1/datasets/{dataset_id}/removals/{withdrawal_id}/acknowledgements").json()
    assert (seen["notified"], seen["acknowledged"]) == (1, 0)
    acked = world["licensee"]("POST", f"/api/v1/datasets/{dataset_id}/removals/{withdrawal_id}/acknowledgement")
    assert acked.status_code == 200, acked.text
    seen = owner("GET", f"/api/v1/datasets/{dataset_id}/removals/{withdrawal_id}/acknowledgements").json()
    assert (seen["notified"], seen["acknowledged"], seen["items"][0]["username"]) == (1, 1, "licensee")
    not_told = owner("POST", f"/api/v1/datasets/{dataset_id}/removals/{withdrawal_id}/acknowledgement")
    assert not_told.status_code == 404 and "only licensees who downloaded version 1" in not_told.text

    # The removal entry is signed and logged: its inclusion proof verifies against a signed tree head.
    feed = requests.get(f"{world['base']}/api/v1/datasets/{dataset_id}/removals", timeout=10).json()["items"]
    entry = next(item for item in feed if item["id"] == withdrawal_id)
    assert entry["replacementVersion"] == current
    proof = requests.get(
        f"{world['base']}/api/v1/provenance/log/entries/{entry['logIndex']}/inclusion-proof", timeout=10
    ).json()
    keys = requests.get(f"{world['base']}/api/v1/provenance/keys", timeout=10).json()["keys"]
    public_key = dsse.load_public_pem(keys[0]["publicKeyPem"].encode())
    stated = verify.check_removal(entry["statement"], proof, public_key)
    assert (stated["version"], stated["recordIds"]) == (1, ["clips/c-2-1.wav", "clips/c-2-2.wav"])
    tampered = {**entry["statement"], "payload": entry["statement"]["payload"][:-4] + "AAAA"}
    with pytest.raises(verify.Mismatch):
        verify.check_removal(tampered, proof, public_key)


def test_an_organization_that_reviews_re_releases_holds_it_for_a_reviewer(
    world: dict[str, Any], tmp_path: Path
) -> None:
    Organization.objects.filter(id=world["org"].id).update(withdrawal_releases="review")
    dataset_id = _publish_v1(world, tmp_path)
    withdrawn = world["owner"]("POST", f"/api/v1/datasets/{dataset_id}/withdrawals",
                               json={"version": 1, "recordIds": ["clips/c-4-1.wav"]})  # fmt: skip
    assert withdrawn.status_code == 201, withdrawn.text
    job = _rerelease_done(world, dataset_id, "in_review")
    assert job["removedFiles"][0]["path"] == "clips/c-4-1.wav" and job["removedRows"] == {"train.tsv": 1}
    # Until a reviewer approves, version 1 is withdrawn and names no replacement.
    gone = world["licensee"]("POST", f"/api/v1/datasets/{dataset_id}/versions/1/files/archive/download")
    assert gone.status_code == 410 and "No replacement version is published yet." in gone.text
    review.approve_submission(submission=Submission.objects.get(id=job["submissionId"]), reviewer=world["reviewer"])
    after = world["owner"]("GET", f"/api/v1/datasets/{dataset_id}/rereleases").json()["items"][0]
    assert (after["status"], after["version"]) == ("published", 2)
    assert Dataset.objects.get(id=dataset_id).current_version.changelog.startswith(  # type: ignore[union-attr]
        "Version 1 without the records whose consent was withdrawn"
    )


def test_a_withdrawal_of_records_the_version_does_not_hold_changes_nothing(
    world: dict[str, Any], tmp_path: Path
) -> None:
    dataset_id = _publish_v1(world, tmp_path)
    withdrawn = world["owner"]("POST", f"/api/v1/datasets/{dataset_id}/withdrawals",
                               json={"version": 1, "recordIds": ["no-such-record"]})  # fmt: skip
    assert withdrawn.status_code == 201, withdrawn.text
    job = _rerelease_done(world, dataset_id, "nothing_to_remove", "failed")
    assert job["status"] == "nothing_to_remove", job
    assert Dataset.objects.get(id=dataset_id).current_version.number == 1  # type: ignore[union-attr]
    assert Rerelease.objects.get().submission_id is None
