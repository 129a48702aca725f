"""The official `datacollective` SDK, unmodified, against a live server of this test session."""

from __future__ import annotations

from typing import Any

import datacollective
import pytest
from datacollective.errors import ResourceRemovedError
from django.core.cache import cache
from django.utils import timezone

from marketplace.models import Dataset
from tests.factories import published_dataset

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sdk(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    cache.clear()
    monkeypatch.setenv("MDC_API_URL", f"{live_server.url}/api")
    monkeypatch.delenv("MDC_API_KEY", raising=False)
    for i in range(7):
        published_dataset(
            f"sdk-set-{i}", name=f"Speech set {i}", task="ASR" if i % 2 else "TTS", locale=["en", "de"][i % 2],
            format="TSV", size_bytes=1000 * (i + 1), sample=(i == 3), is_paid=(i == 5),
            base_price_cents=5000 if i == 5 else None,
        )  # fmt: skip
    return datacollective


def test_list_and_page_to_total(sdk: Any) -> None:
    first = sdk.list_datasets(results_per_page=3)
    assert first.total == 7 and len(first) == 3
    seen, page = [], 1
    while len(seen) < first.total:
        chunk = sdk.list_datasets(results_per_page=3, page_number=page)
        seen.extend(d.slug for d in chunk)
        page += 1
    assert sorted(seen) == [f"sdk-set-{i}" for i in range(7)]


def test_each_filter_and_sort(sdk: Any) -> None:
    assert {d.slug for d in sdk.list_datasets("speech set 4")} >= {"sdk-set-4"}
    assert {d.task for d in sdk.list_datasets(task="ASR")} == {"ASR"}
    assert len(sdk.list_datasets(task=["ASR", "TTS"])) == 7
    assert {d.locale for d in sdk.list_datasets(locale="de")} == {"de"}
    assert len(sdk.list_datasets(license_abbr=sdk.License.CC_BY_4_0)) == 7
    assert len(sdk.list_datasets(license_abbr="MIT")) == 0
    assert len(sdk.list_datasets(file_format="TSV")) == 7
    assert len(sdk.list_datasets(file_format="WAV")) == 0
    assert [d.slug for d in sdk.list_datasets(has_sample=True)] == ["sdk-set-3"]
    assert [d.slug for d in sdk.list_datasets(pricing="compensated")] == ["sdk-set-5"]
    assert len(sdk.list_datasets(pricing="free")) == 6
    assert len(sdk.list_datasets(upload_date="today")) == 7
    by_size = sdk.list_datasets(sort="size", sort_direction="asc")
    assert [d.sizeBytes for d in by_size] == sorted(d.sizeBytes for d in by_size)
    assert by_size[0].slug == "sdk-set-0"
    newest = sdk.list_datasets(sort="newest")
    assert newest[0].slug == "sdk-set-6"
    assert sdk.list_datasets("speech", sort="relevance").total == 7


def test_filters(sdk: Any) -> None:
    filters = sdk.list_dataset_filters()
    assert "ASR" in filters.tasks and "OTH" in filters.tasks
    assert filters.locales == ["de", "en"]
    assert filters.licenses == ["CC-BY-4.0"]
    assert filters.formats == ["TSV"]


def test_details_by_id_and_slug_and_errors(sdk: Any) -> None:
    by_slug = sdk.get_dataset_details("sdk-set-2")
    by_id = sdk.get_dataset_details(by_slug.id)
    assert by_id.slug == "sdk-set-2" and by_id.filename == "sdk-set-2-v1.tar.gz"
    assert by_id.checksum == Dataset.objects.get(slug="sdk-set-2").current_version.sha256
    assert by_id.organization.slug == "speech-co"
    paid = sdk.get_dataset_details("sdk-set-5")
    assert paid.pricing.platformFeeRate == "0.05" and paid.pricing.totalPriceCents == 5250
    with pytest.raises(FileNotFoundError, match="No dataset with id or slug 'missing-one'"):
        sdk.get_dataset_details("missing-one")
    Dataset.objects.filter(slug="sdk-set-1").update(status="removed", removed_at=timezone.now())
    with pytest.raises(ResourceRemovedError):
        sdk.get_dataset_details("sdk-set-1")
