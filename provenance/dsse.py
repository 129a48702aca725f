"""DSSE envelopes (https://github.com/secure-systems-lab/dsse, protocol v1) signed with Ed25519.

Standard library plus ``cryptography`` only, and no Django: the offline verifier imports this
module. The signature covers the pre-authentication encoding (PAE) of the payload type and the
payload bytes, so neither can be swapped without breaking it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"


class EnvelopeError(ValueError):
    """The envelope is malformed or its signature does not verify."""


def canonical_json(value: Any) -> bytes:
    """One byte sequence per value (sorted keys, no spaces, UTF-8), so that digests of JSON
    documents can be recomputed by anyone."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def pae(payload_type: str, payload: bytes) -> bytes:
    """PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body (DSSE protocol)."""
    encoded_type = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(encoded_type), encoded_type, len(payload), payload)


def key_id(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the public key's DER SubjectPublicKeyInfo, hex: stable and computable from the PEM."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def public_pem(public_key: Ed25519PublicKey) -> str:
    pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem.decode("ascii")


def load_public_pem(data: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise EnvelopeError(f"the public key is not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise EnvelopeError("the public key is not an Ed25519 key")
    return key


def sign_envelope(payload_type: str, payload: bytes, private_key: Ed25519PrivateKey) -> dict[str, Any]:
    signature = private_key.sign(pae(payload_type, payload))
    return {
        "payloadType": payload_type,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [{"keyid": key_id(private_key.public_key()), "sig": base64.b64encode(signature).decode("ascii")}],
    }


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise EnvelopeError(f"{what} is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise EnvelopeError(f"{what} is not valid base64") from None


def open_envelope(envelope: Any, public_keys: list[Ed25519PublicKey]) -> tuple[str, bytes, str]:
    """Check the envelope's signature with whichever of ``public_keys`` signed it and return
    (payload type, payload, key id). Raises ``EnvelopeError`` naming the failed check."""
    if not isinstance(envelope, dict):
        raise EnvelopeError("the envelope is not a JSON object")
    payload_type = envelope.get("payloadType")
    if not isinstance(payload_type, str):
        raise EnvelopeError("the envelope has no payloadType")
    payload = _b64(envelope.get("payload"), "the envelope's payload")
    signatures = envelope.get("signatures")
    if not isinstance(signatures, list) or not signatures:
        raise EnvelopeError("the envelope has no signatures")
    keys = {key_id(key): key for key in public_keys}
    message = pae(payload_type, payload)
    for signature in signatures:
        if not isinstance(signature, dict) or signature.get("keyid") not in keys:
            continue
        kid = str(signature["keyid"])
        try:
            keys[kid].verify(_b64(signature.get("sig"), "a signature"), message)
        except InvalidSignature:
            raise EnvelopeError(f"signature: the signature of key {kid[:16]}… does not match the payload") from None
        return payload_type, payload, kid
    named = ", ".join(str(s.get("keyid", "?"))[:16] for s in signatures if isinstance(s, dict))
    raise EnvelopeError(f"signature: no signature by the given public key (the envelope is signed by {named})")
