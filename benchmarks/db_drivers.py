"""Which PostgreSQL driver should Pintuan's Nameko services use under eventlet?

Why this exists: every Nameko worker is an eventlet greenthread, so a driver that blocks the
eventlet hub stalls every other worker in the process. Speed alone is not enough; the driver
must also yield while it waits for PostgreSQL. This script compares
  (a) psycopg2 made green with psycogreen.eventlet.patch_psycopg(), and
  (b) pg8000 (pure Python, green through eventlet's monkey-patched socket)
through SQLAlchemy 2 engines (QueuePool, pool_size 10) on our workload shape:
  read   -- point read of a 1,000-row table by primary key;
  write  -- insert one outbox row + bump a hot counter row, commit;
  sleep  -- SELECT pg_sleep(0.005): a driver that blocks the hub takes as long with 10
            greenthreads as with 1; a green one overlaps the sleeps (up to 10x faster, less
            once the process's own CPU per query is the limit);
each with 1 and with 10 concurrent greenthreads and a fixed number of operations.

Run:  .venv/bin/python benchmarks/db_drivers.py [--write docs/performance.md]
Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth). Creates and drops the scratch
database pintuan_bench. Each driver runs in its own subprocess, because psycogreen's patch is
process-global. --write replaces only the "## PostgreSQL driver under eventlet" section; the
hand-written conclusion in that section must be re-written after a re-run.
"""
import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import psycopg2  # noqa: E402
from psycogreen.eventlet import patch_psycopg  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.pool import QueuePool  # noqa: E402

PG = dict(host="127.0.0.1", port=5432, user="postgres")
BENCH_DB = "pintuan_bench"
DRIVERS = {  # id -> (label, SQLAlchemy URL scheme)
    "psycopg2": ("psycopg2 + psycogreen", "postgresql+psycopg2"),
    "pg8000": ("pg8000", "postgresql+pg8000"),
}
CONCURRENCY = (1, 10)
OPS = {"read": 2000, "write": 2000, "sleep": 400}  # total operations per run
SECTION = "## PostgreSQL driver under eventlet"

SCHEMA = """
CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price_cents int NOT NULL,
                    stock int NOT NULL);
INSERT INTO items SELECT i, 'item ' || i, 100 * i, 50 FROM generate_series(1, 1000) i;
CREATE TABLE counter (id int PRIMARY KEY, n bigint NOT NULL);
INSERT INTO counter VALUES (1, 0);
CREATE TABLE outbox (id bigserial PRIMARY KEY, topic text NOT NULL, payload jsonb NOT NULL,
                     created_at timestamptz NOT NULL DEFAULT now());
"""


# --- scratch database (parent process) -------------------------------------------------------

def admin_execute(dbname, sql):
    conn = psycopg2.connect(dbname=dbname, **PG)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def create_bench_db():
    admin_execute("postgres", f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    admin_execute("postgres", f"CREATE DATABASE {BENCH_DB}")
    admin_execute(BENCH_DB, SCHEMA)


def drop_bench_db():
    admin_execute("postgres", f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


# --- workloads (child process, one driver) ---------------------------------------------------

def op_read(engine, rng):
    with engine.begin() as conn:
        conn.execute(text("SELECT id, name, price_cents, stock FROM items WHERE id = :id"),
                     {"id": rng.randint(1, 1000)}).one()


def op_write(engine, rng):
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO outbox (topic, payload) VALUES (:t, CAST(:p AS jsonb))"),
                     {"t": "group.joined", "p": json.dumps({"item": rng.randint(1, 1000)})})
        conn.execute(text("UPDATE counter SET n = n + 1 WHERE id = 1 AND n < 1000000000"))


def op_sleep(engine, rng):
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_sleep(0.005)")).one()


WORKLOADS = {"read": op_read, "write": op_write, "sleep": op_sleep}


def percentile(sorted_values, q):
    return sorted_values[min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1)))]


def run_workload(engine, op, total_ops, concurrency):
    """Run total_ops calls of op spread over `concurrency` greenthreads; time each call."""
    latencies = []

    def worker(seed, n):
        rng = random.Random(seed)
        for _ in range(n):
            t0 = time.perf_counter()
            op(engine, rng)
            latencies.append(time.perf_counter() - t0)

    start = time.perf_counter()
    threads = [eventlet.spawn(worker, i, total_ops // concurrency) for i in range(concurrency)]
    for t in threads:
        t.wait()  # re-raises a worker's exception
    wall = time.perf_counter() - start
    latencies.sort()
    return {"ops": len(latencies), "wall_s": wall, "ops_s": len(latencies) / wall,
            "p50_ms": 1000 * percentile(latencies, 0.50),
            "p99_ms": 1000 * percentile(latencies, 0.99)}


def measure_driver(driver):
    """Child process: patch if needed, build the engine, run every workload; return rows."""
    if driver == "psycopg2":
        # Process-global wait callback: psycopg2 yields to the hub while waiting on the server.
        # (eventlet.monkey_patch() installs an identical one by default; this makes it explicit.)
        patch_psycopg()
    scheme = DRIVERS[driver][1]
    engine = create_engine(f"{scheme}://{PG['user']}@{PG['host']}:{PG['port']}/{BENCH_DB}",
                           poolclass=QueuePool, pool_size=10, max_overflow=0)
    with engine.begin() as conn:  # same starting state for each driver
        conn.execute(text("TRUNCATE outbox; UPDATE counter SET n = 0 WHERE id = 1"))
    run_workload(engine, op_read, 200, 10)  # warm-up: open all 10 pooled connections
    rows = []
    for name, op in WORKLOADS.items():
        for concurrency in CONCURRENCY:
            result = run_workload(engine, op, OPS[name], concurrency)
            rows.append({"driver": driver, "workload": name, "concurrency": concurrency,
                         **result})
    engine.dispose()
    return rows


# --- report (parent process) -----------------------------------------------------------------

def run_all():
    create_bench_db()
    try:
        rows = []
        for driver in DRIVERS:
            out = subprocess.run([sys.executable, os.path.abspath(__file__), "--driver", driver],
                                 check=True, capture_output=True, text=True).stdout
            rows += json.loads(out)
        return rows
    finally:
        drop_bench_db()


def markdown_table(rows):
    lines = ["| Driver | Workload | Greenthreads | Ops | Wall (s) | ops/s | p50 (ms) | p99 (ms) |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {DRIVERS[r['driver']][0]} | {r['workload']} | {r['concurrency']} | "
                     f"{r['ops']} | {r['wall_s']:.2f} | {r['ops_s']:,.0f} | "
                     f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} |")
    return "\n".join(lines)


def hub_check(rows):
    """One line per driver: pg_sleep wall time, 1 vs 10 greenthreads.

    A driver that blocks the hub serialises the 10 greenthreads (~1x); a green one overlaps the
    sleeps, up to 10x, less when the Python side's CPU per query becomes the limit.
    """
    lines = []
    for driver, (label, _) in DRIVERS.items():
        wall = {r["concurrency"]: r["wall_s"] for r in rows
                if r["driver"] == driver and r["workload"] == "sleep"}
        speedup = wall[1] / wall[10]
        verdict = "hub not blocked" if speedup >= 2 else "BLOCKS THE HUB"
        lines.append(f"- {label}: {wall[1]:.2f} s with 1 greenthread, {wall[10]:.2f} s with 10"
                     f" ({speedup:.1f}x): {verdict}.")
    return "\n".join(lines)


def section(rows, date, machine):
    return (f"{SECTION}\n\n"
            f"Measured {date} on {machine} by `benchmarks/db_drivers.py` (SQLAlchemy 2 QueuePool,"
            f" pool_size 10; ops = total operations; read = PK lookup in 1,000 rows,"
            f" write = outbox insert + hot counter update + commit, sleep = `pg_sleep(0.005)`).\n\n"
            f"{markdown_table(rows)}\n\n"
            f"Hub check, `pg_sleep` wall time with 1 vs 10 greenthreads (a driver that blocks the"
            f" hub stays at ~1x; a green one overlaps the sleeps, up to 10x, less once the"
            f" process's CPU per query is the limit, cf. the 10-greenthread read ops/s):\n\n"
            f"{hub_check(rows)}\n")


def write_section(path, text_):
    """Replace (or append) our section in the Markdown file; other sections stay intact."""
    p = Path(path)
    doc = p.read_text() if p.exists() else "# Performance\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(doc):
        doc = pattern.sub(lambda _: text_.rstrip() + "\n\n", doc, count=1)
    else:
        doc = doc.rstrip() + "\n\n" + text_
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(doc.rstrip() + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--driver", choices=DRIVERS, help=argparse.SUPPRESS)  # child mode
    parser.add_argument("--write", metavar="MARKDOWN_FILE")
    parser.add_argument("--date", default=datetime.date.today().isoformat())
    parser.add_argument("--machine", default=f"{os.cpu_count()} cores, PostgreSQL on "
                                             f"{PG['host']}")
    args = parser.parse_args()
    if args.driver:
        print(json.dumps(measure_driver(args.driver)))
        return
    text_ = section(run_all(), args.date, args.machine)
    print(text_)
    if args.write:
        write_section(args.write, text_)


if __name__ == "__main__":
    main()
