"""A contributor's records in a published version, found through the datasheet's contributor-id
column (``contributor_id_column``): the rows of the version's exported tables (the viewer's
Parquet copy) whose value there is the contributor's id. Each row gives its record id (the
``record_id_column`` value) and every archive member it names (a path, or a part of one after a
"/"), whose SHA-256 comes from the version's signed manifest. Withdrawing oneself reads it to name
the records, and the re-release reads it again for the version it rewrites."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marketplace.inspection.index_rows import names_of
from marketplace.models import DatasetVersion, ParquetExport
from marketplace.viewer import exports, queries, tables
from provenance import manifests

MAX_ROWS = 100_000


@dataclass
class Found:
    """A contributor's records in one version, or why they could not be told apart."""

    record_ids: list[str] = field(default_factory=list)
    file_hashes: list[str] = field(default_factory=list)
    rows: int = 0
    problem: str = ""
    pending: bool = False  # the version's tables are waiting to be exported: ask again later


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def records_of(version: DatasetVersion, contributor_id: str) -> Found:
    """The records of ``contributor_id`` in ``version``: read from its exported tables."""
    dataset = version.dataset
    column = dataset.contributor_id_column.strip()
    if not column:
        return Found(problem=f"{dataset.name} does not say which column of its files names contributors.")
    archive, _ = exports.version_uploads(version)
    export = ParquetExport.objects.filter(upload=archive).first() if archive is not None else None
    if export is None or export.status != ParquetExport.Status.READY:
        pending = export is None or export.status == ParquetExport.Status.PENDING
        return Found(
            problem=f"The tables of {dataset.name} version {version.number} are "
            + ("not indexed yet." if pending else "not indexed: their export failed."),
            pending=pending and archive is not None,
        )
    try:
        files = manifests.signed_files(version).files
    except (manifests.ManifestMissing, manifests.ManifestInvalid) as exc:
        return Found(problem=str(exc))
    member_by_name: dict[str, dict[str, Any]] = {}
    for member in files:
        for name in names_of([str(member["path"])]):
            member_by_name.setdefault(name, member)
    record_column = dataset.record_id_column.strip()
    found = Found()
    records: dict[str, None] = {}
    hashes: dict[str, None] = {}
    connection = tables.connect()
    try:
        for table in export.tables:
            names = [str(c["name"]) for c in table.get("columns", [])]
            if column not in names:
                continue
            source = str(queries.local_copy(table)).replace("'", "''")
            result = connection.execute(
                f"SELECT * FROM read_parquet('{source}') WHERE CAST({_quoted(column)} AS VARCHAR) = ? LIMIT ?",  # noqa: S608 (a checked column, our own path)
                [contributor_id, MAX_ROWS],
            )
            header = [d[0] for d in result.description]
            for row in result.fetchall():
                found.rows += 1
                values = dict(zip(header, row, strict=True))
                if record_column and values.get(record_column) not in (None, ""):
                    records[str(values[record_column])] = None
                for value in values.values():
                    named = member_by_name.get(value) if isinstance(value, str) else None
                    if named:
                        hashes[str(named["sha256"])] = None
                        if not record_column:
                            records[str(named["path"])] = None
    finally:
        connection.close()
    found.record_ids, found.file_hashes = list(records), list(hashes)
    if found.rows and not found.record_ids:
        found.problem = f"Your rows in {dataset.name} name no record id and no file."
    return found
