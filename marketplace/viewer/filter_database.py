"""The DuckDB database of one exported table: the same rows, in the same order, in DuckDB's own
format, for the viewer's filters and orders.

A filter counts its matches and an order ranks them, so both read the columns they name in every
row of the table. DuckDB scans its own format several times faster than Parquet: light
compression decoded a vector at a time, no zstd, no page headers (on a 10-million-row table, a
comparison of a number and of a category: about 200 ms of CPU from the Parquet file, 35 ms from
this file). Two choices make it faster still:

* A text column of few values that repeat (at most ``ENUM_MAX_VALUES``: a category, a label, a
  language) is stored as an ENUM whose values are in DuckDB's order of text, so that comparing it
  with one of its values compares small integers, and ordering by it orders the text. A value it
  does not hold is compared as text (DuckDB casts the column), so answers do not change; the cells
  come back as text.
* DuckDB's ALP-RD compression of doubles, which it picks for doubles with many significant digits
  (measurements, scores), is turned off: it saves little on such doubles and doubles their scan
  time; they are stored with ALP, as fast to scan as plain doubles.

Built by the index job (``exports.index_upload``) after the export, stored beside the Parquet file
and checked by SHA-256 like it; the viewer reads the Parquet file until it lands
(``queries.SplitReader``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from config.lazy_modules import on_first_use

if TYPE_CHECKING:
    import duckdb
else:
    duckdb = on_first_use("duckdb")

from marketplace.viewer import tables

TABLE = "table_rows"
ENUM_MAX_VALUES = 4096
# The build streams the Parquet file into the database in one thread, DuckDB spilling what does not
# fit: a worker's peak RSS stays about 230 MiB on a 10-million-row table (Django's 160 among them),
# and the build takes less CPU than with two threads (270 MiB with 64 MB and two threads).
BUILD_MEMORY = "32MB"


def build(parquet_path: Path, target: Path) -> None:
    """Write the database of the Parquet file at ``parquet_path`` to ``target`` (a new file)."""
    source = f"read_parquet('{_sql_path(parquet_path)}')"
    # Like ``tables.connect``: no extension is loaded or installed (no network).
    with duckdb.connect(
        str(target), config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    ) as connection:
        connection.execute(f"SET memory_limit = '{BUILD_MEMORY}'")
        connection.execute("SET threads = 1")
        connection.execute("SET disabled_compression_methods = 'alprd'")
        described = connection.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()  # noqa: S608 (our path)
        few = _few_valued(connection, source, [str(row[0]) for row in described if row[1] == "VARCHAR"])
        selected = []
        for position, row in enumerate(described):
            name = tables.quote_identifier(str(row[0]))
            if row[0] in few:
                # The values in DuckDB's order of text, so that the ENUM's order is the text's.
                connection.execute(
                    f"CREATE TYPE values_{position} AS ENUM "  # noqa: S608 (a quoted name, our path)
                    f"(SELECT DISTINCT {name} FROM {source} WHERE {name} IS NOT NULL ORDER BY 1)"
                )
                selected.append(f"CAST({name} AS values_{position}) AS {name}")
            else:
                selected.append(name)
        connection.execute(f"CREATE TABLE {TABLE} AS SELECT {', '.join(selected)} FROM {source}")  # noqa: S608
        connection.execute("CHECKPOINT")


def _few_valued(connection: duckdb.DuckDBPyConnection, source: str, names: list[str]) -> set[str]:
    """The text columns whose values repeat (at most half as many distinct values as rows) and are
    few (at most ``ENUM_MAX_VALUES``), judged by DuckDB's approximate count, one scan for all."""
    if not names:
        return set()
    counts = ", ".join(f"approx_count_distinct({tables.quote_identifier(name)})" for name in names)
    found = connection.execute(f"SELECT count(*), {counts} FROM {source}").fetchone() or ()  # noqa: S608 (quoted names)
    rows, distinct = int(found[0]), [int(count) for count in found[1:]]
    return {name for name, count in zip(names, distinct, strict=True) if 0 < count <= min(ENUM_MAX_VALUES, rows // 2)}


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
