"""The kit's promises, on the real broker and PostgreSQL: an event is written
with its state change or not at all, published at least once, applied at most
once, retried and dead-lettered rather than dropped; RPC calls are bounded."""

import eventlet
import pytest
import requests
import sqlalchemy as sa
from kombu import Connection, Exchange, Queue
from nameko.amqp.publish import Publisher

from conftest import TEST_NAMESPACE, _ensure_database, end_other_sessions
from plumbing import deadletters, messaging
from plumbing.db import Database, due_rows
from plumbing.entrypoints import event_handler, queue_names, rpc, timer
from plumbing.errors import Conflict, Unavailable
from plumbing.probes import ServiceBase
from plumbing.rpc import RemoteService

EMITTER_DB = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{TEST_NAMESPACE}_kit_emitter"
LISTENER_DB = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{TEST_NAMESPACE}_kit_listener"
MAIN_QUEUE, _, DLQ = queue_names("kitemitter", "noted", "kitlistener", "on_noted")

kit_tables = sa.MetaData()
notes = sa.Table("notes", kit_tables, sa.Column("value", sa.String(50)))
seen = sa.Table("seen", kit_tables, sa.Column("event_id", sa.String(36)),
                sa.Column("value", sa.String(50)))
jobs = sa.Table("jobs", kit_tables, sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("runs", sa.Integer, nullable=False, default=0))
LISTENER_FAILURES = {"remaining": 0}


class Noted:
    """An event as the kit sees a declared one (the services' come from contract.events)."""
    source, name, event_version = "kitemitter", "noted", 1

    def __init__(self, value):
        self.value = value

    def to_data(self):
        return {"value": self.value}

    @classmethod
    def from_data(cls, data):
        return cls(data["value"])

    @classmethod
    def key(cls):
        return f"{cls.source}.{cls.name}"


class Emitter(ServiceBase):
    name = "kitemitter"
    db = Database()

    @rpc
    def record(self, value, fail=False):
        self.db.session.execute(notes.insert().values(value=value))
        self.db.emit(Noted(value))
        if fail:
            raise Conflict("asked_to_fail", "The test asked this call to fail.")
        return value

    @rpc
    def slow(self, seconds):
        eventlet.sleep(seconds)
        return "late"


class Listener(ServiceBase):
    name = "kitlistener"
    db = Database()
    emitter = RemoteService("kitemitter", timeout=0.5)
    nobody = RemoteService("kitnobody", timeout=0.5)

    @event_handler(Noted)
    def on_noted(self, event):
        if LISTENER_FAILURES["remaining"]:
            LISTENER_FAILURES["remaining"] -= 1
            raise RuntimeError("simulated handler failure")
        self.db.session.execute(seen.insert().values(event_id=event.id, value=event.data.value))

    @rpc
    def ask_slow_emitter(self):
        return self.emitter.slow(2)

    @rpc
    def ask_emitter_side_by_side(self, seconds):
        """Two calls sent together, then waited for (each wait bounded like a plain call)."""
        first, second = self.emitter.slow.call_async(seconds), self.emitter.slow.call_async(0)
        return [first.result(), second.result()]

    @rpc
    def ask_missing_service(self):
        return self.nobody.anything()


class Scheduler(ServiceBase):
    """Runs as two replicas: each due job must still run exactly once."""
    name = "kitemitter"
    db = Database(relay=False)

    @timer(0.05)
    def run_due_jobs(self):
        for job_id in due_rows(self.db.session, sa.select(jobs.c.id).where(jobs.c.runs == 0), 20):
            self.db.session.execute(jobs.update().where(jobs.c.id == job_id)
                                    .values(runs=jobs.c.runs + 1))


@pytest.fixture
def kit_dbs(monkeypatch, amqp_uri):
    monkeypatch.setenv("KITEMITTER_DATABASE_URL", EMITTER_DB)
    monkeypatch.setenv("KITLISTENER_DATABASE_URL", LISTENER_DB)
    LISTENER_FAILURES["remaining"] = 0
    engines = {}
    for name, url in (("emitter", EMITTER_DB), ("listener", LISTENER_DB)):
        _ensure_database(url)
        engine = sa.create_engine(url)
        end_other_sessions(engine)
        kit_tables.drop_all(engine)
        messaging.metadata.drop_all(engine)
        kit_tables.create_all(engine)
        messaging.metadata.create_all(engine)
        engines[name] = engine
    _purge(amqp_uri, [MAIN_QUEUE, DLQ])
    yield engines
    for engine in engines.values():
        engine.dispose()


def _purge(amqp_uri, names):
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        for name in names:
            try:
                channel.queue_purge(name)
            except Exception:
                channel = conn.channel()  # queue not declared yet: nothing to purge


def _rows(engine, table):
    with engine.connect() as conn:
        return conn.execute(sa.select(table)).all()


def _eventually(check, timeout=10):
    deadline = eventlet.Timeout(timeout, False)
    with deadline:
        while not check():
            eventlet.sleep(0.05)
        return True
    return check()


@pytest.fixture
def start(container_factory, service_config):
    def start_(cls, **overrides):
        container = container_factory(cls, service_config(cls.name, **overrides))
        container.start()
        return container
    return start_


def test_event_is_published_with_its_state_change_and_applied(kit_dbs, start, rpc):
    start(Listener)
    start(Emitter)
    assert rpc.kitemitter.record("苹果") == "苹果"
    assert _eventually(lambda: len(_rows(kit_dbs["listener"], seen)) == 1)
    assert _rows(kit_dbs["listener"], seen)[0].value == "苹果"
    assert _eventually(lambda: messaging.backlog(sa.orm.Session(kit_dbs["emitter"])) == 0)


def test_failed_call_writes_neither_state_nor_event(kit_dbs, start, rpc):
    start(Emitter)
    with pytest.raises(Conflict) as raised:
        rpc.kitemitter.record("x", fail=True)
    assert raised.value.code == "asked_to_fail"
    assert _rows(kit_dbs["emitter"], notes) == []
    assert _rows(kit_dbs["emitter"], messaging.outbox) == []


def test_redelivered_event_is_applied_once(kit_dbs, start, amqp_uri):
    start(Listener)
    envelope = {"event_id": "11111111-1111-1111-1111-111111111111", "type": "noted",
                "occurred_at": None, "data": {"value": "twice"}}
    publisher = Publisher(amqp_uri)
    for _ in range(3):
        publisher.publish(envelope, exchange=Exchange("kitemitter.events", type="topic"),
                          routing_key="noted")
    eventlet.sleep(1.0)
    assert [row.value for row in _rows(kit_dbs["listener"], seen)] == ["twice"]


def test_failing_handler_is_retried_until_it_succeeds(kit_dbs, start, rpc):
    LISTENER_FAILURES["remaining"] = 2  # two retries are configured for tests
    start(Listener)
    start(Emitter)
    rpc.kitemitter.record("eventually")
    assert _eventually(lambda: len(_rows(kit_dbs["listener"], seen)) == 1)
    assert LISTENER_FAILURES["remaining"] == 0


def _depth(amqp_uri, queue):
    with Connection(amqp_uri) as conn:
        return conn.channel().queue_declare(queue, passive=True).message_count


def test_handler_that_keeps_failing_is_dead_lettered_then_replayed(kit_dbs, start, rpc, amqp_uri):
    LISTENER_FAILURES["remaining"] = 10**6
    start(Listener)
    start(Emitter)
    rpc.kitemitter.record("parked")
    assert _eventually(lambda: _depth(amqp_uri, DLQ) == 1)
    assert _rows(kit_dbs["listener"], seen) == []
    [parked] = deadletters.peek(amqp_uri, DLQ)
    assert "simulated handler failure" in parked["headers"]["x-pintuan-error"]
    assert _depth(amqp_uri, DLQ) == 1  # peeking leaves it there

    LISTENER_FAILURES["remaining"] = 0  # "the cause is fixed"
    assert deadletters.replay(amqp_uri, DLQ) == 1
    assert _eventually(lambda: len(_rows(kit_dbs["listener"], seen)) == 1)
    assert _depth(amqp_uri, DLQ) == 0


def test_event_of_an_unknown_version_waits_in_the_dead_letters(kit_dbs, start, amqp_uri):
    start(Listener)
    newer = {"event_id": "22222222-2222-2222-2222-222222222222", "type": "noted",
             "version": 2, "occurred_at": None, "data": {"value": "from the future"}}
    Publisher(amqp_uri).publish(newer, exchange=Exchange("kitemitter.events", type="topic"),
                                routing_key="noted")
    assert _eventually(lambda: _depth(amqp_uri, DLQ) == 1)
    [parked] = deadletters.peek(amqp_uri, DLQ)
    assert "version 2" in parked["headers"]["x-pintuan-error"]
    assert _rows(kit_dbs["listener"], seen) == []


def test_two_replicas_publish_each_outbox_row_once(kit_dbs, start, amqp_uri):
    tap = Queue("kit-tap", exchange=Exchange("kitemitter.events", type="topic"),
                routing_key="noted", durable=False, auto_delete=False)
    with Connection(amqp_uri) as conn:
        tap(conn.channel()).declare()
        conn.channel().queue_purge("kit-tap")
    with sa.orm.Session(kit_dbs["emitter"]) as session, session.begin():
        for i in range(300):
            messaging.add_event(session, Noted(str(i)))
    start(Emitter)
    start(Emitter)
    assert _eventually(lambda: messaging.backlog(sa.orm.Session(kit_dbs["emitter"])) == 0, 20)
    ids = []
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        while (message := channel.basic_get("kit-tap", no_ack=True)) is not None:
            ids.append(message.headers["nameko.event_id"])
        channel.queue_delete("kit-tap")
    assert len(ids) == 300
    assert len(set(ids)) == 300


def test_rpc_to_a_slow_or_absent_service_gives_up_with_unavailable(kit_dbs, start, rpc):
    start(Emitter)
    start(Listener)
    with pytest.raises(Unavailable) as slow:
        rpc.kitlistener.ask_slow_emitter()
    assert slow.value.code == "service_timeout"
    assert rpc.kitlistener.ask_emitter_side_by_side(0.1) == ["late", "late"]
    with pytest.raises(Unavailable) as slow_side_by_side:
        rpc.kitlistener.ask_emitter_side_by_side(2)
    assert slow_side_by_side.value.code == "service_timeout"
    with pytest.raises(Unavailable) as missing:
        rpc.kitlistener.ask_missing_service()
    assert missing.value.code == "service_unavailable"


def test_http_errors_are_json_and_health_reports_a_dead_database(kit_dbs, start, monkeypatch):
    container = start(Emitter)
    base = "http://{}:{}".format(*container.config["WEB_SERVER_ADDRESS"].split(":"))
    assert requests.get(base + "/health").json()["checks"] == {"database": "ok", "broker": "ok"}
    missing = requests.get(base + "/no-such-route")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "route_not_found"
    wrong = requests.delete(base + "/health")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
    assert "pintuan_worker_total" in requests.get(base + "/metrics").text

    monkeypatch.setenv("KITEMITTER_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:1/none")
    broken = start(Emitter)
    url = "http://{}:{}/health".format(*broken.config["WEB_SERVER_ADDRESS"].split(":"))
    answer = requests.get(url)
    assert answer.status_code == 503
    assert answer.json()["checks"]["database"].startswith("down")
    assert answer.json()["checks"]["broker"] == "ok"


def test_a_timer_in_two_replicas_runs_each_due_job_once(kit_dbs, start):
    with kit_dbs["emitter"].begin() as conn:
        conn.execute(jobs.insert(), [{"id": i, "runs": 0} for i in range(1, 401)])
    start(Scheduler)
    start(Scheduler)
    assert _eventually(lambda: all(row.runs for row in _rows(kit_dbs["emitter"], jobs)), 20)
    eventlet.sleep(0.3)
    assert {row.runs for row in _rows(kit_dbs["emitter"], jobs)} == {1}


def test_a_reply_lost_to_a_broker_outage_does_not_kill_the_service(monkeypatch):
    """Nameko would let the failed reply publish end the container; the work is committed
    and the caller retries, so the entrypoint logs it and the service stays up."""
    from kombu.exceptions import OperationalError
    from nameko.rpc import Rpc

    from plumbing.entrypoints import TransactionalRpc

    def broker_down(self, message, worker_ctx, result, exc_info):
        raise OperationalError("[Errno 111] ECONNREFUSED")

    monkeypatch.setattr(Rpc, "handle_result", broker_down)
    monkeypatch.setattr("plumbing.entrypoints._commit_then", lambda ctx, result, exc: (result, exc))
    entrypoint = TransactionalRpc.__new__(TransactionalRpc)
    assert entrypoint.handle_result(None, "worker", {"ok": 1}, None) == ({"ok": 1}, None)


def test_a_call_while_the_broker_is_down_is_unavailable_not_an_error():
    from plumbing.rpc import _TimedMethod

    class Refused:
        service_name = "catalog"

        def call_async(self, *args, **kwargs):
            raise ConnectionRefusedError(111, "ECONNREFUSED")

    with pytest.raises(Unavailable) as refused:
        _TimedMethod(Refused(), timeout=1)()
    assert refused.value.code == "broker_unavailable" and refused.value.status == 503
