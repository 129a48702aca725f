"""``python -m devstack run``: the whole system in one foreground process (``make run``).

It starts the services the environment does not name (PostgreSQL, SeaweedFS, a
filesystem broker), migrates, loads demo data, then runs gunicorn, a Celery worker and
Celery beat. SIGINT or SIGTERM stops every process it started, within 20 seconds.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType

from devstack.services import ServiceError, die_with_parent, port_open, stop_process
from devstack.stack import REPO_DIR, Stack, var_dir


class Shutdown(Exception):
    pass


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=REPO_DIR, env=env, check=True)


def _seed_demo(env: dict[str, str]) -> str:
    """Load the demo data; return the logins it printed, which the banner repeats once the stack
    serves (seed_demo is the one place that knows who the demo users are)."""
    done = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"], cwd=REPO_DIR, env=env, check=True, stdout=subprocess.PIPE, text=True
    )
    print(done.stdout.partition("\n")[0], flush=True)  # "Demo data ready in ... s: ..."
    return done.stdout[done.stdout.find("Demo logins:") :].rstrip()


def _wait_healthy(url: str, children: list[subprocess.Popen[bytes]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        for child in children:
            if child.poll() is not None:
                raise ServiceError(f"{child.args!r} exited with {child.returncode} during start-up")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            with exc:
                last = exc.read().decode(errors="replace")
        except OSError as exc:
            last = str(exc)
        time.sleep(0.5)
    raise ServiceError(f"{url} did not answer 200 within {timeout:.0f} s: {last}")


def run(port: int) -> int:
    base = var_dir()
    base.mkdir(parents=True, exist_ok=True)
    lock = (base / "stack.lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"Another `make run` is using {base}. Stop it first, or set VAR_DIR.", file=sys.stderr)
        return 1
    if port_open(port):
        print(f"Port {port} is already in use. Run with another port: make run PORT=8001", file=sys.stderr)
        return 1

    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if not stopping.is_set():
            stopping.set()
            raise Shutdown(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    die_with_parent()  # when `make` is killed, the stack goes down with it

    stack = Stack(base)
    children: list[subprocess.Popen[bytes]] = []
    started = time.monotonic()
    code = 0
    try:
        print(f"Starting services (data in {base}) ...", flush=True)
        stack.start()
        stack.write()
        env = {**os.environ, **stack.env, "PYTHONUNBUFFERED": "1"}
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
        env.setdefault("UPLOAD_CORS_ORIGINS", f"http://127.0.0.1:{port},http://localhost:{port}")
        _manage(env, "migrate", "--noinput", "-v", "0")
        _manage(env, "configure_storage", "-v", "0")
        _manage(env, "collectstatic", "--noinput", "-v", "0")
        logins = _seed_demo(env)
        _manage(env, "sign_missing_manifests", "-v", "0")  # versions from before provenance existed
        bin_dir = Path(sys.executable).parent
        commands = [
            [str(bin_dir / "gunicorn"), "config.wsgi", "--config", "config/gunicorn.conf.py",
             "--bind", f"127.0.0.1:{port}", "--access-logfile", "-", "--no-control-socket"],
            [str(bin_dir / "celery"), "-A", "config", "worker", "--concurrency", "2", "--loglevel", "INFO",
             "--hostname", f"worker-{port}@%h"],
            [str(bin_dir / "celery"), "-A", "config", "beat", "--loglevel", "INFO",
             "--schedule", str(base / "celerybeat-schedule")],
        ]  # fmt: skip
        for command in commands:
            # Own sessions: a Ctrl-C reaches this supervisor, which stops children in order.
            children.append(
                subprocess.Popen(command, cwd=REPO_DIR, env=env, start_new_session=True, preexec_fn=die_with_parent)
            )
        _wait_healthy(f"http://127.0.0.1:{port}/healthz", children, timeout=120)
        url = f"http://localhost:{port}"  # the same server; browsers accept security keys (WebAuthn) only here
        print(
            f"\nData Collective is up in {time.monotonic() - started:.0f} s: open {url}/\n"
            f"API: {url}/api/  health: {url}/healthz\n{logins}\n"
            "Stop with Ctrl-C.\n",
            flush=True,
        )
        while True:
            for child in children:
                if child.poll() is not None:
                    raise ServiceError(f"{child.args!r} exited with {child.returncode}; stopping everything")
            time.sleep(0.5)
    except Shutdown as why:
        print(f"\n{why}: stopping ...", flush=True)
    except (ServiceError, subprocess.CalledProcessError) as exc:
        print(f"\nError: {exc}", file=sys.stderr, flush=True)
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stoppers = [threading.Thread(target=stop_process, args=(c,), kwargs={"grace": 8}) for c in children]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join()
        stack.stop()
        print("Stopped.", flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack")
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="start the whole system in the foreground")
    run_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000))
    args = parser.parse_args(argv)
    return run(args.port)


if __name__ == "__main__":
    sys.exit(main())
