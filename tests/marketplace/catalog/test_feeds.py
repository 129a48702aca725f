"""The catalog feeds as their readers take them: the DCAT-AP 3 catalog parsed back by rdflib (a
harvester's view), the schema.org block of a dataset page parsed as JSON (a search engine's), the
sitemap and robots.txt (a crawler's)."""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from typing import Any
from xml.etree import ElementTree

import pytest
from django.test import Client
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, XSD

from marketplace.catalog import feeds
from marketplace.catalog.feeds import DCAT, EU_LANGUAGE, EU_THEME, HYDRA, SPDX, VCARD
from marketplace.models import Dataset, Membership, Organization, User
from marketplace.organizations.services import add_member
from marketplace.publishing import publish_version, takedown_dataset
from tests.factories import license_for, organization, published_dataset

pytestmark = pytest.mark.django_db

BASE = "http://testserver"
SCHEMA_BLOCK = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)
SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def _iri(dataset: Dataset) -> URIRef:
    return URIRef(f"{BASE}/api/v1/datasets/{dataset.id}")


@pytest.fixture
def world() -> dict[str, Dataset]:
    """Two organizations with several members; a dataset of every visibility and price, one with
    two versions, one taken down."""
    speech = organization("speech-co")
    texts = organization("text-house")
    for index, role in enumerate(Membership.Role.values):
        user = User.objects.create_user(username=f"member-{index}", email=f"m{index}@example.org")
        add_member(organization=speech, user=user, role=role)
        add_member(organization=texts, user=user, role=role)
    public = published_dataset(
        "welsh-speech", org=speech, name="Welsh Speech", tags=["speech", "welsh"], locale="cy-GB", task="ASR",
        long_description="Read speech in Welsh.", show_contact_info=True,
        point_of_contact_full_name="Ana Contact", point_of_contact_email="ana@speech.example.org",
    )  # fmt: skip
    publish_version(
        dataset=public, archive_key=f"published/{public.id}/v2.tar.gz", size_bytes=2000,
        sha256=hashlib.sha256(b"v2").hexdigest(), license=license_for("CC-BY-4.0"), changelog="More clips.",
    )  # fmt: skip
    public.refresh_from_db()
    restricted = published_dataset(
        "paid-texts", org=texts, license="CC-BY-NC-4.0", visibility=Dataset.Visibility.RESTRICTED,
        is_paid=True, base_price_cents=12_50, locale="tlh", show_contact_info=False,
        point_of_contact_email="hidden@texts.example.org",
    )  # fmt: skip
    private = published_dataset("inner-notes", org=texts, visibility=Dataset.Visibility.PRIVATE)
    removed = published_dataset("gone-data", org=speech)
    staff = User.objects.create_user(username="staff", email="staff@example.org", is_staff=True)
    takedown_dataset(dataset=removed, reason="Consent was not given.", by=staff)
    return {"public": public, "restricted": restricted, "private": private, "removed": removed}


def _parse(data: bytes | str, fmt: str) -> Graph:
    with warnings.catch_warnings():
        # rdflib 7.6's own JSON-LD parser still goes through its deprecated ConjunctiveGraph.
        warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
        return Graph().parse(data=data, format=fmt)


def _graph(client: Client, path: str, fmt: str) -> Graph:
    response = client.get(path)
    assert response.status_code == 200, response.content
    return _parse(response.content, fmt)


def test_turtle_and_jsonld_hold_the_same_catalog(client: Client, world: dict[str, Dataset]) -> None:
    turtle = client.get("/catalog.ttl")
    jsonld = client.get("/catalog.jsonld")
    assert turtle["Content-Type"] == "text/turtle; charset=utf-8"
    assert jsonld["Content-Type"] == "application/ld+json; charset=utf-8"
    json.loads(jsonld.content)  # plain JSON too, for readers without an RDF library
    graphs = [_parse(turtle.content, "turtle"), _parse(jsonld.content, "json-ld")]
    for graph in graphs:  # the paging links differ: each names pages in its own format
        for view in list(graph.objects(URIRef(f"{BASE}/catalog"), HYDRA.view)):
            graph.remove((None, None, view))
            graph.remove((view, None, None))
    assert len(graphs[0]) > 50
    assert isomorphic(*graphs)


@pytest.mark.parametrize(("path", "fmt"), [("/catalog.ttl", "turtle"), ("/catalog.jsonld", "json-ld")])
def test_catalog_lists_public_and_restricted_only(client: Client, world: dict[str, Dataset], path: str,
                                                  fmt: str) -> None:  # fmt: skip
    graph = _graph(client, path, fmt)
    catalog = URIRef(f"{BASE}/catalog")
    assert (catalog, RDF.type, DCAT.Catalog) in graph
    assert graph.value(catalog, DCTERMS.title) == Literal("Data Collective")
    assert graph.value(catalog, FOAF.homepage) == URIRef(f"{BASE}/")
    assert graph.value(catalog, DCTERMS.modified) is not None
    publisher = graph.value(catalog, DCTERMS.publisher)
    assert graph.value(publisher, FOAF.name) == Literal("Data Collective")
    listed = set(graph.objects(catalog, DCAT.dataset))
    assert listed == {_iri(world["public"]), _iri(world["restricted"])}
    for hidden in ("private", "removed"):
        assert (_iri(world[hidden]), None, None) not in graph
        assert world[hidden].slug.encode() not in client.get(path).content


def test_a_public_dataset_in_full(client: Client, world: dict[str, Dataset]) -> None:
    dataset = world["public"]
    graph = _graph(client, "/catalog.ttl", "turtle")
    node = _iri(dataset)
    landing = URIRef(f"{BASE}/datasets/welsh-speech/")
    assert (node, RDF.type, DCAT.Dataset) in graph
    assert graph.value(node, DCTERMS.identifier) == Literal(dataset.id)
    assert graph.value(node, DCTERMS.title) == Literal("Welsh Speech")
    assert graph.value(node, DCTERMS.description) == Literal("Read speech in Welsh.")
    assert set(graph.objects(node, DCAT.keyword)) == {Literal("speech"), Literal("welsh")}
    assert graph.value(node, DCTERMS.language) == EU_LANGUAGE.CYM
    assert graph.value(node, DCAT.theme) == EU_THEME.TECH
    assert graph.value(node, DCAT.landingPage) == landing
    assert graph.value(node, DCTERMS.issued).datatype == XSD.dateTime  # type: ignore[union-attr]
    assert graph.value(node, DCTERMS.modified) is not None
    assert graph.value(node, DCAT.version) == Literal("2")
    publisher = graph.value(node, DCTERMS.publisher)
    assert publisher == URIRef(f"{BASE}/organizations/speech-co/")
    assert (publisher, RDF.type, FOAF.Agent) in graph
    assert graph.value(publisher, FOAF.name) == Literal("Speech Co")
    contact = graph.value(node, DCAT.contactPoint)
    assert graph.value(contact, VCARD.fn) == Literal("Ana Contact")
    assert graph.value(contact, VCARD.hasEmail) == URIRef("mailto:ana@speech.example.org")

    versions = set(graph.objects(node, DCAT.hasVersion))
    assert versions == {URIRef(f"{node}/versions/1"), URIRef(f"{node}/versions/2")}
    assert graph.value(URIRef(f"{node}/versions/2"), DCAT.versionNotes) == Literal("More clips.")
    assert graph.value(URIRef(f"{node}/versions/1"), DCAT.isVersionOf) == node

    distributions = set(graph.objects(node, DCAT.distribution))
    croissant = URIRef(f"{BASE}/api/v1/datasets/{dataset.id}/versions/2/croissant")
    archive = URIRef(f"{BASE}/api/v1/datasets/{dataset.id}/versions/2/files/archive/download")
    assert distributions == {croissant, archive}
    assert graph.value(croissant, DCTERMS.conformsTo) == URIRef("http://mlcommons.org/croissant/1.1")
    assert graph.value(archive, DCAT.accessURL) == landing
    assert graph.value(archive, DCAT.byteSize) == Literal(2000, datatype=XSD.nonNegativeInteger)
    assert graph.value(archive, DCTERMS.license) == URIRef("http://spdx.org/licenses/CC-BY-4.0")
    assert graph.value(archive, DCAT.mediaType) == URIRef(
        "http://www.iana.org/assignments/media-types/application/gzip"
    )
    checksum = graph.value(archive, SPDX.checksum)
    assert graph.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
    assert str(graph.value(checksum, SPDX.checksumValue)) == hashlib.sha256(b"v2").hexdigest()
    rights = graph.value(archive, DCTERMS.rights)
    assert "Paid" not in str(graph.value(rights, RDFS.label))
    assert graph.value(node, DCTERMS.accessRights) == URIRef(
        "http://publications.europa.eu/resource/authority/access-right/PUBLIC"
    )
    # The Croissant route named in the feed answers with the document it promises.
    document = client.get(croissant.removeprefix(BASE))
    assert document.status_code == 200
    assert document.json()["name"] == "Welsh Speech"


def test_paid_restricted_dataset_says_its_terms_hides_its_contact(client: Client, world: dict[str, Dataset]) -> None:
    graph = _graph(client, "/catalog.jsonld", "json-ld")
    node = _iri(world["restricted"])
    archive = next(d for d in graph.objects(node, DCAT.distribution) if str(d).endswith("/archive/download"))
    rights = str(graph.value(graph.value(archive, DCTERMS.rights), RDFS.label))
    assert "Paid: $12.50 USD" in rights
    assert "on request" in rights
    assert graph.value(archive, DCTERMS.license) == URIRef("http://spdx.org/licenses/CC-BY-NC-4.0")
    assert graph.value(node, DCTERMS.accessRights) == URIRef(
        "http://publications.europa.eu/resource/authority/access-right/RESTRICTED"
    )
    assert graph.value(node, DCAT.contactPoint) is None  # show_contact_info is off
    assert b"hidden@texts" not in client.get("/catalog.ttl").content
    assert graph.value(node, DCTERMS.language) == Literal("tlh")  # no EU code: the tag itself


def _many(count: int, org: Organization) -> None:
    for index in range(count):
        published_dataset(f"bulk-{index:03d}", org=org, tags=["bulk"])


def test_pages_link_first_next_previous_last(client: Client, world: dict[str, Dataset],
                                             monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr(feeds, "PAGE_SIZE", 2)
    _many(3, organization("speech-co"))  # 5 listed: pages of 2, 2, 1
    seen: set[Any] = set()
    for number in (1, 2, 3):
        graph = _graph(client, f"/catalog.ttl?page={number}", "turtle")
        view = URIRef(f"{BASE}/catalog.ttl?page={number}")
        assert (view, RDF.type, HYDRA.PartialCollectionView) in graph
        assert graph.value(view, HYDRA.first) == URIRef(f"{BASE}/catalog.ttl?page=1")
        assert graph.value(view, HYDRA.last) == URIRef(f"{BASE}/catalog.ttl?page=3")
        expected_next = URIRef(f"{BASE}/catalog.ttl?page={number + 1}") if number < 3 else None
        assert graph.value(view, HYDRA.next) == expected_next
        assert graph.value(URIRef(f"{BASE}/catalog"), HYDRA.totalItems) == Literal(5, datatype=XSD.nonNegativeInteger)
        page = set(graph.objects(URIRef(f"{BASE}/catalog"), DCAT.dataset))
        assert len(page) == (2 if number < 3 else 1)
        assert not page & seen
        seen |= page
    assert len(seen) == 5
    jsonld = _graph(client, "/catalog.jsonld?page=2", "json-ld")
    assert jsonld.value(URIRef(f"{BASE}/catalog.jsonld?page=2"), HYDRA.previous) == URIRef(
        f"{BASE}/catalog.jsonld?page=1"
    )
    assert client.get("/catalog.ttl?page=4").status_code == 404
    assert client.get("/catalog.ttl?page=0").status_code == 400
    assert client.get("/catalog.ttl?page=abc").status_code == 400
    assert client.get("/catalog.ttl?page=99999999999999999999").status_code == 400


def test_an_empty_catalog_is_one_empty_page(client: Client) -> None:
    graph = _graph(client, "/catalog.ttl", "turtle")
    assert (URIRef(f"{BASE}/catalog"), RDF.type, DCAT.Catalog) in graph
    assert graph.value(URIRef(f"{BASE}/catalog"), DCAT.dataset) is None


@pytest.mark.parametrize("path", ["/catalog.ttl", "/catalog.jsonld"])
def test_queries_do_not_grow_with_the_page(client: Client, world: dict[str, Dataset], path: str,
                                           django_assert_max_num_queries: Any) -> None:  # fmt: skip
    _many(12, organization("text-house"))
    with django_assert_max_num_queries(3):  # the count, the datasets, their versions
        response = client.get(path)
    assert response.content.count(b"bulk-0") >= 12


def test_conditional_get_answers_304(client: Client, world: dict[str, Dataset]) -> None:
    first = client.get("/catalog.ttl")
    assert first["ETag"] and first["Last-Modified"]
    assert client.get("/catalog.ttl", headers={"if-none-match": first["ETag"]}).status_code == 304
    published_dataset("newer-data", org=organization("speech-co"))
    assert client.get("/catalog.ttl", headers={"if-none-match": first["ETag"]}).status_code == 200


@pytest.mark.parametrize(
    ("accept", "location"),
    [("text/turtle", "/catalog.ttl"), ("application/ld+json", "/catalog.jsonld"),
     ("text/html,application/xhtml+xml,*/*;q=0.8", "/datasets/"), ("*/*", "/datasets/")],
)  # fmt: skip
def test_catalog_iri_negotiates(client: Client, accept: str, location: str) -> None:
    response = client.get("/catalog", headers={"accept": accept})
    assert response.status_code == 303
    assert response["Location"] == location
    assert "Accept" in response["Vary"]


def test_catalog_page_links_its_feeds(client: Client) -> None:
    content = client.get("/datasets/").content.decode()
    assert '<link rel="alternate" type="text/turtle" href="/catalog.ttl"' in content
    assert '<link rel="alternate" type="application/ld+json" href="/catalog.jsonld"' in content


def _schema_org(client: Client, slug: str) -> dict[str, Any] | None:
    response = client.get(f"/datasets/{slug}/")
    assert response.status_code == 200
    blocks = SCHEMA_BLOCK.findall(response.content.decode())
    assert len(blocks) <= 1
    return json.loads(blocks[0]) if blocks else None


def test_dataset_page_carries_schema_org_dataset(client: Client, world: dict[str, Dataset]) -> None:
    dataset = world["public"]
    data = _schema_org(client, "welsh-speech")
    assert data is not None
    assert data["@context"] == "https://schema.org/"
    assert data["@type"] == "Dataset"
    assert data["name"] == "Welsh Speech"
    assert data["description"] == "Read speech in Welsh."
    assert data["url"] == f"{BASE}/datasets/welsh-speech/"
    assert data["identifier"] == dataset.id
    assert data["keywords"] == ["speech", "welsh"]
    assert data["license"] == "http://spdx.org/licenses/CC-BY-4.0"
    assert data["publisher"] == {"@type": "Organization", "name": "Speech Co",
                                 "url": f"{BASE}/organizations/speech-co/"}  # fmt: skip
    assert data["creator"] == data["publisher"]
    assert data["datePublished"].startswith(str(dataset.published_at.date()))  # type: ignore[union-attr]
    assert data["dateModified"]
    assert data["version"] == "2"
    assert data["inLanguage"] == "cy-GB"
    assert data["isAccessibleForFree"] is True
    archive, croissant = data["distribution"]
    assert archive == {"@type": "DataDownload", "name": "welsh-speech-v2.tar.gz", "contentUrl": data["url"],
                       "encodingFormat": "application/gzip", "contentSize": "2000 B",
                       "sha256": hashlib.sha256(b"v2").hexdigest()}  # fmt: skip
    croissant_url = f"{BASE}/api/v1/datasets/{dataset.id}/versions/2/croissant"
    assert croissant["contentUrl"] == croissant_url
    assert data["subjectOf"]["url"] == croissant_url
    # schema.org parses as RDF too: the same dataset, by the same IRI as in the DCAT feed.
    graph = _parse(json.dumps(data | {"@context": {"@vocab": "https://schema.org/"}}), "json-ld")
    assert (URIRef(data["@id"]), RDF.type, URIRef("https://schema.org/Dataset")) in graph
    assert data["@id"] == str(_iri(dataset))


def test_paid_dataset_page_is_not_free(client: Client, world: dict[str, Dataset]) -> None:
    data = _schema_org(client, "paid-texts")
    assert data is not None
    assert data["isAccessibleForFree"] is False
    assert data["offers"]["price"] == "12.50"


def test_a_hostile_name_cannot_leave_the_block(client: Client) -> None:
    hostile = '</script><script>alert("x")</script><!-- & '
    published_dataset("hostile-name", name=hostile, tags=["</script>"],
                      long_description="Some **bold** words.\n\n<script>alert('owned')</script>")  # fmt: skip
    response = client.get("/datasets/hostile-name/")
    content = response.content.decode()
    assert "<script>alert" not in content
    data = _schema_org(client, "hostile-name")
    assert data is not None
    assert data["name"] == hostile
    assert data["keywords"] == ["</script>"]
    assert data["description"] == "Some bold words."  # the page's sanitized text, not the Markdown


def test_private_dataset_page_has_no_search_markup(client: Client, world: dict[str, Dataset]) -> None:
    member = User.objects.get(username="member-0")
    client.force_login(member)
    assert _schema_org(client, "inner-notes") is None


def test_csp_does_not_block_the_data_block(client: Client, world: dict[str, Dataset]) -> None:
    """CSP's script-src governs scripts that run; a data block (application/ld+json) never runs,
    and the policy must not need 'unsafe-inline' for it."""
    policy = client.get("/datasets/welsh-speech/")["Content-Security-Policy"]
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src


def _locations(client: Client, path: str) -> list[str]:
    response = client.get(path)
    assert response.status_code == 200
    root = ElementTree.fromstring(response.content)  # noqa: S314 - our own sitemap, not untrusted input
    return [element.text or "" for element in root.iterfind(".//sm:loc", SITEMAP_NS)]


def test_sitemap_lists_public_pages_only(client: Client, world: dict[str, Dataset]) -> None:
    sections = _locations(client, "/sitemap.xml")
    assert sections == [f"{BASE}/sitemap-{name}.xml" for name in ("pages", "datasets", "organizations")]
    urls = [url for section in sections for url in _locations(client, section.removeprefix(BASE))]
    assert f"{BASE}/" in urls
    assert f"{BASE}/datasets/" in urls
    assert f"{BASE}/datasets/welsh-speech/" in urls
    assert f"{BASE}/datasets/paid-texts/" in urls
    assert f"{BASE}/datasets/inner-notes/" not in urls
    assert f"{BASE}/datasets/gone-data/" not in urls
    assert f"{BASE}/organizations/speech-co/" in urls
    assert f"{BASE}/organizations/text-house/" in urls
    assert len(urls) == len(set(urls))  # each dataset once, however many members its organization has
    for url in urls:
        assert client.get(url.removeprefix(BASE)).status_code == 200


def test_sitemap_splits_past_its_limit(client: Client, world: dict[str, Dataset],
                                       monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from marketplace.catalog.sitemaps import DatasetsSitemap

    monkeypatch.setattr(DatasetsSitemap, "limit", 1)
    sections = _locations(client, "/sitemap.xml")
    assert f"{BASE}/sitemap-datasets.xml?p=2" in sections
    assert len(_locations(client, "/sitemap-datasets.xml?p=2")) == 1


def test_robots_txt_names_the_sitemap(client: Client) -> None:
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    assert f"Sitemap: {BASE}/sitemap.xml" in response.content.decode().splitlines()
