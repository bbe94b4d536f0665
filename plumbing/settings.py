"""Settings from environment variables, with defaults for the local run.

Every variable is documented in README.md ("Settings"). Reading happens at call
time so tests can change the environment before starting a container.
"""
import os
from pathlib import Path

SERVICES = ("accounts", "catalog", "teams", "orders", "payments", "promotions", "notify",
            "reviews")
# PINTUAN_PORT_OFFSET moves every port at once: test runs side by side on one machine
# (each with its own namespace) must not meet on 8000.
_OFFSET = int(os.environ.get("PINTUAN_PORT_OFFSET") or 0)
PORTS = {name: port + _OFFSET for name, port in {
    "gateway": 8000, "accounts": 8001, "catalog": 8002, "teams": 8003,
    "orders": 8004, "payments": 8005, "promotions": 8006, "notify": 8007,
    "reviews": 8008}.items()}

ROOT = Path(__file__).resolve().parent.parent


def env(name, default=None):
    value = os.environ.get(name)
    return default if value in (None, "") else value


def environment():
    """dev (local run), test, or production. Sandboxes and demo data only outside production."""
    value = env("PINTUAN_ENV", "dev")
    if value not in ("dev", "test", "production"):
        raise ValueError(f"PINTUAN_ENV must be dev, test or production, not {value!r}")
    return value


def is_production():
    return environment() == "production"


def var_dir():
    path = Path(env("PINTUAN_VAR_DIR", str(ROOT / "var")))
    path.mkdir(parents=True, exist_ok=True)
    return path


def media_dir():
    """Where uploaded images are kept (`PINTUAN_MEDIA_DIR`, else var/media). Replicas of
    catalog must share it (a shared volume), or each serves only what it received."""
    path = Path(env("PINTUAN_MEDIA_DIR", str(var_dir() / "media")))
    path.mkdir(parents=True, exist_ok=True)
    return path


def max_image_bytes():
    """The largest image upload accepted (`PINTUAN_MAX_IMAGE_BYTES`, 5 MB)."""
    return int(env("PINTUAN_MAX_IMAGE_BYTES", str(5 * 1024 * 1024)))


def public_base_url():
    """Where shoppers reach the gateway (`PINTUAN_PUBLIC_BASE_URL`, e.g. https://shop.example):
    share links and QR codes are built from it, never from a request's Host header."""
    return env("PINTUAN_PUBLIC_BASE_URL", f"http://127.0.0.1:{PORTS['gateway']}").rstrip("/")


def database_url(service):
    """`<SERVICE>_DATABASE_URL`, else a SQLite file under var/."""
    url = env(f"{service.upper()}_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{var_dir() / (service + '.db')}"


def amqp_uri():
    return env("PINTUAN_AMQP_URI", "pyamqp://guest:guest@127.0.0.1:5672//")


def rpc_timeout():
    return float(env("PINTUAN_RPC_TIMEOUT", "10"))


def retry_delays_ms():
    """Backoff before each redelivery of a failed event; after the last, the dead-letter queue."""
    raw = env("PINTUAN_EVENT_RETRY_DELAYS_MS", "1000,5000,30000,120000")
    return [int(part) for part in raw.split(",") if part.strip()]


def outbox_poll_seconds():
    return float(env("PINTUAN_OUTBOX_POLL_SECONDS", "1.0"))


def scheduler_interval():
    """How often timers look for due rows (team deadlines, payment windows, deliveries)."""
    return float(env("PINTUAN_SCHEDULER_INTERVAL", "0.5"))


def max_workers():
    return int(env("PINTUAN_MAX_WORKERS", "10"))


def web_address(service):
    port = env(f"{service.upper()}_PORT", str(PORTS.get(service, 0)))
    return f"{env('PINTUAN_BIND_HOST', '0.0.0.0')}:{port}"


def redis_url():
    """Where the gateway keeps its rate-limit counters (shared by every replica)."""
    return env("PINTUAN_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_prefix():
    """Keys start with this, so two test runs (or shops) on one Redis do not meet."""
    return env("PINTUAN_REDIS_PREFIX", "pintuan")


def log_level():
    return env("PINTUAN_LOG_LEVEL", "INFO")


def nameko_config(service):
    return {
        "AMQP_URI": amqp_uri(),
        "WEB_SERVER_ADDRESS": web_address(service),
        "max_workers": max_workers(),
        "SERIALIZER": "json",
        "HEARTBEAT": 60,
    }


def slow_start_seconds(service):
    """Test knob `PINTUAN_SLOW_START_SECONDS`: "3" delays every process's start by 3 s,
    "catalog=6,teams=2" only those named (a cold machine, for `./dev up`'s tests)."""
    delays = {}
    for part in env("PINTUAN_SLOW_START_SECONDS", "").split(","):
        name, _, seconds = part.strip().rpartition("=")
        if seconds:
            delays[name or "*"] = float(seconds)
    return delays.get(service, delays.get("*", 0.0))


def start_timeout_seconds():
    """How long `./dev up` waits for every process to answer before it gives up."""
    return float(env("PINTUAN_START_TIMEOUT_SECONDS", "120"))


def fault(name):
    """Fault injection switch for the crash tests; ignored in production."""
    return not is_production() and env("PINTUAN_FAULT") == name


SERVICE_CLASSES = {
    "accounts": "services.accounts.service:AccountsService",
    "catalog": "services.catalog.service:CatalogService",
    "teams": "services.teams.service:TeamsService",
    "orders": "services.orders.service:OrdersService",
    "payments": "services.payments.service:PaymentsService",
    "promotions": "services.promotions.service:PromotionsService",
    "notify": "services.notify.service:NotifyService",
    "reviews": "services.reviews.service:ReviewsService",
    "gateway": "gateway.service:GatewayService",
}


def service_class(name):
    import importlib
    module_name, class_name = SERVICE_CLASSES[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)


def health_url(service):
    """Where ops can read a service's /health (the gateway's ops view collects them)."""
    return env(f"{service.upper()}_HEALTH_URL", f"http://127.0.0.1:{PORTS[service]}/health")
