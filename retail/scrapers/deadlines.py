"""Time limits: the hard deadline of one HTTP exchange, and the budget of one fetch()."""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass

STOPPED = "fetch stopped: the monitor is shutting down"


class _Deadline:
    """The hard time limit of one HTTP exchange.

    When it passes (or the fetcher is cancelled) every socket the exchange used is shut down, which wakes a
    blocked connect, TLS handshake, header or body read at once: socket timeouts bound each read, not the whole,
    so a server sending a byte every few seconds would otherwise hold the fetch for ever. The sockets are watched
    through duplicates of their descriptors, which stay valid when TLS wraps the original.
    """

    def __init__(self, seconds: float, reason: str) -> None:
        self.seconds = seconds
        self._ends = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._watched: dict[int, socket.socket] = {}
        self.expired: str | None = None  # why, once it has passed
        self._timer = threading.Timer(max(0.0, seconds), self.expire, args=(reason,))
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def remaining(self) -> float:
        return self._ends - time.monotonic()

    def watch(self, sock: socket.socket) -> None:
        try:
            fd = sock.fileno()
            if fd < 0:
                return
            with self._lock:
                if fd in self._watched:
                    return
                self._watched[fd] = twin = socket.socket(fileno=os.dup(fd))
                expired = self.expired is not None
        except OSError:
            return
        if expired:
            _shutdown(twin)

    def expire(self, reason: str) -> None:
        with self._lock:
            if self.expired is not None:
                return
            self.expired = reason
            watched = list(self._watched.values())
        for twin in watched:
            _shutdown(twin)

    def finish(self) -> None:
        self._timer.cancel()
        with self._lock:
            watched, self._watched = list(self._watched.values()), {}
            if self.expired is None:
                self.expired = ""  # finished in time: a late timer does nothing (empty, so still falsy)
        for twin in watched:
            twin.close()


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by its owner: nothing left to stop


@dataclass
class _Budget:
    """What one fetch() may still spend: network seconds, and an optional wall-clock end (the caller's limit)."""

    network_left: float
    hard_end: float | None  # settings.clock() value

    def left(self, now: float) -> float:
        if self.hard_end is None:
            return self.network_left
        return min(self.network_left, self.hard_end - now)
