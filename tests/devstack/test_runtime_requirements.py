"""`make run` installs requirements.txt alone (the dev tools come with `make test` only): every
module of the project must import, and every URL resolve, in a virtualenv holding just those pins.
A package the tests happen to bring along (requests came with the SDK) hides a missing runtime pin
from every other test."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO_DIR

pytestmark = pytest.mark.slow

IMPORT_EVERYTHING = textwrap.dedent(
    """
    import importlib, pkgutil, sys
    import django
    django.setup()
    failed = []
    for package in ("config", "marketplace", "licensing", "provenance", "devstack"):
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=package + "."):
            if info.name.startswith("config.settings.") or info.name == "devstack.pytest_plugin":
                continue  # other deployments' settings; the plugin is pytest's
            try:
                importlib.import_module(info.name)
            except Exception as exc:
                failed.append(f"{info.name}: {type(exc).__name__}: {exc}")
    from django.urls import get_resolver
    try:
        get_resolver().url_patterns  # loads allauth's sign-in providers, among others
    except Exception as exc:
        failed.append(f"the URL configuration: {type(exc).__name__}: {exc}")
    print("\\n".join(failed) or "every module imported")
    sys.exit(1 if failed else 0)
    """
)


def test_the_runtime_pins_alone_import_every_module_and_url(tmp_path: Path) -> None:
    venv = tmp_path / "runtime"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
         "-r", str(REPO_DIR / "requirements.txt")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]
    # --no-deps above: requirements.txt must pin everything its packages need, which pip check proves.
    check = subprocess.run([str(python), "-m", "pip", "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update({"PYTHONPATH": str(REPO_DIR), "DJANGO_SETTINGS_MODULE": "config.settings.local"})
    result = subprocess.run(
        [str(python), "-W", "ignore", "-c", IMPORT_EVERYTHING], cwd=REPO_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
