"""gunicorn readies each worker before its first request (config/gunicorn.conf.py's
``post_worker_init``): the views, the translations, the templates and the storage client."""

import logging

from config.warmup import warm_worker
from marketplace import storage


def test_a_warmed_worker_has_built_its_storage_clients_without_a_complaint(caplog, monkeypatch):
    monkeypatch.setattr(storage, "_clients", {})
    with caplog.at_level(logging.WARNING, logger="config.warmup"):
        warm_worker()
    assert [r.getMessage() for r in caplog.records] == []
    assert storage.client() is storage.client()
    assert len(storage._clients) >= 1


def test_gunicorn_runs_the_warm_up_in_every_worker():
    import runpy

    config = runpy.run_path("config/gunicorn.conf.py")
    assert config["worker_class"] == "gthread"
    assert callable(config["post_worker_init"])
