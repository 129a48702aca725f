"""What a manifest says, shared by the signer and the offline verifier (standard library only).

A manifest is an in-toto Statement v1 (https://in-toto.io/Statement/v1) whose subjects are the
archive and every file in it, and whose predicate, of type ``PREDICATE_TYPE``, is documented in
the README (section *Provenance*).
"""

from __future__ import annotations

from collections.abc import Iterable

from provenance import merkle

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://datacollective.example/provenance/manifest/v1"
# A removal-feed entry: what a consent withdrawal asks licensees to delete (README, *Withdrawals*).
REMOVAL_PAYLOAD_TYPE = "application/vnd.datacollective.removal+json"
REMOVAL_TYPE = "https://datacollective.example/provenance/removal/v1"


def file_leaf(path: str, sha256_hex: str) -> bytes:
    """A file's Merkle leaf: its path, a NUL (never part of a path), its raw SHA-256. The path is
    in the leaf so that an inclusion proof shows which file has the hash, not only that some has."""
    return path.encode("utf-8") + b"\x00" + bytes.fromhex(sha256_hex)


def files_merkle_root(files: Iterable[tuple[str, str]]) -> str:
    """RFC 6962 root over (path, sha256 hex) pairs ordered by the UTF-8 bytes of the path, so that
    it does not depend on the order of members in the archive."""
    ordered = sorted(files, key=lambda item: item[0].encode("utf-8"))
    return merkle.root([file_leaf(path, digest) for path, digest in ordered]).hex()
