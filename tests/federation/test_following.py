"""Following a peer that misbehaves: down, slow, answering garbage or too much, signing with the
wrong key, lying in its feed, dropping a dataset, forking its log. Each outcome is said in words on
the peer's row or beside the dataset, and nothing else is believed. The peer is a real HTTP server
on a loopback port (tests/federation/stub_peer.py) serving evidence made with the project's formats."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client

from devstack.services import free_port
from provenance.federation import following
from provenance.models import OriginKey, Peer, PeerTreeHead, RemoteDataset, SplitViewAlarm
from tests.federation.stub_peer import StubPeer, as_json

pytestmark = pytest.mark.django_db


def follow(url: str) -> Peer:
    return following.add_peer(url=url, by=None, following=True)


def sync(peer: Peer) -> following.SyncOutcome:
    outcome = following.sync_peer(peer_id=peer.id)
    peer.refresh_from_db()
    return outcome


def remote(peer: Peer) -> dict[str, RemoteDataset]:
    return {row.origin_id: row for row in RemoteDataset.objects.filter(peer=peer)}


def test_a_well_behaved_peer_is_listed_verified_and_its_keys_confirmed(stub_peer: StubPeer) -> None:
    stub_peer.origin.publish("ds-one", "River Sounds")
    stub_peer.origin.publish("ds-two", "Market Chatter")
    peer = follow(stub_peer.url + "/")
    assert peer.url == stub_peer.url  # stored without the trailing slash
    outcome = sync(peer)
    assert (outcome.listed, outcome.verified, outcome.error) == (2, 2, "")
    rows = remote(peer)
    assert {key: row.verified for key, row in rows.items()} == {"ds-one": True, "ds-two": True}
    assert rows["ds-one"].page_url == f"{stub_peer.url}/datasets/ds-one/" and rows["ds-one"].license == "CC0-1.0"
    assert peer.name == "Stub Instance" and peer.datasets_verified == 2
    assert OriginKey.objects.get(origin=stub_peer.url).confirmed
    # The API and the catalog page list them, named by their origin, links to the origin.
    listed = Client().get("/api/v1/federation/datasets").json()
    assert listed["total"] == 2 and all(item["verified"] for item in listed["items"])
    page = Client().get("/datasets/?q=river").content.decode()
    assert (
        "River Sounds" in page and "Market Chatter" not in page and f'href="{stub_peer.url}/datasets/ds-one/"' in page
    )
    # A second sync asks for nothing it verified already in the same form: the feed, keys, one head.
    stub_peer.requests.clear()
    assert sync(peer).verified == 2
    assert not any(path.endswith(("/manifest", "/inclusion-proof")) for path in stub_peer.requests)


def test_a_peer_that_is_down_is_named_with_the_reason() -> None:
    peer = follow(f"http://127.0.0.1:{free_port()}")
    outcome = sync(peer)
    assert "could not connect to" in outcome.error and "connection refused" in outcome.error
    assert peer.sync_error == outcome.error and peer.synced_at is not None


@pytest.mark.parametrize(
    ("path", "reply", "words"),
    [
        ("/api/v1/provenance/keys", (200, b"<html>Welcome to nginx</html>", 0.0), "is not JSON (it begins “<html>"),
        ("/api/v1/provenance/keys", as_json({"keys": []}), "lists no public keys"),
        (
            "/api/v1/provenance/keys",
            as_json({"error": "oops", "message": "The database is down."}, 503),
            "answered 503: The database is down.",
        ),
        ("/api/v1/provenance/log/tree-head", as_json({"envelope": {"payloadType": "x"}}), "fails its check"),
        (
            "/catalog.jsonld",
            (200, b'{"@context": "https://evil.example/context.jsonld"}', 0.0),
            "names a remote JSON-LD context, which this instance does not fetch",
        ),
        ("/catalog.jsonld", as_json({"@context": {}, "@graph": []}), "holds 0 DCAT catalogs, not one"),
    ],
    ids=["html", "no keys", "server error", "bad head", "remote context", "no catalog"],
)
def test_garbage_answers_are_refused_in_words(stub_peer: StubPeer, path: str, reply: Any, words: str) -> None:
    stub_peer.origin.publish("ds-one", "River Sounds")
    peer = follow(stub_peer.url)
    stub_peer.override[path] = reply
    assert words in sync(peer).error
    assert peer.sync_error and not RemoteDataset.objects.filter(peer=peer).exists()


def test_a_slow_or_oversized_answer_is_cut_off(stub_peer: StubPeer, settings: Any) -> None:
    settings.FEDERATION_READ_TIMEOUT = 1
    settings.FEDERATION_MAX_ANSWER_BYTES = 4096
    peer = follow(stub_peer.url)
    stub_peer.override["/api/v1/provenance/keys"] = as_json({"keys": []}, delay=2.5)
    assert "did not answer within 1 s" in sync(peer).error
    stub_peer.override["/api/v1/provenance/keys"] = (200, b"[" + b"0," * 10_000 + b"0]", 0.0)
    assert "answered more than 4,096 bytes, more than a peer may send" in sync(peer).error


def test_a_head_signed_by_another_key_is_refused(stub_peer: StubPeer) -> None:
    stub_peer.origin.publish("ds-one", "River Sounds")
    stranger = Ed25519PrivateKey.generate()
    stub_peer.override["/api/v1/provenance/log/tree-head"] = as_json({"envelope": stub_peer.origin.head(key=stranger)})
    error = sync(follow(stub_peer.url)).error
    assert "the tree head of" in error and "no signature by the given public key" in error


def test_a_manifest_signed_by_another_key_or_a_lying_feed_is_not_verified(stub_peer: StubPeer) -> None:
    origin = stub_peer.origin
    origin.publish("ds-good", "Good Data")
    origin.manifest_key = Ed25519PrivateKey.generate()
    origin.publish("ds-forged", "Forged Manifest")
    origin.manifest_key = None
    origin.publish("ds-lying", "Lying Feed")
    origin.feed_sha256["ds-lying"] = "ab" * 32
    peer = follow(stub_peer.url)
    outcome = sync(peer)
    assert (outcome.listed, outcome.verified, outcome.error) == (3, 1, "")
    rows = remote(peer)
    assert rows["ds-good"].verified
    assert not rows["ds-forged"].verified and "published keys" in rows["ds-forged"].reason
    assert (
        not rows["ds-lying"].verified and "the feed says the archive's SHA-256 is abababab" in rows["ds-lying"].reason
    )
    # The API says which and why.
    items = Client().get("/api/v1/federation/datasets", {"verified": "false"}).json()["items"]
    assert {item["originId"]: bool(item["reason"]) for item in items} == {"ds-forged": True, "ds-lying": True}


def test_a_dataset_that_left_the_feed_is_marked_gone(stub_peer: StubPeer) -> None:
    stub_peer.origin.publish("ds-one", "River Sounds")
    stub_peer.origin.publish("ds-two", "Market Chatter")
    peer = follow(stub_peer.url)
    sync(peer)
    stub_peer.origin.datasets.pop()
    assert sync(peer).gone == 1
    assert remote(peer)["ds-two"].gone and not remote(peer)["ds-one"].gone
    assert [item["originId"] for item in Client().get("/api/v1/federation/datasets").json()["items"]] == ["ds-one"]
    # Unfollowing takes the rest off the catalog too (the rows stay as what was listed).
    following.set_roles(peer=peer, following=False)
    assert Client().get("/api/v1/federation/datasets").json()["total"] == 0


def test_a_fork_is_an_alarm_and_nothing_of_the_peer_stays_verified(stub_peer: StubPeer) -> None:
    origin = stub_peer.origin
    origin.publish("ds-one", "River Sounds")
    origin.publish("ds-two", "Market Chatter")
    peer = follow(stub_peer.url)
    assert sync(peer).verified == 2
    # The operator rewrites entry 0 and appends: a bigger log that does not extend the old one.
    origin.leaves[0] = origin.leaves[0].replace('"publish"', '"grant"')
    origin.log("grant", "dataset:ds-one", {"grantId": 1})
    outcome = sync(peer)
    assert outcome.error == "" and outcome.verified == 0
    alarm = SplitViewAlarm.objects.get(peer=peer)
    assert alarm.kind == "inconsistent" and alarm.role == "follower" and "does not link" in alarm.message
    assert alarm.first_head != alarm.second_head and alarm.proof is not None
    assert all(not row.verified and "does not link" in row.reason for row in remote(peer).values())
    assert PeerTreeHead.objects.filter(peer=peer).count() == 2  # both heads kept
    # A later honest-looking sync does not clear it.
    assert sync(peer).verified == 0
    listed = Client().get("/api/v1/provenance/alarms").json()["alarms"]
    assert [item["kind"] for item in listed] == ["inconsistent"]


def test_a_peer_that_will_not_prove_consistency_raises_the_alarm(stub_peer: StubPeer) -> None:
    origin = stub_peer.origin
    origin.publish("ds-one", "River Sounds")
    peer = follow(stub_peer.url)
    sync(peer)
    origin.publish("ds-two", "Market Chatter")
    stub_peer.override["/api/v1/provenance/log/consistency-proof"] = as_json(
        {"error": "bad_request", "message": "Need 0 <= first <= second <= 1."}, 400
    )
    sync(peer)
    assert SplitViewAlarm.objects.get(peer=peer).kind == "no_proof"
    # A peer that is merely down for the proof (503) is asked again later, with no alarm.
    other = StubPeer()
    with other.running():
        other.origin.publish("ds-x", "X")
        second = follow(other.url)
        sync(second)
        other.origin.publish("ds-y", "Y")
        other.override["/api/v1/provenance/log/consistency-proof"] = as_json({"error": "down", "message": "x"}, 503)
        outcome = sync(second)
        assert not SplitViewAlarm.objects.filter(peer=second).exists()
        assert "busy or down" in outcome.error and "asked again later" in outcome.error


def test_a_second_sync_of_the_same_peer_waits_for_none_and_does_nothing(stub_peer: StubPeer) -> None:
    """The beat, "Sync now" and the command may start syncs of one peer at once; the second must
    not mark gone what the first has not listed yet. It finds the peer's lock taken and returns."""
    import psycopg
    from django.db import connection

    stub_peer.origin.publish("ds-one", "River Sounds")
    peer = follow(stub_peer.url)
    settings = connection.settings_dict
    other = psycopg.connect(
        host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"],
        password=settings["PASSWORD"] or None, dbname=settings["NAME"], autocommit=True,
    )  # fmt: skip
    with other:  # another worker, in the middle of a sync of the same peer
        other.execute("SELECT pg_advisory_lock(%s, %s)", [following.SYNC_LOCK_SPACE, peer.id])
        stub_peer.requests.clear()
        busy = sync(peer)
        assert busy.busy and busy.summary() == "skipped: a sync of this peer is already running"
        assert stub_peer.requests == [] and peer.synced_at is None and not RemoteDataset.objects.filter(peer=peer)
        other.execute("SELECT pg_advisory_unlock(%s, %s)", [following.SYNC_LOCK_SPACE, peer.id])
    done = sync(peer)
    assert (done.busy, done.listed, done.verified) == (False, 1, 1) and peer.synced_at is not None
    assert done.summary() == "1 of 1 datasets verified, 0 gone"
