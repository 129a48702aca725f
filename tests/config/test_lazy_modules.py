"""The viewer's analytics libraries load where a table is read or written, not in every process
that imports the URLconf (config/lazy_modules.py): a Celery worker that validates stays small."""

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from config.lazy_modules import on_first_use

REPO_DIR = Path(__file__).resolve().parents[2]
LIBRARIES = ("duckdb", "numpy", "pyarrow")


def _in_a_fresh_process(code: str) -> str:
    environment = {name: value for name, value in os.environ.items() if name != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_DIR, env=environment, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_worker_process_with_every_view_and_task_imported_has_loaded_no_analytics_library():
    # What Celery's worker imports before its first task: the settings, every app's tasks and, through
    # its start-up checks, the URLconf with every view behind it.
    loaded = _in_a_fresh_process(
        "import sys, django\n"
        "from config.celery import app\n"
        "django.setup()\n"
        "from django.urls import get_resolver\n"
        "get_resolver().reverse_dict\n"
        "app.loader.import_default_modules(); app.finalize(auto=True)\n"
        "assert 'marketplace.tasks.export_parquet' in app.tasks and 'licensing.tasks.rerelease' in app.tasks\n"
        f"print(sorted(set(sys.modules) & set({LIBRARIES!r})))\n"
    )
    assert loaded == "[]"


def test_a_web_worker_has_loaded_them_before_its_first_request():
    loaded = _in_a_fresh_process(
        "import sys, django\n"
        "django.setup()\n"
        "from config.warmup import warm_worker\n"
        "warm_worker()\n"
        f"print(sorted(set(sys.modules) & set({LIBRARIES!r})))\n"
    )
    assert loaded == str(sorted(LIBRARIES))


def test_a_stand_in_imports_its_module_on_the_first_attribute_read_and_then_reads_as_it():
    name = "tests.config.lazily_imported"
    sys.modules.pop(name, None)
    stand_in = on_first_use(name)
    assert name not in sys.modules
    assert stand_in.ANSWER == 42  # type: ignore[attr-defined]
    module = sys.modules[name]
    assert isinstance(stand_in, types.ModuleType) and stand_in.__name__ == name
    assert stand_in.answer_twice() == module.answer_twice() == 84  # type: ignore[attr-defined]
    # A name the module gains after the first read (as a package gains a submodule) is found too.
    module.LATER = "later"  # type: ignore[attr-defined]
    assert stand_in.LATER == "later"  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match="NOT_THERE"):
        stand_in.NOT_THERE  # type: ignore[attr-defined]  # noqa: B018
