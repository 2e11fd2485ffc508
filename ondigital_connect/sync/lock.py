"""One writer per (tenant, source, account, stream): an OS file lock that dies with its process."""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ondigital_connect.errors import SyncAlreadyRunning

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def lock_path(lock_dir: Path, tenant: str, source: str, account_id: str, stream: str) -> Path:
    """The lock file of one stream (names are made file-system safe)."""
    name = ".".join(_UNSAFE.sub("_", part) for part in (tenant, source, account_id, stream))
    return lock_dir / f"{name}.lock"


@contextmanager
def stream_lock(
    lock_dir: Path, tenant: str, source: str, account_id: str, stream: str
) -> Iterator[Path]:
    """Hold the stream's lock or raise SyncAlreadyRunning at once (never waits).

    ``flock`` locks belong to the open file, so a second run in the same process is refused
    too, and a crashed run's lock is released by the OS (no stale-lock clean-up needed).
    """
    lock_dir.mkdir(parents=True, exist_ok=True)
    path = lock_path(lock_dir, tenant, source, account_id, stream)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise SyncAlreadyRunning(
                f"{tenant}/{source}/{account_id}/{stream} is already being synced "
                f"(by pid {holder}); this run exits without touching data or state"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield path
    finally:
        os.close(fd)
