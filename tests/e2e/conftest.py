import pytest
from kombu import Connection

from conftest import empty_database
from plumbing import settings, topology
from tests.e2e.stack import Stack


@pytest.fixture(scope="module")
def stack(migrated, tmp_path_factory, request):
    """The whole stack for one test module; a module may set STACK_ENV (extra settings)."""
    for service in settings.SERVICES:
        empty_database(service)
    queues = topology.declare_all()
    with Connection(settings.amqp_uri()) as conn:
        channel = conn.channel()
        for queue in queues:
            queue(channel).purge()
    running = Stack(tmp_path_factory.mktemp("stack"), **getattr(request.module, "STACK_ENV", {}))
    running.prepare()
    try:
        running.start_all()
        running.seed()
        yield running
    finally:
        running.stop_all()
