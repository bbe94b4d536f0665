"""What every service shares: request ids, metrics, `GET /health` and `GET /metrics`."""
import time

from kombu import Connection
from nameko.extensions import DependencyProvider
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from werkzeug.wrappers import Response

from plumbing import db, logs
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

    def _ping_broker(self):
        with Connection(self.container.config["AMQP_URI"], connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)

    def refresh_gauges(self):
        for database in db.databases_of(self.container):
            OUTBOX_BACKLOG.labels(self.container.service_name).set(database.outbox_backlog())


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
        return (200 if healthy else 503), {"status": "ok" if healthy else "unavailable",
                                           "service": self.name, "checks": results}

    @http("GET", "/metrics")
    def prometheus_metrics(self, request):
        try:
            self.checks.refresh_gauges()
        except Exception:  # metrics still served when the database is away
            pass
        return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
