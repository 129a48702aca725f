"""RFC 6962 Merkle trees (as restated in RFC 9162, section 2.1): hashes, roots, inclusion and
consistency proofs, and their verification.

Pure standard library on purpose: the offline verifier (``provenance.verify``) imports this module,
and a third party must be able to read and run it without our dependencies. Leaves and nodes are
domain-separated (0x00 and 0x01 prefixes, RFC 6962 section 2.1) so that no leaf can pass for an
inner node (the second-preimage attack on plain Merkle trees).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) = SHA-256() (RFC 6962 section 2.1)


class ProofError(ValueError):
    """A proof does not verify; the message says which check failed."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1): where RFC 6962 splits a tree."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH over already hashed leaves, bottom-up: the same tree as the recursive definition, since
    RFC 6962 trees are left-complete (an odd node is promoted, never duplicated)."""
    if not hashes:
        return EMPTY_ROOT
    level = list(hashes)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def root(leaves: Sequence[bytes]) -> bytes:
    return root_from_leaf_hashes([leaf_hash(leaf) for leaf in leaves])


def inclusion_proof(index: int, hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 section 2.1.1, over leaf hashes."""
    if not 0 <= index < len(hashes):
        raise IndexError(f"leaf {index} is not in a tree of {len(hashes)} leaves")
    if len(hashes) == 1:
        return []
    k = _split(len(hashes))
    if index < k:
        return [*inclusion_proof(index, hashes[:k]), root_from_leaf_hashes(hashes[k:])]
    return [*inclusion_proof(index - k, hashes[k:]), root_from_leaf_hashes(hashes[:k])]


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root a leaf hash and its audit path lead to (RFC 9162 section 2.1.3.2)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of {size} leaves")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is shorter than the tree is deep")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes) -> None:
    if root_from_inclusion_proof(index, size, leaf, proof) != expected_root:
        raise ProofError(f"the inclusion proof of leaf {index} does not lead to the root of the tree of {size}")


def consistency_proof(old_size: int, hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 6962 section 2.1.2: that the first ``old_size`` leaves are a prefix."""
    if not 0 <= old_size <= len(hashes):
        raise IndexError(f"a tree of {old_size} leaves is not a prefix of one of {len(hashes)}")
    if old_size in (0, len(hashes)):
        return []
    return _subproof(old_size, hashes, True)


def _subproof(m: int, hashes: Sequence[bytes], complete: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if complete else [root_from_leaf_hashes(hashes)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, hashes[:k], complete), root_from_leaf_hashes(hashes[k:])]
    return [*_subproof(m - k, hashes[k:], False), root_from_leaf_hashes(hashes[:k])]


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """RFC 9162 section 2.1.4.2: the tree of ``new_size`` leaves extends that of ``old_size``."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"tree size {old_size} cannot precede tree size {new_size}")
    if old_size == new_size:
        if proof:
            raise ProofError("two trees of one size need an empty consistency proof")
        if old_root != new_root:
            raise ProofError(f"two trees of {old_size} leaves have different roots")
        return
    if old_size == 0:
        if proof:
            raise ProofError("a consistency proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is itself a node of the path
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than needed")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is shorter than needed")
    if fr != old_root:
        raise ProofError(f"the consistency proof does not lead to the old root (tree of {old_size})")
    if sr != new_root:
        raise ProofError(f"the consistency proof does not lead to the new root (tree of {new_size})")
