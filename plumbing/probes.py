"""What every service shares: request ids, metrics, `GET /health`, `GET /metrics` and
the `ping` RPC."""
import time

import sqlalchemy as sa
from kombu import Connection
from nameko.extensions import DependencyProvider
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from werkzeug.wrappers import Response

from plumbing import db, logs
from plumbing.entrypoints import rpc
from plumbing.web import http

REQUESTS = Counter("pintuan_worker_total", "Entrypoint calls handled",
                   ["service", "entrypoint", "outcome"])
LATENCY = Histogram("pintuan_worker_seconds", "Entrypoint latency", ["service", "entrypoint"],
                    buckets=(.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
OUTBOX_BACKLOG = Gauge("pintuan_outbox_backlog", "Outbox events not yet published", ["service"])


class Metrics(DependencyProvider):
    """Counts and times every entrypoint call of the service."""

    def __init__(self):
        self.started = {}

    def worker_setup(self, worker_ctx):
        self.started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self.started.pop(worker_ctx, None)
        if started is None:
            return
        service, entrypoint = self.container.service_name, worker_ctx.entrypoint.method_name
        LATENCY.labels(service, entrypoint).observe(time.perf_counter() - started)
        REQUESTS.labels(service, entrypoint, "error" if exc_info else "ok").inc()


class Checks(DependencyProvider):
    """Reachability of this service's database(s) and of the broker."""

    def get_dependency(self, worker_ctx):
        return self

    def run(self):
        results = {}
        for database in db.databases_of(self.container):
            results["database"] = _outcome(database.ping)
        results["broker"] = _outcome(self._ping_broker)
        return results

    def identity(self):
        """Which database and broker vhost this process uses, without credentials: a
        replica started on the wrong database (or another stack's vhost) shows here."""
        databases = [database_name(database.engine.url) for database in db.databases_of(self.container)]
        host, vhost = broker_address(self.container.config["AMQP_URI"])
        return {"service": self.container.service_name,
                "database": databases[0] if databases else None, "broker": host, "vhost": vhost}

    def _ping_broker(self):
        with Connection(self.container.config["AMQP_URI"], connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)

    def refresh_gauges(self):
        for database in db.databases_of(self.container):
            OUTBOX_BACKLOG.labels(self.container.service_name).set(database.outbox_backlog())


def database_name(url):
    """`postgresql://127.0.0.1:5432/pintuan_orders`, `sqlite:///…/var/orders.db`: the URL
    without user, password, driver or query (which may carry a password too)."""
    url = sa.engine.make_url(url)
    return sa.engine.URL.create(url.get_backend_name(), host=url.host, port=url.port,
                                database=url.database).render_as_string()


def broker_address(amqp_uri):
    """(`host:port`, vhost) of a broker URI, without its credentials."""
    conn = Connection(amqp_uri)
    return f"{conn.hostname}:{conn.port or conn.transport.default_port}", conn.virtual_host


def _outcome(check):
    try:
        check()
        return "ok"
    except Exception as exc:  # the probe reports, it never raises
        return f"down: {type(exc).__name__}"


class ServiceBase:
    """Inherit to get probes; set `name` and, for a database, `db = Database()`."""
    name = None
    request_id = logs.RequestContext()
    metrics = Metrics()
    checks = Checks()

    @http("GET", "/health")
    def health(self, request):
        results = self.checks.run()
        healthy = all(value == "ok" for value in results.values())
        return (200 if healthy else 503), {**self.checks.identity(), "checks": results,
                                           "status": "ok" if healthy else "unavailable"}

    @rpc
    def ping(self):
        """Answers once the service consumes its RPC queue (`./dev up` waits for it), with
        the same identity as /health, so the answer shows whose stack it came from."""
        return self.checks.identity()

    @http("GET", "/metrics")
    def prometheus_metrics(self, request):
        try:
            self.checks.refresh_gauges()
        except Exception:  # metrics still served when the database is away
            pass
        return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
