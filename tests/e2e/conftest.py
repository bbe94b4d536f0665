import uuid

import pytest
from kombu import Connection

from conftest import empty_database
from plumbing import settings, topology
from tests.e2e.stack import BACKENDS, Stack


@pytest.fixture(scope="module")
def stack(migrated, tmp_path_factory, request):
    """The whole stack for one test module; a module may set STACK_ENV (extra settings)."""
    yield from running_stack(tmp_path_factory, request, "postgresql")


@pytest.fixture(scope="module", params=BACKENDS)
def stack_on_each_backend(migrated, tmp_path_factory, request):
    """The whole stack on PostgreSQL, then again on the embedded default (SQLite files):
    for tests whose answers must be the same on both."""
    yield from running_stack(tmp_path_factory, request, request.param)


def running_stack(tmp_path_factory, request, backend):
    if backend == "postgresql":
        for service in settings.SERVICES:
            empty_database(service)
    queues = topology.declare_all()
    with Connection(settings.amqp_uri()) as conn:
        channel = conn.channel()
        for queue in queues:
            queue(channel).purge()
    # Counters of rate limits are keyed by user id, and ids restart with each stack: a fresh
    # Redis prefix keeps one module's calls from counting against the next one's users.
    env = {"PINTUAN_REDIS_PREFIX": f"{settings.redis_prefix()}-{uuid.uuid4().hex[:8]}",
           **getattr(request.module, "STACK_ENV", {})}
    running = Stack(tmp_path_factory.mktemp(f"stack-{backend}"), backend, **env)
    running.prepare()
    try:
        running.start_all()
        running.seed()
        yield running
    finally:
        running.stop_all()
