"""The embedded PostgreSQL and SeaweedFS start, serve, keep their data, and stop cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import psutil
import psycopg
import pytest
from botocore.config import Config

from devstack.services import BUCKET_NAME, EmbeddedPostgres, EmbeddedSeaweed, free_port, port_open
from tests.conftest import REPO_DIR, wait_until


def _processes_under(path: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(path) in cmdline:
            found.append(proc)
    return found


def test_postgres_starts_keeps_data_and_stops(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "pg")
    server.start()
    try:
        with psycopg.connect(server.url, autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (value text)")
            conn.execute("INSERT INTO kept VALUES ('still here')")
    finally:
        server.stop()
    assert not port_open(server.port)
    assert _processes_under(tmp_path / "pg") == []

    again = EmbeddedPostgres(tmp_path / "pg")
    again.start()
    try:
        with psycopg.connect(again.url) as conn:
            assert conn.execute("SELECT value FROM kept").fetchone() == ("still here",)
    finally:
        again.stop()
    assert _processes_under(tmp_path / "pg") == []


def test_seaweed_starts_refuses_strangers_and_stops(tmp_path: Path) -> None:
    store = EmbeddedSeaweed(tmp_path / "s3")
    store.start()
    try:
        config = Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1})

        def s3(secret: str):
            return boto3.client(
                "s3",
                endpoint_url=store.endpoint_url,
                aws_access_key_id=store.access_key,
                aws_secret_access_key=secret,
                region_name="us-east-1",
                config=config,
            )

        s3(store.secret_key).put_object(Bucket=BUCKET_NAME, Key="probe.txt", Body=b"hello")
        assert s3(store.secret_key).get_object(Bucket=BUCKET_NAME, Key="probe.txt")["Body"].read() == b"hello"
        with pytest.raises(Exception, match="403|AccessDenied|SignatureDoesNotMatch|Forbidden"):
            s3("wrong-secret").get_object(Bucket=BUCKET_NAME, Key="probe.txt")
        with pytest.raises(urllib.error.HTTPError) as anonymous:
            urllib.request.urlopen(f"{store.endpoint_url}/{BUCKET_NAME}/probe.txt", timeout=5)  # noqa: S310
        anonymous.value.close()
        assert anonymous.value.code == 403
    finally:
        store.stop()
    assert not port_open(store.s3_port)
    assert _processes_under(tmp_path / "s3") == []


def _start_supervisor(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """`python -m devstack run` (what `make run` execs) with embedded services only, serving."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "S3_ENDPOINT_URL", "CELERY_BROKER_URL"}}
    env.update({"VAR_DIR": str(tmp_path / "var"), "PORT": str(port)})
    with (tmp_path / "run.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "devstack", "run"], cwd=REPO_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as response:  # noqa: S310
                return response.status == 200
        except urllib.error.HTTPError as not_yet:
            not_yet.close()
            return False
        except OSError:
            return proc.poll() is not None  # stop waiting if it died

    ready = wait_until(healthy, timeout=240, interval=1)
    if not ready or proc.poll() is not None:
        proc.kill()
        proc.wait()
        pytest.fail("the supervisor did not serve:\n" + (tmp_path / "run.log").read_text()[-3000:])
    return proc, port


def _living(processes: list[psutil.Process]) -> list[psutil.Process]:
    return [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


@pytest.mark.slow
def test_make_run_supervisor_serves_then_stops_everything(tmp_path: Path) -> None:
    proc, port = _start_supervisor(tmp_path)
    try:
        banner = f"open http://localhost:{port}/"
        assert wait_until(lambda: banner in (tmp_path / "run.log").read_text(), timeout=30)
        assert "demo-owner" in (tmp_path / "run.log").read_text()
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 3  # gunicorn, worker, beat (and their children)
        assert (tmp_path / "var" / "stack.json").exists()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)  # the README promises a stop within 20 s; a slower one raises here
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, (tmp_path / "run.log").read_text()[-3000:]
    assert wait_until(lambda: not _living(children), timeout=5)
    assert _processes_under(tmp_path / "var") == []
    assert not (tmp_path / "var" / "stack.json").exists()


def _command_of(process: psutil.Process) -> str:
    """A child's command line; '' for one that ended since it was listed (a short manage.py run)."""
    try:
        return " ".join(process.cmdline())
    except psutil.NoSuchProcess:
        return ""


@pytest.mark.slow
def test_supervisor_killed_with_sigkill_leaves_no_orphans(tmp_path: Path) -> None:
    """Its children die with it (PR_SET_PDEATHSIG); PostgreSQL, which pg_ctl detaches, is found
    and reused by the next start instead."""
    proc, _ = _start_supervisor(tmp_path)
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
        assert any("weed" in _command_of(c) for c in children)
        proc.kill()
        proc.wait(timeout=10)
        assert wait_until(lambda: not _living(children), timeout=40), [_command_of(c)[:120] for c in _living(children)]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        EmbeddedPostgres(tmp_path / "var" / "postgres").stop()
    assert _processes_under(tmp_path / "var") == []
