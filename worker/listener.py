"""LISTEN on a connection of its own: `wayfare_jobs` (payload: a job type) wakes the claim
loop at once; `wayfare_job_cancel` (payload: a job id) tells a running handler to stop.
The connection (the worker's door, wayfare/db.py: same role and time limits as the pool's)
is re-established whenever it drops; polling covers the gap."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from wayfare.db import Connection
from wayfare.logs import get_logger
from worker.store import TRANSIENT

log = get_logger("worker.listener")

JOBS_CHANNEL = "wayfare_jobs"
CANCEL_CHANNEL = "wayfare_job_cancel"
LIVENESS_SECONDS = 15.0


class Listener(threading.Thread):
    def __init__(self, connect: Callable[[], Connection], *,
                 on_job: Callable[[str], None], on_cancel: Callable[[str], None],
                 on_connected: Callable[[], None], stop: threading.Event) -> None:
        super().__init__(name="listener", daemon=True)
        self.connect = connect
        self.on_job = on_job
        self.on_cancel = on_cancel
        self.on_connected = on_connected
        self.stop_event = stop
        self.connected = threading.Event()

    def run(self) -> None:
        backoff = 0.1
        while not self.stop_event.is_set():
            try:
                with self.connect() as conn:
                    conn.execute(f"listen {JOBS_CHANNEL}")
                    conn.execute(f"listen {CANCEL_CHANNEL}")
                    self.connected.set()
                    if backoff > 0.1:
                        log.info("worker.listener_reconnected")
                    backoff = 0.1
                    self.on_connected()  # notifications may have been missed meanwhile
                    self._listen(conn)
            except TRANSIENT as exc:
                self.connected.clear()
                if not self.stop_event.is_set():
                    log.warning("worker.listener_disconnected", error_type=type(exc).__name__)
                    self.stop_event.wait(backoff)
                    backoff = min(backoff * 2, 5.0)

    def _listen(self, conn: Connection) -> None:
        checked = time.monotonic()
        while not self.stop_event.is_set():
            for note in conn.notifies(timeout=0.5):
                if note.channel == JOBS_CHANNEL:
                    self.on_job(note.payload)
                elif note.channel == CANCEL_CHANNEL:
                    self.on_cancel(note.payload)
                if self.stop_event.is_set():
                    return
            if time.monotonic() - checked > LIVENESS_SECONDS:
                conn.execute("select 1")  # a dead server shows up here, not by silence
                checked = time.monotonic()
