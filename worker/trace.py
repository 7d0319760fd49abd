"""An execution trace for tests and benchmarks: with WORKER_TRACE_FILE set, handlers append
`<unix time> <pid> <job id> <attempt> <event>` lines (one write each, O_APPEND, so lines from
several worker processes never interleave). Job input never goes into it."""

from __future__ import annotations

import os
import threading
import time

_lock = threading.Lock()
_fd: int | None = None
_path: str | None = None


def enabled() -> bool:
    return bool(os.environ.get("WORKER_TRACE_FILE"))


def record(job_id: str, attempt: int, event: str) -> None:
    path = os.environ.get("WORKER_TRACE_FILE")
    if not path:
        return
    line = f"{time.time():.6f} {os.getpid()} {job_id} {attempt} {event}\n".encode()
    global _fd, _path
    with _lock:
        if _fd is None or _path != path:
            _fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            _path = path
        fd = _fd
    os.write(fd, line)
