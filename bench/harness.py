"""What every benchmark needs: real services (embedded unless the environment names them), Django
set up, and a fresh database that is dropped at the end."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


@contextmanager
def django_with_fresh_database() -> Iterator[str]:
    """Yield the name of a new, migrated database; stop whatever was started for it."""
    from devstack.stack import Stack

    stack = None
    if not all(os.environ.get(name) for name in ("DATABASE_URL", "S3_ENDPOINT_URL", "CELERY_BROKER_URL")):
        stack = Stack(Path(tempfile.mkdtemp(prefix="dc-bench-")))
        stack.start()
        os.environ.update(stack.env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="dc-bench-var-"))
    (Path(os.environ["VAR_DIR"]) / "staticfiles").mkdir(exist_ok=True)
    try:
        import django

        django.setup()
        from django.db import connection

        name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            yield name
        finally:
            connection.close()
            connection.creation.destroy_test_db(name, verbosity=0)
    finally:
        if stack is not None:
            stack.stop()


@contextmanager
def bench_workspace(prefix: str) -> Iterator[Path]:
    """Services, Django and a fresh database as above, and a scratch folder for the benchmark's
    files; everything is removed at the end, also when the benchmark fails."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        with django_with_fresh_database():
            yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
