"""Typed settings helpers: every setting comes from the environment.

A variable that the environment leaves unset falls back to ``var/stack.json``, which a
running ``make run`` writes for the embedded services, and then to the default. Secrets
also accept a ``NAME_FILE`` variable naming a file that holds the value. A bad value
raises ``ImproperlyConfigured`` naming the variable and what was expected.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
_MISSING = object()


def var_dir() -> Path:
    return Path(os.environ.get("VAR_DIR") or BASE_DIR / "var").resolve()


@cache
def _stack() -> dict[str, str]:
    path = var_dir() / "stack.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"{path} is unreadable ({exc}); stop `make run` and remove it") from exc
    return {str(k): str(v) for k, v in data.items()}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value == "":
        value = _stack().get(name)
    return value if value not in (None, "") else None


def env_str(name: str, default: str | None | object = _MISSING) -> str:
    value = _raw(name)
    if value is not None:
        return value
    if default is _MISSING:
        raise ImproperlyConfigured(f"{name} must be set")
    return default  # type: ignore[return-value]


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use true/false, yes/no, on/off or 1/0")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum of {minimum}")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name}={number} is above the maximum of {maximum}")
    return number


def env_decimal_str(name: str, default: str) -> str:
    """A decimal number kept as its exact string (money rates), e.g. ``"0.05"``."""
    from decimal import Decimal, InvalidOperation

    value = _raw(name) or default
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ImproperlyConfigured(f"{name}={value!r} is not a decimal number") from None
    if not (Decimal(0) <= number < Decimal(1)):
        raise ImproperlyConfigured(f"{name}={value!r} must be at least 0 and below 1")
    return value


def env_payment_reference(name: str, default: str) -> str:
    """The reference pattern of a transfer: it must name the invoice with ``{invoice}``, or the
    person marking invoices paid cannot tell which one a payment settles."""
    value = env_str(name, default)
    if "{invoice}" not in value:
        raise ImproperlyConfigured(f"{name}={value!r} must contain {{invoice}}, where the invoice's id goes")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_secret(name: str, default: str | None | object = _MISSING) -> str:
    """A secret from ``NAME`` or from the file named by ``NAME_FILE``."""
    file_name = _raw(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc.strerror}") from exc
    return env_str(name, default)


def database_from_url(name: str, url: str) -> dict[str, Any]:
    """``postgres://user:password@host:port/dbname?sslmode=require`` as a DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(f"{name} must be a postgresql:// URL, not {parts.scheme or 'no scheme'}://")
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise ImproperlyConfigured(f"{name} names no database (postgresql://user@host:port/NAME)")
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has an invalid port") from None
    options = dict(parse_qsl(parts.query))
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": database,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": unquote(parts.hostname or options.pop("host", "")),
        "PORT": str(port or ""),
        "OPTIONS": options,
    }
