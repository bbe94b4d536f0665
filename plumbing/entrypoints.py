"""Nameko entrypoints that commit before they answer, and never drop an event.

- `rpc`: commits the worker's transaction, then replies. Typed `AppError`s are
  expected outcomes (logged as warnings), anything else is a bug.
- `event_handler`: applies an event at most once per handler (inbox), commits,
  then acks. A handler that raises is redelivered after a growing delay (one
  TTL'd retry queue per delay, dead-lettering back into the handler's queue),
  and after the last delay the message goes to `<queue>.dlq`, where
  `./dev deadletters` lists and replays it.
"""
import functools
import logging
import sys
import traceback
from collections import namedtuple

import eventlet
from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu import Exchange, Queue
from kombu.exceptions import OperationalError as KombuOperationalError
from nameko.amqp.publish import Publisher
from nameko.events import EventHandler
from nameko.messaging import QueueConsumer
from nameko.rpc import Rpc
from nameko.standalone.events import get_event_exchange
from nameko.timer import Timer
from sqlalchemy import exc as sa_exc

from plumbing import db, settings
from plumbing.errors import AppError, Unavailable

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-pintuan-attempt"
DEFAULT_EXCHANGE = Exchange("")
# What a publish raises while RabbitMQ is down or restarting.
BROKER_ERRORS = (KombuOperationalError, AmqpConnectionError, ConnectionError, OSError)

Event = namedtuple("Event", "id type occurred_at data")


def _commit_then(worker_ctx, result, exc_info):
    if exc_info is None:
        try:
            db.commit_worker(worker_ctx)
        except Exception:
            log.exception("commit failed for %s", worker_ctx)
            return None, sys.exc_info()
    return result, exc_info


# What SQLAlchemy raises when the database cannot be reached or the connection drops
# (PostgreSQL restarting, a network cut, a full pool): the caller may retry.
DATABASE_UNREACHABLE = (sa_exc.OperationalError, sa_exc.InterfaceError,
                        sa_exc.DisconnectionError, sa_exc.TimeoutError)
# SQLite reports its own schema faults as OperationalError too: those are bugs.
_SQLITE_BUGS = ("no such table", "no such column", "syntax error")


def database_unreachable(exc):
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, DATABASE_UNREACHABLE) and \
        not any(text in str(exc) for text in _SQLITE_BUGS)


def as_app_error(exc):
    """The error a caller should get for `exc`: a lost database connection is the
    typed 503 `database_unavailable` (it crosses RPC as such), anything else as it is."""
    if database_unreachable(exc):
        log.warning("database unreachable: %s", str(exc).splitlines()[0])
        return Unavailable("database_unavailable",
                           "The service's database is not reachable at the moment; retry.")
    return exc


def answer_of(worker_ctx, result, exc_info):
    """What an RPC or HTTP entrypoint replies: committed first, errors typed."""
    result, exc_info = _commit_then(worker_ctx, result, exc_info)
    if exc_info is not None:
        error = as_app_error(exc_info[1])
        if error is not exc_info[1]:
            exc_info = (type(error), error, exc_info[2])
    return result, exc_info


class TransactionalRpc(Rpc):
    def __init__(self, expected_exceptions=AppError, **kwargs):
        super().__init__(expected_exceptions=expected_exceptions, **kwargs)

    def handle_result(self, message, worker_ctx, result, exc_info):
        result, exc_info = answer_of(worker_ctx, result, exc_info)
        try:
            return super().handle_result(message, worker_ctx, result, exc_info)
        except BROKER_ERRORS as exc:
            # Nameko lets a failed reply kill the whole container. The work is committed;
            # the caller times out and retries (idempotently), and the unacked request is
            # redelivered once the broker is back: log it, keep the service up.
            log.warning("reply of %s lost, the broker is unreachable: %s", worker_ctx, exc)
            return result, exc_info


rpc = TransactionalRpc.decorator


def queue_names(source_service, event_type, service_name, method_name):
    """Nameko's SERVICE_POOL queue name, and its retry and dead-letter queues."""
    main = f"evt-{source_service}-{event_type}--{service_name}.{method_name}"
    retries = [f"{main}.retry.{delay}" for delay in settings.retry_delays_ms()]
    return main, retries, f"{main}.dlq"


def handler_queues(source_service, event_type, service_name, method_name, config):
    """Every queue an event handler needs, declared identically by topology and at start."""
    main, retries, dlq = queue_names(source_service, event_type, service_name, method_name)
    exchange = get_event_exchange(source_service, config)
    queues = [Queue(main, exchange=exchange, routing_key=event_type, durable=True,
                    auto_delete=False, exclusive=False)]
    for name, delay in zip(retries, settings.retry_delays_ms()):
        queues.append(Queue(name, exchange=DEFAULT_EXCHANGE, routing_key=name, durable=True,
                            queue_arguments={"x-message-ttl": delay,
                                             "x-dead-letter-exchange": "",
                                             "x-dead-letter-routing-key": main}))
    queues.append(Queue(dlq, exchange=DEFAULT_EXCHANGE, routing_key=dlq, durable=True))
    return queues


class ReliableEventHandler(EventHandler):
    def __init__(self, source_service, event_type, **kwargs):
        super().__init__(source_service, event_type, reliable_delivery=True,
                         expected_exceptions=AppError, **kwargs)

    def queues(self):
        return handler_queues(self.source_service, self.event_type,
                              self.container.service_name, self.method_name,
                              self.container.config)

    def setup(self):
        super().setup()
        self.republisher = Publisher(self.container.config["AMQP_URI"], use_confirms=True)

    def start(self):
        from plumbing.topology import declare
        declare(self.container.config["AMQP_URI"], self.queues())
        super().start()

    def handle_result(self, message, worker_ctx, result=None, exc_info=None):
        result, exc_info = _commit_then(worker_ctx, result, exc_info)
        if exc_info is not None:
            try:
                self._redeliver_later(message, exc_info)
            except Exception:  # cannot park it: give it back to the queue instead
                log.exception("could not schedule a retry; requeueing")
                self.queue_consumer.requeue_message(message)
                return result, exc_info
        self.queue_consumer.ack_message(message)
        return result, exc_info

    def _redeliver_later(self, message, exc_info):
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 0)) + 1
        main, retries, dlq = queue_names(self.source_service, self.event_type,
                                         self.container.service_name, self.method_name)
        headers = dict(message.headers or {})
        headers.pop("x-death", None)
        headers[ATTEMPT_HEADER] = attempt
        if attempt <= len(retries):
            target = retries[attempt - 1]
            log.warning("handler %s failed (attempt %s); retrying via %s",
                        self.method_name, attempt, target)
        else:
            target = dlq
            headers["x-pintuan-error"] = "".join(
                traceback.format_exception_only(exc_info[0], exc_info[1])).strip()[:1000]
            log.error("handler %s failed %s times; dead-lettered to %s",
                      self.method_name, attempt, dlq)
        self.republisher.publish(message.payload, exchange=DEFAULT_EXCHANGE, routing_key=target,
                                 headers=headers, message_id=message.properties.get("message_id"))


class UnknownVersion(Exception):
    """An event of a version this handler was not written for: it waits in the dead
    letters until a handler that reads it is deployed."""


def event_handler(declared):
    """Decorate `def on_x(self, event)` to handle the declared event class `declared`
    (contract.events); the service must have `db = Database()`.

    `event` is an `Event(id, type, occurred_at, data)` whose `data` is an instance of
    `declared`, read from the payload. The handler runs at most once per event id,
    however often the event is delivered.
    """
    def decorate(fn):
        @functools.wraps(fn)
        def handle(self, envelope):
            version = envelope.get("version", 1)
            if version != declared.event_version:
                raise UnknownVersion(f"{declared.key()} version {version}; this handler "
                                     f"reads version {declared.event_version}")
            event = Event(envelope["event_id"], envelope["type"],
                          envelope.get("occurred_at"), declared.from_data(envelope["data"]))
            if not self.db.claim(event.id, f"{fn.__module__}.{fn.__qualname__}"):
                log.info("event %s already handled by %s", event.id, fn.__name__)
                return None
            return fn(self, event)
        handle.handles = declared  # read by contract.wiring
        return ReliableEventHandler.decorator(declared.source, declared.name)(handle)
    return decorate


class TransactionalTimer(Timer):
    """`@timer(interval)`: like Nameko's, but commits the worker's transaction.

    It fires in every replica: a timer must take its due rows with
    `plumbing.db.due_rows` (FOR UPDATE SKIP LOCKED) and re-check their state, so
    each row is acted on once however many replicas run.
    """

    def __init__(self, interval, eager=True, **kwargs):
        super().__init__(interval, eager=eager, **kwargs)

    def _run(self):
        # Nameko starts extensions side by side: an eager first tick could make an RPC
        # before the reply queue is consumed, and its answer would be lost.
        with eventlet.Timeout(30, False):
            for extension in list(self.container.shared_extensions.values()):
                if isinstance(extension, QueueConsumer):
                    extension._consumers_ready.wait()
        super()._run()

    def handle_result(self, worker_ctx, result, exc_info):
        result, exc_info = _commit_then(worker_ctx, result, exc_info)
        return super().handle_result(worker_ctx, result, exc_info)


timer = TransactionalTimer.decorator
