"""gunicorn's settings for `make run` and the benchmarks (`gunicorn -c config/gunicorn.conf.py`).

Threaded workers (gthread): most of a request's time is waiting on PostgreSQL or storage, so a
few processes with several threads each keep every core busy, and a slow request (a deep catalog
page, a viewer query) does not hold up the fast ones queued behind it, as it does with one request
per sync process. Each thread keeps its own database connection (CONN_MAX_AGE), so workers x
threads must stay under PostgreSQL's max_connections (200 embedded). The backlog holds bursts of
new connections (every SDK call opens one) instead of refusing them.

WEB_WORKERS (default: one per core, at least 2) and WEB_THREADS (default 8) override."""

import os

workers = int(os.environ.get("WEB_WORKERS") or max(2, os.cpu_count() or 1))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS") or 8)
backlog = 2048
# Seconds an idle client connection is kept open: longer than clients pause between requests (as
# nginx's 75 s), so a client rarely sends on a connection the server is closing at that moment.
keepalive = 75
# A worker silent this long is restarted; a request may run longer (threads send the heartbeat).
timeout = 120
graceful_timeout = 5


def post_worker_init(worker: object) -> None:
    """Import the views, load the translations and build the storage client before the first
    request, so no user's request pays for a cold worker (config/warmup.py)."""
    from config.warmup import warm_worker

    warm_worker()
