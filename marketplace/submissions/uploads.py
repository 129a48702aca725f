"""Multipart uploads of archives and samples, straight from the client to storage (E11-E14).

Django signs part URLs and checks the result; the bytes go to storage. No S3 call happens
inside a database transaction: state moves with conditional updates (``uploading`` ->
``completing`` -> ``completed`` or ``failed``), so two concurrent completions cannot both act.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from marketplace import storage
from marketplace.inspection.texts import Params, english
from marketplace.models import Submission, Upload, User
from marketplace.submissions import validation
from marketplace.submissions.reports import upload_error_text
from marketplace.submissions.rules import SubmissionConflict, SubmissionGone, ensure_editable, text_limit

ARCHIVE_NAME = re.compile(r"^[^/\\]+\.(tar\.gz|tgz)$")
MAX_FILENAME = text_limit(Upload, "filename") or 255
# The media types the MDC platform accepts (InitiateFileUploadRequest: ^application/(x-)?(gzip|tar)$).
# A client's claim only: validation reads the bytes and refuses anything but a gzip tar.
ARCHIVE_TYPES = ("application/gzip", "application/x-gzip", "application/tar", "application/x-tar")
SHA256_ANY_CASE = re.compile(r"^[0-9a-fA-F]{64}$")


class UploadGone(SubmissionGone):
    """The upload was aborted or failed verification: the client must start a new one."""


@dataclass(frozen=True)
class UploadStart:
    """E11's declared file: a bare .tar.gz name, its size in bytes and the media type the client
    claims (a claim only: validation reads the bytes)."""

    filename: str
    file_size: int
    mime_type: str


def parse_start(payload: object, *, kind: str) -> UploadStart:
    """E11's body, held to the platform's rules and this instance's size limit for ``kind``."""
    data = payload if isinstance(payload, dict) else {}
    errors: dict[str, list[str]] = {}
    filename = data.get("filename")
    name = filename.strip() if isinstance(filename, str) and ARCHIVE_NAME.match(filename.strip()) else None
    if name is None:
        errors["filename"] = ["must be a bare file name ending in .tar.gz or .tgz"]
    elif len(name) > MAX_FILENAME:
        errors["filename"] = [f"is longer than {MAX_FILENAME} characters"]
    limit = settings.MAX_ARCHIVE_BYTES if kind == Upload.Kind.ARCHIVE else settings.MAX_SAMPLE_BYTES
    file_size = data.get("fileSize")
    size = file_size if isinstance(file_size, int) and not isinstance(file_size, bool) and file_size >= 1 else None
    if size is None:
        errors["fileSize"] = ["must be a whole number of bytes above 0"]
    elif size > limit:
        errors["fileSize"] = [f"{size} bytes is over this instance's limit of {limit} bytes"]
    elif size > storage.MAX_PARTS * 5 * 1024**3:
        errors["fileSize"] = ["is beyond what 10,000 parts of 5 GiB can carry"]
    mime_type = data.get("mimeType")
    media_type = next((known for known in ARCHIVE_TYPES if known == mime_type), None)
    if media_type is None:
        errors["mimeType"] = [f"must be {', '.join(ARCHIVE_TYPES[:-1])} or {ARCHIVE_TYPES[-1]}, not {mime_type!r}"]
    if errors or name is None or size is None or media_type is None:  # (each None comes with its error)
        raise ValidationError(errors)
    return UploadStart(filename=name, file_size=size, mime_type=media_type)


def start_upload(
    *, submission: Submission, user: User, kind: str, filename: str, file_size: int, mime_type: str
) -> Upload:
    """E11: open a multipart upload of a declared file (checked: parse_start) in the quarantine prefix."""
    ensure_editable(submission, what=gettext("archives are uploaded to drafts"))
    upload_id = secrets.token_hex(4)  # only to make the key unique before the row exists
    key = f"quarantine/{submission.id}/{kind}-{timezone.now():%Y%m%dT%H%M%S}-{upload_id}.tar.gz"
    s3_upload_id = storage.create_multipart(key, content_type="application/gzip")
    try:
        return Upload.objects.create(
            submission=submission,
            kind=kind,
            filename=filename,
            size_bytes=file_size,
            mime_type=mime_type,
            object_key=key,
            s3_upload_id=s3_upload_id,
            created_by=user,
        )
    except Exception:
        storage.abort_multipart(key, upload_id=s3_upload_id)  # leave no parts without a row
        raise


def upload_of(*, submission: Submission, upload_id: str, kind: str) -> Upload:
    upload = Upload.objects.filter(id=upload_id, submission=submission, kind=kind).first()
    if upload is None:
        raise Upload.DoesNotExist(
            gettext("No %(kind)s upload '%(upload_id)s' in this submission.") % {"kind": kind, "upload_id": upload_id}
        )
    if upload.status in (Upload.Status.ABORTED, Upload.Status.FAILED):
        reason = f": {upload_error_text(upload)}" if upload.error else ""
        raise UploadGone(
            gettext("Upload '%(upload_id)s' was %(status)s%(reason)s. Start a new upload.")
            % {"upload_id": upload_id, "status": upload.get_status_display().lower(), "reason": reason}
        )
    return upload


def part_url(*, upload: Upload, part_number: int) -> str:
    """E12: a presigned URL for one part, asked for just before its PUT."""
    if not 1 <= part_number <= storage.MAX_PARTS:
        raise ValidationError(
            gettext("partNumber must be between 1 and %(max_parts)s, not %(part_number)s")
            % {"max_parts": storage.MAX_PARTS, "part_number": part_number}
        )
    if upload.status != Upload.Status.UPLOADING:
        raise SubmissionConflict(
            gettext("Upload '%(upload)s' is %(status)s: no more parts are accepted.")
            % {"upload": upload.id, "status": upload.status}
        )
    return storage.presigned_part_url(
        upload.object_key,
        upload_id=upload.s3_upload_id,
        part_number=part_number,
        expires_in=settings.UPLOAD_PART_URL_SECONDS,
    )


def stored_parts(*, upload: Upload) -> list[dict[str, Any]]:
    """The parts storage already holds, so that a client that lost its state resumes (Uppy's listParts)."""
    if upload.status != Upload.Status.UPLOADING:
        raise SubmissionConflict(
            gettext("Upload '%(upload)s' is %(status)s: there are no parts to resume.")
            % {"upload": upload.id, "status": upload.status}
        )
    held = storage.list_parts(upload.object_key, upload_id=upload.s3_upload_id)
    return [{"partNumber": number, "etag": etag, "size": size} for number, (etag, size) in sorted(held.items())]


def abort_upload(*, upload: Upload) -> None:
    """The client gave up (a removed file): free the parts now rather than after the resumable days."""
    if upload.status == Upload.Status.ABORTED:
        return
    claimed = Upload.objects.filter(id=upload.id, status=Upload.Status.UPLOADING).update(
        status=Upload.Status.ABORTED, **_error(gettext_noop("aborted by the uploader"))
    )
    if not claimed:
        raise SubmissionConflict(
            gettext("Upload '%(upload)s' is %(status)s: it can no longer be aborted.")
            % {"upload": upload.id, "status": upload.status}
        )
    storage.abort_multipart(upload.object_key, upload_id=upload.s3_upload_id)


@dataclass(frozen=True)
class Completion:
    upload_id: str
    parts: list[tuple[int, str]]
    checksum: str


def parse_completion(payload: object) -> Completion:
    if not isinstance(payload, dict):
        raise ValidationError(gettext("The body must be a JSON object with uploadId, parts and checksum."))
    errors: dict[str, list[str]] = {}
    upload_id = payload.get("uploadId")
    if not isinstance(upload_id, str) or not upload_id:
        errors["uploadId"] = ["is missing"]
    checksum = payload.get("checksum")
    # The platform takes either case of hex; we compare and store lowercase.
    if not isinstance(checksum, str) or not SHA256_ANY_CASE.match(checksum):
        errors["checksum"] = ["must be the SHA-256 hex digest of the whole file (64 hexadecimal digits)"]
    raw_parts = payload.get("parts")
    parts: list[tuple[int, str]] = []
    if not isinstance(raw_parts, list) or not raw_parts:
        errors["parts"] = ["must list at least one {partNumber, etag}"]
    elif len(raw_parts) > storage.MAX_PARTS:
        errors["parts"] = [f"lists {len(raw_parts)} parts; at most {storage.MAX_PARTS} are allowed"]
    else:
        for item in raw_parts:
            number = item.get("partNumber") if isinstance(item, dict) else None
            etag = item.get("etag") if isinstance(item, dict) else None
            if not isinstance(number, int) or isinstance(number, bool) or not isinstance(etag, str) or not etag:
                errors["parts"] = ["each part needs an integer partNumber and a non-empty etag"]
                break
            parts.append((number, etag.strip().strip('"')))
        problem = None if "parts" in errors else _part_number_problem([number for number, _ in parts])
        if problem:
            errors["parts"] = [
                f"part numbers must run 1, 2, 3, ... in ascending order without gaps or repeats: {problem}"
            ]
    if errors:
        raise ValidationError(errors)
    return Completion(upload_id=str(upload_id), parts=parts, checksum=str(checksum).lower())


def _part_number_problem(numbers: list[int]) -> str | None:
    """The first part number out of place in a completion's list, in words (or None)."""
    seen: set[int] = set()
    for position, number in enumerate(numbers, start=1):
        if not 1 <= number <= storage.MAX_PARTS:
            return f"part {number} is outside 1 to {storage.MAX_PARTS}"
        if number in seen:
            return f"part {number} is listed twice"
        if number != position:
            return f"part {number} is listed where part {position} belongs"
        seen.add(number)
    return None


# The reason on uploads failed by completions of earlier releases, which read the archive back to
# check its SHA-256 (validation checks it now): still marked, so that those rows show it translated.
FORMER_ERRORS = (
    gettext_noop(
        "checksum mismatch: the file in storage has SHA-256 %(sha256)s and %(size)s bytes, the client "
        "declared %(declared_sha256)s and %(declared_size)s bytes"
    ),
)


def _error(template: str, params: Params | None = None) -> dict[str, Any]:
    """An upload's ``error`` in English, and untranslated with its params for the pages."""
    return {"error": english(template, params), "error_template": template, "error_params": dict(params or {})}


def complete_upload(*, upload: Upload, completion: Completion) -> Upload:
    """E14: check the parts against storage, join them, record the declared SHA-256, link to the
    submission, and queue the validation of its contents (after commit), which checks that SHA-256.

    Its time does not grow with the archive: no byte is read back here. A repeat with the same data
    answers as the first did; one with another checksum is refused. A completion whose web process
    died mid-way (the upload left ``completing``) is taken over by the retry.
    """
    if completion.upload_id != upload.s3_upload_id:
        raise ValidationError({"uploadId": ["does not belong to this upload"]})
    if upload.status == Upload.Status.COMPLETED:
        return _completed_already(upload, completion)
    # The lock, not the status, says whether a live request is completing the upload: it dies with
    # the process that holds it, while a ``completing`` status outlives a killed web process.
    with validation.held_lock(f"completion:{upload.id}") as held:
        if not held:
            raise SubmissionConflict(gettext("This upload is being completed by another request; retry in a moment."))
        claimed = Upload.objects.filter(
            id=upload.id, status__in=[Upload.Status.UPLOADING, Upload.Status.COMPLETING]
        ).update(status=Upload.Status.COMPLETING)
        if not claimed:  # completed (or given up) by another request since it was read
            upload.refresh_from_db()
            if upload.status == Upload.Status.COMPLETED:
                return _completed_already(upload, completion)
            raise SubmissionConflict(
                gettext("Upload '%(upload)s' is %(status)s: it cannot be completed.")
                % {"upload": upload.id, "status": upload.status}
            )
        return _complete_claimed(upload, completion)


def _completed_already(upload: Upload, completion: Completion) -> Upload:
    if completion.checksum == upload.sha256:
        return upload
    raise SubmissionConflict(gettext("This upload is already completed with another checksum."))


def _complete_claimed(upload: Upload, completion: Completion) -> Upload:
    try:
        # An object under the key means the parts were joined already, by a completion that died
        # before it recorded the result (after the same check of its parts).
        if storage.head(upload.object_key) is None:
            stored = storage.list_parts(upload.object_key, upload_id=upload.s3_upload_id)
            problems = _part_problems(upload, completion, stored)
            if problems:
                # The client may still PUT the missing parts: back to uploading.
                Upload.objects.filter(id=upload.id).update(status=Upload.Status.UPLOADING)
                raise ValidationError(gettext("The parts do not add up: %(items)s.") % {"items": "; ".join(problems)})
            storage.complete_multipart(upload.object_key, upload_id=upload.s3_upload_id, parts=completion.parts)
    except ValidationError:
        raise
    except Exception:
        Upload.objects.filter(id=upload.id, status=Upload.Status.COMPLETING).update(status=Upload.Status.UPLOADING)
        raise
    # The declared SHA-256 is recorded, not checked here: validation reads and hashes every byte of
    # the archive anyway and fails it when the digests differ (validation.py), so an archive with a
    # wrong checksum is never submittable. Reading it back here as well took a quarter of the SDK's
    # upload time at 1 GiB (bench/upload.py), and grows with the archive: past the SDK's 60 s read
    # timeout for the largest ones.
    with transaction.atomic():
        Upload.objects.filter(id=upload.id).update(
            status=Upload.Status.COMPLETED, sha256=completion.checksum, completed_at=timezone.now()
        )
        link = "archive_upload" if upload.kind == Upload.Kind.ARCHIVE else "sample_upload"
        Submission.objects.filter(id=upload.submission_id).update(**{link: upload.id, "updated_at": timezone.now()})
        # Nothing reaches a reviewer or a licensee before a worker has read every byte of it.
        validation.schedule(upload)
    upload.refresh_from_db()
    return upload


def _part_problems(upload: Upload, completion: Completion, stored: dict[int, tuple[str, int]]) -> list[str]:
    problems: list[str] = []
    total = 0
    last = len(completion.parts)
    for number, etag in completion.parts:
        if number not in stored:
            problems.append(f"part {number} was never uploaded")
            continue
        stored_etag, size = stored[number]
        if stored_etag != etag:
            problems.append(f"part {number} has ETag {stored_etag} in storage, not {etag}")
        if number != last and size < storage.MIN_PART_BYTES:
            problems.append(f"part {number} has {size} bytes; every part but the last needs at least 5 MiB")
        total += size
    if not problems and total != upload.size_bytes:
        problems.append(f"the parts hold {total} bytes, but the upload declared {upload.size_bytes}")
    return problems


def abort_stale_uploads(*, older_than: timedelta, now: datetime | None = None) -> int:
    """Abort multipart uploads left unfinished longer than ``older_than`` and free their parts.

    Also returns to ``uploading`` a completion that died mid-way (a crashed web process leaves
    ``completing`` behind), so that the client's retry can finish it.
    """
    moment = now or timezone.now()
    Upload.objects.filter(status=Upload.Status.COMPLETING, created_at__lt=moment - timedelta(hours=1)).update(
        status=Upload.Status.UPLOADING
    )
    aborted = 0
    stale = Upload.objects.filter(status=Upload.Status.UPLOADING, created_at__lt=moment - older_than)
    for upload in stale.iterator():
        storage.abort_multipart(upload.object_key, upload_id=upload.s3_upload_id)
        aborted += Upload.objects.filter(id=upload.id, status=Upload.Status.UPLOADING).update(
            status=Upload.Status.ABORTED,
            **_error(gettext_noop("not completed within %(days)s days"), {"days": older_than.days}),
        )
    return aborted
