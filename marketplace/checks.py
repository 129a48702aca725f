"""Deployment checks (`manage.py check --deploy`) for the parts Django does not know about."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.exceptions import ImproperlyConfigured


@register(Tags.security, deploy=True)
def storage_refuses_anonymous_requests(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """An S3 gateway that lists the bucket to anyone would publish every quarantined and paid
    archive: ask it as a stranger and refuse to deploy if it answers."""
    endpoint = settings.S3_ENDPOINT_URL
    if not endpoint:
        return [Error("S3_ENDPOINT_URL is not set.", id="marketplace.E001")]
    url = f"{endpoint.rstrip('/')}/{settings.S3_BUCKET}?list-type=2&max-keys=1"
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 (an http(s) URL from settings)
            status = answer.status
    except urllib.error.HTTPError as refused:
        refused.close()
        return []  # 403 (or 401): anonymous requests are refused, as they must be
    except OSError as unreachable:
        return [Error(f"Storage at {endpoint} cannot be reached: {unreachable}.", id="marketplace.E002")]
    return [
        Error(
            f"Storage at {endpoint} lists bucket {settings.S3_BUCKET} to anonymous requests (HTTP {status}).",
            hint="Require credentials on the gateway (SeaweedFS: -s3.config with identities; MinIO/AWS: no public "
            "bucket policy). Archives must only leave storage through presigned URLs.",
            id="marketplace.E003",
        )
    ]


def refuse_an_open_gateway() -> None:
    """Production start-up (web and worker): stop with the check's message when storage answers
    strangers. Unreachable storage does not stop a start: a process restarted during a storage
    outage must come up and answer 503 until storage is back."""
    for problem in storage_refuses_anonymous_requests():
        if problem.id == "marketplace.E003":
            raise ImproperlyConfigured(f"{problem.msg} {problem.hint}")
