"""A peer's keys and signed tree heads, as both a follower and a witness check them.

``peer_keys`` reads the peer's own key list (kept as confirmed ``OriginKey`` rows). ``fetch_head``
checks a head's signature against those keys. ``record_head`` is where split views are caught:
a head of a size seen before must have the same root, and a head of a new size must be linked by
a valid consistency proof (RFC 6962 section 2.1.2, asked of the peer) to the nearest smaller and
larger heads seen before. Since every head passed this when it was recorded, the recorded heads
form one history, and a new head consistent with its neighbours is consistent with all of them.
A contradiction is stored as a ``SplitViewAlarm`` with both signed heads and raised as ``SplitView``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import IntegrityError, transaction

from provenance import dsse, merkle
from provenance.federation import client
from provenance.federation.client import PeerError
from provenance.log import TREE_HEAD_PAYLOAD_TYPE, TREE_HEAD_TYPE
from provenance.models import OriginKey, Peer, PeerTreeHead, SplitViewAlarm

TREE_HEAD_PATH = "/api/v1/provenance/log/tree-head"
KEYS_PATH = "/api/v1/provenance/keys"
CONSISTENCY_PATH = "/api/v1/provenance/log/consistency-proof"
MAX_KEYS = 100


class SplitView(Exception):
    """The peer showed two different histories; ``alarm`` is the stored evidence."""

    def __init__(self, alarm: SplitViewAlarm) -> None:
        super().__init__(alarm.message)
        self.alarm = alarm


@dataclass(frozen=True)
class Head:
    """A tree head whose signature checked against the peer's keys."""

    size: int
    root: str
    timestamp: str
    key_id: str
    envelope: dict[str, Any]


def peer_keys(peer: Peer) -> list[Ed25519PublicKey]:
    """The peer's published keys (its own list, so confirmed), plus any confirmed before: a key the
    peer rotated out still verifies what it signed."""
    body = client.get_json(peer.url + KEYS_PATH)
    items = body.get("keys") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise PeerError(f"{peer.url}{KEYS_PATH} lists no public keys")
    for item in items[:MAX_KEYS]:
        pem = item.get("publicKeyPem") if isinstance(item, dict) else None
        try:
            key = dsse.load_public_pem(str(pem).encode("ascii"))
        except (dsse.EnvelopeError, UnicodeEncodeError) as exc:
            raise PeerError(f"{peer.url}{KEYS_PATH} lists a key that cannot be read: {exc}") from None
        kid = dsse.key_id(key)
        row, created = OriginKey.objects.get_or_create(
            origin=peer.url, key_id=kid, defaults={"public_pem": dsse.public_pem(key), "confirmed": True}
        )
        if not created and not row.confirmed:
            OriginKey.objects.filter(id=row.id).update(confirmed=True)
    rows = OriginKey.objects.filter(origin=peer.url, confirmed=True)
    return [dsse.load_public_pem(row.public_pem.encode("ascii")) for row in rows]


def open_head(envelope: Any, keys: list[Ed25519PublicKey], *, where: str) -> Head:
    """A head's signature and shape; ``PeerError`` names what is wrong."""
    try:
        payload_type, payload, kid = dsse.open_envelope(envelope, keys)
    except dsse.EnvelopeError as exc:
        raise PeerError(f"the tree head of {where} fails its check: {exc}") from None
    if payload_type != TREE_HEAD_PAYLOAD_TYPE:
        raise PeerError(f"the tree head of {where} has payload type {payload_type!r}, not a tree head")
    try:
        body = json.loads(payload)
        size, root, timestamp = int(body["treeSize"]), str(body["rootHash"]), str(body["timestamp"])
        bytes.fromhex(root)
    except (ValueError, KeyError, TypeError):
        raise PeerError(f"the tree head of {where} is signed but malformed") from None
    if body.get("_type") != TREE_HEAD_TYPE or size < 0 or len(root) != 64:
        raise PeerError(f"the tree head of {where} is signed but not a tree head of this format")
    return Head(size, root.lower(), timestamp[:64], kid, envelope)


def fetch_head(peer: Peer, keys: list[Ed25519PublicKey]) -> Head:
    body = client.get_json(peer.url + TREE_HEAD_PATH)
    if not isinstance(body, dict):
        raise PeerError(f"{peer.url}{TREE_HEAD_PATH} answered JSON that is not a tree head")
    return open_head(body.get("envelope"), keys, where=peer.url)


def _alarm(
    peer: Peer, *, kind: str, role: str, message: str, first: PeerTreeHead, second: Head, proof: Any = None
) -> SplitView:
    alarm = SplitViewAlarm.objects.create(
        peer=peer,
        kind=kind,
        role=role,
        message=message,
        first_head=first.envelope,
        second_head=second.envelope,
        proof=proof,
    )
    return SplitView(alarm)


def _consistency(
    peer: Peer, older: PeerTreeHead | Head, newer: PeerTreeHead | Head, *, role: str, recorded: PeerTreeHead, head: Head
) -> None:
    """Ask the peer to prove ``older`` is a prefix of ``newer`` and check the proof ourselves."""
    old_size, old_root = _size_root(older)
    new_size, new_root = _size_root(newer)
    url = f"{peer.url}{CONSISTENCY_PATH}?first={old_size}&second={new_size}"
    answer = client.get(url, expect_ok=False)
    if answer.status in (502, 503, 504) or answer.status == 429:
        raise PeerError(f"{url} answered {answer.status}: the peer is busy or down, the proof is asked again later")
    try:
        body = answer.json()
    except PeerError:
        body = None
    if answer.status != 200 or not isinstance(body, dict):
        raise _alarm(
            peer,
            kind=SplitViewAlarm.Kind.NO_PROOF,
            role=role,
            first=recorded,
            second=head,
            proof=body,
            message=f"{peer.url} gave no consistency proof from its head of {old_size} entries to its head "
            f"of {new_size} (it answered {answer.status}): the two heads may be different histories",
        )
    try:
        path = [bytes.fromhex(str(node)) for node in body.get("proof", [])]
        merkle.verify_consistency(old_size, new_size, bytes.fromhex(old_root), bytes.fromhex(new_root), path)
    except (merkle.ProofError, ValueError, TypeError) as exc:
        raise _alarm(
            peer,
            kind=SplitViewAlarm.Kind.INCONSISTENT,
            role=role,
            first=recorded,
            second=head,
            proof=body,
            message=f"{peer.url} signed a head of {old_size} entries and one of {new_size} that its own "
            f"consistency proof does not link ({exc}): two different histories",
        ) from None


def _size_root(head: PeerTreeHead | Head) -> tuple[int, str]:
    if isinstance(head, PeerTreeHead):
        return head.tree_size, head.root_hash
    return head.size, head.root


def record_head(peer: Peer, head: Head, *, role: str) -> PeerTreeHead:
    """Store ``head`` after checking it against every head of ``peer`` seen before (see the module's
    docstring); raise ``SplitView`` (stored) when the peer contradicts itself, ``PeerError`` when it
    cannot be asked. Network calls run outside any transaction."""
    known = PeerTreeHead.objects.filter(peer=peer, tree_size=head.size, root_hash=head.root).first()
    if known is not None:
        return known
    same_size = PeerTreeHead.objects.filter(peer=peer, tree_size=head.size).first()
    if same_size is not None:
        # Stored too: the second signed head is the evidence.
        _store(peer, head)
        raise _alarm(
            peer,
            kind=SplitViewAlarm.Kind.SAME_SIZE,
            role=role,
            first=same_size,
            second=head,
            message=f"{peer.url} signed two different heads of {head.size} entries (roots "
            f"{same_size.root_hash[:16]}… and {head.root[:16]}…): two different histories",
        )
    below = PeerTreeHead.objects.filter(peer=peer, tree_size__lt=head.size).order_by("-tree_size").first()
    above = PeerTreeHead.objects.filter(peer=peer, tree_size__gt=head.size).order_by("tree_size").first()
    try:
        if below is not None:
            _consistency(peer, below, head, role=role, recorded=below, head=head)
        if above is not None:
            _consistency(peer, head, above, role=role, recorded=above, head=head)
    except SplitView:
        _store(peer, head)
        raise
    return _store(peer, head)


def _store(peer: Peer, head: Head) -> PeerTreeHead:
    try:
        with transaction.atomic():
            return PeerTreeHead.objects.create(
                peer=peer,
                tree_size=head.size,
                root_hash=head.root,
                timestamp=head.timestamp,
                envelope=head.envelope,
                key_id=head.key_id,
            )
    except IntegrityError:  # another run stored the same head meanwhile
        return PeerTreeHead.objects.get(peer=peer, tree_size=head.size, root_hash=head.root)


def split_view_reason(peer: Peer) -> str:
    """Why nothing of ``peer`` is verified any more, or "" while it showed one history."""
    alarm = SplitViewAlarm.objects.filter(peer=peer).order_by("created_at", "id").first()
    if alarm is None:
        return ""
    return f"{alarm.message} (alarm {alarm.id}, {alarm.created_at:%Y-%m-%d %H:%M} UTC)"
