"""Modules imported where they are first used instead of where they are named.

The viewer's analytics libraries (pyarrow, DuckDB, NumPy) take about 140 MiB of resident memory in
a process. Every Django process imports the viewer's modules (the URLconf names its views, and
Celery's start-up checks import the URLconf), so with plain imports a Celery worker that only
validates uploads carried them too, and its peak passed the 256 MiB that validation is held to.
Named through ``on_first_use``, a library loads in the processes that read or write tables: the web
workers (``config.warmup`` loads it before the first request) and the worker that runs an export.

    if TYPE_CHECKING:
        import duckdb
    else:
        duckdb = on_first_use("duckdb")

Type checkers read the first branch; at run time the name is a stand-in module whose first
attribute read imports the real one and takes on its attributes, so later reads cost what a plain
module's do. Names read at import time (a module-level constant built from the library) would load
it at once: keep them in functions, or in string annotations.
"""

from __future__ import annotations

import importlib
import types
from typing import Any


class _OnFirstUse(types.ModuleType):
    def __getattr__(self, attribute: str) -> Any:
        # Only called for a name not yet here: the first read, or one the module gained later
        # (a submodule imported since, such as pyarrow.parquet).
        module = importlib.import_module(self.__name__)
        self.__dict__.update(module.__dict__)
        return getattr(module, attribute)


def on_first_use(name: str) -> types.ModuleType:
    """A stand-in for the module ``name`` (``"pyarrow.parquet"``), imported on its first use."""
    return _OnFirstUse(name)
