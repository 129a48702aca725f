"""Addresses people hand the server are fetched only when they are public, unless the deployment
allows private ones (one machine, a private network)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from config import outbound


@override_settings(OUTBOUND_PRIVATE_ADDRESSES=False)
@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000/api/v1/provenance/keys", "http://localhost/x", "http://10.1.2.3/", "http://[::1]/",
     "http://169.254.169.254/latest/meta-data/", "http://192.168.0.9:9000/"],
)  # fmt: skip
def test_private_and_loopback_addresses_are_refused_with_the_reason(url: str) -> None:
    with pytest.raises(outbound.AddressRefused, match="this machine or a private network"):
        outbound.check(url)


@override_settings(OUTBOUND_PRIVATE_ADDRESSES=False)
@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/", "http://user:pw@example.org/", "x"])
def test_only_plain_http_addresses_are_fetched(url: str) -> None:
    with pytest.raises(outbound.AddressRefused, match="is not an http"):
        outbound.check(url)


@override_settings(OUTBOUND_PRIVATE_ADDRESSES=False)
def test_a_public_address_passes() -> None:
    outbound.check("http://93.184.215.14/")  # a literal global address: no lookup needed


@override_settings(OUTBOUND_PRIVATE_ADDRESSES=True)
def test_one_machine_deployments_allow_loopback() -> None:
    outbound.check("http://127.0.0.1:8000/")
