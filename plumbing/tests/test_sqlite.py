"""The embedded default under concurrent workers: SQLite gives the answers PostgreSQL
gives (no "database is locked", no lost update), and waiting never freezes the hub."""
import subprocess
import sys
import time

import eventlet
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from plumbing.db import make_engine

tables = sa.MetaData()
counters = sa.Table("counters", tables, sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("n", sa.Integer, nullable=False))


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'kit.db'}")
    tables.create_all(engine)
    with engine.begin() as conn:
        conn.execute(counters.insert().values(id=1, n=0))
    yield engine
    engine.dispose()


def count(engine):
    with engine.connect() as conn:
        return conn.execute(sa.select(counters.c.n)).scalar_one()


def read_then_write(engine):
    """A worker's usual shape: read, wait on something (an RPC), write what it read."""
    with Session(engine) as session, session.begin():
        seen = session.execute(sa.select(counters.c.n).where(counters.c.id == 1)).scalar_one()
        eventlet.sleep(0.001)
        session.execute(counters.update().values(n=seen + 1))


def test_concurrent_read_then_write_workers_all_land(engine):
    pool = eventlet.GreenPool(50)
    for _ in range(50):
        pool.spawn(read_then_write, engine)
    pool.waitall()  # any "database is locked" would surface here
    assert count(engine) == 50  # none lost: each saw what the one before committed


def test_a_failed_transaction_gives_the_turn_back(engine):
    with pytest.raises(ZeroDivisionError):
        with Session(engine) as session, session.begin():
            session.execute(counters.update().values(n=counters.c.n + 1))
            1 / 0
    read_then_write(engine)
    assert count(engine) == 1


def test_a_second_transaction_in_the_same_worker_fails_instead_of_hanging(engine):
    with engine.connect() as first:
        first.execute(sa.select(counters.c.n))
        with engine.connect() as second:
            with pytest.raises(RuntimeError, match="second transaction"):
                second.execute(sa.select(counters.c.n))


def test_another_process_writing_is_waited_for_without_freezing_the_hub(engine, tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys, time\n"
        f"c = sqlite3.connect({str(tmp_path / 'kit.db')!r}, isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE'); c.execute('UPDATE counters SET n = n + 100')\n"
        "print('holding', flush=True); time.sleep(0.6); c.execute('COMMIT')\n")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        ticks = []
        ticker = eventlet.spawn(lambda: [ticks.append(eventlet.sleep(0.02)) for _ in range(20)])
        started = time.monotonic()
        read_then_write(engine)
        waited, ticked_meanwhile = time.monotonic() - started, len(ticks)
        ticker.wait()
    finally:
        holder.wait(timeout=10)
    assert count(engine) == 101  # it waited for the other writer, then saw its write
    assert waited > 0.3
    assert ticked_meanwhile >= 5  # other greenlets ran while it waited (a frozen hub: 0-1)
