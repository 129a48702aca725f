"""Following another instance's catalog: staff follow a peer by URL, and a sync (beat, or
``manage.py sync_peers``) reads its keys, its signed tree head and its feed, then checks each
dataset it has not checked in this form before:

1. its current version's manifest is signed by one of the peer's published keys, is an in-toto
   statement of this project's manifest predicate, and names the dataset, the version, and the
   archive's SHA-256 and size that the feed says;
2. the version's publish entry is in the peer's log: the inclusion proof's leaf is the publication
   of that very manifest and its audit path leads to a tree head the peer signed;
3. that tree head is consistent with every head this instance saw from the peer (``heads``).

Only then is it ``verified``; otherwise the reason is kept in words. A dataset that left the feed
is marked gone. When the peer shows two histories, every dataset of it is marked not verified,
naming the alarm, and stays so. A peer that is down or answers garbage leaves its datasets as they
were and its row names the error.

One sync of a peer runs at a time, whoever starts it (the beat, "Sync now", the command): two at
once would each mark gone what the other had not yet listed. The second finds the peer's advisory
lock taken and does nothing (``SyncOutcome.busy``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from celery import current_app
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import connection, transaction
from django.utils import timezone

from marketplace.catalog.search import forget_facets
from marketplace.models import User
from provenance import dsse, merkle, statement
from provenance.federation import client, feed, heads
from provenance.federation.client import PeerError
from provenance.federation.heads import SplitView
from provenance.models import Peer, RemoteDataset, SplitViewAlarm

logger = logging.getLogger(__name__)
RUN_PEER_TASK = "provenance.tasks.run_peer"


class NotVerified(Exception):
    """One dataset failed a check; the message is the reason shown beside it."""


@dataclass(frozen=True)
class SyncOutcome:
    listed: int = 0
    verified: int = 0
    gone: int = 0
    error: str = ""
    busy: bool = False  # another sync of the peer was running: this one did nothing

    def summary(self) -> str:
        if self.busy:
            return "skipped: a sync of this peer is already running"
        if self.error:
            return f"FAILED: {self.error}"
        return f"{self.verified} of {self.listed} datasets verified, {self.gone} gone"


# --- Following ------------------------------------------------------------------------------------


@transaction.atomic
def add_peer(
    *, url: str, by: User | None, following: bool = False, witnessing: bool = False, collecting: bool = False
) -> Peer:
    """Follow, witness or collect from ``url`` (normalized); an existing peer gains the roles asked."""
    peer, _ = Peer.objects.get_or_create(url=client.normalize_url(url), defaults={"added_by": by})
    changes = {
        name: True
        for name, on in (("following", following), ("witnessing", witnessing), ("collecting", collecting))
        if on
    }
    if changes:
        Peer.objects.filter(id=peer.id).update(**changes)
        peer.refresh_from_db()
        transaction.on_commit(forget_facets)  # the catalog page lists followed peers' datasets
    return peer


@transaction.atomic
def set_roles(
    *, peer: Peer, following: bool | None = None, witnessing: bool | None = None, collecting: bool | None = None
) -> Peer:
    """Turn roles on or off. Unfollowing keeps the datasets' rows (as evidence of what was listed)
    but the catalog lists only followed peers'."""
    changes = {
        name: value
        for name, value in (("following", following), ("witnessing", witnessing), ("collecting", collecting))
        if value is not None
    }
    if changes:
        Peer.objects.filter(id=peer.id).update(**changes)
        peer.refresh_from_db()
        transaction.on_commit(forget_facets)  # the catalog page lists followed peers' datasets
    return peer


def schedule_run(*, peer: Peer) -> None:
    """After commit, a worker runs what the peer's roles ask for (``provenance.tasks.run_peer``)."""
    transaction.on_commit(lambda: current_app.send_task(RUN_PEER_TASK, args=(peer.id,)), robust=True)


# --- Sync -----------------------------------------------------------------------------------------


def sync_all() -> dict[str, SyncOutcome]:
    return {peer.url: sync_peer(peer_id=peer.id) for peer in Peer.objects.filter(following=True)}


def sync_peer(*, peer_id: int) -> SyncOutcome:
    """One sync of a followed peer (see the module's docstring). Idempotent; never raises for the
    peer's faults: they end up on its row."""
    with _one_sync_of(peer_id) as mine:
        if not mine:
            logger.info("sync of peer %s skipped: another is running", peer_id)
            return SyncOutcome(busy=True)
        peer = Peer.objects.get(id=peer_id)
        started = timezone.now()
        try:
            outcome = _sync(peer, started)
        except PeerError as exc:
            outcome = SyncOutcome(error=str(exc))
            logger.info("sync of %s failed: %s", peer.url, exc)
        Peer.objects.filter(id=peer.id).update(
            synced_at=started,
            sync_error=outcome.error,
            **({} if outcome.error else {"datasets_listed": outcome.listed, "datasets_verified": outcome.verified}),
        )
        # The catalog page lists the peer's datasets: what it kept of them goes (after the commit
        # when a test or a caller holds a transaction; at once otherwise).
        transaction.on_commit(forget_facets)
        return outcome


SYNC_LOCK_SPACE = 0x5E3C  # the first key of the two-key advisory locks that guard peer syncs


@contextmanager
def _one_sync_of(peer_id: int) -> Iterator[bool]:
    """A PostgreSQL session advisory lock on the peer (not a transaction: a sync makes many HTTP
    requests and commits as it goes); yields whether this sync holds it. A worker that dies
    releases it with its connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [SYNC_LOCK_SPACE, peer_id])
        row = cursor.fetchone()
    held = bool(row and row[0])
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [SYNC_LOCK_SPACE, peer_id])


def _sync(peer: Peer, started: Any) -> SyncOutcome:
    keys = heads.peer_keys(peer)
    alarm = heads.split_view_reason(peer)
    if not alarm:
        try:
            heads.record_head(peer, heads.fetch_head(peer, keys), role=SplitViewAlarm.Role.FOLLOWER)
        except SplitView:
            alarm = heads.split_view_reason(peer)
    listed = verified = 0
    seen: set[str] = set()
    for page in feed.pages(peer.url):
        if page.title and page.title != peer.name:
            Peer.objects.filter(id=peer.id).update(name=page.title)
        for item in page.datasets:
            if item.origin_id in seen:
                continue
            seen.add(item.origin_id)
            listed += 1
            try:
                ok = _check(peer, item, keys, alarm=alarm)
            except SplitView:
                alarm = heads.split_view_reason(peer)
                ok = _check(peer, item, keys, alarm=alarm)
            verified += ok
    if alarm:
        # Including those checked earlier in this sync: none of the peer's evidence stands.
        RemoteDataset.objects.filter(peer=peer).update(verified=False, reason=alarm)
        verified = 0
    gone = (
        RemoteDataset.objects.filter(peer=peer, gone=False)
        .exclude(origin_id__in=seen)
        .update(gone=True, checked_at=started)
    )
    return SyncOutcome(listed=listed, verified=verified, gone=gone)


def _check(peer: Peer, item: feed.FeedDataset, keys: list[Ed25519PublicKey], *, alarm: str) -> bool:
    """Check one dataset unless it was verified in this very form before (same version, digest and
    size: its proof led to a head that every later head was checked against), and store it. After
    a split view (``alarm``), nothing is checked: it is stored not verified, naming the alarm."""
    fields = {
        "name": item.name,
        "description": item.description,
        "publisher": item.publisher,
        "license": item.license,
        "page_url": item.page_url,
        "gone": False,
        "checked_at": timezone.now(),
    }
    current = RemoteDataset.objects.filter(peer=peer, origin_id=item.origin_id).first()
    unchanged = (
        not alarm
        and current is not None
        and current.verified
        and current.version == item.version
        and current.archive_sha256 == item.archive_sha256
        and current.size_bytes == item.size_bytes
    )
    if unchanged:
        RemoteDataset.objects.filter(id=current.id).update(**fields)  # type: ignore[union-attr]
        return True
    evidence: dict[str, Any] = {
        "version": item.version,
        "size_bytes": item.size_bytes,
        "archive_sha256": item.archive_sha256,
        "manifest_sha256": "",
        "log_index": None,
    }
    ok, reason = False, alarm
    if not alarm:
        try:
            evidence.update(_verify(peer, item, keys))
            ok, reason = True, ""
        except NotVerified as exc:
            reason = str(exc)
        except PeerError as exc:
            reason = f"could not be checked: {exc}"
    RemoteDataset.objects.update_or_create(
        peer=peer, origin_id=item.origin_id, defaults={**fields, **evidence, "verified": ok, "reason": reason}
    )
    return ok


def _verify(peer: Peer, item: feed.FeedDataset, keys: list[Ed25519PublicKey]) -> dict[str, Any]:
    if item.version is None or not item.archive_sha256 or item.size_bytes is None:
        raise NotVerified("the feed names no current version with its archive's SHA-256 and size")
    base = f"{peer.url}/api/v1/datasets/{item.origin_id}/versions/{item.version}"
    envelope = client.get_json(f"{base}/manifest")
    try:
        payload_type, payload, _ = dsse.open_envelope(envelope, keys)
    except dsse.EnvelopeError as exc:
        raise NotVerified(f"its manifest fails the check against {peer.url}'s published keys: {exc}") from None
    if payload_type != dsse.IN_TOTO_PAYLOAD_TYPE:
        raise NotVerified(f"its manifest is not an in-toto statement (payload type {payload_type!r})")
    try:
        stated = json.loads(payload)
        predicate = stated["predicate"]
        named = (str(predicate["dataset"]["id"]), int(predicate["version"]))
        archive = (str(predicate["archive"]["sha256"]), int(predicate["archive"]["size"]))
    except (ValueError, KeyError, TypeError):
        raise NotVerified("its manifest is signed but is not a manifest of this format") from None
    if stated.get("_type") != statement.STATEMENT_TYPE or stated.get("predicateType") != statement.PREDICATE_TYPE:
        raise NotVerified("its manifest is signed but is not a Data Collective manifest")
    if named != (item.origin_id, item.version):
        raise NotVerified(f"its manifest is of dataset {named[0]} version {named[1]}, not the one the feed lists")
    if archive[0] != item.archive_sha256:
        raise NotVerified(
            f"the feed says the archive's SHA-256 is {item.archive_sha256[:16]}…, "
            f"its signed manifest says {archive[0][:16]}…"
        )
    if archive[1] != item.size_bytes:
        raise NotVerified(f"the feed says the archive has {item.size_bytes} bytes, its manifest {archive[1]}")
    manifest_sha256 = hashlib.sha256(payload).hexdigest()
    proof = client.get_json(f"{base}/inclusion-proof")
    index = _check_inclusion(peer, proof, manifest_sha256, keys)
    return {"manifest_sha256": manifest_sha256, "log_index": index}


def _check_inclusion(peer: Peer, proof: Any, manifest_sha256: str, keys: list[Ed25519PublicKey]) -> int:
    """The proof's leaf publishes this manifest, leads to a head the peer signed, and that head
    is consistent with the peer's history as this instance saw it (or ``SplitView``)."""
    try:
        leaf_text = str(proof["leaf"])
        leaf = json.loads(leaf_text)
        index, size = int(proof["leafIndex"]), int(proof["treeSize"])
        path = [bytes.fromhex(str(node)) for node in proof["auditPath"]]
    except (KeyError, TypeError, ValueError):
        raise NotVerified("its inclusion proof is malformed") from None
    if not isinstance(leaf, dict) or leaf.get("index") != index or leaf.get("kind") != "publish":
        raise NotVerified("its inclusion proof's log entry is not a publication at that index")
    if not isinstance(leaf.get("payload"), dict) or leaf["payload"].get("manifestSha256") != manifest_sha256:
        raise NotVerified("its log entry publishes another manifest than the one served")
    head = heads.open_head(proof.get("treeHead"), keys, where=f"{peer.url}'s inclusion proof")
    if head.size != size:
        raise NotVerified(f"its inclusion proof is for a tree of {size} entries, its signed head of {head.size}")
    try:
        merkle.verify_inclusion(
            index, size, merkle.leaf_hash(leaf_text.encode("utf-8")), path, bytes.fromhex(head.root)
        )
    except merkle.ProofError as exc:
        raise NotVerified(f"its log entry is not in {peer.url}'s signed tree: {exc}") from None
    heads.record_head(peer, head, role=SplitViewAlarm.Role.FOLLOWER)
    return index
