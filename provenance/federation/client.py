"""The one module that asks other instances for anything, over HTTP with urllib3.

Every answer is bounded: a connect timeout, a deadline for the whole answer (a peer dripping one
byte a second is as bad as one that never answers), a size cap, no redirects to other hosts, and
JSON only where JSON is expected. Failures raise ``PeerError`` with a sentence a person can act on;
nothing here writes to the database.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

CHUNK = 64 * 1024
_POOL = urllib3.PoolManager(
    retries=False, headers={"User-Agent": "DataCollective-federation/1", "Accept": "application/json"}
)


class PeerError(Exception):
    """The peer could not be asked, or answered something unusable. The message says which."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    url: str

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise PeerError(f"{self.url} answered something that is not JSON ({_preview(self.body)})") from None


def _preview(body: bytes) -> str:
    text = body[:60].decode("utf-8", "replace").replace("\n", " ").strip()
    return f"it begins “{text}”" if text else "an empty answer"


def normalize_url(raw: str) -> str:
    """A peer's base URL as stored: http(s), host, optional path, no query and no trailing slash."""
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PeerError(f"“{raw}” is not an http:// or https:// address of an instance")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise PeerError(f"“{raw}”: give the instance's base address only, without query, fragment or login")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


def get(url: str, *, accept: str = "application/json", expect_ok: bool = True) -> Answer:
    """GET ``url`` within the limits above. With ``expect_ok``, an answer other than 200 raises,
    naming the status and the peer's own message when it sent one."""
    deadline = time.monotonic() + settings.FEDERATION_READ_TIMEOUT
    timeout = urllib3.Timeout(connect=settings.FEDERATION_CONNECT_TIMEOUT, read=settings.FEDERATION_READ_TIMEOUT)
    limit = settings.FEDERATION_MAX_ANSWER_BYTES
    try:
        response = _POOL.request(
            "GET", url, headers={"Accept": accept}, timeout=timeout, redirect=False, preload_content=False
        )
    except urllib3.exceptions.NewConnectionError as exc:  # a subclass of ConnectTimeoutError: first
        if "timed out" not in str(exc):
            raise PeerError(f"could not connect to {url}: {_reason(exc)} (is the instance running?)") from None
        raise PeerError(f"{url} did not accept a connection within {settings.FEDERATION_CONNECT_TIMEOUT} s") from None
    except urllib3.exceptions.ConnectTimeoutError:
        raise PeerError(f"{url} did not accept a connection within {settings.FEDERATION_CONNECT_TIMEOUT} s") from None
    except urllib3.exceptions.ReadTimeoutError:
        raise PeerError(f"{url} did not answer within {settings.FEDERATION_READ_TIMEOUT} s") from None
    except urllib3.exceptions.HTTPError as exc:
        raise PeerError(f"asking {url} failed: {_reason(exc)}") from None
    try:
        chunks: list[bytes] = []
        size = 0
        while True:
            if time.monotonic() > deadline:
                raise PeerError(f"{url} was too slow: its answer took more than {settings.FEDERATION_READ_TIMEOUT} s")
            chunk = response.read(CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise PeerError(f"{url} answered more than {limit:,} bytes, more than a peer may send")
            chunks.append(chunk)
    except urllib3.exceptions.ReadTimeoutError:
        raise PeerError(f"{url} stopped answering for more than {settings.FEDERATION_READ_TIMEOUT} s") from None
    except urllib3.exceptions.HTTPError as exc:
        raise PeerError(f"reading the answer of {url} failed: {_reason(exc)}") from None
    finally:
        response.release_conn()
    answer = Answer(response.status, b"".join(chunks), url)
    if expect_ok and answer.status != 200:
        raise PeerError(f"{url} answered {answer.status}{_message(answer)}")
    return answer


def get_json(url: str) -> Any:
    return get(url).json()


def _message(answer: Answer) -> str:
    try:
        body = json.loads(answer.body)
    except ValueError:
        return ""
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return f": {body['message'][:300]}"
    return ""


def _reason(exc: Exception) -> str:
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "the host name is unknown"
    return text.split(": ", 1)[-1][:200]
