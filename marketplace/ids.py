"""Opaque string ids: lowercase letters and digits, starting with a letter, no ``/``.

The MDC contract treats ids as opaque strings (cuid-like); a letter first keeps them from
ever being read as numbers.
"""

import secrets
import string

_ALPHABET = string.ascii_lowercase + string.digits


def new_id() -> str:
    return "c" + "".join(secrets.choice(_ALPHABET) for _ in range(24))
