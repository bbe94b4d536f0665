"""Structured JSON logs carrying the request id of the worker that wrote them.

The request id starts at the gateway (or is taken from an `X-Request-Id` header),
travels in Nameko context data through RPC, and in event headers through the
outbox, so one shopper action can be followed across services.
"""
import contextvars
import logging
import logging.config
import uuid

from nameko.extensions import DependencyProvider
from pythonjsonlogger.json import JsonFormatter

from plumbing import settings

REQUEST_ID_KEY = "request_id"
current_request_id = contextvars.ContextVar("request_id", default=None)
_service_name = {"value": None}


class ContextFilter(logging.Filter):
    def filter(self, record):
        record.service = _service_name["value"]
        record.request_id = current_request_id.get()
        return True


def configure(service):
    _service_name["value"] = service
    logging.config.dictConfig({
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"json": {
            "()": JsonFormatter,
            "fmt": "%(asctime)s %(levelname)s %(name)s %(service)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }},
        "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json",
                                "filters": ["context"]}},
        "root": {"level": settings.log_level(), "handlers": ["stdout"]},
        # nameko.containers logs every expected refusal (a 4xx) with a traceback at
        # WARNING; those are answers, not faults. Unexpected errors are ERROR and stay.
        "loggers": {"nameko": {"level": "WARNING"}, "nameko.containers": {"level": "ERROR"},
                    "kombu": {"level": "WARNING"}, "amqp": {"level": "WARNING"}},
    })


def new_request_id():
    return uuid.uuid4().hex


class RequestContext(DependencyProvider):
    """Gives every worker a request id (inherited or new) and exposes it to logs."""

    def worker_setup(self, worker_ctx):
        request_id = worker_ctx.data.get(REQUEST_ID_KEY) or new_request_id()
        worker_ctx.data[REQUEST_ID_KEY] = request_id
        current_request_id.set(request_id)

    def get_dependency(self, worker_ctx):
        return worker_ctx.data.get(REQUEST_ID_KEY)
