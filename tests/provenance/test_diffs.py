"""Diffs between versions (provenance/diffs.py), by API and on the dataset's pages, as users reach
them: in the realistic world, whose ``valley-speech`` went through three submissions, each
uploaded, validated and approved (version 1: three clips named speech-1-*, version 2: five named
speech-2-*, version 3: six named speech-3-*; each with its own train.tsv and README.md)."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from marketplace.models import Dataset
from marketplace.publishing import create_dataset, publish_version
from provenance import diffs
from tests.factories import license_for, published_dataset
from tests.world import World, speech_files

pytestmark = pytest.mark.django_db


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _state(data: bytes, rows: int | None = None) -> dict[str, Any]:
    return {"size": len(data), "sha256": _sha(data), "rows": rows}


def _get(world: World, path: str, person: str | None = "licensee") -> Any:
    headers = {"Authorization": f"Bearer {world.key(person)}"} if person else {}
    return Client().get(path, headers=headers)


def test_the_diff_between_two_real_versions_lists_added_removed_and_changed_files_with_rows(
    world: World, django_assert_max_num_queries: Any
) -> None:
    dataset = world.datasets["valley-speech"]
    v1, v2 = speech_files("speech-1"), speech_files("speech-2", clips=5)
    with django_assert_max_num_queries(12):
        response = _get(world, f"/api/v1/datasets/{dataset.id}/versions/1/diff/2")
    assert response.status_code == 200, response.content
    body = response.json()
    manifests = {n: world.version("valley-speech", n).manifest for n in (1, 2)}
    assert body["datasetId"] == dataset.id
    assert body["old"] == {"version": 1, "archiveSha256": world.version("valley-speech", 1).sha256,
                           "manifestSha256": manifests[1].statement_sha256, "files": len(v1)}  # fmt: skip
    assert (body["new"]["version"], body["new"]["files"]) == (2, len(v2))
    assert body["added"] == [
        {"path": path, "old": None, "new": _state(v2[path])} for path in sorted(v2) if path.startswith("clips/")
    ]
    assert body["removed"] == [
        {"path": path, "old": _state(v1[path]), "new": None} for path in sorted(v1) if path.startswith("clips/")
    ]
    # The index gained two rows (counted by the validation of each archive); the README changed too.
    assert body["changed"] == [
        {"path": "README.md", "old": _state(v1["README.md"]), "new": _state(v2["README.md"])},
        {"path": "train.tsv", "old": _state(v1["train.tsv"], 3), "new": _state(v2["train.tsv"], 5)},
    ]
    assert body["unchanged"] == 0


def test_either_order_and_any_two_versions(world: World) -> None:
    dataset = world.datasets["valley-speech"]
    forward = _get(world, f"/api/v1/datasets/{dataset.id}/versions/1/diff/3").json()
    backward = _get(world, f"/api/v1/datasets/{dataset.id}/versions/3/diff/1").json()
    assert (backward["old"], backward["new"]) == (forward["new"], forward["old"])
    assert [item["path"] for item in backward["added"]] == [item["path"] for item in forward["removed"]]
    assert [item["path"] for item in backward["removed"]] == [item["path"] for item in forward["added"]]
    assert len(forward["added"]) == 6 and len(forward["removed"]) == 3
    index = {item["path"]: item for item in backward["changed"]}["train.tsv"]
    assert (index["old"]["rows"], index["new"]["rows"]) == (6, 3)


def test_unknown_versions_and_the_same_version_twice_are_refused_by_name(world: World) -> None:
    dataset = world.datasets["valley-speech"]
    base = f"/api/v1/datasets/{dataset.id}/versions"
    for path, missing in ((f"{base}/1/diff/9", 9), (f"{base}/8/diff/2", 8), (f"{base}/8/diff/9", 8)):
        response = _get(world, path)
        assert response.status_code == 404
        assert response.json()["message"] == f"Valley Speech has no published version {missing}."
    same = _get(world, f"{base}/2/diff/2")
    assert same.status_code == 400
    assert same.json()["message"] == "Compare two different versions: both are version 2."
    unknown = _get(world, "/api/v1/datasets/no-such-dataset/versions/1/diff/2")
    assert unknown.status_code == 404 and "no-such-dataset" in unknown.json()["message"]


def _second_private_version(world: World) -> Dataset:
    """A private dataset of Valley with two versions (imports: their manifests list no files)."""
    dataset = create_dataset(organization=world.orgs["valley"], slug="valley-ledger", name="Ledger",
                             visibility="private")  # fmt: skip
    for number in (1, 2):
        publish_version(dataset=dataset, archive_key=f"published/{dataset.id}/{number}.tar.gz", size_bytes=10,
                        sha256=f"{number}" * 64, license=license_for("CC-BY-4.0"))  # fmt: skip
    return dataset


def test_a_private_datasets_diff_is_hidden_from_everyone_outside_its_organization(world: World) -> None:
    dataset = _second_private_version(world)
    path = f"/api/v1/datasets/{dataset.id}/versions/1/diff/2"
    for outsider in ("licensee", "harbor.admin", "harbor.owner", "staff", None):
        response = _get(world, path, outsider)
        assert response.status_code == 404, outsider
        assert response.json()["message"] == f"No dataset '{dataset.id}' that you may see."
    # Same answer for a version that does not exist: the dataset's versions are not told either.
    assert _get(world, f"/api/v1/datasets/{dataset.id}/versions/1/diff/7", None).status_code == 404
    for member in ("valley.member", "valley.reviewer", "valley.owner"):
        body = _get(world, path, member).json()
        assert (body["old"]["files"], body["new"]["files"], body["added"], body["unchanged"]) == (0, 0, [], 0)
    page = f"/datasets/{dataset.slug}/versions/2/changes/1/"
    assert Client().get(page).status_code == 404
    browser = Client()
    browser.force_login(world.people["valley.member"])
    assert browser.get(page).status_code == 200


def _without_triggers(sql: str, *params: Any) -> None:
    """Bypass the append-only triggers, as a superuser could: what the manifest checks exist for."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params)
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")


def test_a_missing_or_altered_manifest_is_refused_not_compared() -> None:
    dataset = published_dataset("twice")
    publish_version(dataset=dataset, archive_key=f"published/{dataset.id}/2.tar.gz", size_bytes=10,
                    sha256="b" * 64, license=license_for("CC-BY-4.0"))  # fmt: skip
    v1, v2 = dataset.versions.get(number=1), dataset.versions.get(number=2)
    assert diffs.diff(v1, v2).unchanged == 0
    api = f"/api/v1/datasets/{dataset.id}/versions/1/diff/2"
    page = f"/datasets/{dataset.slug}/versions/2/changes/1/"

    _without_triggers(
        "UPDATE provenance_manifest SET envelope = jsonb_set(envelope, '{payloadType}', '\"text/plain\"') "
        "WHERE version_id = %s",
        v2.pk,
    )
    with pytest.raises(diffs.ManifestInvalid, match="version 2 fails its check"):
        diffs.diff(v1, v2)
    response = Client().get(api)
    assert response.status_code == 500 and response.json()["error"] == "manifest_invalid"
    assert "version 2 fails its check" in response.json()["message"]
    assert Client().get(page).status_code == 500

    _without_triggers("DELETE FROM provenance_manifest WHERE version_id = %s", v2.pk)
    with pytest.raises(diffs.ManifestMissing):
        diffs.diff(v1, v2)
    response = Client().get(api)
    assert response.status_code == 404
    assert response.json()["message"] == "Version 2 has no signed manifest, so its files are not known."
    assert "no signed manifest" in Client().get(page).content.decode()


def test_the_dataset_page_links_each_version_to_its_changes_and_the_page_shows_them(world: World) -> None:
    dataset = world.datasets["valley-speech"]
    page = Client().get(f"/datasets/{dataset.slug}/").content.decode()
    links = re.findall(r'<a href="(/datasets/valley-[^"]+/changes/\d+/)">Changes from v(\d)</a>', page)
    assert links == [(f"/datasets/{dataset.slug}/versions/3/changes/2/", "2"),
                     (f"/datasets/{dataset.slug}/versions/2/changes/1/", "1")]  # fmt: skip
    # A dataset with one version links to no changes.
    single = Client().get(f"/datasets/{world.datasets['valley-gated'].slug}/").content.decode()
    assert "Changes from" not in single

    response = Client().get(links[1][0])
    assert response.status_code == 200
    html = response.content.decode()
    v1, v2 = speech_files("speech-1"), speech_files("speech-2", clips=5)
    assert "Changes in version 2 since version 1" in html
    assert "5 added, 3 removed, 2 changed, 0 unchanged." in html
    for section, paths in (("added", [p for p in v2 if p.startswith("clips/")]),
                           ("removed", [p for p in v1 if p.startswith("clips/")]),
                           ("changed", ["README.md", "train.tsv"])):  # fmt: skip
        part = html.split(f'id="{section}"')[1].split("</section>")[0]
        assert re.findall(r'<th scope="row" class="path">([^<]+)</th>', part) == sorted(paths)
    changed = html.split('id="changed"')[1]
    index_row = changed.split("train.tsv")[1].split("</tr>")[0]
    full = _sha(v2["train.tsv"])
    assert f'<code title="{full}">{full[:12]}…</code>' in index_row
    sizes = f"{len(v1['train.tsv'])}\xa0bytes → {len(v2['train.tsv'])}\xa0bytes"  # filesizeformat
    assert "3 → 5" in index_row and sizes in index_row
    # Any other version can be compared from there.
    assert f'href="/datasets/{dataset.slug}/versions/2/changes/3/"' in html

    assert Client().get(f"/datasets/{dataset.slug}/versions/2/changes/9/").status_code == 404
    same = Client().get(f"/datasets/{dataset.slug}/versions/2/changes/2/")
    assert same.status_code == 400 and "both are version 2" in same.content.decode()
