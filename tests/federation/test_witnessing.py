"""Witnessing a peer that misbehaves: the witness cosigns only heads whose signature and
consistency check, refuses a fork, a rollback and a peer that ever showed two histories, and its
cosignatures verify with the standalone verifier (and fail it when altered). The origin side keeps
only cosignatures its witness's key made of its own heads."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client

from provenance import dsse, log, signing, verify
from provenance.federation import following, witnessing
from provenance.models import CollectedCosignature, Cosignature, SplitViewAlarm
from tests.federation.stub_peer import StubPeer, as_json

pytestmark = pytest.mark.django_db


def witness(url: str) -> int:
    return following.add_peer(url=url, by=None, witnessing=True).id


def test_the_witness_cosigns_checked_heads_and_refuses_a_fork(stub_peer: StubPeer, tmp_path: Path) -> None:
    origin = stub_peer.origin
    origin.publish("ds-one", "River Sounds")
    peer_id = witness(stub_peer.url)
    assert witnessing.witness_peer(peer_id=peer_id) == "cosigned the head of 1 entries"
    assert witnessing.witness_peer(peer_id=peer_id) == "the head of 1 entries was cosigned already"
    origin.publish("ds-two", "Market Chatter")
    assert witnessing.witness_peer(peer_id=peer_id) == "cosigned the head of 2 entries"

    # Published, and verifiable offline with the witness's and the origin's public keys.
    answer = Client().get("/api/v1/provenance/witness/cosignatures", {"origin": stub_peer.url}).json()
    assert [item["treeSize"] for item in answer["cosignatures"]] == [2, 1]
    witness_pem = tmp_path / "witness.pem"
    witness_pem.write_text(dsse.public_pem(signing.private_key().public_key()))
    origin_pem = tmp_path / "origin.pem"
    origin_pem.write_text(dsse.public_pem(origin.key.public_key()))
    document = tmp_path / "cosignatures.json"
    document.write_text(json.dumps(answer))
    assert verify.main(["cosignature", str(document), "--witness-key", str(witness_pem), "--origin-key",
                        str(origin_pem)]) == 0  # fmt: skip
    # One changed byte of the root: the signature no longer holds.
    tampered = answer["cosignatures"][0] | {"rootHash": "00" + answer["cosignatures"][0]["rootHash"][2:]}
    document.write_text(json.dumps(tampered))
    with pytest.raises(verify.Mismatch, match="does not verify"):
        verify.verify_cosignatures(document, witness_pem)

    # A rollback to an older head is refused; so is a fork of the same size.
    stub_peer.override["/api/v1/provenance/log/tree-head"] = as_json({"envelope": origin.head(size=1)})
    assert "older than the head of 2 already cosigned" in witnessing.witness_peer(peer_id=peer_id)
    origin.leaves[1] = origin.leaves[1].replace("ds-two", "ds-forged")
    del stub_peer.override["/api/v1/provenance/log/tree-head"]
    outcome = witnessing.witness_peer(peer_id=peer_id)
    assert outcome.startswith("refused to cosign") and "two different heads of 2 entries" in outcome
    alarm = SplitViewAlarm.objects.get()
    assert (alarm.kind, alarm.role) == ("same_size", "witness")
    assert Cosignature.objects.count() == 2
    # Once a peer showed two histories, nothing of it is cosigned again, even a longer head.
    origin.publish("ds-three", "Later")
    assert "refused to cosign" in witnessing.witness_peer(peer_id=peer_id)
    assert Cosignature.objects.count() == 2


def test_a_head_signed_by_another_key_is_not_cosigned(stub_peer: StubPeer) -> None:
    stub_peer.origin.publish("ds-one", "River Sounds")
    stranger = Ed25519PrivateKey.generate()
    stub_peer.override["/api/v1/provenance/log/tree-head"] = as_json({"envelope": stub_peer.origin.head(key=stranger)})
    peer_id = witness(stub_peer.url)
    assert "no signature by the given public key" in witnessing.witness_peer(peer_id=peer_id)
    assert not Cosignature.objects.exists()


def test_the_origin_keeps_only_its_witness_cosignatures_of_its_own_heads(stub_peer: StubPeer) -> None:
    """This instance is the origin; the stub is its witness, publishing cosignatures: one real (of
    our head, by the witness's key), one of a head we never signed, one by another key."""
    head = log.signed_tree_head()
    witness_key = stub_peer.origin.key
    origin = verify.checkpoint_origin("http://testserver")

    def cosign(size: int, root: str, key: Ed25519PrivateKey) -> dict[str, object]:
        signature = key.sign(verify.cosigned_message(origin, size, root, 1_700_000_000))
        return {
            "origin": origin, "treeSize": size, "rootHash": root, "timestamp": 1_700_000_000,
            "witnessKeyId": dsse.key_id(witness_key.public_key()), "signature": base64.b64encode(signature).decode(),
            "treeHead": head.envelope,
        }  # fmt: skip

    stub_peer.override["/api/v1/provenance/witness/cosignatures"] = as_json({"cosignatures": [
        cosign(head.tree_size, head.root_hash, witness_key),
        cosign(head.tree_size + 5, "ab" * 32, witness_key),
        cosign(head.tree_size, head.root_hash, Ed25519PrivateKey.generate()),
    ]})  # fmt: skip
    peer = following.add_peer(url=stub_peer.url, by=None, collecting=True)
    assert witnessing.collect_from(peer_id=peer.id) == "1 new cosignature(s)"
    assert witnessing.collect_from(peer_id=peer.id) == "0 new cosignature(s)"
    assert CollectedCosignature.objects.count() == 1
    served = Client().get("/api/v1/provenance/log/tree-head").json()
    assert len(served["cosignatures"]) == 1 and served["cosignatures"][0]["witness"] == stub_peer.url
