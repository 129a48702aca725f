"""Moving an organization: instance A (the test's live server) exports it, instance B (its own
database, bucket, key and gunicorn, with a Celery worker) imports it over the API, every manifest
still verifies offline against A's published keys, the versions are downloadable on B byte for
byte, consent, withdrawals and grants came along, B's log cites A's entries, and A's old addresses
point to B once A's owner says so."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import tarfile
from pathlib import Path
from typing import Any

import datacollective
import pytest
import requests
from django.core import mail

from licensing.access.grants import accept_terms, terms_for
from licensing.consent.withdrawals import withdraw_consent
from marketplace.models import Dataset, Membership, User
from provenance import dsse, verify
from tests.federation.instances import Instance
from tests.provenance.conftest import Published
from tests.second_factor import enroll_second_factor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

STAFF_SCRIPT = """
import json
from marketplace.models import User
from allauth.mfa.totp.internal.auth import TOTP
from licensing.keys.services import create_api_key
staff = User.objects.create_user(username="b-staff", email="staff@b.example.org", password="x-long-password-1",
                                 is_staff=True)
TOTP.activate(staff, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")  # imports ask for a second factor
owner = User.objects.create_user(username="ann-at-b", email="ann@b.example.org", password="x-long-password-2")
_, staff_key = create_api_key(user=staff, name="import", scopes=["read", "upload", "download"])
_, owner_key = create_api_key(user=owner, name="both", scopes=["read", "upload", "download"])
print("RESULT", json.dumps({"staff": staff_key, "owner": owner_key}))
"""


def _wait_for_import(instance: Instance, url: str, key: str) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = requests.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=30).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"the import did not finish:\n{instance.log_tails()}")


def test_an_organization_moves_to_another_instance_with_its_provenance(
    publish_real: Any, start_instance: Any, bearer: Any, make_user: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    first: Published = publish_real("Valley Speech")
    second: Published = publish_real("Hill Speech")
    origin = first.base_url
    organization = first.version.dataset.organization
    owner, owner_key = bearer("read", "upload", user=make_user("owner-ann"))
    Membership.objects.create(organization=organization, user=owner, role="owner")
    enroll_second_factor(owner)  # announcing a move asks for a second factor
    licensee: User = make_user("lee")
    dataset = Dataset.objects.get(id=first.version.dataset_id)
    accept_terms(user=licensee, dataset=dataset, terms_sha256=terms_for(dataset=dataset, version=first.version).sha256,
                 source="web")  # fmt: skip
    withdraw_consent(
        by=owner, dataset=Dataset.objects.get(id=second.version.dataset_id), version_number=1, contributor_id="c-1",
        record_ids=["a.wav"], reason="Asked us to.",
    )  # fmt: skip

    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {owner_key}"
        exported = session.get(f"{origin}/api/v1/organizations/{organization.slug}/export", timeout=120)
        assert exported.status_code == 200, exported.text[:300]
        reference = session.get(f"{origin}/api/v1/organizations/{organization.slug}/export?archives=reference",
                                timeout=60)  # fmt: skip
        origin_keys = requests.get(f"{origin}/api/v1/provenance/keys", timeout=30).json()["keys"]
    bundle = tmp_path / "bundle.tar.gz"
    bundle.write_bytes(exported.content)

    b = start_instance("b", worker=True)
    keys = b.shell(STAFF_SCRIPT)
    staff = {"Authorization": f"Bearer {keys['staff']}"}
    imports_url = f"{b.url}/api/v1/organization-imports"

    # Only staff import, and only a gzip body; a bundle that leaves its archives behind is refused.
    gzip_body = {"Content-Type": "application/gzip"}
    refused = requests.post(imports_url, data=exported.content, timeout=60,
                            headers={"Authorization": f"Bearer {keys['owner']}", **gzip_body})  # fmt: skip
    assert refused.status_code == 403 and "Only staff" in refused.json()["message"]
    wrong_type = requests.post(imports_url, json={"bundle": "x"}, headers=staff, timeout=30)
    assert wrong_type.status_code == 400 and "application/gzip" in wrong_type.json()["message"]
    by_reference = requests.post(imports_url, data=reference.content, timeout=60,
                                 headers={**staff, "Content-Type": "application/gzip"})  # fmt: skip
    job = _wait_for_import(b, by_reference.json()["url"], keys["staff"])
    assert job["status"] == "failed" and "leaves the archives on" in job["error"], job

    # A bundle with one byte changed is refused, naming what does not check out; nothing is created.
    tampered = _tamper(exported.content, "organization.json")
    started = requests.post(imports_url, data=tampered, timeout=60, headers={**staff, **gzip_body})
    job = _wait_for_import(b, started.json()["url"], keys["staff"])
    assert job["status"] == "failed" and "organization.json" in job["error"], job
    assert b.shell("from marketplace.models import Organization; print('RESULT', Organization.objects.count())") == 0

    # The real import: ids and addresses kept (they are free on B), the owner named.
    started = requests.post(
        f"{imports_url}?owner=ann-at-b", data=exported.content, timeout=120,
        headers={**staff, "Content-Type": "application/gzip"},
    )  # fmt: skip
    assert started.status_code == 202, started.text
    job = _wait_for_import(b, started.json()["url"], keys["staff"])
    assert job["status"] == "done", job
    assert job["organization"]["slug"] == organization.slug
    assert job["keysConfirmed"] is True
    assert job["summary"] == {"datasets": 2, "versions": 2, "consentRecords": 2, "grants": 1, "withdrawals": 1,
                              "ledgerTransactions": 0}  # fmt: skip
    assert job["datasets"][dataset.id]["id"] == dataset.id

    # The same bundle again is refused: those versions are already here.
    again = requests.post(imports_url, data=exported.content, timeout=120,
                          headers={**staff, "Content-Type": "application/gzip"})  # fmt: skip
    job_again = _wait_for_import(b, again.json()["url"], keys["staff"])
    assert job_again["status"] == "failed" and "already on this instance" in job_again["error"]

    # Every manifest B serves still verifies offline with A's published key, and with B's own.
    [origin_pem] = [key["publicKeyPem"] for key in origin_keys]
    b_keys = requests.get(f"{b.url}/api/v1/provenance/keys", timeout=30).json()["keys"]
    [b_pem] = [key["publicKeyPem"] for key in b_keys]
    for published in (first, second):
        number, ds_id = published.version.number, published.version.dataset_id
        manifest = requests.get(f"{b.url}/api/v1/datasets/{ds_id}/versions/{number}/manifest", timeout=30)
        assert manifest.status_code == 200, manifest.text[:300]
        for pem in (origin_pem, b_pem):
            dsse.open_envelope(manifest.json(), [dsse.load_public_pem(pem.encode())])
        proof = requests.get(f"{b.url}/api/v1/datasets/{ds_id}/versions/{number}/inclusion-proof", timeout=30)
        assert proof.status_code == 200, proof.text[:300]
        leaf = json.loads(proof.json()["leaf"])
        cited = leaf["payload"]["importedFrom"]
        assert cited["origin"] == origin and cited["dataset"] == ds_id and cited["keyConfirmed"] is True
        assert isinstance(cited["logIndex"], int) and cited["rootHash"]
        (tmp_path / "m.json").write_text(json.dumps(manifest.json()))
        (tmp_path / "p.json").write_text(json.dumps(proof.json()))
        (tmp_path / "a.pem").write_text(origin_pem)
        (tmp_path / "b.pem").write_text(b_pem)
        # The archive from B's storage, checked offline against A's key and B's log.
        verify.verify(published.archive, tmp_path / "m.json", tmp_path / "a.pem")
        verify.verify(published.archive, tmp_path / "m.json", tmp_path / "b.pem", tmp_path / "p.json")

    # The licensee on B downloads the first dataset's archive byte for byte (B's own grant flow),
    # the withdrawn version answers 410 on B as on A, consent came along.
    facts = b.shell(f"""
import json
from marketplace.models import Dataset
from licensing.models import ConsentRecord, ConsentWithdrawal
from provenance.models import ImportedGrant, ImportedVersion
from marketplace import storage
d = Dataset.objects.get(id={dataset.id!r})
v = d.current_version
data = storage.open_stream(v.archive_key).read()
print("RESULT", json.dumps({{
  "sha": __import__("hashlib").sha256(data).hexdigest(), "status": d.status,
  "records": list(ConsentRecord.objects.filter(terms__submission__dataset=d).values_list("contributor_id", flat=True)),
  "withdrawals": ConsentWithdrawal.objects.count(),
  "grants": list(ImportedGrant.objects.values_list("origin_licensee", flat=True)),
  "origin": ImportedVersion.objects.get(version=v).origin,
}}))
""")  # fmt: skip
    assert facts["sha"] == hashlib.sha256(first.archive.read_bytes()).hexdigest()
    monkeypatch.setenv("MDC_API_URL", f"{b.url}/api")
    monkeypatch.setenv("MDC_API_KEY", keys["owner"])
    fetched = datacollective.download_dataset(dataset.id, download_directory=str(tmp_path / "dl"), show_progress=False)
    assert Path(fetched).read_bytes() == first.archive.read_bytes()
    assert facts["status"] == "published" and facts["records"] == ["c-1"] and facts["withdrawals"] == 1
    assert facts["grants"] == [licensee.public_id] and facts["origin"] == origin
    withdrawn = requests.post(f"{b.url}/api/datasets/{second.version.dataset_id}/download",
                              headers={"Authorization": f"Bearer {keys['owner']}"}, timeout=30)  # fmt: skip
    assert withdrawn.status_code == 410 and "withdr" in withdrawn.text, withdrawn.text[:300]
    page = requests.get(f"{b.url}/datasets/{dataset.slug}/", timeout=30)
    assert page.status_code == 200 and "Valley Speech" in page.text
    assert f'Imported from <a href="{origin}"' in page.text

    # A's owner says where it moved; A checks with B first, then points every old address there.
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {owner_key}"
        nowhere = session.post(f"{origin}/api/v1/organizations/{organization.slug}/moved",
                               json={"newHome": f"{origin}"}, timeout=60)  # fmt: skip
        assert nowhere.status_code == 400 and "has not imported" in nowhere.json()["message"]
        moved = session.post(f"{origin}/api/v1/organizations/{organization.slug}/moved", json={"newHome": b.url},
                             timeout=60)  # fmt: skip
        assert moved.status_code == 200, moved.text
        page = requests.get(f"{origin}/datasets/{dataset.slug}/", allow_redirects=False, timeout=30)
        assert page.status_code == 301 and page.headers["Location"] == f"{b.url}/datasets/{dataset.slug}/"
        api = requests.get(f"{origin}/api/v1/datasets/{dataset.id}", allow_redirects=False, timeout=30)
        assert api.status_code == 301 and api.headers["Location"] == f"{b.url}/api/v1/datasets/{dataset.id}"
        download = session.post(f"{origin}/api/datasets/{dataset.id}/download", timeout=30)
        assert download.status_code == 410 and download.json()["movedTo"].startswith(b.url)
        followed = requests.get(f"{origin}/datasets/{dataset.slug}/", timeout=30)
        assert followed.url == f"{b.url}/datasets/{dataset.slug}/" and "Valley Speech" in followed.text

    # The licensee was emailed a link signed by A; opened at B, signed in there, it attaches the
    # license they held at A to their account at B, once.
    [email] = [m for m in mail.outbox if m.to == [licensee.email]]
    link = re.search(r"(http://\S+/moved-grants/\?t=\S+)", str(email.body))
    assert link is not None and link.group(1).startswith(b.url), email.body
    b.shell("""
from marketplace.models import User
User.objects.create_user(username="lee-at-b", email="lee@b.example.org", password="x-long-password-3")
""")
    with requests.Session() as browser:
        _log_in(browser, b.url, "lee-at-b", "x-long-password-3")
        forged = browser.get(f"{b.url}/moved-grants/?t={_forged(link.group(1))}", timeout=30)
        assert forged.status_code == 400 and "was not signed by" in forged.text
        offer = browser.get(link.group(1), timeout=30)
        assert offer.status_code == 200 and "Valley Speech" in offer.text and origin in offer.text
        attached = browser.post(link.group(1), data={"csrfmiddlewaretoken": browser.cookies["csrftoken"]},
                                headers={"Referer": link.group(1)}, timeout=30)  # fmt: skip
        assert attached.status_code == 200 and "1 licenses are now yours here" in attached.text, attached.text[-2000:]
        again = browser.get(link.group(1), timeout=30)
        assert "Nothing is left to attach" in again.text
    grants_at_b = b.shell("""
import json
from licensing.models import LicenseGrant
print("RESULT", json.dumps(list(LicenseGrant.objects.values_list("user__username", "dataset__slug", "source"))))
""")
    assert grants_at_b == [["lee-at-b", dataset.slug, "import"]]


def _forged(link: str) -> str:
    """The link's token with the licensee changed and the signature kept."""
    token = link.split("t=", 1)[1]
    envelope = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    payload = json.loads(base64.b64decode(envelope["payload"]))
    envelope["payload"] = base64.b64encode(json.dumps({**payload, "licensee": "someone-else"}).encode()).decode()
    return base64.urlsafe_b64encode(json.dumps(envelope).encode()).decode().rstrip("=")


def _log_in(browser: requests.Session, base: str, username: str, password: str) -> None:
    browser.get(f"{base}/login/", timeout=30)
    done = browser.post(
        f"{base}/login/", timeout=30, headers={"Referer": f"{base}/login/"},
        data={"username": username, "password": password, "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
    )  # fmt: skip
    assert done.status_code == 200 and "Log out" in done.text, done.text[-1000:]


def _tamper(bundle: bytes, name: str) -> bytes:
    """The bundle with one byte of ``name`` changed, everything else as it was."""
    out = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(bundle), mode="r:gz") as src, tarfile.open(fileobj=out, mode="w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else b""  # type: ignore[union-attr]
            if member.name == f"bundle/{name}":
                data = data.replace(b'"name"', b'"namf"', 1)
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    return out.getvalue()
