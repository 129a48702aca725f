"""A TCP relay in front of storage, for tests of real network failures: a link that refuses
connections until opened, one that passes bytes slowly, or one that drops its first connection
part-way through a response."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import suppress
from urllib.parse import urlsplit


class StorageRelay:
    """Relays connections to ``target_url``. It listens at ``url`` once ``open`` is called (before,
    the port is bound but refuses connections). ``bytes_per_second`` slows the storage-to-client
    direction; ``cut_first_after`` closes the first connection after that many response bytes.
    ``requests`` keeps the first bytes each client sent (its request head)."""

    def __init__(
        self, target_url: str, *, bytes_per_second: int | None = None, cut_first_after: int | None = None
    ) -> None:
        parts = urlsplit(target_url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.rate, self.cut_first_after = bytes_per_second, cut_first_after
        self.requests: list[bytes] = []
        self.connections = 0
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.stopped = threading.Event()

    def open(self) -> StorageRelay:
        self.listener.listen(32)
        self.listener.settimeout(0.2)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def close(self) -> None:
        self.stopped.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            limit = self.cut_first_after if self.connections == 1 else None
            threading.Thread(target=self._serve, args=(client, limit), daemon=True).start()

    def _serve(self, client: socket.socket, limit: int | None) -> None:
        try:
            upstream = socket.create_connection(self.target)
        except OSError:  # storage itself is down: the client sees its connection dropped, not a hang
            client.close()
            return
        head = client.recv(65536)
        self.requests.append(head)
        upstream.sendall(head)
        threading.Thread(target=self._pump, args=(client, upstream, None, None), daemon=True).start()
        self._pump(upstream, client, limit, self.rate)

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket, limit: int | None, rate: int | None) -> None:
        """Copy until either side closes or ``limit`` bytes went through, then close both sides (a
        reset by the peer is how a dropped link ends, so socket errors end the copy quietly)."""
        sent = 0
        with suppress(OSError):
            while limit is None or sent < limit:
                chunk = source.recv(65536 if limit is None else min(65536, limit - sent))
                if not chunk:
                    break
                target.sendall(chunk)
                sent += len(chunk)
                if rate:
                    time.sleep(len(chunk) / rate)
        for sock in (source, target):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
