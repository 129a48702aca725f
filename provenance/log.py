"""The transparency log: an append-only list of events whose leaves form an RFC 6962 Merkle tree.

Writers call ``append`` inside the transaction that makes the change, so the entry commits with
it or not at all. Appends take a transaction-scoped advisory lock: indexes are then gap-free and
in commit order whatever the number of workers. Tree heads are signed on demand (the first read of
a new size), not on every append, so a burst of appends costs one signature.

Reads recompute the tree from the stored leaf hashes, after checking each one against its leaf
text: an entry changed, dropped or reordered behind the database's back (a superuser disabling the
triggers) makes the log answer ``LogInconsistent`` instead of a proof. Proofs hold every leaf hash
in memory (32 bytes a leaf): fine for millions of entries; a larger log would cache subtree roots.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from provenance import dsse, merkle, signing
from provenance.models import LogEntry, SignedTreeHead

# pg_advisory_xact_lock key of log appends: any fixed 64-bit number unique to this purpose.
APPEND_LOCK = 0x70726F76_6C6F67  # "provlog"
TREE_HEAD_PAYLOAD_TYPE = "application/vnd.datacollective.tree-head+json"
TREE_HEAD_TYPE = "https://datacollective.example/transparency-log/tree-head/v1"


class LogInconsistent(Exception):
    """The stored log does not match its own hashes or signed tree heads."""


def leaf_text(*, index: int, kind: str, subject: str, payload: dict[str, Any], created_at: str) -> str:
    return dsse.canonical_json(
        {"index": index, "kind": kind, "subject": subject, "payload": payload, "createdAt": created_at}
    ).decode("utf-8")


@transaction.atomic
def append(*, kind: str, subject: str, payload: dict[str, Any]) -> LogEntry:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [APPEND_LOCK])
    last = LogEntry.objects.order_by("-index").values_list("index", flat=True).first()
    index = 0 if last is None else last + 1
    now = timezone.now()
    text = leaf_text(index=index, kind=kind, subject=subject, payload=payload, created_at=now.isoformat())
    return LogEntry.objects.create(
        index=index,
        kind=kind,
        subject=subject,
        payload=payload,
        leaf_data=text,
        leaf_hash=merkle.leaf_hash(text.encode("utf-8")).hex(),
        created_at=now,
    )


@dataclass(frozen=True)
class Tree:
    size: int
    leaf_hashes: list[bytes]

    @property
    def root(self) -> bytes:
        return merkle.root_from_leaf_hashes(self.leaf_hashes)


def load_tree(size: int | None = None) -> Tree:
    """The leaf hashes of the first ``size`` entries (all by default), each checked against its
    leaf text and index."""
    rows = LogEntry.objects.order_by("index").values_list("index", "leaf_data", "leaf_hash")
    if size is not None:
        rows = rows.filter(index__lt=size)
    hashes: list[bytes] = []
    for position, (index, text, stored) in enumerate(rows.iterator(chunk_size=5000)):
        if index != position:
            raise LogInconsistent(f"log entry {position} is missing: the next stored entry is {index}")
        computed = merkle.leaf_hash(text.encode("utf-8"))
        if computed.hex() != stored:
            raise LogInconsistent(f"log entry {index}: its leaf hash does not match its text")
        hashes.append(computed)
    if size is not None and len(hashes) < size:
        raise LogInconsistent(f"the log holds {len(hashes)} entries, fewer than the tree size {size}")
    _check_against_tree_heads(hashes)
    return Tree(len(hashes), hashes)


def _check_against_tree_heads(hashes: list[bytes]) -> None:
    """Every signed tree head at or below this size must still be the root of that prefix."""
    for head in SignedTreeHead.objects.filter(tree_size__lte=len(hashes)).order_by("tree_size"):
        if merkle.root_from_leaf_hashes(hashes[: head.tree_size]).hex() != head.root_hash:
            raise LogInconsistent(
                f"the first {head.tree_size} entries no longer hash to the signed tree head of that size: "
                "an entry was changed, dropped or reordered"
            )


def tree_head_payload(*, size: int, root: bytes, timestamp: str) -> bytes:
    return dsse.canonical_json({"_type": TREE_HEAD_TYPE, "treeSize": size, "rootHash": root.hex(),
                                "timestamp": timestamp})  # fmt: skip


def signed_tree_head(tree: Tree | None = None) -> SignedTreeHead:
    """The signed head of the current log (signed now if this size has none yet)."""
    tree = tree or load_tree()
    existing = SignedTreeHead.objects.filter(tree_size=tree.size).first()
    if existing is not None:
        return existing
    root = tree.root
    payload = tree_head_payload(size=tree.size, root=root, timestamp=timezone.now().isoformat())
    envelope, key = signing.sign(TREE_HEAD_PAYLOAD_TYPE, payload)
    head, _ = SignedTreeHead.objects.get_or_create(
        tree_size=tree.size, defaults={"root_hash": root.hex(), "envelope": envelope, "signing_key": key}
    )
    return head


def entry_json(entry: LogEntry) -> dict[str, Any]:
    return {
        "index": entry.index,
        "kind": entry.kind,
        "subject": entry.subject,
        "payload": entry.payload,
        "createdAt": entry.created_at.isoformat(),
        "leaf": entry.leaf_data,
        "leafHash": entry.leaf_hash,
    }


def inclusion(*, index: int, tree: Tree, head: SignedTreeHead) -> dict[str, Any]:
    """Everything an offline verifier needs to show entry ``index`` is in the signed tree."""
    entry = LogEntry.objects.get(index=index)
    return {
        "leafIndex": index,
        "treeSize": tree.size,
        "leaf": entry.leaf_data,
        "leafHash": entry.leaf_hash,
        "auditPath": [node.hex() for node in merkle.inclusion_proof(index, tree.leaf_hashes)],
        "rootHash": head.root_hash,
        "treeHead": head.envelope,
    }


def manifest_subject(dataset_id: str, number: int) -> str:
    return f"dataset:{dataset_id}/version:{number}"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
