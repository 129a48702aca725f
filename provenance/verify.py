"""Offline verifier of a downloaded version: needs the standard library and ``cryptography`` only.

    python -m provenance.verify ARCHIVE --manifest FILE --public-key FILE [--inclusion-proof FILE]
    python -m provenance.verify delta DELTA --public-key FILE --dir DIR [--manifest FILE]
    python -m provenance.verify bundle BUNDLE.tar.gz --public-key FILE [--public-key FILE ...]
    python -m provenance.verify cosignature COSIGNATURES.json --witness-key FILE [--origin-key FILE]

Checks, in order, and stops at the first mismatch with a message naming it (exit 1; 2 for bad
usage): the manifest's Ed25519 signature (DSSE), the statement's types, the archive's SHA-256,
every member's SHA-256 against the manifest's file subjects (none missing, none extra), the
Merkle root of the files, and with ``--inclusion-proof`` that the publish entry of this very
manifest is in the transparency log under a tree head signed by the same key.

The second form checks a delta download (``POST .../versions/{n}/delta/{m}``; DELTA is its answer or
just its envelope) and a local copy updated with it: the delta's signature, then in DIR every added
and changed file with its new SHA-256 and no removed file left; with ``--manifest`` (version m's),
that the delta names that very manifest and DIR holds exactly its files.

The third checks an organization's export bundle (``GET /api/v1/organizations/{slug}/export``):
the signature of its closing list, every file against it, each version's manifest and its log
entry, and each included archive against its manifest.

The fourth checks a witness's cosignatures of another instance's tree head
(``GET /api/v1/provenance/witness/cosignatures``, or the ``cosignatures`` of a tree-head answer):
each Ed25519 signature over the checkpoint (origin, size, root) and its time, and with
``--origin-key`` that the origin itself signed the tree head that was cosigned.

Nothing here imports Django: copy ``provenance/{verify,dsse,merkle,statement}.py`` anywhere.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidSignature

from provenance import dsse, merkle, statement

CHUNK = 1024 * 1024
TREE_HEAD_PAYLOAD_TYPE = "application/vnd.datacollective.tree-head+json"
DELTA_PAYLOAD_TYPE = "application/vnd.datacollective.delta+json"
DELTA_TYPE = "https://datacollective.example/provenance/delta/v1"


class Mismatch(Exception):
    """The first check that failed."""


def _sha256_stream(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def archive_members(path: Path) -> Iterator[tuple[str, str]]:
    """(path, sha256) of every regular file of a tar, tar.gz or zip, by the bytes (not the name)."""
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic.startswith(b"PK\x03\x04") or magic.startswith(b"PK\x05\x06"):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.is_dir():
                    with archive.open(info) as member:
                        yield info.filename, _sha256_stream(member)
        return
    try:
        with tarfile.open(path, mode="r:*") as tar:
            for entry in tar:
                if entry.isfile():
                    content = tar.extractfile(entry)
                    if content is not None:
                        yield entry.name, _sha256_stream(content)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise Mismatch(f"archive: {path.name} cannot be read as tar, tar.gz or zip ({exc})") from None


def _load_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise Mismatch(f"{what}: {path} is not readable JSON ({exc})") from None


def check_manifest(envelope: Any, public_key: Any) -> tuple[dict[str, Any], bytes]:
    try:
        payload_type, payload, _ = dsse.open_envelope(envelope, [public_key])
    except dsse.EnvelopeError as exc:
        raise Mismatch(f"manifest {exc}") from None
    if payload_type != dsse.IN_TOTO_PAYLOAD_TYPE:
        raise Mismatch(f"manifest: payloadType is {payload_type!r}, not {dsse.IN_TOTO_PAYLOAD_TYPE!r}")
    stated = json.loads(payload)
    if stated.get("_type") != statement.STATEMENT_TYPE or stated.get("predicateType") != statement.PREDICATE_TYPE:
        raise Mismatch("manifest: not an in-toto Statement v1 of the Data Collective manifest predicate")
    return stated, payload


def check_archive(archive: Path, stated: dict[str, Any]) -> None:
    predicate = stated["predicate"]
    expected_archive = predicate["archive"]["sha256"]
    with archive.open("rb") as handle:
        actual_archive = _sha256_stream(handle)
    if actual_archive != expected_archive:
        raise Mismatch(f"archive: {archive.name} has SHA-256 {actual_archive}, the manifest says {expected_archive}")
    expected = {item["path"]: item["sha256"] for item in predicate["files"]}
    subjects = {item["name"]: item["digest"]["sha256"] for item in stated["subject"][1:]}
    if subjects != expected:
        raise Mismatch("manifest: its subjects and its predicate's file list disagree")
    seen: dict[str, str] = {}
    if expected:
        for path, digest in archive_members(archive):
            if path not in expected:
                raise Mismatch(f"file {path}: in the archive but not in the manifest")
            if digest != expected[path]:
                raise Mismatch(f"file {path}: SHA-256 {digest}, the manifest says {expected[path]}")
            seen[path] = digest
        missing = sorted(set(expected) - set(seen))
        if missing:
            raise Mismatch(f"file {missing[0]}: in the manifest but not in the archive")
    root = statement.files_merkle_root(seen.items())
    if root != predicate["filesMerkleRoot"]:
        raise Mismatch(f"merkle root: the files hash to {root}, the manifest says {predicate['filesMerkleRoot']}")


def check_inclusion(proof: Any, payload: bytes, public_key: Any) -> None:
    """The proof's leaf must be the publish entry of this manifest, its audit path must lead to the
    root of a tree head signed by the same key."""
    manifest_digest = hashlib.sha256(payload).hexdigest()
    leaf = logged_leaf(proof, public_key)
    if leaf.get("kind") != "publish" or leaf.get("payload", {}).get("manifestSha256") != manifest_digest:
        raise Mismatch("inclusion proof: its log entry is not the publication of this manifest")


def check_removal(envelope: Any, proof: Any, public_key: Any) -> dict[str, Any]:
    """A removal-feed entry: its signature, and that the transparency log holds its SHA-256 (the
    proof's leaf is the withdrawal entry naming it, under a signed tree head). Returns the
    statement: the version, record ids and file hashes to delete."""
    try:
        payload_type, payload, _ = dsse.open_envelope(envelope, [public_key])
    except dsse.EnvelopeError as exc:
        raise Mismatch(f"removal statement {exc}") from None
    if payload_type != statement.REMOVAL_PAYLOAD_TYPE:
        raise Mismatch(f"removal statement: payload type {payload_type!r}, not {statement.REMOVAL_PAYLOAD_TYPE!r}")
    stated: dict[str, Any] = json.loads(payload)
    if stated.get("_type") != statement.REMOVAL_TYPE:
        raise Mismatch("removal statement: it is not a removal statement")
    leaf = logged_leaf(proof, public_key)
    logged = leaf.get("payload", {})
    if leaf.get("kind") != "withdrawal" or logged.get("statementSha256") != hashlib.sha256(payload).hexdigest():
        raise Mismatch("inclusion proof: its log entry is not the withdrawal this statement records")
    if logged.get("withdrawalId") != stated.get("withdrawalId"):
        raise Mismatch("inclusion proof: its log entry names another withdrawal")
    return stated


def logged_leaf(proof: Any, public_key: Any) -> dict[str, Any]:
    """Check that the proof's leaf is in a tree whose head the key signed; return the leaf."""
    try:
        leaf_text: str = proof["leaf"]
        leaf: dict[str, Any] = json.loads(leaf_text)
        index, size = int(proof["leafIndex"]), int(proof["treeSize"])
        path = [bytes.fromhex(node) for node in proof["auditPath"]]
        head_envelope = proof["treeHead"]
    except (KeyError, TypeError, ValueError) as exc:
        raise Mismatch(f"inclusion proof: malformed ({exc})") from None
    if leaf.get("index") != index:
        raise Mismatch(f"inclusion proof: the entry says index {leaf.get('index')}, the proof {index}")
    try:
        head_type, head_payload, _ = dsse.open_envelope(head_envelope, [public_key])
    except dsse.EnvelopeError as exc:
        raise Mismatch(f"tree head {exc}") from None
    head = json.loads(head_payload)
    if head_type != TREE_HEAD_PAYLOAD_TYPE or head.get("treeSize") != size:
        raise Mismatch(f"tree head: it is not the signed head of a tree of {size} entries")
    try:
        merkle.verify_inclusion(index, size, merkle.leaf_hash(leaf_text.encode("utf-8")), path,
                                bytes.fromhex(head["rootHash"]))  # fmt: skip
    except merkle.ProofError as exc:
        raise Mismatch(f"inclusion proof: {exc}") from None
    return leaf


def verify(archive: Path, manifest: Path, public_key_file: Path, inclusion_proof: Path | None = None) -> str:
    """Run every check; return a one-line summary, or raise ``Mismatch`` at the first failure."""
    try:
        public_key = dsse.load_public_pem(public_key_file.read_bytes())
    except (OSError, dsse.EnvelopeError) as exc:
        raise Mismatch(f"public key: {exc}") from None
    stated, payload = check_manifest(_load_json(manifest, "manifest"), public_key)
    check_archive(archive, stated)
    if inclusion_proof is not None:
        check_inclusion(_load_json(inclusion_proof, "inclusion proof"), payload, public_key)
    predicate = stated["predicate"]
    return (
        f"OK: {archive.name} is version {predicate['version']} of {predicate['dataset']['slug']}, "
        f"{len(predicate['files'])} files, signed by key {dsse.key_id(public_key)[:16]}"
        + (", logged in the transparency log" if inclusion_proof is not None else "")
    )


def check_delta(envelope: Any, public_key: Any) -> dict[str, Any]:
    """The delta an envelope signs, after checking its signature and type. ``envelope`` may be the
    API's whole answer (``{"delta": envelope, "downloads": ...}``)."""
    if isinstance(envelope, dict) and isinstance(envelope.get("delta"), dict):
        envelope = envelope["delta"]
    try:
        payload_type, payload, _ = dsse.open_envelope(envelope, [public_key])
    except dsse.EnvelopeError as exc:
        raise Mismatch(f"delta {exc}") from None
    if payload_type != DELTA_PAYLOAD_TYPE:
        raise Mismatch(f"delta: payloadType is {payload_type!r}, not {DELTA_PAYLOAD_TYPE!r}")
    delta: dict[str, Any] = json.loads(payload)
    if delta.get("_type") != DELTA_TYPE:
        raise Mismatch(f"delta: _type is {delta.get('_type')!r}, not {DELTA_TYPE!r}")
    return delta


def _local(directory: Path, path: str) -> Path:
    target = (directory / path).resolve()
    if not target.is_relative_to(directory.resolve()):
        raise Mismatch(f"file {path}: the path leaves the directory")
    return target


def check_delta_files(directory: Path, delta: dict[str, Any]) -> None:
    """``directory`` after applying ``delta``: every added and changed file has its new SHA-256,
    no removed file is left (unless the new version has a file at the same path)."""
    wanted = {item["path"]: item["sha256"] for item in delta["added"]}
    wanted.update({item["path"]: item["new"]["sha256"] for item in delta["changed"]})
    for path, digest in sorted(wanted.items()):
        target = _local(directory, path)
        if not target.is_file():
            raise Mismatch(f"file {path}: missing, the delta adds or changes it")
        with target.open("rb") as handle:
            actual = _sha256_stream(handle)
        if actual != digest:
            raise Mismatch(f"file {path}: SHA-256 {actual}, the delta says {digest}")
    for item in delta["removed"]:
        if item["path"] not in wanted and _local(directory, item["path"]).exists():
            raise Mismatch(f"file {item['path']}: still there, the delta removes it")


def check_directory(directory: Path, stated: dict[str, Any], payload: bytes, delta: dict[str, Any]) -> None:
    """``directory`` holds exactly the files of the manifest the delta goes to (none missing,
    none extra, each with its SHA-256)."""
    digest = hashlib.sha256(payload).hexdigest()
    if delta["to"]["manifestSha256"] != digest:
        raise Mismatch(f"manifest: its digest is {digest}, the delta goes to {delta['to']['manifestSha256']}")
    expected = {item["path"]: item["sha256"] for item in stated["predicate"]["files"]}
    root = directory.resolve()
    found = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink())
    for path in found:
        if path not in expected:
            raise Mismatch(f"file {path}: in the directory but not in the manifest")
    for path, sha256 in sorted(expected.items()):
        target = _local(directory, path)
        if not target.is_file():
            raise Mismatch(f"file {path}: in the manifest but not in the directory")
        with target.open("rb") as handle:
            actual = _sha256_stream(handle)
        if actual != sha256:
            raise Mismatch(f"file {path}: SHA-256 {actual}, the manifest says {sha256}")


def verify_delta(delta_file: Path, public_key_file: Path, directory: Path, manifest: Path | None = None) -> str:
    """Check a delta and a directory updated with it; return a one-line summary, or raise
    ``Mismatch`` at the first failure."""
    try:
        public_key = dsse.load_public_pem(public_key_file.read_bytes())
    except (OSError, dsse.EnvelopeError) as exc:
        raise Mismatch(f"public key: {exc}") from None
    delta = check_delta(_load_json(delta_file, "delta"), public_key)
    check_delta_files(directory, delta)
    if manifest is not None:
        stated, payload = check_manifest(_load_json(manifest, "manifest"), public_key)
        check_directory(directory, stated, payload, delta)
    counts = f"{len(delta['added'])} added, {len(delta['changed'])} changed, {len(delta['removed'])} removed"
    return (
        f"OK: {directory} has the files of version {delta['to']['version']} of {delta['dataset']['slug']} "
        f"that the delta from version {delta['from']['version']} lists ({counts})"
        + (", and no other file than its manifest's" if manifest is not None else "")
    )


def delta_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m provenance.verify delta",
                                     description="Check a delta download and the directory it updated.")  # fmt: skip
    parser.add_argument("delta", type=Path, help="the delta (the API's answer, or its envelope)")
    parser.add_argument("--public-key", type=Path, required=True, help="the instance's Ed25519 public key (PEM)")
    parser.add_argument("--dir", type=Path, required=True, help="the local copy, after applying the delta")
    parser.add_argument("--manifest", type=Path, help="the manifest of the version the delta goes to")
    args = parser.parse_args(argv)
    try:
        print(verify_delta(args.delta, args.public_key, args.dir, args.manifest))
    except (Mismatch, OSError, KeyError, TypeError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


BUNDLE_PAYLOAD_TYPE = "application/vnd.datacollective.bundle+json"
BUNDLE_FORMAT = "datacollective-organization-bundle/1"
_BUNDLE_JSON_LIMIT = 64 * 1024 * 1024  # the bundle's JSON files are read whole; archives never are


def _key_for(envelope: Any, public_keys: list[Any], what: str) -> Any:
    """The key among ``public_keys`` whose signature the envelope carries."""
    for key in public_keys:
        try:
            dsse.open_envelope(envelope, [key])
        except dsse.EnvelopeError:
            continue
        return key
    raise Mismatch(f"{what}: signed by none of the given public keys")


def verify_bundle(bundle: Path, public_keys: list[Any]) -> str:
    """An organization's export (``provenance.bundles``): the closing envelope's signature, every
    file against the list it signs (none missing, none extra), then each version's manifest and its
    inclusion proof, and each included archive's SHA-256 against its manifest. Streams the bundle
    once; archives are hashed, never held."""
    listed: dict[str, tuple[int, str]] = {}
    documents: dict[str, Any] = {}
    envelope: Any = None
    with tarfile.open(bundle, "r|gz") as tar:
        for member in tar:
            if not member.isfile():
                continue
            name = member.name.removeprefix("bundle/")
            stream = tar.extractfile(member)
            if stream is None:
                continue
            if name == "bundle.dsse.json":
                envelope = json.loads(stream.read(_BUNDLE_JSON_LIMIT))
                continue
            if name.endswith((".json", ".jsonl")) or name == "FORMAT":
                data = stream.read(_BUNDLE_JSON_LIMIT + 1)
                if len(data) > _BUNDLE_JSON_LIMIT:
                    raise Mismatch(f"{name}: larger than a bundle's document may be")
                listed[name] = (len(data), hashlib.sha256(data).hexdigest())
                if name.endswith(".json"):
                    documents[name] = json.loads(data)
            else:
                listed[name] = (member.size, _sha256_stream(stream))
    if envelope is None:
        raise Mismatch("bundle: no bundle.dsse.json, so nothing says what it should hold")
    try:
        payload_type, payload, _ = dsse.open_envelope(envelope, public_keys)
    except dsse.EnvelopeError as exc:
        raise Mismatch(f"bundle {exc}") from None
    if payload_type != BUNDLE_PAYLOAD_TYPE:
        raise Mismatch(f"bundle: payloadType is {payload_type!r}, not {BUNDLE_PAYLOAD_TYPE!r}")
    signed = json.loads(payload)
    if signed.get("format") != BUNDLE_FORMAT:
        raise Mismatch(f"bundle: format {signed.get('format')!r}; this verifier reads {BUNDLE_FORMAT}")
    expected = {item["path"]: (item["size"], item["sha256"]) for item in signed["files"]}
    for path in sorted(set(expected) | set(listed)):
        if path not in listed:
            raise Mismatch(f"{path}: signed but not in the bundle")
        if path not in expected:
            raise Mismatch(f"{path}: in the bundle but not signed")
        if listed[path] != expected[path]:
            raise Mismatch(f"{path}: size and SHA-256 {listed[path]}, the bundle signs {expected[path]}")
    versions = 0
    for name in sorted(documents):
        if not name.endswith("/manifest.dsse.json"):
            continue
        folder = name.removesuffix("manifest.dsse.json")
        key = _key_for(documents[name], public_keys, name)
        stated, statement_payload = check_manifest(documents[name], key)
        proof = documents.get(folder + "inclusion-proof.json")
        if proof is None:
            raise Mismatch(f"{folder}inclusion-proof.json: missing, so the manifest's place in the log is unknown")
        check_inclusion(proof, statement_payload, _key_for(proof.get("treeHead"), public_keys, folder + "tree head"))
        version = documents.get(folder + "version.json") or {}
        archive = version.get("archive")
        stated_sha = stated["predicate"]["archive"]["sha256"]
        if version.get("sha256") != stated_sha:
            raise Mismatch(f"{folder}version.json: SHA-256 {version.get('sha256')}, the manifest says {stated_sha}")
        if archive is not None and listed.get(archive.removeprefix("bundle/"), (0, ""))[1] != stated_sha:
            raise Mismatch(f"{archive}: its SHA-256 is not the one its manifest signs")
        versions += 1
    return f"OK: {len(listed)} files signed, {versions} version manifests and their log entries verified"


def bundle_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m provenance.verify bundle")
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--public-key", type=Path, action="append", required=True,
                        help="an Ed25519 public key (PEM) of the origin instance; repeat for rotated keys")  # fmt: skip
    args = parser.parse_args(argv)
    try:
        keys = [dsse.load_public_pem(path.read_bytes()) for path in args.public_key]
        print(verify_bundle(args.bundle, keys))
    except (Mismatch, OSError, tarfile.TarError, ValueError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


# --- Witness cosignatures (issue 20, part 5) ------------------------------------------------------
# In the spirit of C2SP tlog-checkpoint and tlog-cosignature: the checkpoint is the origin line (the
# instance's URL without its scheme), the tree size and the base64 root hash, one per line; a
# cosignature is an Ed25519 signature over "cosignature/v1", the time in seconds since the epoch,
# and the checkpoint. A witness signs it only after checking the head's signature and that it is
# consistent with every head of that origin it saw before.

COSIGNATURE_HEADER = "cosignature/v1"


def checkpoint_origin(url: str) -> str:
    """The checkpoint origin of an instance's base URL: no scheme, no trailing slash."""
    return url.split("://", 1)[-1].rstrip("/")


def checkpoint_body(origin: str, size: int, root_hex: str) -> str:
    root = base64.b64encode(bytes.fromhex(root_hex)).decode("ascii")
    return f"{origin}\n{size}\n{root}\n"


def cosigned_message(origin: str, size: int, root_hex: str, timestamp: int) -> bytes:
    return f"{COSIGNATURE_HEADER}\ntime {timestamp}\n{checkpoint_body(origin, size, root_hex)}".encode()


def check_cosignature(document: Any, witness_key: Any, origin_key: Any = None) -> str:
    """One cosignature as a witness publishes it; returns a line naming what it vouches for."""
    try:
        origin, size, root = str(document["origin"]), int(document["treeSize"]), str(document["rootHash"])
        timestamp, signature = int(document["timestamp"]), base64.b64decode(document["signature"], validate=True)
        message = cosigned_message(origin, size, root, timestamp)
    except (KeyError, TypeError, ValueError) as exc:
        raise Mismatch(f"cosignature: malformed ({exc})") from None
    if document.get("witnessKeyId") not in (None, dsse.key_id(witness_key)):
        raise Mismatch(f"cosignature: made by key {str(document.get('witnessKeyId'))[:16]}…, not the witness key given")
    try:
        witness_key.verify(signature, message)
    except InvalidSignature:
        raise Mismatch(f"cosignature: the witness's signature over {origin} at size {size} does not verify") from None
    if origin_key is not None:
        try:
            head_type, head_payload, _ = dsse.open_envelope(document.get("treeHead"), [origin_key])
        except dsse.EnvelopeError as exc:
            raise Mismatch(f"tree head {exc}") from None
        head = json.loads(head_payload)
        if head_type != TREE_HEAD_PAYLOAD_TYPE or (head.get("treeSize"), head.get("rootHash")) != (size, root):
            raise Mismatch(f"tree head: the origin's signed head is not the one cosigned (size {size}, root {root})")
    return f"{origin} at size {size}, root {root[:16]}…"


def verify_cosignatures(path: Path, witness_key_file: Path, origin_key_file: Path | None = None) -> str:
    """A file holding one cosignature, a list, or an API answer with ``cosignatures``."""
    try:
        witness_key = dsse.load_public_pem(witness_key_file.read_bytes())
        origin_key = dsse.load_public_pem(origin_key_file.read_bytes()) if origin_key_file else None
    except (OSError, dsse.EnvelopeError) as exc:
        raise Mismatch(f"public key: {exc}") from None
    loaded = _load_json(path, "cosignatures")
    items = loaded.get("cosignatures", [loaded]) if isinstance(loaded, dict) else loaded
    if not isinstance(items, list) or not items:
        raise Mismatch("cosignatures: the file holds none")
    checked = [check_cosignature(item, witness_key, origin_key) for item in items]
    by_origin = ", and the origin signed each head" if origin_key is not None else ""
    return (
        f"OK: {len(checked)} cosignature(s) by witness key {dsse.key_id(witness_key)[:16]}: "
        + "; ".join(checked)
        + by_origin
    )


def cosignature_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m provenance.verify cosignature", description="Check a witness's cosignatures of tree heads."
    )
    parser.add_argument("cosignatures", type=Path, help="one cosignature, a list, or the API's answer")
    parser.add_argument("--witness-key", type=Path, required=True, help="the witness's Ed25519 public key (PEM)")
    parser.add_argument("--origin-key", type=Path, help="the origin's public key (PEM): also check its tree head")
    args = parser.parse_args(argv)
    try:
        print(verify_cosignatures(args.cosignatures, args.witness_key, args.origin_key))
    except Mismatch as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["cosignature"]:
        return cosignature_main(argv[1:])
    if argv[:1] == ["delta"]:
        return delta_main(argv[1:])
    if argv[:1] == ["bundle"]:
        return bundle_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m provenance.verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("archive", type=Path)
    parser.add_argument("--manifest", type=Path, required=True, help="the DSSE envelope (JSON)")
    parser.add_argument("--public-key", type=Path, required=True, help="the instance's Ed25519 public key (PEM)")
    parser.add_argument("--inclusion-proof", type=Path, help="the version's inclusion proof (JSON)")
    args = parser.parse_args(argv)
    try:
        print(verify(args.archive, args.manifest, args.public_key, args.inclusion_proof))
    except Mismatch as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
