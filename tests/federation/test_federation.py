"""Issue 20's acceptance for following and witnessing: three instances on this machine, each with
its own database, storage and signing key. A is the test's live server, which publishes real
versions (uploaded through the SDK, validated, reviewed); B follows A's catalog; C witnesses A's
log. B lists every dataset of A verified; C cosigns A's heads, and the cosignature verifies offline
with the standalone verifier. Then A's operator forges history the way one could (triggers off as
a superuser, a logged entry rewritten, the signed heads dropped, a new head signed with A's own key
at the same size): B and C both raise the split-view alarm with both signed heads as evidence, C
refuses to cosign, and B's datasets of A turn not verified, naming the alarm."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from django.db import connection

from provenance import dsse, merkle, signing
from provenance.federation import following, witnessing
from provenance.models import LogEntry, SignedTreeHead
from tests.conftest import REPO_DIR
from tests.federation.instances import Instance

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def staff_key(instance: Instance) -> str:
    """A staff user of ``instance`` and an API key of theirs (read scope)."""
    instance.shell(
        "from marketplace.models import User\n"
        "User.objects.create_user('fed-staff', 'fed-staff@example.org', 'a-long-staff-password', is_staff=True)\n"
    )
    return instance.manage("create_api_key", "fed-staff", "--scope", "read").strip().splitlines()[-1]


def api(method: str, url: str, key: str | None = None, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = requests.request(method, url, headers=headers, timeout=60, **kwargs)
    assert response.status_code < 300, f"{method} {url}: {response.status_code} {response.text[:500]}"
    return response.json()


def forge_history() -> None:
    """What a malicious operator of A can do with A's database and key: rewrite a logged publication
    (here: the first one's manifest digest) behind the append-only triggers, drop the signed heads
    that would betray it, and let A sign a head of the rewritten log, the same size as before."""
    entry = LogEntry.objects.filter(kind="publish").order_by("index").first()
    leaf = json.loads(entry.leaf_data)
    leaf["payload"]["manifestSha256"] = "0" * 64
    text = dsse.canonical_json(leaf).decode()
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE provenance_logentry DISABLE TRIGGER USER")
        cursor.execute("ALTER TABLE provenance_signedtreehead DISABLE TRIGGER USER")
        cursor.execute(
            "UPDATE provenance_logentry SET leaf_data = %s, leaf_hash = %s WHERE index = %s",
            [text, merkle.leaf_hash(text.encode()).hex(), entry.index],
        )
        cursor.execute("DELETE FROM provenance_signedtreehead")
        cursor.execute("ALTER TABLE provenance_logentry ENABLE TRIGGER USER")
        cursor.execute("ALTER TABLE provenance_signedtreehead ENABLE TRIGGER USER")


def public_key_file(url: str, path: Path) -> Path:
    path.write_text(api("GET", f"{url}/api/v1/provenance/keys")["keys"][0]["publicKeyPem"])
    return path


def verify_offline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provenance.verify", *args], cwd=REPO_DIR, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip


def test_b_lists_a_verified_c_cosigns_and_a_forged_head_is_caught_by_both(
    live_server: Any, publish_real: Any, start_instance: Any, tmp_path: Path
) -> None:
    a = live_server.url
    published = [publish_real("Valley Speech"), publish_real("Harbor Notes", locale="en")]
    b, c = start_instance("b"), start_instance("c")
    b_key, c_key = staff_key(b), staff_key(c)

    # B follows A (staff, through the API) and syncs: every dataset of A, verified, pages at A.
    peer = api("POST", f"{b.url}/api/v1/federation/peers", b_key, json={"url": a, "following": True})
    assert peer["following"] and peer["url"] == a
    assert f"{a}: 2 of 2 datasets verified, 0 gone" in b.manage("sync_peers")
    listing = api("GET", f"{b.url}/api/v1/federation/datasets")
    ids = {item.version.dataset_id for item in published}
    assert listing["total"] == 2 and {item["originId"] for item in listing["items"]} == ids
    for item in listing["items"]:
        assert item["verified"] and item["reason"] == "" and item["origin"] == a, item
        assert item["pageUrl"].startswith(f"{a}/datasets/") and item["version"] == 1
    catalog = requests.get(f"{b.url}/datasets/", timeout=30).text
    assert "Valley Speech" in catalog and "Harbor Notes" in catalog and catalog.count('data-verified="true"') == 2

    # C witnesses A: it cosigns A's head, publishes the cosignature, which verifies offline.
    api("POST", f"{c.url}/api/v1/federation/peers", c_key, json={"url": a, "witnessing": True})
    assert "cosigned the head of" in c.manage("sync_peers", "--witness")
    cosignatures = api("GET", f"{c.url}/api/v1/provenance/witness/cosignatures", params={"origin": a})
    assert len(cosignatures["cosignatures"]) == 1
    document = tmp_path / "cosignatures.json"
    document.write_text(json.dumps(cosignatures))
    c_pem, a_pem = public_key_file(c.url, tmp_path / "c.pem"), public_key_file(a, tmp_path / "a.pem")
    checked = verify_offline("cosignature", str(document), "--witness-key", str(c_pem), "--origin-key", str(a_pem))
    assert checked.returncode == 0 and checked.stdout.startswith("OK: 1 cosignature(s)"), checked.stderr
    # The same file against another key (A's, as if A had cosigned itself) fails, naming why.
    wrong = verify_offline("cosignature", str(document), "--witness-key", str(a_pem))
    assert wrong.returncode == 1 and "not the witness key given" in wrong.stderr

    # A pulls the cosignatures of its heads from C, its witness, and serves them with its tree head.
    witness = following.add_peer(url=c.url, by=None, collecting=True)
    assert witnessing.collect_from(peer_id=witness.id) == "1 new cosignature(s)"
    head = api("GET", f"{a}/api/v1/provenance/log/tree-head")
    c_key_id = dsse.key_id(dsse.load_public_pem(c_pem.read_bytes()))
    assert [item["witnessKeyId"] for item in head["cosignatures"]] == [c_key_id]

    # A grows honestly: B and C follow it through consistency proofs.
    published.append(publish_real("Coastal Dialogues"))
    assert f"{a}: 3 of 3 datasets verified, 0 gone" in b.manage("sync_peers")
    assert "cosigned the head of" in c.manage("sync_peers", "--witness")
    assert len(api("GET", f"{c.url}/api/v1/provenance/witness/cosignatures", params={"origin": a})["cosignatures"]) == 2

    # A forges: the same size, another root, signed with A's own key.
    size = SignedTreeHead.objects.order_by("-tree_size").first().tree_size
    forge_history()
    forged = api("GET", f"{a}/api/v1/provenance/log/tree-head")
    assert forged["treeSize"] == size and forged["cosignatures"] == []

    b_out = b.manage("sync_peers")
    assert f"{a}: 0 of 3 datasets verified" in b_out
    listing = api("GET", f"{b.url}/api/v1/federation/datasets")
    assert listing["total"] == 3
    for item in listing["items"]:
        assert not item["verified"] and "two different heads of" in item["reason"], item
    catalog = requests.get(f"{b.url}/datasets/", timeout=30).text
    assert catalog.count('data-verified="false"') == 3 and "Not verified" in catalog

    c_out = c.manage("sync_peers", "--witness")
    assert "refused to cosign" in c_out and "two different heads of" in c_out
    assert len(api("GET", f"{c.url}/api/v1/provenance/witness/cosignatures", params={"origin": a})["cosignatures"]) == 2

    a_key = dsse.load_public_pem(a_pem.read_bytes())
    for instance in (b, c):
        alarms = api("GET", f"{instance.url}/api/v1/provenance/alarms", params={"origin": a})["alarms"]
        assert [alarm["kind"] for alarm in alarms] == ["same_size"], alarms
        # Both heads are A's signatures over one size and two roots: evidence anyone can check.
        signed = [json.loads(dsse.open_envelope(alarms[0][side], [a_key])[1]) for side in ("firstHead", "secondHead")]
        assert signed[0]["treeSize"] == signed[1]["treeSize"] == size
        assert signed[0]["rootHash"] != signed[1]["rootHash"]
    assert signing.current_key().key_id == dsse.key_id(a_key)
