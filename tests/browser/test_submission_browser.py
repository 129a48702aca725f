"""In chromium: a contributor fills a submission in, uploads a 12 MiB archive through the page
(Uppy, parts straight to storage), sees it progress, and submits; a reviewer decides."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import tarfile
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import expect

from marketplace import storage
from marketplace.models import Submission, Upload, User
from marketplace.organizations.services import add_member, approve_organization
from tests import factories
from tests.factories import verified_user
from tests.second_factor import enroll_second_factor, fresh_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MiB = 1024 * 1024


def write_archive(path: Path, *, compressed_bytes: int) -> str:
    """A .tar.gz of one TSV of random hex (about half as big packed), at least ``compressed_bytes``."""
    rows = io.BytesIO()
    rows.write(b"id\tvalue\n")
    number = 0
    while rows.tell() < compressed_bytes * 2 + MiB:
        number += 1
        rows.write(b"%d\t%s\n" % (number, os.urandom(48).hex().encode()))
    data = rows.getvalue()
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w") as tar:
        member = tarfile.TarInfo("data/rows.tsv")
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
    path.write_bytes(gzip.compress(packed.getvalue(), compresslevel=1))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def contributor(live_server: Any) -> User:
    factories.license_for("CC-BY-4.0")
    user = verified_user("contrib", email="contrib@example.org", password="contrib-password-1")
    organization = factories.organization("voices")
    approve_organization(organization=organization)
    add_member(organization=organization, user=user, role="member")
    with override_settings(UPLOAD_CORS_ORIGINS=[live_server.url]):
        call_command("configure_storage", verbosity=0)  # what `make run` does for its own address
    return user


def log_in(page: Any, username: str, password: str) -> None:
    """Through the sign-in page; a person with a second factor then types their app's code."""
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/account/" in url or "/2fa/" in url)
    if "/2fa/" in page.url:
        page.locator("input[name=code]").fill(fresh_code(User.objects.get(username=username)))
        page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/account/")


def test_contributor_fills_the_form_uploads_12_mib_and_submits_and_a_reviewer_publishes_it(
    page: Any, browser: Any, live_server: Any, contributor: User, celery_worker_process: Any, tmp_path: Path
) -> None:
    archive = tmp_path / "voices.tar.gz"
    digest = write_archive(archive, compressed_bytes=12 * MiB)
    assert archive.stat().st_size >= 12 * MiB

    log_in(page, "contrib", "contrib-password-1")
    page.get_by_role("link", name="Submissions").click()
    page.get_by_role("link", name="New submission").click()
    page.get_by_label("Name").fill("Voices of the valley")
    page.get_by_role("button", name="Create draft").click()
    expect(page.get_by_test_id("submission-status")).to_have_text("Draft")
    submission = Submission.objects.get(name="Voices of the valley")

    # A bad value is shown beside its field, and nothing else is lost.
    page.get_by_label("Short description").fill("Read speech from the valley.")
    page.get_by_label("Point of contact email").fill("not-an-email")
    page.locator("#datasheet").get_by_role("button", name="Save draft").click()
    expect(page.locator(".has-error").filter(has=page.get_by_label("Point of contact email"))).to_contain_text(
        "valid email"
    )
    expect(page.get_by_label("Short description")).to_have_value("Read speech from the valley.")

    page.get_by_label("Long description").fill("Ten speakers read prompts.\n\n**Recorded 2025.**")
    page.get_by_label("Locale").fill("en-GB")
    page.get_by_label("Task").select_option("NLP")
    page.get_by_label("Format", exact=True).fill("TSV")
    page.get_by_label("License", exact=True).select_option("CC-BY-4.0")
    page.get_by_label("Intended usage").fill("Training speech recognition.")
    page.get_by_label("Point of contact full name").fill("Ada Valley")
    page.get_by_label("Point of contact email").fill("ada@example.org")
    page.locator("#datasheet").get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Datasheet saved.")).to_be_visible()

    page.get_by_label("AI training").check()
    page.get_by_label("The exact consent text contributors saw").fill("I agree that my recordings train models.\n")
    page.get_by_label("Collection start").fill("2025-01-01")
    page.get_by_label("Collection end").fill("2025-06-30")
    page.get_by_label("How a contributor withdraws").fill("Write to ada@example.org.")
    page.locator("#consent").get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Consent terms saved.")).to_be_visible()
    expect(page.get_by_test_id("consent-sha256")).to_have_text(
        hashlib.sha256(b"I agree that my recordings train models.\n").hexdigest()
    )

    page.get_by_label("User (row 1)").fill("contrib")
    page.get_by_label("Share (%) (row 1)").fill("60")
    page.get_by_label("Or payee name (row 2)").fill("Valley Choir")
    page.get_by_label("Payee email (row 2)").fill("choir@example.org")
    page.get_by_label("Share (%) (row 2)").fill("30")
    page.locator("#contributors").get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("alert")).to_contain_text("The shares add up to 90 %; they must add up to exactly 100 %.")
    page.get_by_label("Share (%) (row 2)").fill("40")
    page.locator("#contributors").get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Revenue split saved.")).to_be_visible()

    # The archive: chosen in Uppy's dashboard, uploaded in parts straight to storage.
    uploader = page.locator("[data-upload][data-kind=archive]")
    uploader.locator("input[type=file]").first.set_input_files(str(archive))
    page.evaluate(
        """() => {
            // Kept in sessionStorage: the page reloads itself once the upload completes.
            const seen = [];
            const uppy = document.querySelector('[data-upload][data-kind=archive]').uppy;
            uppy.on('upload-progress', (file, p) => {
                seen.push(p.bytesUploaded);
                sessionStorage.setItem('progress', JSON.stringify(seen));
            });
        }"""
    )
    uploader.get_by_role("button", name="Upload 1 file").click()
    page.wait_for_function("() => document.querySelector('[data-upload-state=completed]') !== null", timeout=60_000)
    expect(page.locator("[data-upload][data-kind=archive] .upload-state")).to_contain_text(digest)

    progress = json.loads(page.evaluate("() => sessionStorage.getItem('progress')"))
    size = archive.stat().st_size
    assert any(0 < done < size for done in progress), progress  # it moved part by part, not only at the end
    assert progress == sorted(progress) and progress[-1] == size

    upload = Upload.objects.get(submission=submission, kind="archive")
    assert (upload.status, upload.sha256, upload.size_bytes) == ("completed", digest, archive.stat().st_size)
    assert upload.object_key.endswith(".tar.gz")
    submission.refresh_from_db()
    assert submission.archive_upload_id == upload.id

    # A worker validates the archive; the page follows it and reloads once it passed.
    expect(page.get_by_test_id("validation-status")).to_have_text("passed", timeout=60_000)
    expect(page.locator("#validation")).to_contain_text("data/rows.tsv")
    # The consent allows AI training only; CC-BY-4.0 allows more: refused, each conflict in words.
    page.get_by_label("I have the right to offer this data").check()
    page.get_by_role("button", name="Save and submit for review").click()
    refusal = page.locator("[data-error-summary]")
    for what in ("commercial use", "redistribution", "derivatives"):
        expect(refusal).to_contain_text(
            f"the license CC-BY-4.0 allows {what}, but the contributors' consent does not allow it: choose a "
            f"license without {what}, or record consent that allows it"
        )
    expect(page.get_by_test_id("submission-status")).to_have_text("Draft")
    for flag in ("Commercial use", "Redistribution", "Derivatives"):
        page.get_by_label(flag).check()
    page.locator("#consent").get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Consent terms saved.")).to_be_visible()
    page.get_by_label("I have the right to offer this data").check()
    page.get_by_role("button", name="Save and submit for review").click()
    expect(page.get_by_text("Submitted for review. Reviewers are notified")).to_be_visible()
    expect(page.get_by_test_id("submission-status")).to_have_text("Submitted for review")

    # A reviewer of the organization publishes it.
    reviewer = verified_user("rev", email="rev@example.org", password="reviewer-password-1")
    add_member(organization=submission.organization, user=reviewer, role="reviewer")
    enroll_second_factor(reviewer)  # approving asks the reviewer's authenticator app
    review_page = browser.new_context(base_url=live_server.url).new_page()
    log_in(review_page, "rev", "reviewer-password-1")
    review_page.goto("/review/")
    review_page.get_by_role("link", name="Voices of the valley").click()
    expect(review_page.get_by_text("data/rows.tsv")).to_be_attached()
    review_page.get_by_role("button", name="Approve and publish").click()
    expect(review_page.get_by_role("heading", name="Voices of the valley", level=1)).to_be_visible()
    expect(review_page.get_by_text("version 1 is published")).to_be_visible()

    submission.refresh_from_db()
    version = submission.version
    assert submission.status == "approved" and version is not None
    assert (version.sha256, version.size_bytes, version.filename) == (
        digest, archive.stat().st_size, f"{submission.dataset.slug}-v1.tar.gz"
    )  # fmt: skip
    assert version.archive_key.startswith("validated/")
    assert storage.sha256_of(version.archive_key) == (digest, archive.stat().st_size)
    review_page.context.close()


def test_reloading_the_page_mid_upload_resumes_without_sending_parts_again(
    page: Any, contributor: User, tmp_path: Path
) -> None:
    archive = tmp_path / "big.tar.gz"
    digest = write_archive(archive, compressed_bytes=20 * MiB)  # three parts of 8 MiB
    submission = Submission.objects.create(organization=contributor.memberships.get().organization,
                                           created_by=contributor, name="Resumed")  # fmt: skip
    signed: list[int] = []
    page.on(
        "request",
        lambda request: (
            signed.append(int(request.url.rsplit("/", 1)[1]))
            if "/api/uploads/" in request.url and "/parts/" in request.url
            else None
        ),
    )
    log_in(page, "contrib", "contrib-password-1")
    page.goto(f"/submissions/{submission.id}/")
    uploader = page.locator("[data-upload][data-kind=archive]")
    uploader.locator("input[type=file]").first.set_input_files(str(archive))
    # Parts 2 and 3 hang on their way to storage; the page is left as soon as part 1 is stored,
    # as a closed laptop or a crashed tab would.
    held: list[Any] = []
    page.route(re.compile(r"[?&]partNumber=[23](&|$)"), lambda route: held.append(route))
    page.evaluate(
        """() => {
            const uppy = document.querySelector('[data-upload][data-kind=archive]').uppy;
            uppy.on('s3-multipart:part-uploaded', () => window.location.reload());
        }"""
    )
    uploader.get_by_role("button", name="Upload 1 file").click()
    page.wait_for_load_state("load")
    page.wait_for_function("() => performance.getEntriesByType('navigation')[0].type === 'reload'", timeout=30_000)
    first_try = Upload.objects.get(submission=submission)
    assert first_try.status == "uploading"
    page.unroute_all(behavior="ignoreErrors")

    # After the reload the widget remembers the upload; the file is chosen again and only the
    # missing parts are sent.
    uploader = page.locator("[data-upload][data-kind=archive]")
    expect(uploader.get_by_text("Session restored")).to_be_visible()
    uploader.get_by_label("Choose big.tar.gz again to resume its upload").set_input_files(str(archive))
    resume = uploader.get_by_role("button", name=re.compile(r"^(Upload 1 file|Resume|Retry)"))
    resume.first.click()
    page.wait_for_function("() => document.querySelector('[data-upload-state=completed]') !== null", timeout=60_000)

    upload = Upload.objects.get(submission=submission)  # still the one upload: no second E11
    assert (upload.id, upload.status, upload.sha256) == (first_try.id, "completed", digest)
    assert sorted(set(signed)) == [1, 2, 3]
    assert signed.count(1) == 1, signed  # part 1 reached storage before the reload and was not sent again
