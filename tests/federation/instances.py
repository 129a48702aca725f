"""Other Data Collective instances on this machine, for tests of what instances do to each other
(moving an organization, following a catalog, witnessing a log).

Each ``Instance`` is a whole deployment of its own: its own database (created on the session's
PostgreSQL server, as a second tenant of a hosting provider would get), its own bucket, its own
``VAR_DIR`` (so its own generated signing key and broker folder), gunicorn serving it and, when
asked, a Celery worker. The test's own ``live_server`` is usually the first instance.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from devstack.services import die_with_parent, free_port, stop_process
from tests.conftest import REPO_DIR, wait_until


def _server_url(database_url: str, name: str) -> str:
    """``database_url`` with its database name replaced."""
    head, _, _ = database_url.rpartition("/")
    return f"{head}/{name}"


class Instance:
    """One more instance: ``start()``, use ``url`` and ``manage``/``shell``, then ``stop()``."""

    def __init__(self, name: str, base: Path, *, database_url: str) -> None:
        self.name = name
        self.base = base / name
        self.logs = self.base / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        token = secrets.token_hex(4)
        self.database = f"instance_{name}_{token}"
        self.bucket = f"instance-{name}-{token}"
        self.admin_url = _server_url(database_url, "postgres")
        self.port = free_port()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        var = self.base / "var"
        for folder in ("staticfiles", "broker/control"):
            (var / folder).mkdir(parents=True, exist_ok=True)
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_", "VAR_DIR"))}
        self.env = {
            **inherited,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "PYTHONUNBUFFERED": "1",
            "VAR_DIR": str(var),
            "DATABASE_URL": _server_url(database_url, self.database),
            "S3_BUCKET": self.bucket,
            "CELERY_BROKER_URL": "filesystem://",
            "CELERY_BROKER_DIR": str(var / "broker"),
            "CACHE_URL": "locmem://",
            "UPLOAD_CORS_ORIGINS": f"http://127.0.0.1:{self.port}",
            "SITE_NAME": f"Instance {name.upper()}",
            "LOG_LEVEL": "INFO",
        }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, worker: bool = False) -> Instance:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("configure_storage", "-v", "0")
        bin_dir = Path(sys.executable).parent
        self._spawn("web", [
            str(bin_dir / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers", "1",
            "--threads", "4", "--graceful-timeout", "5", "--timeout", "120", "--no-control-socket",
        ])  # fmt: skip
        if worker:
            self._spawn("worker", [
                str(bin_dir / "celery"), "-A", "config", "worker", "--concurrency", "1", "--loglevel", "INFO",
                "--without-gossip", "--without-mingle", "--hostname", f"{self.name}@%h",
            ])  # fmt: skip
        if not wait_until(self._healthy, timeout=90, interval=0.3):
            raise AssertionError(f"instance {self.name} did not come up:\n{self.log_tails()}")
        return self

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as response:  # noqa: S310 (loopback)
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def _spawn(self, name: str, command: list[str]) -> None:
        with (self.logs / f"{name}.log").open("wb") as out:
            self.processes[name] = subprocess.Popen(
                command, cwd=REPO_DIR, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=die_with_parent,
            )  # fmt: skip

    def stop(self) -> None:
        for proc in self.processes.values():
            stop_process(proc, grace=10)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # a worker's pool, gunicorn's workers
        self.processes.clear()
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.database)))

    def manage(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=REPO_DIR, env=self.env, capture_output=True, text=True,
            timeout=300, check=False, input=stdin,
        )  # fmt: skip
        if done.returncode != 0:
            raise AssertionError(f"{self.name}: manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def shell(self, script: str) -> Any:
        """Run ``script`` in the instance's Django; it reports by printing one ``RESULT <json>``
        line, which is returned parsed."""
        output = self.manage("shell", "-c", script)
        lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
        return json.loads(lines[-1].removeprefix("RESULT ")) if lines else None

    def log_tails(self, chars: int = 4000) -> str:
        return "\n".join(
            f"--- {log.name} ---\n{log.read_text(errors='replace')[-chars:]}" for log in sorted(self.logs.glob("*.log"))
        )
