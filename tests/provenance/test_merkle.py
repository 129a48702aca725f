"""RFC 6962 Merkle trees: known answers, and properties of inclusion and consistency proofs."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance import merkle

leaves = st.lists(st.binary(max_size=16), min_size=1, max_size=70)


def reference_root(data: list[bytes]) -> bytes:
    """MTH exactly as RFC 6962 section 2.1 defines it, recursively."""
    if not data:
        return hashlib.sha256(b"").digest()
    if len(data) == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1
    while k * 2 < len(data):
        k *= 2
    return hashlib.sha256(b"\x01" + reference_root(data[:k]) + reference_root(data[k:])).digest()


def test_known_roots_of_the_certificate_transparency_test_vectors() -> None:
    # The first leaves and roots of the test tree of Certificate Transparency's reference code
    # (merkle_tree_test.cc): leaf 0 is empty, the rest are short byte strings.
    data = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43"]
    assert merkle.root(data[:1]).hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert merkle.root(data[:2]).hex() == "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"
    assert merkle.root(data[:3]).hex() == "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"
    assert merkle.root([]) == hashlib.sha256(b"").digest()


@settings(max_examples=150, deadline=None)
@given(leaves)
def test_bottom_up_root_equals_the_recursive_definition(data: list[bytes]) -> None:
    assert merkle.root(data) == reference_root(data)


@settings(max_examples=150, deadline=None)
@given(leaves, st.data())
def test_every_inclusion_proof_verifies_and_a_changed_leaf_does_not(data: list[bytes], draw: st.DataObject) -> None:
    hashes = [merkle.leaf_hash(leaf) for leaf in data]
    index = draw.draw(st.integers(0, len(data) - 1))
    proof = merkle.inclusion_proof(index, hashes)
    root = merkle.root_from_leaf_hashes(hashes)
    merkle.verify_inclusion(index, len(data), hashes[index], proof, root)
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(index, len(data), merkle.leaf_hash(data[index] + b"x"), proof, root)
    if len(data) > 1:
        other = (index + 1) % len(data)
        if hashes[other] != hashes[index]:
            with pytest.raises(merkle.ProofError):
                merkle.verify_inclusion(other, len(data), hashes[index], proof, root)


@settings(max_examples=150, deadline=None)
@given(leaves, st.data())
def test_every_consistency_proof_verifies_and_a_rewritten_history_does_not(
    data: list[bytes], draw: st.DataObject
) -> None:
    hashes = [merkle.leaf_hash(leaf) for leaf in data]
    old = draw.draw(st.integers(0, len(data)))
    proof = merkle.consistency_proof(old, hashes)
    old_root, new_root = merkle.root_from_leaf_hashes(hashes[:old]), merkle.root_from_leaf_hashes(hashes)
    merkle.verify_consistency(old, len(data), old_root, new_root, proof)
    if 0 < old < len(data):
        rewritten = list(hashes)
        rewritten[draw.draw(st.integers(0, old - 1))] = merkle.leaf_hash(b"rewritten history")
        if rewritten[:old] != hashes[:old]:
            with pytest.raises(merkle.ProofError):
                merkle.verify_consistency(old, len(data), merkle.root_from_leaf_hashes(rewritten[:old]), new_root,
                                          proof)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(leaves)
def test_dropping_or_reordering_a_leaf_changes_the_root(data: list[bytes]) -> None:
    root = merkle.root(data)
    if len(data) > 1:
        assert merkle.root(data[:-1]) != root
        swapped = [data[1], data[0], *data[2:]]
        assert swapped == data or merkle.root(swapped) != root


def test_a_proof_of_the_wrong_length_is_refused() -> None:
    hashes = [merkle.leaf_hash(bytes([i])) for i in range(7)]
    proof = merkle.inclusion_proof(3, hashes)
    root = merkle.root_from_leaf_hashes(hashes)
    with pytest.raises(merkle.ProofError, match="shorter"):
        merkle.verify_inclusion(3, 7, hashes[3], proof[:-1], root)
    with pytest.raises(merkle.ProofError, match="longer"):
        merkle.verify_inclusion(3, 7, hashes[3], [*proof, root], root)
