"""Readying a web worker before it takes its first request (gunicorn's ``post_worker_init``).

A fresh worker process pays, on its first requests, for importing every view module behind the
URLconf, loading the translation catalogs, compiling the base templates and building the storage
client (botocore reads its service model: a few hundred milliseconds). With several workers, that
cost fell on whichever user's request reached a cold worker first: one download in three took a
second instead of 50 ms in `bench/download.py`. Doing it here, before the worker accepts, keeps
every request warm. Nothing here opens a connection that a fork or a thread would share."""

from __future__ import annotations

import importlib
import logging

log = logging.getLogger(__name__)


def warm_worker() -> None:
    from django.conf import settings
    from django.template import TemplateDoesNotExist
    from django.template.loader import get_template
    from django.urls import get_resolver
    from django.utils import translation

    resolver = get_resolver()
    resolver.reverse_dict  # noqa: B018 (imports every view module and builds the reverse lookups)
    for code, _ in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Catalog")
    for name in ("base.html", "catalog/list.html", "catalog/dataset.html"):
        try:
            get_template(name)
        except TemplateDoesNotExist:
            log.warning("warm-up: no template %s", name)
    # The viewer's libraries, which its modules import on first use (config.lazy_modules): about
    # 0.3 s, then opening its DuckDB database about 30 ms.
    for name in ("numpy", "pyarrow", "pyarrow.compute", "pyarrow.parquet"):
        importlib.import_module(name)
    from marketplace.viewer import tables

    tables.reads().close()
    try:
        from marketplace import storage

        client = storage.client()
        client.generate_presigned_url("get_object", Params={"Bucket": storage.bucket(), "Key": "warm-up"}, ExpiresIn=60)
        storage.public_client()
    except Exception:  # storage unset or misconfigured: requests will say so; the worker still starts
        log.warning("warm-up: the storage client could not be built", exc_info=True)
