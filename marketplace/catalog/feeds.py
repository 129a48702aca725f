"""The instance's catalog as others read it: a DCAT-AP 3 graph (for CKAN's harvester and for other
instances that follow this one), and each dataset's schema.org ``Dataset`` (for dataset search
engines). Reads only: the views pass the instance's base URL and serialize.

The catalog lists what the public catalog lists (``search.listed_datasets``: published, public or
restricted). Pages hold ``PAGE_SIZE`` datasets, oldest first, so a new dataset lands on the last
page and the pages a harvester already read stay as they were. Every IRI is built from ids that
never change (a dataset's id, a version's number), not from names.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Prefetch, QuerySet
from django.urls import reverse
from django.utils.html import strip_tags
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, XSD

from marketplace.catalog.search import listed_datasets
from marketplace.markdown import render_markdown
from marketplace.models import Dataset, DatasetVersion, Organization, Task

PAGE_SIZE = 1000

# rdflib's DCAT is the closed DCAT 2 term list; DCAT 3 adds hasVersion, isVersionOf, versionNotes.
DCAT = Namespace("http://www.w3.org/ns/dcat#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
SCHEMA = Namespace("https://schema.org/")
EU_LANGUAGE = Namespace("http://publications.europa.eu/resource/authority/language/")
EU_THEME = Namespace("http://publications.europa.eu/resource/authority/data-theme/")
EU_FILE_TYPE = Namespace("http://publications.europa.eu/resource/authority/file-type/")
EU_ACCESS_RIGHT = Namespace("http://publications.europa.eu/resource/authority/access-right/")
IANA_MEDIA_TYPE = Namespace("http://www.iana.org/assignments/media-types/")
SPDX_LICENSE = Namespace("http://spdx.org/licenses/")
CROISSANT = URIRef("http://mlcommons.org/croissant/1.1")

# Prefixes of the Turtle and the JSON-LD context, so both read as DCAT-AP examples do.
PREFIXES = {
    "dcat": DCAT,
    "dct": DCTERMS,
    "foaf": FOAF,
    "rdfs": RDFS,
    "xsd": XSD,
    "spdx": SPDX,
    "vcard": VCARD,
    "hydra": HYDRA,
}

# BCP 47 primary subtags (ISO 639-1, or 639-3 where a tag has no two-letter code) to the EU's
# language authority table, whose codes are ISO 639-3 uppercased (DCAT-AP 3, dct:language).
# A locale whose language is not here is given as a literal.
EU_LANGUAGE_CODES = {
    "ar": "ARA", "bg": "BUL", "bn": "BEN", "ca": "CAT", "cs": "CES", "cy": "CYM", "da": "DAN", "de": "DEU",
    "el": "ELL", "en": "ENG", "es": "SPA", "et": "EST", "eu": "EUS", "fa": "FAS", "fi": "FIN", "fr": "FRA",
    "ga": "GLE", "gd": "GLA", "gl": "GLG", "he": "HEB", "hi": "HIN", "hr": "HRV", "hu": "HUN", "hy": "HYE",
    "id": "IND", "is": "ISL", "it": "ITA", "ja": "JPN", "ka": "KAT", "ko": "KOR", "lb": "LTZ", "lt": "LIT",
    "lv": "LAV", "mk": "MKD", "mt": "MLT", "nb": "NOB", "nl": "NLD", "nn": "NNO", "no": "NOR", "pl": "POL",
    "pt": "POR", "ro": "RON", "ru": "RUS", "sk": "SLK", "sl": "SLV", "sq": "SQI", "sr": "SRP", "sv": "SWE",
    "sw": "SWA", "th": "THA", "tr": "TUR", "uk": "UKR", "ur": "URD", "vi": "VIE", "zh": "ZHO",
}  # fmt: skip

# The MDC tasks on the EU data themes (DCAT-AP's dcat:theme vocabulary): every machine-learning
# task is science and technology; language learning is also education. N/A and Other say nothing.
TASK_THEMES: dict[str, tuple[str, ...]] = {
    task.value: ("TECH",) for task in Task if task not in (Task.NA, Task.OTH)
} | {Task.CALL.value: ("TECH", "EDUC")}

ARCHIVE_MEDIA_TYPE = "application/gzip"  # every published archive is a .tar.gz (DatasetVersion's check)
ARCHIVE_FILE_TYPE = "TAR_GZ"
CROISSANT_MEDIA_TYPE = "application/ld+json"


@dataclass(frozen=True)
class FeedPage:
    """One page of the catalog: its datasets (each with ``published_versions``, oldest first),
    how many there are in all, and when the catalog last changed."""

    datasets: list[Dataset]
    number: int
    total: int
    modified: datetime | None

    @property
    def last(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def feed_datasets() -> QuerySet[Dataset]:
    """The catalog's datasets, in the order the pages hold them, with everything a feed shows."""
    versions = DatasetVersion.objects.filter(published_at__isnull=False).select_related("license").order_by("number")
    return (
        listed_datasets()
        .select_related("organization", "license", "current_version__license")
        .prefetch_related(Prefetch("versions", queryset=versions, to_attr="published_versions"))
        .order_by("published_at", "id")
    )


def feed_page(number: int) -> FeedPage | None:
    """Page ``number`` (from 1), or None past the last page. Three queries, whatever the size."""
    summary = listed_datasets().aggregate(total=Count("id"), modified=Max("updated_at"))
    page = FeedPage(datasets=[], number=number, total=summary["total"], modified=summary["modified"])
    if number < 1 or number > page.last:
        return None
    start = (number - 1) * PAGE_SIZE
    return FeedPage(
        datasets=list(feed_datasets()[start : start + PAGE_SIZE]),
        number=number,
        total=page.total,
        modified=page.modified,
    )


@dataclass(frozen=True)
class Urls:
    """Absolute URLs on this instance, from its base URL (scheme and host, no trailing slash)."""

    base: str

    def to(self, name: str, *args: Any) -> URIRef:
        return URIRef(self.base + reverse(name, args=args))

    def dataset(self, dataset: Dataset) -> URIRef:
        # The dataset's API record: its id never changes, where its slug or name might.
        return self.to("api-dataset-detail", dataset.id)

    def version(self, dataset: Dataset, number: int) -> URIRef:
        return URIRef(f"{self.dataset(dataset)}/versions/{number}")

    def landing_page(self, dataset: Dataset) -> URIRef:
        return self.to("dataset-detail", dataset.slug)

    def organization(self, organization: Organization) -> URIRef:
        return self.to("organization-detail", organization.slug)

    def croissant(self, dataset: Dataset, number: int) -> URIRef:
        return self.to("api-version-croissant", dataset.id, number)

    def archive(self, dataset: Dataset, number: int) -> URIRef:
        return self.to("api-version-file-download", dataset.id, number, "archive")


def language(locale: str) -> URIRef | Literal | None:
    """A BCP 47 locale as the EU's language IRI when its language is known, else the tag."""
    if not locale:
        return None
    code = EU_LANGUAGE_CODES.get(locale.split("-")[0].lower())
    return EU_LANGUAGE[code] if code else Literal(locale)


def license_node(graph: Graph, license: Any, fallback_url: str = "") -> URIRef | BNode | None:
    """An SPDX license as its SPDX IRI; custom terms as their URL, else as a license document
    named for them."""
    if license is None:
        return URIRef(fallback_url) if fallback_url else None
    if license.spdx_id:
        return SPDX_LICENSE[license.spdx_id]
    if license.url or fallback_url:
        return URIRef(license.url or fallback_url)
    node = BNode(f"license-{license.pk}")
    graph.add((node, RDF.type, DCTERMS.LicenseDocument))
    graph.add((node, RDFS.label, Literal(license.name)))
    return node


def price_text(dataset: Dataset) -> str:
    return f"${(dataset.base_price_cents or 0) / 100:,.2f} {dataset.currency.upper()}"


def rights_text(dataset: Dataset) -> str:
    """What stands between a visitor and the archive, beyond accepting the license."""
    parts = ["Downloads need an account and acceptance of the license terms on the dataset page."]
    if dataset.visibility == Dataset.Visibility.RESTRICTED:
        parts.append("Access is on request: the organization approves each request.")
    if dataset.is_paid:
        parts.append(f"Paid: {price_text(dataset)} per license.")
    return " ".join(parts)


def plain_text(markdown: str) -> str:
    """The words of a Markdown text as the page shows them (sanitized: no script, no markup)."""
    text = html.unescape(strip_tags(render_markdown(markdown)))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def is_open(dataset: Dataset) -> bool:
    return dataset.visibility == Dataset.Visibility.PUBLIC and not dataset.is_paid


def _date(value: datetime) -> Literal:
    return Literal(value.isoformat(), datatype=XSD.dateTime)


def _add_agent(graph: Graph, node: URIRef, *, name: str, homepage: str = "") -> None:
    graph.add((node, RDF.type, FOAF.Agent))
    graph.add((node, FOAF.name, Literal(name)))
    if homepage:
        graph.add((node, FOAF.homepage, URIRef(homepage)))


def _add_contact(graph: Graph, node: URIRef, dataset: Dataset) -> None:
    """The point of contact, only when the organization shows contact information on the page."""
    if not dataset.show_contact_info or not (dataset.point_of_contact_email or dataset.point_of_contact_full_name):
        return
    contact = BNode(f"contact-{dataset.id}")
    graph.add((node, DCAT.contactPoint, contact))
    graph.add((contact, RDF.type, VCARD.Kind))
    if dataset.point_of_contact_full_name:
        graph.add((contact, VCARD.fn, Literal(dataset.point_of_contact_full_name)))
    if dataset.point_of_contact_email:
        graph.add((contact, VCARD.hasEmail, URIRef(f"mailto:{dataset.point_of_contact_email}")))


def _add_archive(graph: Graph, urls: Urls, dataset: Dataset, version: DatasetVersion) -> URIRef:
    node = urls.archive(dataset, version.number)
    graph.add((node, RDF.type, DCAT.Distribution))
    graph.add((node, DCTERMS.title, Literal(version.filename)))
    # Downloads need a license (and maybe access or payment): the way in is the dataset page.
    graph.add((node, DCAT.accessURL, urls.landing_page(dataset)))
    graph.add((node, DCAT.byteSize, Literal(version.size_bytes, datatype=XSD.nonNegativeInteger)))
    graph.add((node, DCAT.mediaType, IANA_MEDIA_TYPE[ARCHIVE_MEDIA_TYPE]))
    graph.add((node, DCTERMS.format, EU_FILE_TYPE[ARCHIVE_FILE_TYPE]))
    checksum = BNode(f"checksum-{dataset.id}-{version.number}")
    graph.add((node, SPDX.checksum, checksum))
    graph.add((checksum, RDF.type, SPDX.Checksum))
    graph.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
    graph.add((checksum, SPDX.checksumValue, Literal(version.sha256, datatype=XSD.hexBinary)))
    license = license_node(graph, version.license, dataset.license_url)
    if license is not None:
        graph.add((node, DCTERMS.license, license))
    rights = BNode(f"rights-{dataset.id}")
    graph.add((node, DCTERMS.rights, rights))
    graph.add((rights, RDF.type, DCTERMS.RightsStatement))
    graph.add((rights, RDFS.label, Literal(rights_text(dataset))))
    if version.published_at:
        graph.add((node, DCTERMS.issued, _date(version.published_at)))
    return node


def _add_croissant(graph: Graph, urls: Urls, dataset: Dataset, version: DatasetVersion) -> URIRef:
    node = urls.croissant(dataset, version.number)
    graph.add((node, RDF.type, DCAT.Distribution))
    graph.add((node, DCTERMS.title, Literal(f"Croissant metadata of version {version.number}")))
    graph.add((node, DCAT.accessURL, node))
    graph.add((node, DCAT.downloadURL, node))
    graph.add((node, DCAT.mediaType, IANA_MEDIA_TYPE[CROISSANT_MEDIA_TYPE]))
    graph.add((node, DCTERMS.format, EU_FILE_TYPE.JSON_LD))
    graph.add((node, DCTERMS.conformsTo, CROISSANT))
    return node


def add_dataset(graph: Graph, urls: Urls, dataset: Dataset) -> URIRef:
    """A dcat:Dataset with its publisher, contact, versions and the current version's archive and
    Croissant as distributions. Reads ``published_versions`` (``feed_datasets``) when present."""
    node = urls.dataset(dataset)
    landing = urls.landing_page(dataset)
    graph.add((node, RDF.type, DCAT.Dataset))
    graph.add((node, DCTERMS.identifier, Literal(dataset.id)))
    graph.add((node, DCTERMS.title, Literal(dataset.name)))
    # Markdown as written: CKAN's harvester keeps dct:description as its notes, which are Markdown.
    description = dataset.long_description or dataset.short_description or dataset.name
    graph.add((node, DCTERMS.description, Literal(description)))
    graph.add((node, DCAT.landingPage, landing))
    for tag in dataset.tags or []:
        graph.add((node, DCAT.keyword, Literal(str(tag))))
    if (lang := language(dataset.locale)) is not None:
        graph.add((node, DCTERMS.language, lang))
    for theme in TASK_THEMES.get(dataset.task, ()):
        graph.add((node, DCAT.theme, EU_THEME[theme]))
    if dataset.published_at:
        graph.add((node, DCTERMS.issued, _date(dataset.published_at)))
    graph.add((node, DCTERMS.modified, _date(dataset.updated_at)))
    access = "PUBLIC" if is_open(dataset) else "RESTRICTED"
    graph.add((node, DCTERMS.accessRights, EU_ACCESS_RIGHT[access]))

    organization = dataset.organization
    publisher = urls.organization(organization)
    graph.add((node, DCTERMS.publisher, publisher))
    _add_agent(graph, publisher, name=organization.name, homepage=organization.website or str(publisher))
    _add_contact(graph, node, dataset)

    versions = getattr(dataset, "published_versions", None)
    if versions is None:
        versions = list(dataset.versions.filter(published_at__isnull=False).select_related("license"))
    for version in versions:
        version_node = urls.version(dataset, version.number)
        graph.add((node, DCAT.hasVersion, version_node))
        graph.add((version_node, RDF.type, DCAT.Dataset))
        graph.add((version_node, DCAT.isVersionOf, node))
        graph.add((version_node, DCAT.version, Literal(str(version.number))))
        graph.add((version_node, DCTERMS.title, Literal(f"{dataset.name}, version {version.number}")))
        graph.add((version_node, DCAT.landingPage, landing))
        if version.published_at:
            graph.add((version_node, DCTERMS.issued, _date(version.published_at)))
        if version.changelog:
            graph.add((version_node, DCAT.versionNotes, Literal(version.changelog)))
        graph.add((version_node, DCAT.distribution, _add_croissant(graph, urls, dataset, version)))

    current = dataset.current_version
    if current is not None:
        graph.add((node, DCAT.version, Literal(str(current.number))))
        graph.add((node, DCAT.distribution, _add_archive(graph, urls, dataset, current)))
        graph.add((node, DCAT.distribution, _add_croissant(graph, urls, dataset, current)))
    return node


def catalog_graph(page: FeedPage, *, base_url: str, page_url: Any) -> Graph:
    """The DCAT-AP 3 catalog of one page. ``page_url(n)`` is the absolute URL of page n in the
    format being served: the hydra links stay in that format."""
    urls = Urls(base_url.rstrip("/"))
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    catalog = urls.to("catalog-feed")
    home = urls.to("home")
    graph.add((catalog, RDF.type, DCAT.Catalog))
    graph.add((catalog, DCTERMS.title, Literal(settings.SITE_NAME)))
    graph.add((catalog, DCTERMS.description, Literal(f"The datasets published on {settings.SITE_NAME}.")))
    graph.add((catalog, FOAF.homepage, home))
    graph.add((catalog, DCTERMS.publisher, home))
    _add_agent(graph, home, name=settings.SITE_NAME, homepage=str(home))
    if page.modified:
        graph.add((catalog, DCTERMS.modified, _date(page.modified)))
    for dataset in page.datasets:
        graph.add((catalog, DCAT.dataset, add_dataset(graph, urls, dataset)))

    # Paging (Hydra). The page is also a hydra:PagedCollection with hydra:next, which is what
    # older CKAN DCAT harvesters follow; current ones read the PartialCollectionView.
    view = URIRef(page_url(page.number))
    graph.add((catalog, HYDRA.view, view))
    graph.add((catalog, HYDRA.totalItems, Literal(page.total, datatype=XSD.nonNegativeInteger)))
    graph.add((view, RDF.type, HYDRA.PartialCollectionView))
    graph.add((view, RDF.type, HYDRA.PagedCollection))
    graph.add((view, HYDRA.itemsPerPage, Literal(PAGE_SIZE, datatype=XSD.nonNegativeInteger)))
    graph.add((view, HYDRA.first, URIRef(page_url(1))))
    graph.add((view, HYDRA.last, URIRef(page_url(page.last))))
    if page.number > 1:
        graph.add((view, HYDRA.previous, URIRef(page_url(page.number - 1))))
    if page.number < page.last:
        graph.add((view, HYDRA.next, URIRef(page_url(page.number + 1))))
    return graph


def jsonld_context() -> dict[str, str]:
    return {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}


def dataset_schema_org(dataset: Dataset, *, base_url: str) -> dict[str, Any]:
    """The dataset as a schema.org ``Dataset`` (Google's Dataset structured data guidelines), for
    the ``application/ld+json`` block of its page."""
    urls = Urls(base_url.rstrip("/"))
    landing = str(urls.landing_page(dataset))
    organization = dataset.organization
    publisher = {
        "@type": "Organization",
        "name": organization.name,
        "url": organization.website or str(urls.organization(organization)),
    }
    data: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": str(urls.dataset(dataset)),
        "name": dataset.name,
        # Google asks for 50 to 5000 characters of text; the long description, else the short one.
        "description": (plain_text(dataset.long_description) or dataset.short_description or dataset.name)[:5000],
        "url": landing,
        "identifier": dataset.id,
        "creator": publisher,
        "publisher": publisher,
        "isAccessibleForFree": not dataset.is_paid,
    }
    if dataset.tags:
        data["keywords"] = [str(tag) for tag in dataset.tags]
    license = license_node(Graph(), dataset.license, dataset.license_url)
    if isinstance(license, URIRef):
        data["license"] = str(license)
    elif dataset.license is not None:
        data["license"] = {"@type": "CreativeWork", "name": dataset.license.name, "url": landing}
    if dataset.published_at:
        data["datePublished"] = dataset.published_at.isoformat()
    data["dateModified"] = dataset.updated_at.isoformat()
    if dataset.locale:
        data["inLanguage"] = dataset.locale
    if dataset.is_paid and dataset.base_price_cents:
        data["offers"] = {
            "@type": "Offer",
            "price": f"{dataset.base_price_cents / 100:.2f}",
            "priceCurrency": dataset.currency.upper(),
            "url": landing,
        }
    version = dataset.current_version
    if version is not None:
        croissant = str(urls.croissant(dataset, version.number))
        data["version"] = str(version.number)
        data["distribution"] = [
            {
                "@type": "DataDownload",
                "name": version.filename,
                # Downloads need a license: the page is where one gets it.
                "contentUrl": landing,
                "encodingFormat": ARCHIVE_MEDIA_TYPE,
                "contentSize": f"{version.size_bytes} B",
                "sha256": version.sha256,
            },
            {
                "@type": "DataDownload",
                "name": f"Croissant metadata of version {version.number}",
                "contentUrl": croissant,
                "encodingFormat": CROISSANT_MEDIA_TYPE,
            },
        ]
        # The Croissant document describes the dataset: schema.org's subjectOf (sameAs would say
        # it *is* the dataset).
        data["subjectOf"] = {"@type": "CreativeWork", "url": croissant, "encodingFormat": CROISSANT_MEDIA_TYPE}
    return data
