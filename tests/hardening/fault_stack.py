"""A private, complete Data Collective for fault tests: its own PostgreSQL, SeaweedFS and Redis
broker, and gunicorn, a Celery worker and Celery beat started as ``make run`` starts them
(devstack/__main__.py). Every piece can be killed and started again on the same port, which the
session's shared services must never be, and the test plays the operator's supervisor.

State is read straight from the private database and bucket (``Snapshot``), never through the
processes under test, so that a check does not depend on the thing that was just broken.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import psycopg
from botocore.config import Config

from devstack.services import (
    BUCKET_NAME,
    EmbeddedPostgres,
    EmbeddedSeaweed,
    ServiceError,
    die_with_parent,
    free_port,
    port_open,
    stop_process,
)
from tests.conftest import REPO_DIR, wait_until

REDIS_SERVER = shutil.which("redis-server")
# Short enough for a test to watch the sweeper work; production keeps 15 and 5 minutes.
STUCK_SECONDS = 6
SWEEP_SECONDS = 5


class RedisBroker:
    """A private ``redis-server`` as the Celery broker, restartable on the same port.

    Run without persistence (``--save "" --appendonly no``): a restart loses every queued message,
    the worst a broker can do (a Redis without a volume, a failover to a replica that was behind).
    A deployment should still turn on ``appendonly yes``, but nothing may depend on it: the
    database is the record of what is owed, and beat's sweeper queues it again."""

    def __init__(self, data_dir: Path, log_path: Path) -> None:
        if REDIS_SERVER is None:
            raise ServiceError("redis-server is not installed (apt install redis-server)")
        self.data_dir, self.log_path = data_dir, log_path
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [str(REDIS_SERVER), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.data_dir),
                "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes"]  # fmt: skip
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent
            )
        proc = self.proc
        if not wait_until(lambda: port_open(self.port) or proc.poll() is not None, timeout=20) or proc.poll():
            raise ServiceError(f"redis-server did not listen on {self.port}; see {self.log_path}")

    def kill(self) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, grace=5)
            self.proc = None


SEED_SCRIPT = """
import json
from licensing.keys.services import create_api_key
from marketplace.organizations.services import approve_organization
from tests.factories import organization, stored_dataset, tar_gz, verified_user
from tests.second_factor import enroll_second_factor

owner = verified_user("fault-owner", email="owner@fault.example.org")  # submissions need a verified address
enroll_second_factor(owner)  # marking invoices paid asks the owner for a second factor
org = approve_organization(organization=organization("fault-co", owner=owner))
_, owner_key = create_api_key(user=owner, name="owner", scopes=["read", "upload", "download"])
free = stored_dataset("fault-free", tar_gz({"readme.txt": b"free data"}), org=org)
paid = [
    stored_dataset(f"fault-paid-{n}", tar_gz({"readme.txt": b"paid %d" % n}), org=org, is_paid=True,
                   base_price_cents=1000 + n)
    for n in range(3)
]
licensees = []
for n in range(12):
    user = verified_user(f"fault-licensee-{n}", email=f"licensee{n}@fault.example.org")
    licensees.append(create_api_key(user=user, name="licensee", scopes=["read", "download"])[1])
print("SEED " + json.dumps({"owner_key": owner_key, "org_id": str(org.id), "free": str(free.id),
                            "paid": [str(d.id) for d in paid], "licensees": licensees}))
"""


@dataclass
class Seed:
    owner_key: str
    org_id: str
    free: str
    paid: list[str]
    licensees: list[str]


@dataclass
class Snapshot:
    """What must survive a fault: uploads and their validations, the stored objects, grants,
    payments and the ledger's sums, as rows read from the private database and bucket."""

    uploads: dict[str, tuple[Any, ...]]
    validations: dict[str, tuple[Any, ...]]
    objects: dict[str, tuple[int, str]]
    grants: dict[int, tuple[Any, ...]]
    payments: dict[int, tuple[Any, ...]]
    ledger: dict[str, int]
    ledger_transactions: int
    unbalanced: list[tuple[Any, ...]] = field(default_factory=list)

    def assert_kept_in(self, later: Snapshot) -> None:
        """Everything recorded here is still there and unchanged in ``later``, nothing is
        duplicated, and the ledger still balances."""
        for upload_id, row in self.uploads.items():
            assert later.uploads.get(upload_id) == row, f"upload {upload_id}: {row} -> {later.uploads.get(upload_id)}"
        for upload_id, row in self.validations.items():
            assert later.validations.get(upload_id) == row, f"validation of {upload_id} changed"
        published = {key: value for key, value in self.objects.items() if key.startswith("validated/")}
        missing = {key for key in published if later.objects.get(key) != published[key]}
        assert not missing, f"published objects lost or changed: {sorted(missing)}"
        assert all(later.grants.get(gid) == row for gid, row in self.grants.items()), "a grant was lost or changed"
        assert all(later.payments.get(pid) == row for pid, row in self.payments.items()), "a payment was lost"
        later.assert_consistent()

    def assert_consistent(self) -> None:
        assert self.unbalanced == [], f"ledger transactions that do not sum to zero: {self.unbalanced}"
        assert sum(self.ledger.values()) == 0
        # One published object per upload that passed, and one grant per payment.
        published = [key for key in self.objects if key.startswith("validated/")]
        per_upload = Counter(key.rsplit("-", 1)[-1].split(".")[0] for key in published)
        duplicated = {upload_id for upload_id, count in per_upload.items() if count > 1 and upload_id in self.uploads}
        assert not duplicated, f"uploads published more than once: {duplicated}"
        grants_of_payments = Counter(row[1] for row in self.payments.values())
        assert all(count == 1 for count in grants_of_payments.values()), "a grant paid for twice"

    def ledger_delta(self, later: Snapshot) -> dict[str, int]:
        codes = set(self.ledger) | set(later.ledger)
        delta = {code: later.ledger.get(code, 0) - self.ledger.get(code, 0) for code in codes}
        return {code: amount for code, amount in delta.items() if amount}


class FaultStack:
    """The private services and processes, with the env every process of it gets."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.logs = base / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.postgres = EmbeddedPostgres(base / "postgres")
        self.seaweed = EmbeddedSeaweed(base / "seaweedfs")
        self.redis = RedisBroker(base / "redis", self.logs / "redis.log")
        self.web_port = 0  # chosen once the services listen (start): else one of them may take it first
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.env: dict[str, str] = {}
        self._starts: Counter[str] = Counter()
        # Processes running with other settings than the stack's (a slow link to storage).
        self.overridden: set[str] = set()

    # --- Services --------------------------------------------------------------------------

    def start(self) -> None:
        self.postgres.start()
        self.seaweed.start()
        self.redis.start()
        # free_port only knows the ports listened on now: chosen before the services started, the web's
        # port was taken by one of theirs once (gunicorn: "Address already in use"; CI of 065d532).
        self.web_port = free_port()
        var = self.base / "var"
        (var / "staticfiles").mkdir(parents=True, exist_ok=True)
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "S3_", "CELERY_"))}
        self.env = {
            **inherited,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "PYTHONUNBUFFERED": "1",
            "VAR_DIR": str(var),
            "DATABASE_URL": self.postgres.url,
            "S3_ENDPOINT_URL": self.seaweed.endpoint_url,
            "S3_ACCESS_KEY_ID": self.seaweed.access_key,
            "S3_SECRET_ACCESS_KEY": self.seaweed.secret_key,
            "S3_BUCKET": BUCKET_NAME,
            "CELERY_BROKER_URL": self.redis.url,
            "CACHE_URL": "locmem://",
            "UPLOAD_CORS_ORIGINS": f"http://127.0.0.1:{self.web_port}",
            "VALIDATION_STUCK_SECONDS": str(STUCK_SECONDS),
            "VALIDATION_SWEEP_SECONDS": str(SWEEP_SECONDS),
            "VALIDATION_RETRY_SECONDS": "1",
            "VALIDATION_MAX_RETRIES": "2",
            "LOG_LEVEL": "INFO",
        }
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("configure_storage", "-v", "0")
        self.start_web()
        self.start_worker()
        self.start_beat()
        self.wait_healthy()

    def stop(self) -> None:
        for name in list(self.processes):
            self.stop_process(name)
        for service in (self.redis, self.seaweed):
            service.stop()
        self.postgres.stop()

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=REPO_DIR, env=self.env, capture_output=True, text=True,
            timeout=180, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def seed(self) -> Seed:
        output = self.manage("shell", "-c", SEED_SCRIPT)
        line = next(line for line in output.splitlines() if line.startswith("SEED "))
        return Seed(**json.loads(line.removeprefix("SEED ")))

    # --- Processes ---------------------------------------------------------------------------

    def _spawn(self, name: str, command: list[str], **env_overrides: str) -> subprocess.Popen[bytes]:
        self._starts[name] += 1
        if env_overrides:
            self.overridden.add(name)
        else:
            self.overridden.discard(name)
        log = self.logs / f"{name}-{self._starts[name]}.log"
        with log.open("wb") as out:
            # Own process groups, as devstack starts them: a SIGKILL of the group takes a gunicorn
            # master with its workers, or a worker with its pool.
            proc = subprocess.Popen(
                command, cwd=REPO_DIR, env={**self.env, **env_overrides}, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=die_with_parent,
            )  # fmt: skip
        self.processes[name] = proc
        return proc

    def start_web(self, **env_overrides: str) -> subprocess.Popen[bytes]:
        bin_dir = Path(sys.executable).parent
        return self._spawn("web", [
            str(bin_dir / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{self.web_port}", "--workers", "2",
            "--graceful-timeout", "5", "--access-logfile", "-", "--no-control-socket",
        ], **env_overrides)  # fmt: skip

    def start_worker(self, **env_overrides: str) -> subprocess.Popen[bytes]:
        bin_dir = Path(sys.executable).parent
        return self._spawn("worker", [
            str(bin_dir / "celery"), "-A", "config", "worker", "--concurrency", "1", "--loglevel", "INFO",
            "--without-gossip", "--without-mingle", "--hostname", f"fault-{self._starts['worker'] + 1}@%h",
        ], **env_overrides)  # fmt: skip

    def start_beat(self) -> subprocess.Popen[bytes]:
        bin_dir = Path(sys.executable).parent
        return self._spawn("beat", [
            str(bin_dir / "celery"), "-A", "config", "beat", "--loglevel", "INFO",
            "--schedule", str(self.base / "celerybeat-schedule"),
        ])  # fmt: skip

    def kill(self, name: str) -> None:
        """SIGKILL the whole process group: no handler runs, nothing is flushed or acknowledged."""
        proc = self.processes.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_process(self, name: str) -> None:
        proc = self.processes.pop(name, None)
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
            except ProcessLookupError:
                pass
        # Leave no orphans from a pool or gunicorn's workers.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def pids(self) -> dict[str, int]:
        """The processes that are still the ones started last (none exited since)."""
        return {name: proc.pid for name, proc in self.processes.items() if proc.poll() is None}

    def log_tails(self, chars: int = 3000) -> str:
        parts = []
        for log in sorted(self.logs.glob("*.log")):
            parts.append(f"--- {log.name} ---\n{log.read_text(errors='replace')[-chars:]}")
        return "\n".join(parts)

    # --- HTTP --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def health(self) -> tuple[int, dict[str, str]]:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=15) as response:  # noqa: S310 (loopback)
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, json.loads(exc.read())
        except OSError as exc:
            return 0, {"connection": str(exc)}

    def wait_healthy(self, timeout: float = 120) -> None:
        last: list[tuple[int, dict[str, str]]] = []

        def healthy() -> bool:
            last.append(self.health())
            return last[-1][0] == 200

        if not wait_until(healthy, timeout=timeout, interval=0.5):
            raise AssertionError(f"/healthz never answered 200: {last[-1] if last else None}\n{self.log_tails()}")

    # --- State, read beside the processes under test -----------------------------------------

    def db(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.postgres.url, autocommit=True, connect_timeout=5)

    def s3(self) -> Any:
        return boto3.client(
            "s3", endpoint_url=self.seaweed.endpoint_url, aws_access_key_id=self.seaweed.access_key,
            aws_secret_access_key=self.seaweed.secret_key, region_name="us-east-1",
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )  # fmt: skip

    def has_object(self, key: str) -> bool:
        listed = self.s3().list_objects_v2(Bucket=BUCKET_NAME, Prefix=key)
        return any(item["Key"] == key for item in listed.get("Contents", []))

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self.db() as conn:
            return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]

    def snapshot(self) -> Snapshot:
        from licensing.models import LedgerAccount, LedgerEntry, LicenseGrant, Payment
        from marketplace.models import Upload, Validation

        upload, validation = Upload._meta.db_table, Validation._meta.db_table
        grant, payment = LicenseGrant._meta.db_table, Payment._meta.db_table
        entry, account = LedgerEntry._meta.db_table, LedgerAccount._meta.db_table
        objects: dict[str, tuple[int, str]] = {}
        for page in self.s3().get_paginator("list_objects_v2").paginate(Bucket=BUCKET_NAME):
            for item in page.get("Contents", []):
                objects[item["Key"]] = (item["Size"], item["ETag"])
        with self.db() as conn:
            uploads = conn.execute(f"SELECT id, status, sha256, size_bytes, object_key FROM {upload}").fetchall()  # noqa: S608
            validations = conn.execute(
                f"SELECT upload_id, status, attempts, quarantine_key, archive_sha256 FROM {validation}"  # noqa: S608
            ).fetchall()
            grants = conn.execute(f"SELECT id, user_id, dataset_id, terms_sha256, source FROM {grant}").fetchall()  # noqa: S608
            payments = conn.execute(f"SELECT id, grant_id, amount_cents, invoice_id FROM {payment}").fetchall()  # noqa: S608
            sums = conn.execute(
                f"SELECT a.code, SUM(e.amount) FROM {entry} e JOIN {account} a ON a.id = e.account_id GROUP BY a.code"  # noqa: S608
            ).fetchall()
            transactions = conn.execute(f"SELECT COUNT(DISTINCT transaction_id) FROM {entry}").fetchone()  # noqa: S608
            unbalanced = conn.execute(
                f"SELECT transaction_id, SUM(amount) FROM {entry} GROUP BY transaction_id HAVING SUM(amount) <> 0"  # noqa: S608
            ).fetchall()
        return Snapshot(
            uploads={row[0]: tuple(row[1:]) for row in uploads},
            validations={row[0]: tuple(row[1:]) for row in validations},
            objects=objects,
            grants={row[0]: tuple(row[1:]) for row in grants},
            payments={row[0]: tuple(row[1:]) for row in payments},
            ledger={row[0]: int(row[1]) for row in sums},
            ledger_transactions=int(transactions[0]) if transactions else 0,
            unbalanced=[tuple(row) for row in unbalanced],
        )

    def validation_of(self, upload_id: str) -> dict[str, Any] | None:
        from marketplace.models import Validation

        found = self.rows(
            f"SELECT status, attempts, progress_bytes, last_error, updated_at, now() FROM {Validation._meta.db_table} "  # noqa: S608
            "WHERE upload_id = %s",
            (upload_id,),
        )
        if not found:
            return None
        status, attempts, progress, last_error, updated_at, now = found[0]
        return {"status": status, "attempts": attempts, "progress_bytes": progress, "last_error": last_error,
                "idle_seconds": (now - updated_at).total_seconds()}  # fmt: skip


def wait_for(condition: Any, *, timeout: float, what: str, stack: FaultStack, interval: float = 0.3) -> None:
    if not wait_until(condition, timeout=timeout, interval=interval):
        raise AssertionError(f"{what} did not happen within {timeout:.0f} s\n{stack.log_tails()}")
