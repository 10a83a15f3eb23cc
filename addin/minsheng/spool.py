"""A spool (暂存): objects written one after another to an anonymous temporary file; and a
scratch database (``Scratch``) for what is sorted or grouped on disk.

Consolidation at province scale must not hold every department's rows in memory at once. What
is read early and used later (a unit's submission, a row for a sheet written at the end) goes to a
spool; only the small handle stays in memory. The file has no name and disappears when the spool
is closed or the process ends. Only objects this process or its own workers made are spooled.
"""

from __future__ import annotations

import errno
import os
import pickle
import shutil
import sqlite3
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any

Slot = tuple[int, int]  # offset and length of one object


class Spool:
    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self._end = 0
        self.count = 0

    def add(self, obj: Any) -> Slot:
        return self.add_pickled(pickle.dumps(obj, pickle.HIGHEST_PROTOCOL))

    def add_pickled(self, data: bytes) -> Slot:
        """An object some process pickled already (with ``pickle.dumps``)."""
        self._file.seek(self._end)
        self._file.write(data)
        slot = (self._end, len(data))
        self._end += len(data)
        self.count += 1
        return slot

    def get(self, slot: Slot) -> Any:
        self._file.seek(slot[0])
        return pickle.loads(self._file.read(slot[1]))

    def __iter__(self) -> Iterator[Any]:
        """Every object, in the order added."""
        self._file.flush()
        self._file.seek(0)
        for _ in range(self.count):
            # One unpickler per object: each was pickled on its own, with its own memo.
            yield pickle.load(self._file)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class BatchSpool:
    """Many small objects spooled in batches (one pickle per ``size`` objects, not per object),
    read back one by one in the order added."""

    def __init__(self, size: int = 512) -> None:
        self._spool = Spool()
        self._batch: list = []
        self._size = size

    def extend(self, items) -> None:
        self._batch.extend(items)
        if len(self._batch) >= self._size:
            self._flush()

    def append(self, item: Any) -> None:
        self._batch.append(item)
        if len(self._batch) >= self._size:
            self._flush()

    def _flush(self) -> None:
        self._spool.add(self._batch)
        self._batch = []

    def __iter__(self) -> Iterator[Any]:
        if self._batch:
            self._flush()
        for batch in self._spool:
            yield from batch

    def close(self) -> None:
        self._spool.close()


class Scratch:
    """A run's temporary SQLite database on disk, for a list sorted or grouped on disk rather than in
    memory. Rows are added (``add``, in batches) by the thread that made it; once ``done``, any
    thread may read it through a connection of its own (``read``), so no connection is ever shared
    between threads. The file is removed when the object is collected or the process ends."""

    def __init__(self, table: str, columns: int) -> None:
        folder = tempfile.mkdtemp(prefix="minsheng-scratch-")
        self.path = os.path.join(folder, "scratch.sqlite")
        self._finalizer = weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
        self._db = sqlite3.connect(self.path)
        with _as_os_error():
            # A scratch file outlives no crash worth surviving: no journal, no waiting for the disk.
            self._db.execute("PRAGMA journal_mode = OFF")
            self._db.execute("PRAGMA synchronous = OFF")
            self._db.execute(f"CREATE TABLE {table}")
        self._insert = f"INSERT INTO {table.split(' ', 1)[0]} VALUES ({', '.join('?' * columns)})"
        self._batch: list[tuple] = []

    def add(self, row: tuple) -> None:
        self._batch.append(row)
        if len(self._batch) >= 1024:
            self._flush()

    def _flush(self) -> None:
        if self._batch:
            with _as_os_error():
                self._db.executemany(self._insert, self._batch)
            self._batch = []

    def done(self) -> None:
        """Everything is in: commit, so that readers see it."""
        self._flush()
        with _as_os_error():
            self._db.commit()

    def read(self, sql: str, params: tuple = ()) -> Iterator[tuple]:
        """Rows of a query, through a connection of the calling thread's own."""
        with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) as db:
            yield from db.execute(sql, params)

    def close(self) -> None:
        self._db.close()
        self._finalizer()


@contextmanager
def _as_os_error():
    """A scratch database that cannot be written is a temporary file that cannot be: an OSError,
    which the commands turn into one Chinese line (a full disk, most likely)."""
    try:
        yield
    except sqlite3.Error as exc:
        full = getattr(exc, "sqlite_errorname", "").startswith("SQLITE_FULL") or "full" in str(exc)
        raise OSError(errno.ENOSPC if full else errno.EIO, str(exc)) from exc
