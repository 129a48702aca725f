"""Settings come from the environment; a bad value stops start-up with a message naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import env

REPO_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_stack_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    env._stack.cache_clear()
    yield
    env._stack.cache_clear()


@pytest.mark.parametrize("value", ["maybe", "2", "tru"])
def test_bad_boolean_names_the_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("SOME_FLAG", value)
    with pytest.raises(ImproperlyConfigured, match=rf"SOME_FLAG='{value}' is not a boolean"):
        env.env_bool("SOME_FLAG", False)


@pytest.mark.parametrize(("value", "expected"), [("yes", True), ("OFF", False), ("1", True), ("false", False)])
def test_booleans_parse(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    monkeypatch.setenv("SOME_FLAG", value)
    assert env.env_bool("SOME_FLAG", not expected) is expected


def test_bad_integer_and_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_NUMBER", "ten")
    with pytest.raises(ImproperlyConfigured, match="SOME_NUMBER='ten' is not a whole number"):
        env.env_int("SOME_NUMBER", 1)
    monkeypatch.setenv("SOME_NUMBER", "0")
    with pytest.raises(ImproperlyConfigured, match="SOME_NUMBER=0 is below the minimum of 1"):
        env.env_int("SOME_NUMBER", 5, minimum=1)
    monkeypatch.setenv("SOME_NUMBER", "42")
    assert env.env_int("SOME_NUMBER", 5, minimum=1) == 42


def test_unset_variable_uses_default_or_demands_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    assert env.env_str("NOT_SET_ANYWHERE", "fallback") == "fallback"
    with pytest.raises(ImproperlyConfigured, match="NOT_SET_ANYWHERE must be set"):
        env.env_str("NOT_SET_ANYWHERE")


def test_secret_from_file_and_unreadable_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("s3cr3t-value\n")
    monkeypatch.setenv("A_SECRET_FILE", str(secret_file))
    assert env.env_secret("A_SECRET") == "s3cr3t-value"
    monkeypatch.setenv("A_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="A_SECRET_FILE=.* cannot be read"):
        env.env_secret("A_SECRET")


def test_database_url_parsing_and_errors() -> None:
    parsed = env.database_from_url("DATABASE_URL", "postgresql://app:p%40ss@db.example:6543/market?sslmode=require")
    assert (parsed["USER"], parsed["PASSWORD"], parsed["HOST"], parsed["PORT"], parsed["NAME"]) == (
        "app",
        "p@ss",
        "db.example",
        "6543",
        "market",
    )
    assert parsed["OPTIONS"] == {"sslmode": "require"}
    with pytest.raises(ImproperlyConfigured, match="must be a postgresql:// URL, not mysql://"):
        env.database_from_url("DATABASE_URL", "mysql://x@y/z")
    with pytest.raises(ImproperlyConfigured, match="names no database"):
        env.database_from_url("DATABASE_URL", "postgresql://x@y:5432/")


def test_stack_file_fills_unset_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "stack.json").write_text('{"FROM_STACK": "stack-value", "BOTH": "stack"}')
    monkeypatch.delenv("FROM_STACK", raising=False)
    monkeypatch.setenv("BOTH", "environment")
    assert env.env_str("FROM_STACK") == "stack-value"
    assert env.env_str("BOTH") == "environment"


def _django_check(
    extra_env: dict[str, str], settings_module: str = "config.settings.local"
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module, **extra_env}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=REPO_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_bad_value_stops_django_start_up_with_a_clear_message() -> None:
    done = _django_check({"DEBUG": "perhaps"})
    assert done.returncode != 0
    assert "ImproperlyConfigured: DEBUG='perhaps' is not a boolean" in done.stderr


def test_production_refuses_the_default_secret() -> None:
    done = _django_check({"SECRET_KEY": ""}, "config.settings.production")
    assert done.returncode != 0
    assert "SECRET_KEY (or SECRET_KEY_FILE) must be set" in done.stderr
    done = _django_check({"SECRET_KEY": "x" * 64}, "config.settings.production")
    assert done.returncode == 0, done.stderr


def test_unknown_cache_url_names_the_choices() -> None:
    done = _django_check({"CACHE_URL": "memcached://127.0.0.1"})
    assert done.returncode != 0
    assert "CACHE_URL='memcached://127.0.0.1': use locmem://" in done.stderr


@pytest.mark.django_db(transaction=True)
def test_a_database_cache_is_shared_between_processes() -> None:
    """With CACHE_URL=database:// rate-limit counters written by one process are seen by another."""
    from tests.conftest import database_url_of_test_db

    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", "CACHE_URL": "database://"}
    environment["DATABASE_URL"] = database_url_of_test_db()
    script = "import django, sys; django.setup(); from django.core.cache import cache; "
    for statement in ("cache.set('shared-probe', 'from another process', 60)", "print(cache.get('shared-probe'))"):
        done = subprocess.run(
            [sys.executable, "-c", script + statement],
            cwd=REPO_DIR,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "from another process"


def test_production_refuses_storage_without_credentials() -> None:
    done = _django_check(
        {"SECRET_KEY": "x" * 64, "S3_ACCESS_KEY_ID": "", "S3_SECRET_ACCESS_KEY": ""}, "config.settings.production"
    )
    assert done.returncode != 0
    assert "S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (or _FILE) must be set" in done.stderr
