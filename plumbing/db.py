"""Database access for a service: one SQLAlchemy session per worker, plus its outbox.

The session is committed by the entrypoint *before* it acks a message or sends a
reply (see `plumbing.entrypoints`), never after: a reply must not promise what a
failed commit then loses. Whatever is left uncommitted is rolled back at the end
of the worker.
"""
import logging

import sqlalchemy as sa
from nameko.extensions import DependencyProvider
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from plumbing import logs, messaging, settings, sqlite_lock
from plumbing.relay import OutboxRelay

log = logging.getLogger(__name__)
_green = {"patched": False}


def make_engine(url, **kwargs):
    if url.startswith("postgresql+psycopg2"):
        _make_psycopg_green()
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 10)
        kwargs.setdefault("pool_pre_ping", True)
        return sa.create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        return sqlite_engine(url, **kwargs)
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


def _make_psycopg_green():
    """psycopg2 blocks the eventlet hub unless it yields while waiting on the socket."""
    if not _green["patched"]:
        from psycogreen.eventlet import patch_psycopg
        patch_psycopg()
        _green["patched"] = True


def sqlite_engine(url, **kwargs):
    """SQLite, the local run's database, giving the answers PostgreSQL gives under
    concurrent workers. See `plumbing.sqlite_lock` for why every transaction takes the
    write lock up front."""
    engine = sa.create_engine(url, connect_args={"check_same_thread": False,
                                                 "factory": sqlite_lock.LockingConnection},
                              **kwargs)

    # Let SQLAlchemy, not pysqlite, issue BEGIN, so SAVEPOINTs work; WAL lets readers
    # in other processes (tests, tools) go on while a worker writes.
    @sa_event.listens_for(engine, "connect")
    def on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA foreign_keys=ON")

    @sa_event.listens_for(engine, "begin")
    def on_begin(conn):
        conn.connection.driver_connection.begin_immediate()

    return engine


class Unit:
    """What a worker sees as `self.db`: the session, and `emit` to add an event."""

    def __init__(self, session, worker_ctx):
        self.session = session
        self._worker_ctx = worker_ctx
        self.emitted = 0

    def emit(self, event):
        """Add a declared event (contract.events) of this service to the transaction."""
        service = self._worker_ctx.service_name
        if event.source != service:
            raise TypeError(f"{service} cannot send {event.source}'s event {event.name}")
        self.emitted += 1
        return messaging.add_event(self.session, event,
                                   request_id=self._worker_ctx.data.get(logs.REQUEST_ID_KEY))

    def claim(self, event_id, handler):
        return messaging.claim_event(self.session, event_id, handler)


class Database(DependencyProvider):
    """The service's own database, with the relay that drains its outbox."""

    def __init__(self, relay=True):
        self.relay_enabled = relay
        self.engine = None
        self.relay = None
        self.units = {}

    def setup(self):
        service = self.container.service_name
        self.engine = make_engine(settings.database_url(service))
        if self.relay_enabled:
            self.relay = OutboxRelay(service, self.engine, self.container.config)

    def start(self):
        if self.relay:
            self.container.spawn_managed_thread(self.relay.run)

    def stop(self):
        if self.relay:
            self.relay.stop()
        self.engine.dispose()

    def kill(self):
        if self.relay:
            self.relay.stop()
        self.engine.dispose()

    def get_dependency(self, worker_ctx):
        unit = Unit(Session(self.engine, expire_on_commit=False), worker_ctx)
        self.units[worker_ctx] = unit
        return unit

    def commit(self, worker_ctx):
        """Commit this worker's transaction; called before its result leaves the service."""
        unit = self.units.get(worker_ctx)
        if unit is None:
            return
        unit.session.commit()
        if unit.emitted and self.relay:
            self.relay.wake()

    def worker_teardown(self, worker_ctx):
        unit = self.units.pop(worker_ctx, None)
        if unit is not None:
            unit.session.rollback()  # no-op after a commit; undoes a failed worker
            unit.session.close()

    def ping(self):
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    def outbox_backlog(self):
        with Session(self.engine) as session:
            return messaging.backlog(session)


def databases_of(container):
    return [dep for dep in container.dependencies if isinstance(dep, Database)]


def commit_worker(worker_ctx):
    for database in databases_of(worker_ctx.container):
        database.commit(worker_ctx)


def due_rows(session, statement, limit=50):
    """Rows a scheduled job may act on now: locked for this transaction and skipped
    by any other replica running the same job (SQLite, single-process, ignores it)."""
    return session.scalars(statement.limit(limit).with_for_update(skip_locked=True)).all()
