"""A peer that misbehaves on purpose, for the failure paths of following and witnessing.

``FakeOrigin`` is an instance's evidence made with the project's own formats (DSSE envelopes,
in-toto manifests, RFC 6962 log, DCAT feed in JSON-LD) but kept in memory, so a test can sign with
the wrong key, lie in its feed, fork its log or stop answering. ``StubPeer`` serves it (or any
answer a test sets) over real HTTP on a loopback port, the way another instance would."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from provenance import dsse, merkle, statement
from provenance.log import TREE_HEAD_PAYLOAD_TYPE, leaf_text, tree_head_payload

Reply = tuple[int, bytes, float]  # status, body, seconds to wait before answering


def as_json(value: Any, status: int = 200, delay: float = 0.0) -> Reply:
    return status, json.dumps(value).encode(), delay


@dataclass
class FakeDataset:
    id: str
    name: str
    sha256: str
    size: int
    version: int = 1


@dataclass
class FakeOrigin:
    """An origin's keys, manifests, log and feed, all signed with ``key`` unless a test says so."""

    base: str = ""
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    datasets: list[FakeDataset] = field(default_factory=list)
    leaves: list[str] = field(default_factory=list)
    manifests: dict[str, dict[str, Any]] = field(default_factory=dict)
    entry_of: dict[str, int] = field(default_factory=dict)
    manifest_key: Ed25519PrivateKey | None = None  # sign manifests with another key
    feed_sha256: dict[str, str] = field(default_factory=dict)  # lie about an archive's digest

    def publish(self, dataset_id: str, name: str) -> FakeDataset:
        dataset = FakeDataset(dataset_id, name, hashlib.sha256(name.encode()).hexdigest(), 1000 + len(name))
        stated = {
            "_type": statement.STATEMENT_TYPE, "predicateType": statement.PREDICATE_TYPE,
            "subject": [{"name": f"{dataset_id}.tar.gz", "digest": {"sha256": dataset.sha256}}],
            "predicate": {"dataset": {"id": dataset_id, "slug": dataset_id, "name": name}, "version": 1,
                          "archive": {"name": f"{dataset_id}.tar.gz", "sha256": dataset.sha256, "size": dataset.size}},
        }  # fmt: skip
        payload = dsse.canonical_json(stated)
        self.manifests[dataset_id] = dsse.sign_envelope(
            dsse.IN_TOTO_PAYLOAD_TYPE, payload, self.manifest_key or self.key
        )
        self.log("publish", f"dataset:{dataset_id}/version:1", {"manifestSha256": hashlib.sha256(payload).hexdigest()})
        self.entry_of[dataset_id] = len(self.leaves) - 1
        self.datasets.append(dataset)
        return dataset

    def log(self, kind: str, subject: str, payload: dict[str, Any]) -> None:
        index = len(self.leaves)
        self.leaves.append(leaf_text(index=index, kind=kind, subject=subject, payload=payload,
                                     created_at=f"2026-01-01T00:00:{index:02d}+00:00"))  # fmt: skip

    def hashes(self) -> list[bytes]:
        return [merkle.leaf_hash(text.encode()) for text in self.leaves]

    def head(self, size: int | None = None, *, key: Ed25519PrivateKey | None = None) -> dict[str, Any]:
        hashes = self.hashes()[: len(self.leaves) if size is None else size]
        payload = tree_head_payload(size=len(hashes), root=merkle.root_from_leaf_hashes(hashes),
                                    timestamp="2026-01-01T00:00:00+00:00")  # fmt: skip
        return dsse.sign_envelope(TREE_HEAD_PAYLOAD_TYPE, payload, key or self.key)

    def routes(self) -> dict[str, Callable[[dict[str, list[str]]], Reply]]:
        def keys(query: dict[str, list[str]]) -> Reply:
            public = self.key.public_key()
            return as_json({"keys": [{"keyId": dsse.key_id(public), "algorithm": "ed25519",
                                      "publicKeyPem": dsse.public_pem(public), "current": True}]})  # fmt: skip

        def head(query: dict[str, list[str]]) -> Reply:
            return as_json({"envelope": self.head()})

        def consistency(query: dict[str, list[str]]) -> Reply:
            first, second = int(query["first"][0]), int(query["second"][0])
            hashes = self.hashes()[:second]
            return as_json({"first": first, "second": second,
                            "proof": [node.hex() for node in merkle.consistency_proof(first, hashes)]})  # fmt: skip

        routes: dict[str, Callable[[dict[str, list[str]]], Reply]] = {
            "/api/v1/provenance/keys": keys,
            "/api/v1/provenance/log/tree-head": head,
            "/api/v1/provenance/log/consistency-proof": consistency,
            "/catalog.jsonld": lambda query: as_json(self.feed()),
        }
        for dataset in self.datasets:
            base = f"/api/v1/datasets/{dataset.id}/versions/1"
            routes[f"{base}/manifest"] = partial(self._manifest, dataset.id)
            routes[f"{base}/inclusion-proof"] = partial(self._inclusion, dataset.id)
        return routes

    def _manifest(self, dataset_id: str, query: dict[str, list[str]]) -> Reply:
        return as_json(self.manifests[dataset_id])

    def _inclusion(self, dataset_id: str, query: dict[str, list[str]]) -> Reply:
        return as_json(self.inclusion(dataset_id))

    def inclusion(self, dataset_id: str) -> dict[str, Any]:
        index, hashes = self.entry_of[dataset_id], self.hashes()
        return {"leafIndex": index, "treeSize": len(hashes), "leaf": self.leaves[index],
                "auditPath": [node.hex() for node in merkle.inclusion_proof(index, hashes)],
                "treeHead": self.head()}  # fmt: skip

    def feed(self) -> dict[str, Any]:
        """A DCAT-AP catalog page in JSON-LD, shaped as /catalog.jsonld writes it."""
        graph: list[dict[str, Any]] = [{
            "@id": f"{self.base}/catalog", "@type": "dcat:Catalog", "dct:title": "Stub Instance",
            "dcat:dataset": [{"@id": f"{self.base}/api/v1/datasets/{d.id}"} for d in self.datasets],
        }]  # fmt: skip
        for d in self.datasets:
            node = f"{self.base}/api/v1/datasets/{d.id}"
            graph += [
                {"@id": node, "@type": "dcat:Dataset", "dct:identifier": d.id, "dct:title": d.name,
                 "dct:description": f"About {d.name}.", "dcat:version": str(d.version),
                 "dcat:landingPage": {"@id": f"{self.base}/datasets/{d.id}/"},
                 "dcat:distribution": {"@id": f"{node}/archive"}},
                {"@id": f"{node}/archive", "@type": "dcat:Distribution",
                 "dcat:byteSize": {"@value": str(d.size), "@type": "xsd:nonNegativeInteger"},
                 "dct:license": {"@id": "http://spdx.org/licenses/CC0-1.0"},
                 "spdx:checksum": {"@id": f"_:checksum-{d.id}"}},
                {"@id": f"_:checksum-{d.id}", "@type": "spdx:Checksum",
                 "spdx:checksumValue": self.feed_sha256.get(d.id, d.sha256)},
            ]  # fmt: skip
        context = {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/",
                   "spdx": "http://spdx.org/rdf/terms#", "xsd": "http://www.w3.org/2001/XMLSchema#",
                   "hydra": "http://www.w3.org/ns/hydra/core#"}  # fmt: skip
        return {"@context": context, "@graph": graph}


class StubPeer:
    """Serves ``origin``'s routes; ``override[path]`` replaces one route's answer."""

    def __init__(self) -> None:
        self.origin = FakeOrigin()
        self.override: dict[str, Reply] = {}
        self.requests: list[str] = []
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                peer.requests.append(parts.path)
                route = peer.origin.routes().get(parts.path)
                reply = peer.override.get(parts.path) or (route(parse_qs(parts.query)) if route else as_json(
                    {"error": "not_found", "message": "No such page."}, 404))  # fmt: skip
                status, body, delay = reply
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.origin.base = self.url

    @contextmanager
    def running(self) -> Iterator[StubPeer]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
