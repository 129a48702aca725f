"""Requests this server makes to addresses other people give it (another instance's base URL in a
bundle, a new home an owner names): refused when the host is this machine or a private network,
so that naming an address cannot make the server probe what only it can reach. A deployment whose
instances talk over a private network, and the tests and ``make run`` on one machine, allow it with
``OUTBOUND_PRIVATE_ADDRESSES=true``."""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse

from django.conf import settings
from django.utils.translation import gettext as _


class AddressRefused(ValueError):
    """The address may not be fetched; the message says why."""


def check(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.username or parts.password:
        raise AddressRefused(_("%(url)s is not an http(s) address.") % {"url": repr(url)})
    if settings.OUTBOUND_PRIVATE_ADDRESSES:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror:
        raise AddressRefused(_("%(hostname)s does not resolve to an address.") % {"hostname": parts.hostname}) from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise AddressRefused(
                _(
                    "%(hostname)s is on this machine or a private network (%(address)s), which this "
                    "instance does not reach on anyone's behalf."
                )
                % {"hostname": parts.hostname, "address": address}
            )
