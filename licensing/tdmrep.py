"""W3C TDMRep (TDM Reservation Protocol, Final Community Group Report 2024): whether text and
data mining of a dataset is reserved, told in the headers ``tdm-reservation`` and ``tdm-policy``
(section 3.2) and in the HTML ``<meta>`` of the same names (section 3.3).

Mining is reserved (``1``) unless the dataset's license allows both AI training and commercial
use: a license that forbids either is a right the rightsholder keeps, which is what a
reservation says. A dataset without a license reserves too, since nothing has been granted. The
policy (sent only with a reservation) is where a miner reads the terms without an account: the
license's public URL, else the License section of the dataset page (custom terms, shown there with
their SHA-256).
"""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse

from marketplace.models import Dataset


def is_reserved(dataset: Dataset) -> bool:
    license = dataset.license
    return license is None or not (license.ai_training and license.commercial_use)


def headers(dataset: Dataset, *, absolute: Callable[[str], str]) -> dict[str, str]:
    """The TDMRep headers of ``dataset``; ``absolute`` makes a path absolute (the request's
    ``build_absolute_uri``), since a policy must be a URL a miner can fetch."""
    if not is_reserved(dataset):
        return {"tdm-reservation": "0"}
    return {
        "tdm-reservation": "1",
        "tdm-policy": (dataset.license and dataset.license.url)
        or absolute(reverse("dataset-detail", args=[dataset.slug]) + "#license"),
    }
