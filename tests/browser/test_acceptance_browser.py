"""The acceptance of issue 22, in chromium: a new person signs up, verifies their email from the mail,
resets their password by mail and turns on an authenticator app with a code computed from the
secret the page shows; switches to Korean with the language switcher and completes the licensee
journey (catalog filters, terms, an invoice with payment instructions, their invoices and access
requests, a restricted dataset, downloads) and the contributor journey (every part of the one-form
submission, an upload through the page's widget, a failed save that loses nothing, submit for
review) without meeting an English word, a page scrolling sideways or a table wider than its box;
staff cannot mark an invoice paid without a second factor. Screenshots of the Korean pages at 1366
and 390 pixels go to $ACCEPTANCE_SHOTS (default /tmp/acceptance-shots)."""

from __future__ import annotations

import hashlib
import io
import os
import re
import wave
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation
from playwright.sync_api import expect

from licensing.access import access_requests
from licensing.models import AccessRequest, Invoice
from licensing.revenue import payments
from marketplace.models import Submission, User
from marketplace.organizations.services import add_member, approve_organization
from tests.browser.conftest import open_menu
from tests.browser.test_submission_browser import log_in
from tests.factories import license_for, organization, stored_dataset, tar_gz
from tests.second_factor import fresh_code, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("ACCEPTANCE_SHOTS", "/tmp/acceptance-shots"))
WIDTHS = (1366, 390)
ARCHIVE = tar_gz({"train.tsv": b"path\tsentence\na.wav\tBore da.\n"})
PASSWORD = "a-long-first-password"
NEW_PASSWORD = "a-longer-second-password"

# Names of products, formats and standards, written the same in every language. Kept short on
# purpose: anything else in Latin letters on a Korean page is English a person would meet.
PRODUCT_NAMES = ("Data Collective", "Hugging Face", "JSON Lines", "JSON-LD", "DuckDB", "pandas", "Parquet", "Python",
                 "mlcroissant", "Croissant")  # fmt: skip

# The visible text of the page (and what screen readers read: aria-label, placeholder, title), each
# piece with the nearest tag, leaving out what is not Korean by design: text marked with another
# language (lang="en" on a language's own name), code (<code>, <kbd>, <samp>), names marked not to
# be translated (translate="no": the SDK's and libraries' names), and what the person typed (the
# values of inputs and text areas are not text nodes).
VISIBLE_TEXT = """() => {
  const foreign = e => { const l = e.closest('[lang]'); return l && !l.lang.startsWith('ko'); };
  const skipped = e => e.closest('script, style, noscript, template, code, kbd, samp, [translate=no]') || foreign(e);
  const pieces = [[document.title, 'title']];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || skipped(parent) || !node.textContent.trim()) continue;
    if (!parent.checkVisibility() && !parent.closest('.visually-hidden')) continue;
    pieces.push([node.textContent, parent.tagName.toLowerCase() + (parent.id ? '#' + parent.id : '')]);
  }
  for (const e of document.body.querySelectorAll('[aria-label], [placeholder], [title]')) {
    if (skipped(e)) continue;
    for (const name of ['aria-label', 'placeholder', 'title']) {
      if (e.hasAttribute(name)) pieces.push([e.getAttribute(name), e.tagName.toLowerCase() + '@' + name]);
    }
  }
  return pieces;
}"""

# Sideways: the page's width, and every table's box against its container's.
TOO_WIDE = """() => {
  const found = [];
  const page = document.documentElement;
  if (page.scrollWidth > window.innerWidth) {
    // The culprits: past the edge, and not inside a box that scrolls (or clips) by itself.
    const scrolls = e => e !== document.body && e !== page && getComputedStyle(e).overflowX !== 'visible';
    const inScroller = e => {
      for (let a = e.parentElement; a; a = a.parentElement) if (scrolls(a)) return true;
      return false;
    };
    const widest = [...document.querySelectorAll('body *')]
      .filter(e => e.getBoundingClientRect().right > page.clientWidth + 1 && !inScroller(e))
      .map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className).slice(0, 6);
    found.push(`page ${page.scrollWidth}px > ${window.innerWidth}px: ${widest.join(' ')}`);
  }
  for (const table of document.querySelectorAll('table')) {
    const box = table.getBoundingClientRect(), container = table.parentElement.getBoundingClientRect();
    if (box.width > 0 && (box.right > container.right + 1 || box.left < container.left - 1)) {
      found.push(`table ${table.className || table.id} ${Math.round(box.width)}px in ${Math.round(container.width)}px`);
    }
  }
  return found;
}"""

# Runs of Latin letters and the signs codes are made of, cut out of the text (Korean particles stick
# to them: "USD(으)로"). A run is code-like, not a word, when it holds a digit or one of these signs:
# licenses (CC-BY-4.0), hashes, ids, file names, addresses, paths; or when it is a code in capitals
# (USD, ASR, TSV, JSON, API, SDK, SHA-256).
LATIN_RUN = re.compile(r"[A-Za-z0-9_@/.:#=+\-]+")
# Slugs (valley-speech) are code too: lowercase words joined by hyphens.
CODE_LIKE = re.compile(r"[0-9_@/.:#=+]|^[A-Z]{2,5}s?$|^[a-z]{2,3}-[A-Z]{2}$|^[a-z]+(-[a-z]+)+$")
WORD = re.compile(r"[A-Za-z]{3,}")


def ko(message: str) -> str:
    """``message`` as the Korean pages say it (from locale/ko), to find buttons and labels."""
    with translation.override("ko"):
        return translation.gettext(message)


class Korean:
    """Looks at each page in Korean: no English, nothing wider than the screen; a screenshot each."""

    def __init__(self, page: Any, *known: str) -> None:
        self.page = page
        self.known: set[str] = set()
        self.problems: list[str] = []
        self.typed(*known)

    def typed(self, *texts: str) -> None:
        """Words the test itself wrote (names, emails, descriptions): not the site's English."""
        for text in texts:
            self.known.update(word.lower() for word in WORD.findall(text))

    def english(self) -> list[str]:
        found = []
        for text, where in self.page.evaluate(VISIBLE_TEXT):
            for name in PRODUCT_NAMES:
                text = text.replace(name, " ")
            words = [
                word
                for token in LATIN_RUN.findall(text)
                if not CODE_LIKE.search(token.strip(".:-"))
                for word in WORD.findall(token)
                if word.lower() not in self.known
            ]
            if words:
                found.append(f"{where}: {' '.join(words)}  ← {text.strip()[:120]!r}")
        return found

    def look(self, name: str, *, widths: tuple[int, ...] = WIDTHS) -> None:
        """Records every problem of this page (all are reported together at the end)."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        expect(self.page.locator("html")).to_have_attribute("lang", "ko")
        path = "/" + self.page.url.split("/", 3)[3]
        self.problems += [f"{name} ({path}) English: {line}" for line in self.english()]
        for width in widths:
            self.page.set_viewport_size({"width": width, "height": 900})
            self.page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
            self.problems += [f"{name} ({path}) at {width}px: {what}" for what in self.page.evaluate(TOO_WIDE)]
        self.page.set_viewport_size({"width": 1366, "height": 900})
        (SHOTS / "problems.txt").write_text("\n".join(self.problems))  # to read while the test runs

    def clean(self) -> None:
        assert not self.problems, "\n".join(self.problems)


def link_in_mail(to: str, pattern: str) -> str:
    bodies = [str(m.body) for m in mail.outbox if to in m.to]
    [body] = [body for body in bodies if re.search(pattern, body)][-1:]
    found = re.search(rf"https?://\S*{pattern}\S*", body)
    assert found is not None, body
    return found.group(0)


def onboard(page: Any, username: str) -> User:
    """Sign up, verify the email, reset the password, turn on an authenticator app: all in English,
    through the pages and the mails, as a new person would; then switch to Korean."""
    email = f"{username}@example.org"
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/account/")
    address = page.locator("section[aria-labelledby=security] li", has_text=email)
    expect(address).to_contain_text("not verified yet")

    page.goto(link_in_mail(email, "confirm-email"))
    page.get_by_role("button", name="Confirm").click()
    page.goto("/account/")
    expect(address).to_contain_text("verified")
    expect(address).not_to_contain_text("not verified")

    open_menu(page)
    page.get_by_role("button", name="Log out").click()
    page.goto("/login/")
    page.get_by_role("link", name=re.compile("Forgot", re.IGNORECASE)).click()
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name=re.compile("Reset", re.IGNORECASE)).click()
    page.goto(link_in_mail(email, "password/reset/key"))
    page.locator("input[name=password1]").fill(NEW_PASSWORD)
    page.locator("input[name=password2]").fill(NEW_PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator("main")).to_contain_text(re.compile("password", re.IGNORECASE))

    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile("/login/"))  # the old password is gone
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/account/")

    page.get_by_role("link", name="Turn second factors on or off").click()
    page.locator("a[href*='totp/activate']").first.click()
    if "reauthenticate" in page.url:  # allauth asks for the password again before a second factor changes
        page.get_by_label("Password").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    secret_value = page.get_by_label("Authenticator secret").input_value().replace(" ", "")
    page.locator("input[name=code]").fill(totp_code(secret_value))
    page.locator("main form button[type=submit]").first.click()
    person = User.objects.get(username=username)
    assert person.authenticator_set.filter(type="totp").exists()  # type: ignore[attr-defined]

    page.goto("/account/")
    page.locator("#language-switcher").select_option("ko")
    page.get_by_role("button", name="Change", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    return person


def test_a_new_person_signs_up_and_licenses_in_korean(page: Any, live_server: Any, tmp_path: Path) -> None:
    license_for("CC-BY-4.0")
    seller = organization("valley-archive")
    approve_organization(organization=seller)
    stored_dataset(
        "valley-voices",
        ARCHIVE,
        org=seller,
        name="Valley Voices",
        task="ASR",
        locale="cy",
        short_description="Read speech from the valley.",
        restrictions="No voice cloning.",
    )
    paid = stored_dataset(
        "harbor-notes",
        ARCHIVE,
        org=seller,
        name="Harbor Notes",
        task="NLP",
        locale="en",
        short_description="Notes from the harbor.",
        is_paid=True,
        base_price_cents=15_000,
    )
    restricted = stored_dataset(
        "clinic-notes",
        ARCHIVE,
        org=seller,
        name="Clinic Notes",
        task="NLP",
        locale="cy",
        short_description="Clinical notes.",
        visibility="restricted",
    )

    person = onboard(page, "mina")
    korean = Korean(
        page,
        "mina",
        "mina@example.org",
        "Valley Voices",
        "Harbor Notes",
        "Clinic Notes",
        "Valley Archive",
        "Read speech from the valley.",
        "No voice cloning.",
        "Notes from the harbor.",
        "Clinical notes.",
        "The CC-BY-4.0 terms.",
        "CC-BY-4.0 terms",
    )
    korean.look("account")

    # The catalog, filtered to Welsh.
    page.get_by_role("link", name=ko("Datasets")).first.click()
    korean.look("catalog")
    page.get_by_role("checkbox", name=re.compile("^웨일스어")).check()
    expect(page.get_by_role("heading", name="데이터셋 2개")).to_be_visible()
    korean.look("catalog-filtered")

    # A free dataset: read the terms, accept them, download.
    page.get_by_role("link", name="Valley Voices").click()
    korean.look("dataset")
    page.get_by_role("button", name=ko("Accept the terms")).click()
    korean.look("dataset-accept-refused")
    expect(page.locator("[data-error-summary]")).to_contain_text("제한 사항")  # each box not ticked is named
    for box in page.locator("#access-panel input[type=checkbox]").all():
        box.check()
    page.get_by_role("button", name=ko("Accept the terms")).click()
    korean.look("dataset-accepted")
    with page.expect_download() as info:
        page.locator("#access-panel form button[type=submit]").first.click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == hashlib.sha256(ARCHIVE).hexdigest()

    # A paid dataset: an invoice with the instructions to pay it, listed on "my invoices".
    page.goto(f"/datasets/{paid.slug}/")
    korean.look("paid-dataset")
    page.locator("#access-panel form[action$='/buy/'] button").click()
    korean.look("invoice-open")
    invoice = Invoice.objects.get(user=person, dataset=paid)
    page.goto("/account/invoices/")
    korean.look("my-invoices")
    payments.record_payment(invoice_id=invoice.id, recorded_by=None, reference="bank 42")  # the seller's part
    page.goto(f"/datasets/{paid.slug}/")
    korean.look("paid-dataset-paid")
    with page.expect_download():
        page.locator("#access-panel form[action$='/download/'] button").first.click()

    # A restricted dataset: request access; the owner approves; then download.
    page.goto(f"/datasets/{restricted.slug}/")
    korean.look("restricted-dataset")
    page.get_by_label(ko("Your name")).fill("Mina Kim")
    page.get_by_label(ko("Your organization")).fill("Seoul Lab")
    page.get_by_label(ko("Intended use")).fill("Evaluating clinical NER.")
    korean.typed("Mina Kim", "Seoul Lab", "Evaluating clinical NER.")
    page.get_by_role("button", name=ko("Request access")).click()
    korean.look("restricted-requested")
    page.goto("/account/access-requests/")
    korean.look("my-access-requests")
    access_requests.approve(request_id=AccessRequest.objects.get(user=person).id, by=seller.memberships.get().user)
    page.goto(f"/datasets/{restricted.slug}/")
    page.locator("#access-panel input[type=checkbox]").first.check()
    page.get_by_role("button", name=ko("Accept the terms")).click()
    korean.look("restricted-granted")
    with page.expect_download():
        page.locator("#access-panel form[action$='/download/'] button").first.click()
    page.goto("/account/licenses/")
    korean.look("my-licenses")
    korean.clean()


def switch_to_korean(page: Any) -> None:
    page.locator("#language-switcher").select_option("ko")
    page.get_by_role("button", name="Change", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "ko")


def test_staff_cannot_mark_an_invoice_paid_without_a_second_factor(page: Any, live_server: Any) -> None:
    seller = organization("harbor-shop")
    dataset = stored_dataset(
        "harbor-notes", ARCHIVE, org=seller, name="Harbor Notes", is_paid=True, base_price_cents=15_000
    )
    buyer = User.objects.create_user(username="buyer", email="buyer@example.org", password="buyer-password-1")
    invoice, _ = payments.open_invoice(user=buyer, dataset=dataset)
    User.objects.create_user(username="moderator", email="moderator@example.org", password=PASSWORD, is_staff=True)
    log_in(page, "moderator", PASSWORD)
    switch_to_korean(page)
    korean = Korean(page, "moderator", "buyer", "Harbor Notes", "Harbor Shop", invoice.id)

    def mark_paid() -> None:
        page.goto(f"/organizations/{seller.slug}/invoices/")
        page.locator(f"#invoice-{invoice.id}").get_by_role("button", name=ko("Mark paid")).click()

    # No second factor at all: sent to turn one on, saying why; the invoice stays open.
    page.goto(f"/organizations/{seller.slug}/invoices/")
    korean.look("staff-invoices")
    mark_paid()
    expect(page).to_have_url(re.compile("/accounts/2fa/$"))
    korean.look("staff-asked-to-turn-on-a-second-factor")
    assert Invoice.objects.get(id=invoice.id).status == "open"

    # With the app turned on, the session is asked for a code first: without it nothing changes.
    page.locator("a[href*='totp/activate']").first.click()
    if "reauthenticate" in page.url:
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("main form button[type=submit]").first.click()
    secret = page.locator("#authenticator_secret, input[name=secret]").first.input_value().replace(" ", "")
    page.locator("input[name=code]").fill(totp_code(secret))
    page.locator("main form button[type=submit]").first.click()
    moderator = User.objects.get(username="moderator")
    assert moderator.authenticator_set.filter(type="totp").exists()  # type: ignore[attr-defined]
    mark_paid()
    expect(page).to_have_url(re.compile("/2fa/reauthenticate/"))
    korean.look("staff-asked-for-the-code")
    page.locator("input[name=code]").fill("000000" if totp_code(secret) != "000000" else "111111")
    page.locator("main form button[type=submit]").first.click()
    korean.look("staff-wrong-code")
    page.goto(f"/organizations/{seller.slug}/invoices/")
    assert Invoice.objects.get(id=invoice.id).status == "open"

    # With the code, the same click marks it paid.
    mark_paid()
    page.locator("input[name=code]").fill(fresh_code(moderator, secret))
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator(".messages")).to_contain_text(invoice.id)
    korean.look("staff-invoice-paid")
    with translation.override("ko"):
        settled = translation.pgettext("invoice status", "Paid")  # not "paid for" (유료), as a price says
    expect(page.locator(f"#invoice-{invoice.id}")).to_contain_text(settled)
    assert Invoice.objects.get(id=invoice.id).status == "paid"
    korean.clean()


def field(page: Any, label: str) -> Any:
    """The field of this label: exactly it when one has it (a "contact" inside "legal contact"),
    else the one whose label holds it (a label with a note after it)."""
    exact = page.get_by_label(label, exact=True)
    return exact if exact.count() == 1 else page.get_by_label(label)


# What the consent allows (all that CC-BY-4.0 permits), and what the dataset's page shows.
CONSENT_FLAGS = ("AI training", "Commercial use", "Redistribution", "Derivatives (edited or adapted works)")
SHOWN = ("Show the contacts on the dataset's page", "Show the compliance attributes")


def tiny_wav() -> bytes:
    """A tenth of a second of silence: the audio an ASR dataset's index points to."""
    sound = io.BytesIO()
    with wave.open(sound, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * 800)
    return sound.getvalue()


def ko_row(label: str, row: int) -> str:
    """A cell's label in the split's table, as the Korean page names it for screen readers."""
    return ko("%(label)s (row %(row)s)") % {"label": ko(label), "row": row}


@pytest.mark.slow  # the archive is validated by a real Celery worker
def test_a_new_person_contributes_a_dataset_in_korean(
    page: Any, live_server: Any, celery_worker_process: Any, tmp_path: Path
) -> None:
    license_for("CC-BY-4.0")
    org = approve_organization(organization=organization("seoul-voices"))
    stored_dataset("han-river-speech", ARCHIVE, org=org, name="Han River Speech")  # the parent, for lineage
    with override_settings(UPLOAD_CORS_ORIGINS=[live_server.url]):
        call_command("configure_storage", verbosity=0)  # what `make run` does for its own address

    person = onboard(page, "jun")
    add_member(organization=org, user=person, role="member")  # the organization invited them
    datasheet = {
        "Short description": "Read speech from Seoul.",
        "Long description": "Ten speakers read prompts.\n\n**Recorded 2025.**",
        "Language (locale)": "ko-KR",
        "Format": "TSV",
        "Intended usage": "Training speech recognition.",
        "Restrictions": "No voice cloning.",
        "Forbidden usage": "Surveillance.",
        "Additional conditions": "Cite the corpus.",
        "Ethical review process": "Reviewed by the Seoul board.",
        "Other information": "Recorded in quiet rooms.",
        "Point of contact full name": "Jun Park",
        "Point of contact email": "jun@example.org",
        "Created by full name": "Seoul Voices Lab",
        "Created by email": "lab@example.org",
        "Funded by full name": "The River Fund",
        "Funded by email": "fund@example.org",
        "Legal contact full name": "Min Lee",
        "Legal contact email": "legal@example.org",
        "Record-id column": "path",
        "Contributor-id column": "client_id",
    }
    consent = {
        "Scope, in words": "Recordings may train and be sold.",
        "The exact consent text contributors saw": "I agree that my recordings train models.",
        "Collection start": "2025-01-01",
        "Collection end": "2025-06-30",
        "How a contributor withdraws": "Write to jun@example.org.",
    }
    split = {ko_row("User", 1): "jun", ko_row("Share (%)", 1): "60", ko_row("Or payee name", 2): "River Choir",
             ko_row("Payee email", 2): "choir@example.org", ko_row("Share (%)", 2): "30"}  # fmt: skip
    # Written as the page writes a saved parent back ("v1" would come back as "1": saved, not lost).
    lineage = {"Derived from (one dataset version per line)": "han-river-speech 1"}
    korean = Korean(page, "jun", "jun@example.org", "Seoul Voices", "Han River Speech", "Seoul Voices Lab",
                    *datasheet.values(), *consent.values(), *split.values())  # fmt: skip

    page.get_by_role("link", name=ko("Submissions")).first.click()
    korean.look("submissions")
    page.get_by_role("link", name=ko("New submission")).click()
    korean.look("submission-new")
    page.get_by_label(ko("Name")).fill("Seoul Voices")
    page.get_by_role("button", name=ko("Create draft")).click()
    expect(page.get_by_test_id("submission-status")).to_have_text(ko("Draft"))
    korean.look("submission-draft")
    submission = Submission.objects.get(name="Seoul Voices")

    # Every part of the one form, filled in; the split adds up to 90 %: refused, nothing typed lost.
    typed: dict[str, str] = {}
    for label, value in (*datasheet.items(), *consent.items(), *lineage.items()):
        field(page, ko(label)).fill(value)
        typed[ko(label)] = value
    for label, value in split.items():
        page.get_by_label(label, exact=True).fill(value)
        typed[label] = value
    page.get_by_label(ko("Task")).select_option("ASR")
    page.get_by_label(ko("License"), exact=True).select_option("CC-BY-4.0")
    for flag in (*CONSENT_FLAGS, *SHOWN):
        page.get_by_label(ko(flag)).check()
    page.locator("#contributors").get_by_role("button", name=ko("Save draft")).click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    assert summary.bounding_box()["y"] < page.locator("h1").bounding_box()["y"]
    korean.typed("scope")  # a column of the consent records' CSV, named in the records' help text
    korean.look("submission-split-refused")
    lost = [label for label, value in typed.items() if field(page, label).input_value() != value]
    assert not lost, f"lost after a failed save: {lost}"
    assert page.get_by_label(ko("Task")).input_value() == "ASR"
    assert page.get_by_label(ko("License"), exact=True).input_value() == "CC-BY-4.0"
    for flag in (*CONSENT_FLAGS, *SHOWN):
        expect(page.get_by_label(ko(flag))).to_be_checked()
    # The summary's link leads to where the problem is.
    link = summary.get_by_role("link").first
    target = link.get_attribute("href")
    link.click()
    expect(page.locator(target)).to_be_in_viewport()

    page.get_by_label(ko_row("Share (%)", 2), exact=True).fill("40")
    page.locator("#contributors").get_by_role("button", name=ko("Save draft")).click()
    expect(page.locator("[data-error-summary]")).to_have_count(0)
    korean.look("submission-saved")
    submission.refresh_from_db()
    assert (submission.short_description, submission.legal_contact_email) == (
        "Read speech from Seoul.", "legal@example.org"
    )  # fmt: skip
    assert [v.dataset.slug for v in submission.parents.all()] == ["han-river-speech"]

    # The archive, through the page's upload widget; a worker validates it.
    archive = tmp_path / "seoul.tar.gz"
    wav = tiny_wav()
    rows = b"path\tclient_id\tsentence\na.wav\tc-1\tAnnyeong.\n"
    archive.write_bytes(tar_gz({"data/rows.tsv": rows, "data/a.wav": wav}))
    korean.typed("seoul.tar.gz")
    uploader = page.locator("[data-upload][data-kind=archive]")
    uploader.locator("input[type=file]").first.set_input_files(str(archive))
    korean.look("submission-file-chosen", widths=(1366,))
    uploader.locator("button.uppy-StatusBar-actionBtn--upload").click()
    page.wait_for_function("() => document.querySelector('[data-upload-state=completed]') !== null", timeout=60_000)
    page.wait_for_function(
        "() => ['passed', 'failed'].includes(document.querySelector('#validation')?.dataset.validationStatus)",
        timeout=60_000,
    )
    korean.look("submission-validated")
    with translation.override("ko"):
        passed = translation.pgettext("validation status", "passed")
    assert page.get_by_test_id("validation-status").inner_text() == passed, page.locator("#validation").inner_text()

    page.locator("#agree").check()
    page.get_by_role("button", name=ko("Save and submit for review")).click()
    expect(page.get_by_test_id("submission-status")).to_have_text(ko("Submitted for review"))
    korean.look("submission-submitted")
    assert Submission.objects.get(id=submission.id).status == "submitted"
    korean.clean()
