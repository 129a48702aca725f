"""Celery entry points of provenance (stable names): federation syncs, witnessing and the
collection of our witnesses' cosignatures. Each takes ids, calls a service and returns what it
did; a peer's faults end up on its row, never as a retry loop."""

from __future__ import annotations

from celery import shared_task

from provenance.federation import following, witnessing
from provenance.models import Peer


@shared_task(name="provenance.tasks.sync_followed_peers", acks_late=True, soft_time_limit=1800, time_limit=1860)
def sync_followed_peers() -> dict[str, str]:
    return {url: outcome.summary() for url, outcome in following.sync_all().items()}


@shared_task(name="provenance.tasks.witness_peers", acks_late=True, soft_time_limit=1800, time_limit=1860)
def witness_peers() -> dict[str, str]:
    return witnessing.witness_all()


@shared_task(name="provenance.tasks.collect_cosignatures", acks_late=True, soft_time_limit=1800, time_limit=1860)
def collect_cosignatures() -> dict[str, str]:
    return witnessing.collect_all()


@shared_task(name=following.RUN_PEER_TASK, acks_late=True, soft_time_limit=1800, time_limit=1860)
def run_peer(peer_id: int) -> list[str]:
    """Everything a peer's roles ask for, now (after staff add it or press "Sync now")."""
    peer = Peer.objects.filter(id=peer_id).first()
    done: list[str] = []
    if peer is None:
        return done
    if peer.following:
        outcome = following.sync_peer(peer_id=peer.id)
        done.append(f"sync {outcome.summary()}")
    if peer.witnessing:
        done.append(witnessing.witness_peer(peer_id=peer.id))
    if peer.collecting:
        done.append(witnessing.collect_from(peer_id=peer.id))
    return done
