"""Licensees keep their licenses when an organization moves.

The bundle names licensees only by the origin's pseudonymous public id, so the new home cannot
know which of its accounts holds which grant. The origin can: when its owner records the move
(``moves.announce``), the origin signs, for each licensee, a *grant transfer* (a DSSE envelope:
origin, new home, organization, the licensee's public id) and emails them a link to the new home
carrying it. There, signed in with any account, the licensee opens the link; the new home checks
the signature against the origin's keys it stored at the import and attaches every imported grant
of that public id to the account, as grants of its own (source ``import``), each with its log
entry. A transfer attaches a grant once; a second opening finds nothing left to attach.
"""

from __future__ import annotations

import base64
import binascii
import json
import urllib.parse
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from licensing.access.grants import record_grant, terms_for
from licensing.models import LicenseGrant
from marketplace.models import Organization, User
from marketplace.notifications.messages import language_of
from provenance import dsse, signing
from provenance.models import ImportedGrant, OriginKey

PAYLOAD_TYPE = "application/vnd.datacollective.grant-transfer+json"
STATEMENT_TYPE = "https://datacollective.example/grant-transfer/v1"
CLAIM_PATH = "/moved-grants/"


class TransferInvalid(Exception):
    """The link cannot be used; the message says why, to the licensee."""


def _token(envelope: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(envelope, separators=(",", ":")).encode()).decode().rstrip("=")


def _envelope(token: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        raise TransferInvalid(gettext("This link is damaged: open it again from the email, whole.")) from None


def issue(*, organization: Organization, new_home: str, origin: str) -> int:
    """Email each licensee of ``organization`` a signed link to claim their grants at ``new_home``
    (after this transaction commits). Returns how many licensees were written to."""
    licensees = (
        User.objects.filter(license_grants__dataset__organization=organization, is_active=True)
        .exclude(email="")
        .distinct()
        .order_by("id")
    )
    count = 0
    for licensee in licensees:
        payload = dsse.canonical_json({
            "_type": STATEMENT_TYPE, "origin": origin, "newHome": new_home, "organization": organization.id,
            "licensee": licensee.public_id, "issuedAt": timezone.now().isoformat(),
        })  # fmt: skip
        envelope, _ = signing.sign(PAYLOAD_TYPE, payload)
        link = f"{new_home}{CLAIM_PATH}?{urllib.parse.urlencode({'t': _token(envelope)})}"
        with translation.override(language_of(licensee)):
            words = {"organization": organization.name, "origin": origin, "new_home": new_home, "link": link}
            subject = gettext("%(organization)s moved: keep your licenses at its new home") % words
            body = (
                gettext(
                    "%(organization)s moved from %(origin)s to %(new_home)s.\n\n"
                    "The licenses you hold for its datasets moved with it. Open this link, signed in to an account "
                    "at the new home (or make one there), to attach them to that account:\n\n%(link)s\n\n"
                    "The link was signed by the instance you licensed from; the new home checks it before it attaches "
                    "anything."
                )
                % words
            )
        transaction.on_commit(partial(send_mail, subject, body, settings.DEFAULT_FROM_EMAIL, [licensee.email]))
        count += 1
    return count


@dataclass(frozen=True)
class Transfer:
    origin: str
    licensee: str
    grants: list[ImportedGrant]


def read(token: str, *, here: str) -> Transfer:
    """The transfer a link carries, checked: signed by a key of its origin that this instance
    stored when it imported from it, and addressed to this instance."""
    envelope = _envelope(token)
    try:
        payload = json.loads(base64.b64decode(envelope["payload"]))
        origin = str(payload["origin"])
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise TransferInvalid(gettext("This link is damaged: open it again from the email, whole.")) from None
    keys = [dsse.load_public_pem(k.public_pem.encode()) for k in OriginKey.objects.filter(origin=origin)]
    if not keys:
        raise TransferInvalid(
            gettext("Nothing was imported here from %(origin)s, so there is nothing to attach.") % {"origin": origin}
        )
    try:
        payload_type, _, _ = dsse.open_envelope(envelope, keys)
    except dsse.EnvelopeError:
        raise TransferInvalid(
            gettext("This link was not signed by %(origin)s: it cannot attach licenses.") % {"origin": origin}
        ) from None
    if payload_type != PAYLOAD_TYPE or payload.get("_type") != STATEMENT_TYPE:
        raise TransferInvalid(gettext("This link is not a license transfer."))
    if urllib.parse.urlsplit(str(payload.get("newHome"))).netloc != urllib.parse.urlsplit(here).netloc:
        raise TransferInvalid(
            gettext("This link is for another instance (%(new_home)s), not this one.")
            % {"new_home": payload.get("newHome")}
        )
    licensee = str(payload.get("licensee") or "")
    grants = list(
        ImportedGrant.objects.filter(
            organization_import__origin=origin, origin_licensee=licensee, attached_to__isnull=True
        ).select_related("dataset", "version")
    )
    return Transfer(origin=origin, licensee=licensee, grants=grants)


@transaction.atomic
def attach(transfer: Transfer, *, user: User) -> list[LicenseGrant]:
    """Attach the transfer's imported grants to ``user``: each becomes a grant here, once."""
    attached = []
    for imported in transfer.grants:
        claimed = ImportedGrant.objects.filter(id=imported.id, attached_to__isnull=True).update(
            attached_to=user, attached_at=timezone.now()
        )
        if not claimed:
            continue
        version = imported.version or imported.dataset.current_version
        if version is None:
            continue
        terms = terms_for(dataset=imported.dataset, version=version)
        attached.append(
            record_grant(
                user=user,
                dataset=imported.dataset,
                version=version,
                terms_text=terms.text,
                terms_sha256=terms.sha256,
                source=LicenseGrant.Source.IMPORT,
                user_agent="",
                organization=None,
            )  # fmt: skip
        )
    return attached
