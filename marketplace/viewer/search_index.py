"""The search index of one exported table: every word of its text cells, lowercased, with the rows
it occurs in, so that a search answers from the few rows that hold its words instead of a scan
of every text cell (what the Hugging Face dataset viewer does with its per-split index).

The search's meaning does not change: a row matches when one of its text cells contains the query,
case-insensitively (DuckDB's ``ILIKE '%query%'``). A word here is a run of characters between
whitespace (pyarrow's ``utf8_split_whitespace``, Unicode whitespace), lowercased by DuckDB's
``lower``, the folding ``ILIKE`` uses. So a query without whitespace is inside a cell exactly
when it is inside one of the cell's words: the rows of the words that contain it are the answer,
exact. A query with whitespace is inside a cell only if each of its whitespace-free pieces is
inside one of the cell's words: the rows holding all the pieces are candidates, which the reader
then checks with ``ILIKE``.

The index is a Parquet file of ``(token, rows)`` sorted by token, ``rows`` the ascending row
numbers (in the table's file) of the cells holding the token, in row groups of about
``POSTINGS_PER_GROUP`` rows so that a lookup reads only the groups of its tokens. It is built in
the export job from the written Parquet file (``build``), stored beside it and checked by SHA-256
like it; a reader keeps each index's tokens in memory (the file never changes: it is named by its
SHA-256).
"""

from __future__ import annotations

import tempfile
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from config.lazy_modules import on_first_use

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.compute as pc  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]
else:
    np = on_first_use("numpy")
    pa = on_first_use("pyarrow")
    pc = on_first_use("pyarrow.compute")
    pq = on_first_use("pyarrow.parquet")

from marketplace.viewer import tables

BATCH_ROWS = 262_144  # rows tokenized at a time
ROWS_PER_BUCKET = 2_000_000  # a table's rows per bucket of tokens merged at a time
# A lookup reads the row groups of its tokens whole: at 2^17 postings a group, a word's lookup in a
# 2-million-row table reads 1.9 ms instead of 8 ms at a million, for the same file size.
POSTINGS_PER_GROUP = 131_072
GATHER_VALUES = 1_000_000  # postings put in token order at a time (``_merged``)
VOCABULARIES_KEPT = 16


def string_columns(schema: pa.Schema) -> list[str]:
    return [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]


def build(parquet_path: Path, target: Path) -> bool:
    """Write the index of the Parquet file at ``parquet_path`` to ``target``; False (and no file)
    when the table has no text column to search.

    Memory stays bounded: the text is tokenized ``BATCH_ROWS`` rows at a time, and a large table's
    tokens are spilled to ``buckets`` files beside ``target`` by a hash of the token, each bucket
    merged and written on its own (the file's tokens are in bucket order; lookups read them all)."""
    schema = pq.read_schema(parquet_path)
    names = string_columns(schema)
    if not names:
        return False
    rows = pq.ParquetFile(parquet_path).metadata.num_rows
    row_type = pa.uint32() if rows < 2**32 else pa.int64()
    buckets = max(1, -(-rows // ROWS_PER_BUCKET))
    # One text per row, its cells joined by a space (a word never spans two cells), lowercased by
    # DuckDB as ILIKE folds; read in file order.
    joined = "concat_ws(' ', " + ", ".join(f"lower({tables.quote_identifier(n)})" for n in names) + ")"
    partial_schema = pa.schema([("token", pa.string()), ("row_distinct", pa.large_list(row_type))])
    with tempfile.TemporaryDirectory(prefix=".index-", dir=target.parent) as spill:
        files = [Path(spill) / f"{bucket}.arrows" for bucket in range(buckets)]
        _spill(joined, parquet_path, files, row_type, partial_schema)
        _write((_merged(file, partial_schema) for file in files), target, partial_schema.field("row_distinct").type)
    return True


def _spill(joined: str, parquet_path: Path, files: list[Path], row_type: pa.DataType, schema: pa.Schema) -> None:
    """Tokenize the table ``BATCH_ROWS`` rows at a time into the bucket ``files``, each token's
    batch postings in the bucket of its hash; the connections and writers closed at the end."""
    buckets = len(files)
    path = str(parquet_path).replace("'", "''")
    with ExitStack() as stack:
        writers = [stack.enter_context(pa.ipc.new_stream(str(file), schema)) for file in files]
        hashing = stack.enter_context(tables.connect())
        connection = stack.enter_context(tables.connect())
        reader = connection.sql(f"SELECT {joined} AS text FROM read_parquet('{path}')").to_arrow_reader(  # noqa: S608 (names quoted, path ours)
            BATCH_ROWS
        )
        first = 0
        for batch in reader:
            partial = _postings(batch.column(0), first, row_type)
            first += batch.num_rows
            if buckets == 1:
                writers[0].write_table(partial)
                continue
            hashing.register("partial", partial)
            chosen = hashing.sql(f"SELECT hash(token) % {buckets} FROM partial").fetchnumpy()  # noqa: S608 (a number)
            hashing.unregister("partial")
            codes = next(iter(chosen.values()))
            for bucket in np.unique(codes):
                writers[int(bucket)].write_table(partial.filter(pa.array(codes == bucket)))


def _merged(file: Path, schema: pa.Schema) -> tuple[pa.Array, pa.LargeListArray]:
    """One bucket's tokens, each with its rows: the batches' lists concatenated in batch order.

    The lists are put in token order by numpy gathers of about ``GATHER_VALUES`` values at a time
    into one array: Arrow's ``take`` of a list array held several temporary copies of the values
    (on a 10-million-row table, a worker's peak RSS was 787 MiB; it is 449 MiB this way)."""
    with pa.memory_map(str(file)) as source:
        vocabulary = pa.ipc.open_stream(source).read_all()
    if not vocabulary.num_rows:
        vocabulary = schema.empty_table()
    tokens = vocabulary.column("token").combine_chunks()
    lists = vocabulary.column("row_distinct").combine_chunks()
    del vocabulary
    # Arrow's sort is stable: a token's lists stay in batch order, so their rows stay ascending.
    order = pc.sort_indices(tokens)
    tokens = tokens.take(order)
    kept = np.asarray(pc.not_equal(tokens, "").fill_null(False))  # (cells of whitespace)
    tokens, order = tokens.filter(pa.array(kept)), np.asarray(order)[kept]
    offsets = np.asarray(lists.offsets, dtype=np.int64)
    values = np.asarray(lists.values)
    starts, lengths = offsets[:-1][order], np.diff(offsets)[order]
    ends = np.cumsum(lengths)
    gathered = np.empty(int(ends[-1]) if len(ends) else 0, values.dtype)
    first = 0
    while first < len(order):
        done = int(ends[first - 1]) if first else 0
        last = max(first + 1, int(np.searchsorted(ends, done + GATHER_VALUES, side="right")))
        block_starts, block_lengths = starts[first:last], lengths[first:last]
        placed = ends[first:last] - block_lengths - done  # each list's first place in the block
        sources = np.repeat(block_starts - placed, block_lengths) + np.arange(int(ends[last - 1]) - done)
        gathered[done : ends[last - 1]] = values[sources]
        first = last
    del lists, values
    ordered = pa.LargeListArray.from_arrays(
        pa.array(np.concatenate([[0], ends]).astype(np.int64)),
        pa.array(gathered, schema.field("row_distinct").type.value_type),
    )
    return _merge_runs(tokens, ordered)


def _postings(texts: pa.Array, first: int, row_type: pa.DataType) -> pa.Table:
    """The distinct tokens of a batch of texts, each with the ascending rows holding it (``first``
    is the batch's first row). Grouped by one integer sort: token code times rows plus row."""
    words = pc.utf8_split_whitespace(texts)
    encoded = pc.list_flatten(words).dictionary_encode()
    rows = len(texts)
    keys = np.asarray(encoded.indices, dtype=np.int64) * rows + np.asarray(pc.list_parent_indices(words), np.int64)
    keys.sort()
    if len(keys):
        keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]  # a word twice in a row counts once
    codes, owners = np.divmod(keys, rows) if rows else (keys, keys)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(encoded.dictionary)))])
    return pa.table(
        {
            "token": encoded.dictionary,
            "row_distinct": pa.LargeListArray.from_arrays(
                pa.array(offsets, pa.int64()), pa.array(owners + first, row_type)
            ),
        }
    )


def _merge_runs(tokens: pa.Array, lists: pa.LargeListArray) -> tuple[pa.Array, pa.LargeListArray]:
    """Sorted tokens with their lists to distinct tokens, each with its lists concatenated."""
    values = lists.flatten()
    ends = np.cumsum(np.asarray(pc.list_value_length(lists).fill_null(0), dtype=np.int64))
    if len(tokens) > 1:
        changes = np.flatnonzero(np.asarray(pc.not_equal(tokens[1:], tokens[:-1]))) + 1
    else:
        changes = np.array([], np.int64)
    starts = np.concatenate([[0], changes]).astype(np.int64) if len(tokens) else np.array([], np.int64)
    run_ends = np.concatenate([changes, [len(tokens)]]).astype(np.int64) if len(tokens) else np.array([], np.int64)
    offsets = np.concatenate([[0], ends[run_ends - 1]]) if len(tokens) else np.array([0], np.int64)
    return tokens.take(pa.array(starts)), pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), values)


def _write(parts: Iterator[tuple[pa.Array, pa.LargeListArray]], target: Path, postings_type: pa.DataType) -> None:
    """Write the tokens and their rows in row groups of about ``POSTINGS_PER_GROUP`` rows."""
    schema = pa.schema([("token", pa.string()), ("rows", postings_type)])
    # Rows ascend within a token: delta-encoded they take a byte or two each.
    with pq.ParquetWriter(target, schema, compression="zstd",
                          compression_level=tables.ZSTD_LEVEL, use_dictionary=["token"],
                          column_encoding={"rows.list.element": "DELTA_BINARY_PACKED"}) as writer:  # fmt: skip
        written = False
        for tokens, postings in parts:
            lengths = np.cumsum(np.asarray(pc.list_value_length(postings).fill_null(0), dtype=np.int64))
            start = 0
            while start < len(tokens):
                done = int(lengths[start - 1]) if start else 0
                end = max(start + 1, int(np.searchsorted(lengths, done + POSTINGS_PER_GROUP, side="left")) + 1)
                writer.write_table(pa.table({"token": tokens[start:end], "rows": postings[start:end]}, schema=schema))
                written, start = True, end
        if not written:
            writer.write_table(schema.empty_table())


# --- Lookups -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Vocabulary:
    tokens: pa.Array
    group_starts: np.ndarray  # the first token of each row group
    metadata: pq.FileMetaData  # the file's footer, parsed once


_vocabularies: OrderedDict[str, _Vocabulary] = OrderedDict()


def _vocabulary(path: Path) -> _Vocabulary:
    key = str(path)
    found = _vocabularies.get(key)
    if found is None:
        parquet = pq.ParquetFile(path)
        sizes = [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)]
        found = _Vocabulary(
            tokens=parquet.read(columns=["token"]).column("token").combine_chunks(),
            group_starts=np.cumsum([0, *sizes[:-1]], dtype=np.int64),
            metadata=parquet.metadata,
        )
        if len(_vocabularies) >= VOCABULARIES_KEPT:
            _vocabularies.popitem(last=False)
        _vocabularies[key] = found
    else:
        _vocabularies.move_to_end(key)
    return found


def pieces(lowered: str) -> list[str]:
    """The whitespace-free pieces of a lowercased query, split as the index splits cells."""
    return [piece for piece in pc.utf8_split_whitespace(pa.array([lowered]))[0].as_py() if piece]


def rows_with(path: Path, piece: str) -> np.ndarray:
    """Ascending row numbers of the cells with a word containing ``piece`` (lowercased)."""
    vocabulary = _vocabulary(path)
    matched = np.flatnonzero(np.asarray(pc.match_substring(vocabulary.tokens, piece).fill_null(False)))
    if not len(matched):
        return np.array([], np.int64)
    parquet = pq.ParquetFile(path, metadata=vocabulary.metadata)
    groups = np.searchsorted(vocabulary.group_starts, matched, side="right") - 1
    found = []
    for group in np.unique(groups):
        wanted = matched[groups == group] - vocabulary.group_starts[group]
        postings = parquet.read_row_group(int(group), columns=["rows"]).column("rows").combine_chunks()
        found.append(np.asarray(postings.take(pa.array(wanted)).flatten(), dtype=np.int64))
    rows = np.concatenate(found)
    return rows if len(matched) == 1 else np.unique(rows)
