"""Witnessing (in the spirit of C2SP tlog-witness and tlog-cosignature).

As a witness, this instance polls each witnessed peer's latest signed tree head, checks its
signature against the peer's published keys and its consistency with every head of the peer it saw
(``heads.record_head``, which includes the last head it cosigned), and only then cosigns it: an
Ed25519 signature with this instance's key over ``cosignature/v1``, the time and the checkpoint
(origin, size, root; ``provenance.verify.cosigned_message``, the same function the offline verifier
uses). A peer that ever showed two histories is never cosigned again; neither is a head older than
the last one cosigned.

As an origin, this instance *pulls* the cosignatures of its own heads from the peers marked as its
witnesses (``collecting``): each is checked against the witness's published keys and against our
own signed head of that size before it is kept and served with the tree head.
"""

from __future__ import annotations

import base64
import logging
import time
from typing import Any
from urllib.parse import urlencode

from django.db import IntegrityError, transaction
from django.utils import timezone

from provenance import dsse, signing
from provenance.federation import client, heads
from provenance.federation.client import PeerError
from provenance.federation.heads import SplitView
from provenance.models import CollectedCosignature, Cosignature, Peer, SignedTreeHead, SigningKey, SplitViewAlarm
from provenance.verify import Mismatch, check_cosignature, checkpoint_origin, cosigned_message

logger = logging.getLogger(__name__)
COSIGNATURES_PATH = "/api/v1/provenance/witness/cosignatures"


class Refused(Exception):
    """The witness will not cosign; the message says why."""


def witness_all() -> dict[str, str]:
    return {peer.url: witness_peer(peer_id=peer.id) for peer in Peer.objects.filter(witnessing=True)}


def witness_peer(*, peer_id: int) -> str:
    """Poll, check and cosign one peer's head; returns what happened, in words (also on the peer's
    row when it is a refusal or an error)."""
    peer = Peer.objects.get(id=peer_id)
    error = ""
    try:
        outcome = _witness(peer)
    except (PeerError, Refused) as exc:
        outcome = error = str(exc)
    Peer.objects.filter(id=peer.id).update(witnessed_at=timezone.now(), witness_error=error)
    return outcome


def _witness(peer: Peer) -> str:
    alarm = heads.split_view_reason(peer)
    if alarm:
        raise Refused(f"refused to cosign: {alarm}")
    keys = heads.peer_keys(peer)
    head = heads.fetch_head(peer, keys)
    last = Cosignature.objects.filter(peer=peer).order_by("-tree_size").first()
    if last is not None and head.size < last.tree_size:
        raise Refused(
            f"refused to cosign: {peer.url} served a head of {head.size} entries, older than the head of "
            f"{last.tree_size} already cosigned"
        )
    try:
        heads.record_head(peer, head, role=SplitViewAlarm.Role.WITNESS)
    except SplitView as exc:
        raise Refused(f"refused to cosign: {exc}") from None
    key = signing.current_key()
    done = Cosignature.objects.filter(peer=peer, tree_size=head.size, root_hash=head.root, key_id=key.key_id)
    if done.exists():
        return f"the head of {head.size} entries was cosigned already"
    origin = checkpoint_origin(peer.url)
    now = int(time.time())
    signature = signing.private_key().sign(cosigned_message(origin, head.size, head.root, now))
    try:
        with transaction.atomic():
            Cosignature.objects.create(
                peer=peer,
                origin=origin,
                tree_size=head.size,
                root_hash=head.root,
                cosigned_at=now,
                key_id=key.key_id,
                origin_key_id=head.key_id,
                signature=base64.b64encode(signature).decode("ascii"),
                tree_head=head.envelope,
            )
    except IntegrityError:
        return f"the head of {head.size} entries was cosigned already"
    return f"cosigned the head of {head.size} entries"


def cosignature_json(cosignature: Cosignature) -> dict[str, Any]:
    """A cosignature as published, with what the offline verifier needs to check it."""
    return {
        "origin": cosignature.origin,
        "originUrl": cosignature.peer.url,
        "treeSize": cosignature.tree_size,
        "rootHash": cosignature.root_hash,
        "timestamp": cosignature.cosigned_at,
        "witnessKeyId": cosignature.key_id,
        "originKeyId": cosignature.origin_key_id,
        "algorithm": "ed25519",
        "signature": cosignature.signature,
        "treeHead": cosignature.tree_head,
    }


# --- As an origin: the cosignatures our witnesses made of our heads ---------------------------------


def collect_all() -> dict[str, str]:
    return {peer.url: collect_from(peer_id=peer.id) for peer in Peer.objects.filter(collecting=True)}


def collect_from(*, peer_id: int) -> str:
    peer = Peer.objects.get(id=peer_id)
    error = ""
    try:
        outcome = _collect(peer)
    except PeerError as exc:
        outcome = error = str(exc)
    Peer.objects.filter(id=peer.id).update(collected_at=timezone.now(), collect_error=error)
    return outcome


def _collect(peer: Peer) -> str:
    witness_keys = {dsse.key_id(key): key for key in heads.peer_keys(peer)}
    kept = 0
    for own in SigningKey.objects.all():
        query = urlencode({"originKeyId": own.key_id, "limit": 100})
        body = client.get_json(f"{peer.url}{COSIGNATURES_PATH}?{query}")
        items = body.get("cosignatures") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise PeerError(f"{peer.url}{COSIGNATURES_PATH} answered JSON without a list of cosignatures")
        for item in items:
            kept += _keep(peer, item, witness_keys)
    return f"{kept} new cosignature(s)"


def _keep(peer: Peer, item: Any, witness_keys: dict[str, Any]) -> int:
    """Keep one cosignature if the witness's key signed it and it cosigns our own head of that size."""
    if not isinstance(item, dict) or item.get("witnessKeyId") not in witness_keys:
        return 0
    if not isinstance(item.get("treeSize"), int):
        return 0
    ours = SignedTreeHead.objects.filter(tree_size=item["treeSize"]).first()
    if ours is None or ours.root_hash != item.get("rootHash"):
        logger.warning("%s cosigned a head of ours we did not sign: %s", peer.url, item.get("rootHash"))
        return 0
    try:
        check_cosignature(item, witness_keys[item["witnessKeyId"]])
    except Mismatch as exc:
        logger.warning("a cosignature from %s does not verify: %s", peer.url, exc)
        return 0
    try:
        with transaction.atomic():
            CollectedCosignature.objects.create(
                witness=peer,
                tree_size=ours.tree_size,
                root_hash=ours.root_hash,
                key_id=item["witnessKeyId"],
                document={**item, "witness": peer.url},
            )
    except IntegrityError:
        return 0
    return 1


def collected_for(head: SignedTreeHead) -> list[dict[str, Any]]:
    """The cosignatures our witnesses made of ``head``, as each published it (plus its URL)."""
    rows = CollectedCosignature.objects.filter(tree_size=head.tree_size, root_hash=head.root_hash)
    return [row.document for row in rows.order_by("witness_id")]
