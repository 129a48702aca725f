"""The instance's Ed25519 signing key, and the public keys that verify what it ever signed.

The private key comes from ``PROVENANCE_SIGNING_KEY`` (PEM, or ``PROVENANCE_SIGNING_KEY_FILE``);
without it one is generated into ``VAR_DIR/provenance/signing-key.pem`` on first use, so the
embedded run signs without setup. Every key that signs is registered (``SigningKey``) before its
first signature, and rows are never deleted: after a rotation (a new key in the setting) the old
public keys are still served at ``/api/v1/provenance/keys`` and old envelopes still verify.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from provenance import dsse
from provenance.models import SigningKey


def generated_key_path() -> Path:
    return Path(settings.VAR_DIR) / "provenance" / "signing-key.pem"


def _parse_private(pem: bytes, where: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{where} is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"{where} is not an Ed25519 key (provenance signs with Ed25519)")
    return key


def _generate_into(path: Path) -> Ed25519PrivateKey:
    """Create the key file exclusively (mode 0600): when two processes race, the loser reads the
    winner's key instead of overwriting it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _parse_private(path.read_bytes(), str(path))
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


@lru_cache(maxsize=4)
def _key_for(configured: str, path: str) -> Ed25519PrivateKey:
    if configured.strip():
        return _parse_private(configured.strip().encode("ascii"), "PROVENANCE_SIGNING_KEY")
    file = Path(path)
    if file.exists():
        return _parse_private(file.read_bytes(), str(file))
    return _generate_into(file)


def private_key() -> Ed25519PrivateKey:
    """The current signing key (cached per setting, so a rotation in settings takes effect)."""
    return _key_for(settings.PROVENANCE_SIGNING_KEY, str(generated_key_path()))


def current_key() -> SigningKey:
    """The registered row of the current key, created on its first use."""
    public = private_key().public_key()
    row, _ = SigningKey.objects.get_or_create(
        key_id=dsse.key_id(public), defaults={"public_pem": dsse.public_pem(public)}
    )
    return row


def sign(payload_type: str, payload: bytes) -> tuple[dict[str, Any], SigningKey]:
    row = current_key()
    return dsse.sign_envelope(payload_type, payload, private_key()), row


def public_keys() -> list[Ed25519PublicKey]:
    """Every key this instance ever signed with, current first."""
    current_key()
    rows = SigningKey.objects.order_by("-created_at")
    return [dsse.load_public_pem(row.public_pem.encode("ascii")) for row in rows]
