"""Which services a run uses: the environment's, or embedded ones started here.

``var/stack.json`` records the connection settings of the embedded services while a
stack runs, so that ``manage.py`` in another shell of the same checkout reaches them
(``config/env.py`` reads it for every variable the environment leaves unset).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from devstack.services import BUCKET_NAME, EmbeddedPostgres, EmbeddedSeaweed

REPO_DIR = Path(__file__).resolve().parent.parent


def var_dir() -> Path:
    return Path(os.environ.get("VAR_DIR") or REPO_DIR / "var").resolve()


def stack_file(base: Path | None = None) -> Path:
    return (base or var_dir()) / "stack.json"


@dataclass
class Stack:
    """The embedded services of one run, and the settings that reach them."""

    base: Path
    postgres: EmbeddedPostgres | None = None
    seaweed: EmbeddedSeaweed | None = None
    env: dict[str, str] = field(default_factory=dict)
    # False for a test session's database, which is thrown away at the end (EmbeddedPostgres).
    durable: bool = True

    def start(self) -> None:
        """Start what the environment does not name. On failure, stop what was started."""
        self.base.mkdir(parents=True, exist_ok=True)
        try:
            if not os.environ.get("DATABASE_URL"):
                self.postgres = EmbeddedPostgres(self.base / "postgres", durable=self.durable)
                self.postgres.start()
                self.env["DATABASE_URL"] = self.postgres.url
            if not os.environ.get("S3_ENDPOINT_URL"):
                self.seaweed = EmbeddedSeaweed(self.base / "seaweedfs")
                self.seaweed.start()
                self.env.update(
                    {
                        "S3_ENDPOINT_URL": self.seaweed.endpoint_url,
                        "S3_ACCESS_KEY_ID": self.seaweed.access_key,
                        "S3_SECRET_ACCESS_KEY": self.seaweed.secret_key,
                        "S3_BUCKET": BUCKET_NAME,
                    }
                )
            if not os.environ.get("CELERY_BROKER_URL"):
                broker_dir = self.base / "broker"
                (broker_dir / "control").mkdir(parents=True, exist_ok=True)
                self.env["CELERY_BROKER_URL"] = "filesystem://"
                self.env["CELERY_BROKER_DIR"] = str(broker_dir)
        except BaseException:
            self.stop()
            raise

    def write(self) -> None:
        path = stack_file(self.base)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.env, indent=2))
        tmp.chmod(0o600)
        tmp.replace(path)

    def stop(self) -> None:
        stack_file(self.base).unlink(missing_ok=True)
        errors: list[BaseException] = []
        for service in (self.seaweed, self.postgres):
            if service is None:
                continue
            try:
                service.stop()
            except Exception as exc:  # stop the others all the same
                errors.append(exc)
        self.seaweed = self.postgres = None
        if errors:
            raise errors[0]
