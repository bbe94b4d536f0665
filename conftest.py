"""Shared test set-up: real RabbitMQ (a vhost of its own) and real PostgreSQL
(one database per service, migrated once per run, emptied between tests)."""
import eventlet

eventlet.monkey_patch()  # before anything imports sockets, or container tests hang

import os  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402

import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402

# Names of the test vhost and databases; set it to run two test sessions side by side.
TEST_NAMESPACE = os.environ.get("PINTUAN_TEST_NAMESPACE", "pintuan_test")
os.environ.setdefault("PINTUAN_ENV", "test")
os.environ.setdefault("PINTUAN_AMQP_URI", f"pyamqp://guest:guest@127.0.0.1:5672/{TEST_NAMESPACE}")
os.environ.setdefault("PINTUAN_EVENT_RETRY_DELAYS_MS", "200,400")
os.environ.setdefault("PINTUAN_OUTBOX_POLL_SECONDS", "0.2")
os.environ.setdefault("PINTUAN_RPC_TIMEOUT", "5")
os.environ.setdefault("PINTUAN_REDIS_PREFIX", TEST_NAMESPACE)
# Every test shopper calls from 127.0.0.1: per-IP limits would throttle the suite, so
# they are off here and tested on their own (tests/e2e/test_limits.py); per user stay on.
os.environ.setdefault("PINTUAN_RATE_LIMIT_LOGIN", "-,-")
os.environ.setdefault("PINTUAN_RATE_LIMIT_STAFF_LOGIN", "-,-")
os.environ.setdefault("PINTUAN_RATE_LIMIT_JOIN", "10/60,-")
os.environ.setdefault("PINTUAN_RATE_LIMIT_PAY", "10/60,-")
os.environ.setdefault("PINTUAN_RATE_LIMIT_UPLOAD", "30/60,-")

from plumbing import settings  # noqa: E402

for _service in settings.SERVICES:
    os.environ.setdefault(f"{_service.upper()}_DATABASE_URL",
                          f"postgresql+psycopg2://postgres@127.0.0.1:5432/{TEST_NAMESPACE}_{_service}")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ensure_database(url):
    url = sa.engine.make_url(url)
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                              {"n": url.database}).first()
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()


def _ensure_vhost():
    vhost = settings.amqp_uri().rsplit("/", 1)[-1]
    if vhost and vhost != "/":
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], capture_output=True)
        subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest",
                        ".*", ".*", ".*"], capture_output=True)


@pytest.fixture(scope="session")
def migrated():
    """Every service database exists and is at its newest migration; the vhost exists."""
    from plumbing import migrate
    _ensure_vhost()
    for service in settings.SERVICES:
        _ensure_database(settings.database_url(service))
        migrate.upgrade(service)
    return True


def end_other_sessions(engine):
    """Containers killed by a test may leave a connection idle in a transaction
    (their process lives on, unlike in production); its locks would block DDL."""
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        conn.commit()


def empty_database(service):
    engine = sa.create_engine(settings.database_url(service))
    end_other_sessions(engine)
    with engine.begin() as conn:
        tables = [row[0] for row in conn.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version'"))]
        if tables:
            conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                                 + " RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def databases(migrated):
    """Empty databases for every service, before the test."""
    for service in settings.SERVICES:
        empty_database(service)
    return {service: settings.database_url(service) for service in settings.SERVICES}


@pytest.fixture(scope="session")
def amqp_uri():
    _ensure_vhost()
    return settings.amqp_uri()


@pytest.fixture
def purge_queues(amqp_uri):
    """Empties every declared event queue, so a test sees only its own messages."""
    from kombu import Connection

    from plumbing import topology
    queues = topology.declare_all(amqp_uri)
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        for queue in queues:
            queue(channel).purge()
    return queues


@pytest.fixture
def service_config(amqp_uri):
    def make(name, **overrides):
        config = settings.nameko_config(name)
        config["WEB_SERVER_ADDRESS"] = f"127.0.0.1:{free_port()}"
        config.update(overrides)
        return config
    return make


@pytest.fixture
def start_service(container_factory, service_config, databases, purge_queues):
    """Starts a real service container (real broker, real PostgreSQL); returns it."""
    def start(name, **overrides):
        container = container_factory(settings.service_class(name), service_config(name, **overrides))
        container.start()
        return container
    return start


@pytest.fixture
def rpc(amqp_uri):
    """A standalone RPC client: `rpc.catalog.method(...)`."""
    from nameko.standalone.rpc import ClusterRpcProxy
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=10) as proxy:
        yield proxy


@pytest.fixture
def engine_of():
    """`engine_of("catalog")`: an engine on that service's test database, disposed after."""
    engines = []

    def make(service):
        engines.append(sa.create_engine(settings.database_url(service)))
        return engines[-1]
    yield make
    for engine in engines:
        engine.dispose()
