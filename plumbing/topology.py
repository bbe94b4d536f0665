"""Declares every event queue before anything publishes.

Nameko publishes events without `mandatory`, so an event sent before its
handler's queue exists is dropped by the broker. `python -m plumbing.topology`
runs before services start (in `./dev up`, the tests and the deploy Job).
"""
import logging
import sys

from kombu import Connection
from nameko.containers import ServiceContainer

from plumbing import settings

log = logging.getLogger(__name__)


def declare(amqp_uri, queues):
    with Connection(amqp_uri, connect_timeout=5) as conn:
        channel = conn.channel()
        for queue in queues:
            queue(channel).declare()


def event_handlers(service_cls, config):
    from plumbing.entrypoints import ReliableEventHandler
    container = ServiceContainer(service_cls, config)
    return [ep for ep in container.entrypoints if isinstance(ep, ReliableEventHandler)]


def all_queues(config, names=settings.SERVICES):
    from plumbing.entrypoints import handler_queues
    queues = []
    for name in names:
        service_cls = settings.service_class(name)
        for handler in event_handlers(service_cls, config):
            queues.extend(handler_queues(handler.source_service, handler.event_type,
                                         service_cls.name, handler.method_name, config))
    return queues


def declare_all(amqp_uri=None):
    amqp_uri = amqp_uri or settings.amqp_uri()
    queues = all_queues({"AMQP_URI": amqp_uri})
    declare(amqp_uri, queues)
    return queues


def main():
    try:
        queues = declare_all()
    except OSError as exc:
        sys.exit(f"RabbitMQ is not reachable at {settings.amqp_uri()}: {exc}\n"
                 "Start it with: rabbitmq-server -detached")
    print(f"declared {len(queues)} queues")


if __name__ == "__main__":
    main()
