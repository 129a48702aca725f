"""Start and stop the provider as a real server process, the way tests/federation/instances.py
starts other instances: its own database on the session's PostgreSQL, gunicorn on a free port."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from psycopg import sql

from devstack.services import die_with_parent, free_port, stop_process
from tests.conftest import REPO_DIR, wait_until


def _rsa_private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


class OidcProvider:
    """``start()``, then ``add_person`` and ``add_client``; ``issuer`` is what our settings name."""

    def __init__(self, logs: Path, *, database_url: str) -> None:
        head, _, _ = database_url.rpartition("/")
        self.database = f"oidc_provider_{secrets.token_hex(4)}"
        self.admin_url = f"{head}/postgres"
        self.port = free_port()
        self.log = logs / "oidc-provider.log"
        self.process: subprocess.Popen[bytes] | None = None
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DJANGO_"))}
        self.env = {
            **inherited,
            "DJANGO_SETTINGS_MODULE": "tests.oidc_provider.settings",
            "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": f"{head}/{self.database}",
            "PROVIDER_SECRET_KEY": secrets.token_urlsafe(50),
            "OIDC_RSA_PRIVATE_KEY": _rsa_private_key_pem(),
        }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.url}/o"

    def start(self) -> OidcProvider:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
        self.django("migrate", "--noinput", "-v", "0")
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "tests.oidc_provider.wsgi", "--bind",
                 f"127.0.0.1:{self.port}", "--workers", "1", "--threads", "4", "--no-control-socket"],
                cwd=REPO_DIR, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=die_with_parent,
            )  # fmt: skip
        if not wait_until(self._healthy, timeout=60, interval=0.3):
            raise AssertionError(f"the OIDC provider did not come up:\n{self.log.read_text(errors='replace')[-4000:]}")
        return self

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as response:  # noqa: S310 (loopback)
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def django(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "django", *args], cwd=REPO_DIR, env=self.env, capture_output=True, text=True,
            timeout=300, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise AssertionError(f"provider: django {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def add_person(self, username: str, email: str, password: str) -> None:
        self.django("shell", "-c", (
            "from django.contrib.auth.models import User; "
            f"User.objects.create_user(username={username!r}, email={email!r}, password={password!r})"
        ))  # fmt: skip

    def add_client(self, client_id: str, secret: str, redirect_uri: str) -> None:
        self.django("shell", "-c", (
            "from oauth2_provider.models import Application as A; "
            f"A.objects.create(name='Data Collective', client_id={client_id!r}, client_secret={secret!r}, "
            f"redirect_uris={redirect_uri!r}, client_type=A.CLIENT_CONFIDENTIAL, "
            "authorization_grant_type=A.GRANT_AUTHORIZATION_CODE, algorithm=A.RS256_ALGORITHM)"
        ))  # fmt: skip

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, grace=10)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process = None
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(self.database)) + sql.SQL(" WITH (FORCE)")
            )
