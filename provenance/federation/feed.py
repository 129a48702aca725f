"""A peer's catalog feed (DCAT-AP 3 in JSON-LD, ``/catalog.jsonld``, paged with Hydra), read one
page at a time with rdflib. Only what the feed itself holds is trusted to name a dataset; whether
it is what the peer signed is checked later, against its manifest and log.

A JSON-LD document may name remote contexts, which rdflib would fetch: a page whose ``@context``
is anything but inline terms is refused, so reading a feed never makes this instance ask another
host for anything.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF

from provenance.federation import client
from provenance.federation.client import PeerError

DCAT = Namespace("http://www.w3.org/ns/dcat#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
FEED_PATH = "/catalog.jsonld"
MAX_PAGES = 1000
DATASET_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class FeedDataset:
    """One dataset as the feed describes it."""

    origin_id: str
    name: str
    description: str
    publisher: str
    license: str
    version: int | None
    size_bytes: int | None
    archive_sha256: str
    page_url: str


@dataclass(frozen=True)
class FeedPage:
    title: str
    datasets: list[FeedDataset]
    next_url: str | None


def _inline_contexts_only(value: Any, url: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "@context" and (isinstance(item, str) or _names_a_remote(item)):
                raise PeerError(f"{url} names a remote JSON-LD context, which this instance does not fetch")
            _inline_contexts_only(item, url)
    elif isinstance(value, list):
        for item in value:
            _inline_contexts_only(item, url)


def _names_a_remote(context: Any) -> bool:
    if isinstance(context, list):
        return any(isinstance(item, str) or _names_a_remote(item) for item in context)
    return isinstance(context, dict) and any(key in ("@import",) for key in context)


def _text(graph: Graph, node: Any, predicate: URIRef) -> str:
    value = graph.value(node, predicate)
    return str(value) if value is not None else ""


def _int(value: Any) -> int | None:
    if isinstance(value, Literal):
        try:
            number = int(str(value))
        except ValueError:
            return None
        return number if number >= 0 else None
    return None


def parse_page(body: bytes, *, url: str, base: str) -> FeedPage:
    try:
        document = json.loads(body)
    except ValueError:
        raise PeerError(f"{url} is not JSON-LD (not even JSON)") from None
    _inline_contexts_only(document, url)
    graph = Graph()
    try:
        with warnings.catch_warnings():
            # rdflib 7.6's own JSON-LD parser still goes through its deprecated ConjunctiveGraph
            # (and Dataset through deprecated default_context): nothing we can change from here.
            warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
            graph.parse(data=json.dumps(document), format="json-ld", base=url)
    except Exception as exc:  # noqa: BLE001 (rdflib raises many kinds for a malformed document)
        raise PeerError(f"{url} is not a readable JSON-LD catalog ({type(exc).__name__})") from None
    catalogs = list(graph.subjects(RDF.type, DCAT.Catalog))
    if len(catalogs) != 1:
        raise PeerError(f"{url} holds {len(catalogs)} DCAT catalogs, not one")
    catalog = catalogs[0]
    datasets = [_dataset(graph, node, base) for node in graph.objects(catalog, DCAT.dataset)]
    next_url: str | None = None
    for view in graph.objects(catalog, HYDRA.view):
        following = graph.value(view, HYDRA.next)
        if following is not None:
            next_url = str(following)
    if next_url is not None and not client.same_origin(next_url, base):
        raise PeerError(f"{url} links its next page to another host ({next_url})")
    return FeedPage(_text(graph, catalog, DCTERMS.title)[:200], [d for d in datasets if d is not None], next_url)


def _dataset(graph: Graph, node: Any, base: str) -> FeedDataset | None:
    origin_id = _text(graph, node, DCTERMS.identifier)
    if not DATASET_ID.match(origin_id):
        return None  # not one of this project's ids: nothing to check it against
    archive = None
    for distribution in graph.objects(node, DCAT.distribution):
        if graph.value(distribution, SPDX.checksum) is not None:
            archive = distribution
    size = sha256 = None
    license = ""
    if archive is not None:
        size = _int(graph.value(archive, DCAT.byteSize))
        checksum = graph.value(archive, SPDX.checksum)
        sha256 = _text(graph, checksum, SPDX.checksumValue).lower()
        license = _text(graph, archive, DCTERMS.license)
    page = _text(graph, node, DCAT.landingPage)
    publisher = graph.value(node, DCTERMS.publisher)
    return FeedDataset(
        origin_id=origin_id,
        name=_text(graph, node, DCTERMS.title)[:300] or origin_id,
        description=_text(graph, node, DCTERMS.description)[:5000],
        publisher=_text(graph, publisher, FOAF.name)[:300] if publisher is not None else "",
        license=license.removeprefix("http://spdx.org/licenses/")[:500],
        version=_int(graph.value(node, DCAT.version)),
        size_bytes=size,
        archive_sha256=sha256 if sha256 and SHA256.match(sha256) else "",
        page_url=page if page and client.same_origin(page, base) else f"{base}/api/v1/datasets/{origin_id}",
    )


def pages(base: str) -> Iterator[FeedPage]:
    """Every page of the peer's feed, one at a time (a page in memory, never the whole catalog)."""
    url: str | None = base + FEED_PATH
    seen: set[str] = set()
    while url is not None:
        if url in seen or len(seen) >= MAX_PAGES:
            raise PeerError(f"{base}'s feed pages loop back or run past {MAX_PAGES} pages")
        seen.add(url)
        answer = client.get(url, accept="application/ld+json")
        page = parse_page(answer.body, url=url, base=base)
        yield page
        url = page.next_url
