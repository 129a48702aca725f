"""Reads of what followed peers list: the remote datasets the catalog page and the API show, and
the peers and alarms of the staff pages. Reads only."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from provenance.models import Peer, RemoteDataset, SplitViewAlarm


def listed_remote(*, q: str = "", origin: str = "", verified: str = "") -> QuerySet[RemoteDataset]:
    """Datasets of followed peers still in their feeds; ``q``'s words must each appear in the name,
    description or publisher; ``verified`` is "true", "false" or "" (either)."""
    rows = RemoteDataset.objects.filter(peer__following=True, gone=False).select_related("peer")
    for word in q.split()[:10]:
        rows = rows.filter(Q(name__icontains=word) | Q(description__icontains=word) | Q(publisher__icontains=word))
    if origin:
        rows = rows.filter(peer__url=origin.rstrip("/"))
    if verified in ("true", "false"):
        rows = rows.filter(verified=verified == "true")
    return rows.order_by("peer__url", "name", "id")


def peers() -> QuerySet[Peer]:
    return Peer.objects.annotate(alarm_count=Count("alarms")).order_by("url")


def alarms() -> QuerySet[SplitViewAlarm]:
    return SplitViewAlarm.objects.select_related("peer").order_by("-created_at", "-id")
