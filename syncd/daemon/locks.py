"""One active worker per company.

- SQLite (one box): an exclusive ``flock`` on ``syncd-<company>.lock`` beside the database file. The kernel drops
  it when the process dies, so a crashed worker never leaves a stale lock.
- PostgreSQL (several replicas sharing one database): a session-level advisory lock held on a dedicated
  connection for as long as this worker serves the company. If the replica dies its connection closes and the
  lock is released by the server; the other replicas retry on every scheduling tick and take over (fail-over).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine, make_url


class CompanyLock(Protocol):
    def try_acquire(self) -> bool:
        """Take the lock if free; True if this process holds it (now or already)."""
        ...

    def held(self) -> bool:
        """Still held? (PostgreSQL: the connection may have been lost.)"""
        ...

    def release(self) -> None: ...


class FileLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def held(self) -> bool:
        return self._fd is not None

    def holder(self) -> str:
        try:
            return self.path.read_text().strip() or "unknown"
        except OSError:
            return "unknown"

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class AdvisoryLock:
    def __init__(self, engine: Engine, company: str) -> None:
        self.engine = engine
        digest = hashlib.sha256(f"syncd:{company}".encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)  # a bigint advisory-lock key
        self._conn: Connection | None = None

    def try_acquire(self) -> bool:
        if self.held():
            return True
        self.release()
        conn = self.engine.connect()
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
        conn.commit()
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def held(self) -> bool:
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
            return True
        except Exception:  # the connection is gone, and the server released the lock with it
            self._conn = None
            return False

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                self._conn.commit()
                self._conn.close()
            except Exception:  # closing a dead connection: the lock is already gone
                pass
            self._conn = None


def lock_for(engine: Engine, url: str, company: str) -> CompanyLock:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return AdvisoryLock(engine, company)
    db = parsed.database or ""
    folder = Path(db).resolve().parent if db and db != ":memory:" else Path.cwd()
    return FileLock(folder / f"syncd-{company}.lock")
