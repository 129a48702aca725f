"""The one module that talks to the S3 API; everything else calls these functions.

Two clients: the internal one (``S3_ENDPOINT_URL``) moves and reads objects; the public
one (``S3_PUBLIC_ENDPOINT_URL``) only signs URLs that clients outside our network use.
Bytes never pass through Django: uploads and downloads use presigned URLs.
"""

from __future__ import annotations

import hashlib
import threading
from typing import IO, TYPE_CHECKING, Any

import boto3
from botocore import exceptions as botocore_errors
from botocore.config import Config
from botocore.exceptions import ClientError
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from urllib3.exceptions import HTTPError as Urllib3Error

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# SigV4 presigned URLs are valid for at most seven days (AWS S3 API reference).
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
_clients: dict[tuple[Any, ...], S3Client] = {}
# boto3's default session is not safe to build clients from in several threads at once (gunicorn's
# threaded workers): one thread builds each client, the others wait for it.
_clients_lock = threading.Lock()


class StorageError(Exception):
    """Storage refused or could not be reached; the message says which object and why."""


def _client(endpoint_url: str | None) -> S3Client:
    if not endpoint_url:
        raise ImproperlyConfigured("S3_ENDPOINT_URL is not set and no embedded store is running (make run)")
    key = (
        endpoint_url,
        settings.S3_ACCESS_KEY_ID,
        settings.S3_SECRET_ACCESS_KEY,
        settings.S3_REGION,
        settings.S3_CONNECT_TIMEOUT,
    )
    client = _clients.get(key)
    if client is not None:
        return client
    with _clients_lock:
        client = _clients.get(key)
        if client is not None:
            return client
        client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=settings.S3_ACCESS_KEY_ID,
            aws_secret_access_key=settings.S3_SECRET_ACCESS_KEY,
            region_name=settings.S3_REGION,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                # boto3 1.36+ adds CRC checksums that presigned part PUTs and some stores reject.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                connect_timeout=settings.S3_CONNECT_TIMEOUT,
                read_timeout=60,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        )
        _clients[key] = client
    return client


def client() -> S3Client:
    return _client(settings.S3_ENDPOINT_URL)


def public_client() -> S3Client:
    return _client(settings.S3_PUBLIC_ENDPOINT_URL)


def bucket() -> str:
    return str(settings.S3_BUCKET)


def ping() -> None:
    """Raise unless the bucket answers with our credentials."""
    try:
        client().head_bucket(Bucket=bucket())
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "?")
        raise StorageError(f"bucket {bucket()} answered {code}") from exc


def ensure_bucket() -> None:
    try:
        client().head_bucket(Bucket=bucket())
    except ClientError:
        client().create_bucket(Bucket=bucket())


def allow_browser_uploads(origins: list[str]) -> None:
    """Let pages served from ``origins`` PUT parts on presigned URLs and read their ETag (CORS).

    The signature on each URL is what authorizes a PUT; CORS only lets the browser send it and
    read the answer. Without ``ETag`` exposed, a browser cannot complete a multipart upload.
    """
    if not origins:
        raise ValueError("name at least one origin (scheme://host[:port]) that serves the upload pages")
    client().put_bucket_cors(
        Bucket=bucket(),
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": origins,
                    "AllowedMethods": ["PUT", "GET", "HEAD"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 3600,
                }
            ]
        },
    )


def put_stream(key: str, stream: IO[bytes], *, content_type: str = "application/octet-stream") -> None:
    """Store a stream under ``key`` (multipart for large streams, by boto3's transfer manager)."""
    client().upload_fileobj(stream, bucket(), key, ExtraArgs={"ContentType": content_type})


def put_bytes(key: str, data: bytes, *, content_type: str = "application/octet-stream") -> None:
    """Store a small object in one PUT."""
    client().put_object(Bucket=bucket(), Key=key, Body=data, ContentType=content_type)


def head(key: str) -> dict[str, Any] | None:
    try:
        return dict(client().head_object(Bucket=bucket(), Key=key))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
            return None
        raise


def sha256_of(key: str, *, chunk_size: int = 1024 * 1024) -> tuple[str, int]:
    """Stream an object and return its SHA-256 hex digest and size, in bounded memory."""
    body = client().get_object(Bucket=bucket(), Key=key)["Body"]
    digest = hashlib.sha256()
    size = 0
    for chunk in body.iter_chunks(chunk_size):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def delete(key: str) -> None:
    client().delete_object(Bucket=bucket(), Key=key)


def presigned_get(key: str, *, filename: str, expires_in: int) -> str:
    """A short-lived GET URL; the filename is signed in as the Content-Disposition."""
    if not 1 <= expires_in <= MAX_PRESIGN_SECONDS:
        raise ValueError(f"expiry must be between 1 s and {MAX_PRESIGN_SECONDS} s, not {expires_in}")
    safe_name = filename.replace('"', "").replace("\\", "")
    return public_client().generate_presigned_url(
        "get_object",
        Params={
            "Bucket": bucket(),
            "Key": key,
            "ResponseContentDisposition": f'attachment; filename="{safe_name}"',
        },
        ExpiresIn=expires_in,
    )


# Multipart uploads (S3 API reference): parts of 5 MiB to 5 GiB except the last, at most 10,000.
MIN_PART_BYTES = 5 * 1024 * 1024
MAX_PARTS = 10_000


def create_multipart(key: str, *, content_type: str) -> str:
    return str(client().create_multipart_upload(Bucket=bucket(), Key=key, ContentType=content_type)["UploadId"])


def presigned_part_url(key: str, *, upload_id: str, part_number: int, expires_in: int) -> str:
    """A URL that accepts one plain PUT of one part (no Content-Type or checksum signed in)."""
    return public_client().generate_presigned_url(
        "upload_part",
        Params={"Bucket": bucket(), "Key": key, "UploadId": upload_id, "PartNumber": part_number},
        ExpiresIn=expires_in,
    )


def list_parts(key: str, *, upload_id: str) -> dict[int, tuple[str, int]]:
    """Part number -> (ETag without quotes, size) of every part storage holds for the upload."""
    parts: dict[int, tuple[str, int]] = {}
    marker = 0
    while True:
        page = client().list_parts(Bucket=bucket(), Key=key, UploadId=upload_id, PartNumberMarker=marker)
        for part in page.get("Parts", []):
            parts[int(part["PartNumber"])] = (str(part["ETag"]).strip('"'), int(part["Size"]))
        if not page.get("IsTruncated"):
            return parts
        marker = int(page["NextPartNumberMarker"])


def upload_part(key: str, *, upload_id: str, part_number: int, data: bytes) -> str:
    """Store one part of a multipart upload made here (not by a browser); its ETag without quotes."""
    answer = client().upload_part(Bucket=bucket(), Key=key, UploadId=upload_id, PartNumber=part_number, Body=data)
    return str(answer["ETag"]).strip('"')


def complete_multipart(key: str, *, upload_id: str, parts: list[tuple[int, str]]) -> None:
    client().complete_multipart_upload(
        Bucket=bucket(),
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": number, "ETag": f'"{etag}"'} for number, etag in parts]},
    )


def abort_multipart(key: str, *, upload_id: str) -> None:
    try:
        client().abort_multipart_upload(Bucket=bucket(), Key=key, UploadId=upload_id)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in {"NoSuchUpload", "404"}:
            raise


# Errors that say storage could not be reached or dropped the connection: worth retrying later,
# unlike a 403 or a missing object. boto3 has already retried each request a few times.
_TRANSIENT_CODES = {"500", "502", "503", "504", "SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable"}


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` means storage was unreachable, overloaded or dropped the connection."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "")) in _TRANSIENT_CODES
    return isinstance(
        exc, botocore_errors.ConnectionError | botocore_errors.HTTPClientError | botocore_errors.IncompleteReadError
        | Urllib3Error | ConnectionError | TimeoutError
    )  # fmt: skip


def is_missing(exc: BaseException) -> bool:
    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in {
        "404",
        "NoSuchKey",
        "NotFound",
    }


def open_stream(key: str, *, start: int = 0) -> Any:
    """The body of a GET of ``key`` from byte ``start`` on: a stream to ``read(n)`` in bounded pieces."""
    params: dict[str, Any] = {"Bucket": bucket(), "Key": key}
    if start:
        params["Range"] = f"bytes={start}-"
    return client().get_object(**params)["Body"]


class RangedReader:
    """A read-only, seekable file over an object, for formats that need random access (zip).

    Sequential reads share one open GET; a seek elsewhere closes it and the next read opens a
    ranged GET at the new position. Nothing is downloaded whole and nothing touches local disk.
    """

    def __init__(self, key: str, size: int) -> None:
        self.key, self.size = key, size
        self._position = 0
        self._body: Any = None
        self._body_position = -1

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._position, 2: self.size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self.size - self._position
        n = min(n, self.size - self._position)
        if n <= 0:
            return b""
        if self._body is None or self._body_position != self._position:
            self.close()
            self._body = open_stream(self.key, start=self._position)
            self._body_position = self._position
        pieces, wanted = [], n
        while wanted:
            piece = self._body.read(wanted)
            if not piece:
                break
            pieces.append(piece)
            wanted -= len(piece)
        data = b"".join(pieces)
        self._position += len(data)
        self._body_position += len(data)
        return data

    def close(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None


def copy(source_key: str, target_key: str) -> None:
    """Server-side copy (multipart copy past 5 GiB, the single CopyObject limit): no bytes pass
    through this process."""
    from boto3.s3.transfer import TransferConfig

    client().copy(
        {"Bucket": bucket(), "Key": source_key},
        bucket(),
        target_key,
        Config=TransferConfig(multipart_threshold=4 * 1024**3, multipart_chunksize=1024**3),
    )


def download_to(key: str, path: str) -> None:
    """Write an object to a local file (boto3's transfer manager: ranged GETs, bounded memory)."""
    client().download_file(bucket(), key, path)
