"""SQLite connections whose transactions take the database's write lock up front.

Why: a SQLite transaction that reads first and writes later upgrades its lock at the
write, and if another connection committed meanwhile SQLite answers "database is
locked" at once (a busy timeout does not help: the snapshot it read is stale). And
SQLite ignores FOR UPDATE, which our stores rely on to make concurrent workers take
turns on a row. Taking the write lock at BEGIN (BEGIN IMMEDIATE) makes every
transaction run alone: each sees what the one before it committed, as a row lock
would have made it on PostgreSQL, and no upgrade can fail.

SQLite's own wait for that lock (its busy handler) sleeps in C and would freeze the
eventlet hub, so within a process the workers queue on a green lock per database
file instead, and only another process's transaction (a second service process, a
tool) is waited for by retrying with a green sleep. Readers in other processes go on
meanwhile (WAL).

The price: one transaction at a time per service database, including while its worker
waits on an RPC. So a worker must not make an RPC that calls back into its own service
(directly or through others) while its transaction is open: make such a call before
touching the database.
"""
import os
import sqlite3
import threading
import time

import eventlet

LOCK_WAIT_SECONDS = 30.0  # longer than any RPC timeout a holder may be waiting on
PROCESS_RETRY_SECONDS = 0.005
BUSY_TIMEOUT_SECONDS = 0.05  # SQLite's own (hub-blocking) wait, kept short

_locks = {}
_locks_guard = threading.Lock()


class WriteLock:
    """The turn to write one database file, among this process's workers."""

    def __init__(self):
        self._lock = threading.Lock()
        self.holder = None

    def acquire(self):
        me = eventlet.getcurrent()
        if self.holder is me:  # it would wait for itself for LOCK_WAIT_SECONDS
            raise RuntimeError("a second transaction on this SQLite database in the same "
                               "worker: finish the first one before starting another")
        if not self._lock.acquire(timeout=LOCK_WAIT_SECONDS):
            raise sqlite3.OperationalError(
                f"database is locked: waited {LOCK_WAIT_SECONDS:g}s for another worker")
        self.holder = me

    def release(self):
        self.holder = None
        self._lock.release()


def write_lock(database):
    if database in ("", ":memory:") or database.startswith("file:"):
        return WriteLock()  # a private database: nobody else to wait for
    path = os.path.realpath(database)
    with _locks_guard:
        return _locks.setdefault(path, WriteLock())


class LockingConnection(sqlite3.Connection):
    """A pysqlite connection (isolation_level None: we issue BEGIN ourselves) whose
    `begin_immediate()` takes the write lock and whose commit or rollback gives it back."""

    def __init__(self, database, *args, **kwargs):
        kwargs["timeout"] = BUSY_TIMEOUT_SECONDS
        super().__init__(database, *args, **kwargs)
        self._write_lock = write_lock(os.fspath(database))
        self._holding = False

    def begin_immediate(self):
        self._write_lock.acquire()
        try:
            self._begin_across_processes()
        except BaseException:
            self._write_lock.release()
            raise
        self._holding = True

    def _begin_across_processes(self):
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                self.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            eventlet.sleep(PROCESS_RETRY_SECONDS)

    def commit(self):
        try:
            super().commit()
        finally:
            self._give_back()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self._give_back()

    def close(self):
        try:
            super().close()
        finally:
            self._give_back()

    def _give_back(self):
        if self._holding:
            self._holding = False
            self._write_lock.release()
