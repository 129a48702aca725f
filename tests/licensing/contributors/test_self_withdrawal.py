"""A contributor acts for themselves, over the HTTP API against a live server with a real Celery
worker (validation, the Parquet export, the re-release) and real storage.

The organization publishes version 1 with four contributors' clips and a TSV naming each clip's
contributor, and makes a claim link for c-2; a person claims it with their own key, sees the
dataset, the exact consent they gave and its license; a licensee downloads version 1; the
contributor withdraws without knowing a record id; version 2 is published without their clips and
rows, version 1 answers 410 naming version 2, and the contributor follows it all."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import datacollective
import pytest
from datacollective.models import DatasetSubmission

from licensing.models import ConsentWithdrawal, ContributorClaim
from marketplace.models import ParquetExport, Submission
from marketplace.submissions import review
from tests.archive_builders import write_tar
from tests.conftest import wait_until
from tests.licensing.consent.test_rereleases import (
    CONTRIBUTORS,
    DATASHEET,
    Api,
    _clip,
    _licensee_downloads,
    _members,
    _rerelease_done,
    _tar_members,
    world,  # noqa: F401 (the fixture)
)
from tests.provenance.conftest import CONSENT

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def publish(
    world: dict[str, Any],  # noqa: F811 (the fixture's value)
    tmp_path: Path,
    *,
    datasheet: dict[str, Any] | None = None,
    split: list[dict[str, Any]] | None = None,
) -> str:
    """Version 1 as the organization publishes it with the SDK and /api/v1, with the columns that
    name records and contributors; returns the dataset's id once its tables are exported."""
    owner = world["owner"]
    draft_id = datacollective.create_submission_draft(DatasetSubmission(name="Valley Voices"))["submission"]["id"]
    datacollective.update_submission(draft_id, DatasetSubmission(**(DATASHEET | (datasheet or {}))))
    columns = owner(
        "PUT",
        f"/api/v1/submissions/{draft_id}/record-id-column",
        json={"recordIdColumn": "path", "contributorIdColumn": "client_id"},
    )
    assert columns.json() == {"recordIdColumn": "path", "contributorIdColumn": "client_id"}, columns.text
    terms = owner("PUT", f"/api/v1/submissions/{draft_id}/consent", json=CONSENT)
    assert terms.status_code == 200, terms.text
    digest = terms.json()["consent"]["consentTextSha256"]
    records = [{"contributorId": c, "givenAt": "2025-02-01T10:00:00Z", "termsSha256": digest} for c in CONTRIBUTORS]
    added = owner("POST", f"/api/v1/submissions/{draft_id}/consent/records", json={"records": records})
    assert added.ok, added.text
    shares = split or [{"username": world["owner_user"].username, "basisPoints": 10_000}]
    assert owner("PUT", f"/api/v1/submissions/{draft_id}/contributors", json={"contributors": shares}).ok
    datacollective.upload_dataset_file(str(write_tar(tmp_path / "v1.tar.gz", _members())), draft_id,
                                       show_progress=False)  # fmt: skip
    assert wait_until(lambda: owner("GET", f"/api/v1/submissions/{draft_id}/validation").json().get("status")
                      == "passed", timeout=60)  # fmt: skip
    datacollective.submit_submission(draft_id, DatasetSubmission(agreeToSubmit=True))
    submission = Submission.objects.get(id=draft_id)
    review.approve_submission(submission=submission, reviewer=world["reviewer"])
    assert wait_until(
        lambda: ParquetExport.objects.filter(upload_id=submission.archive_upload_id, status="ready").exists(),
        timeout=60,
    )
    return str(Submission.objects.get(id=draft_id).dataset_id)


def test_a_contributor_claims_sees_and_withdraws_themselves(
    world: dict[str, Any],  # noqa: F811 (the fixture, imported above)
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    bearer: Any,
    make_user: Any,
) -> None:
    dataset_id = publish(world, tmp_path)
    owner = world["owner"]
    _, key = bearer("read", "upload", user=make_user("gwen"))
    gwen = Api(world["base"], key)
    try:
        # A claim names an id of the organization's consent records; an unknown one is refused in words.
        unknown = owner("POST", f"/api/v1/organizations/{world['org'].slug}/claims", json={"contributorId": "c-9"})
        assert unknown.status_code == 400
        assert "No consent record of" in unknown.text and "c-9" in unknown.text
        made = owner("POST", f"/api/v1/organizations/{world['org'].slug}/claims", json={"contributorId": "c-2"})
        assert made.status_code == 201, made.text
        token = made.json()["link"].rstrip("/").rsplit("/", 1)[1]
        # Somebody who is not an owner or admin makes no link.
        assert gwen("POST", f"/api/v1/organizations/{world['org'].slug}/claims",
                    json={"contributorId": "c-3"}).status_code == 403  # fmt: skip

        assert gwen("GET", "/api/v1/me/contributions").json()["items"] == []
        claimed = gwen("POST", "/api/v1/claims/accept", json={"token": token})
        assert claimed.status_code == 200, claimed.text
        assert claimed.json()["contributorId"] == "c-2"
        # The link works once: another account is refused.
        _, other_key = bearer("read", "upload")
        other = Api(world["base"], other_key)
        again = other("POST", "/api/v1/claims/accept", json={"token": token})
        other.close()
        assert again.status_code == 400 and "used already" in again.text

        mine = gwen("GET", "/api/v1/me/contributions").json()
        [item] = mine["items"]
        assert (item["datasetId"], item["contributorId"]) == (dataset_id, "c-2")
        assert item["consent"]["text"] == CONSENT["consentText"]
        assert item["consent"]["sha256"] == hashlib.sha256(str(CONSENT["consentText"]).encode()).hexdigest()
        assert item["license"]["id"] == "CC-BY-4.0"
        assert [v["number"] for v in item["versions"]] == [1] and not item["versions"][0]["withdrawn"]

        # The licensee downloads version 1; the contributor's usage shows it, without a name.
        _licensee_downloads(world, dataset_id, tmp_path, monkeypatch)
        usage = gwen("GET", "/api/v1/me/contributions").json()["items"][0]["usage"]
        assert [(u["licensees"], u["downloads"]) for u in usage] == [(1, 1)]
        assert all(set(u) == {"month", "licensees", "downloads"} for u in usage)  # counts, never who

        # The contributor withdraws without naming a record: their rows and clips are found.
        withdrawn = gwen("POST", "/api/v1/me/contributions/withdrawals", json={"reason": "I moved away."})
        assert withdrawn.status_code == 201, withdrawn.text
        [entry] = withdrawn.json()["items"]
        # The contributor id itself (every row of theirs), then the records found now.
        assert entry["recordIds"] == ["c-2", "c-2-1.wav", "c-2-2.wav"]
        withdrawal = ConsentWithdrawal.objects.get(id=entry["id"])
        assert not withdrawal.on_behalf and withdrawal.contributor_id == "c-2"
        assert sorted(withdrawal.file_hashes) == sorted(hashlib.sha256(_clip("c-2", n)).hexdigest() for n in (1, 2))
        assert entry["licenseesNotified"] == 1

        job = _rerelease_done(world, dataset_id, "published")
        assert job["version"] == 2
        gone = world["licensee"]("POST", f"/api/v1/datasets/{dataset_id}/versions/1/files/archive/download")
        assert gone.status_code == 410 and "Use version 2" in gone.text

        followed = gwen("GET", "/api/v1/me/contributions").json()["items"][0]
        assert followed["versions"] == [
            {**followed["versions"][0], "number": 1, "withdrawn": True, "replacementVersion": 2}
        ]
        [state] = followed["withdrawals"]
        assert state["rerelease"]["status"] == "published" and state["rerelease"]["version"] == 2
        assert state["reason"] == "I moved away."

        # Version 2 holds no clip or row of c-2; everyone else's are there.
        monkeypatch.setenv("MDC_API_KEY", world["licensee_key"])
        path = datacollective.download_dataset(dataset_id, download_directory=str(tmp_path / "v2"),
                                               show_progress=False)  # fmt: skip
        members = _tar_members(Path(path).read_bytes())
        assert not [name for name in members if name.startswith("clips/c-2")]
        rows = members["train.tsv"].decode().splitlines()[1:]
        assert sorted({row.split("\t")[1] for row in rows}) == ["c-1", "c-3", "c-4"]

        # Nothing is left to withdraw: a second try says so.
        twice = gwen("POST", "/api/v1/me/contributions/withdrawals", json={})
        assert twice.status_code == 400 and "any more" in twice.text
        assert ContributorClaim.objects.filter(claimed_by__username="gwen").count() == 1
    finally:
        gwen.close()
