"""Who else is on this RabbitMQ vhost, and taking our queues off it.

Two stacks on one vhost share every `rpc-<service>` and event queue: each answers the
other's requests from its own databases. `./dev up` and `./dev reset` look first. The
consumer counts come from passive declares, so no management plugin is needed.
"""
import shutil
import subprocess

from amqp.exceptions import NotFound
from kombu import Connection

REPLY_QUEUE_PREFIX = "rpc.reply-"  # Nameko's reply queues (they expire 5 min after last use)


def rpc_queue(service):
    return f"rpc-{service}"


def consumer_counts(amqp_uri, queue_names):
    """{queue: consumers} of those of `queue_names` that exist."""
    counts = {}
    with Connection(amqp_uri, connect_timeout=5) as conn:
        for name in queue_names:
            channel = conn.channel()  # a passive declare of a missing queue closes its channel
            try:
                counts[name] = channel.queue_declare(name, passive=True).consumer_count
                channel.close()
            except NotFound:
                pass
    return counts


def answering_services(amqp_uri, services):
    """The services of `services` that some process consumes the RPC queue of."""
    counts = consumer_counts(amqp_uri, [rpc_queue(name) for name in services])
    return [name for name in services if counts.get(rpc_queue(name))]


def listed_queues(vhost):
    """Every queue of the vhost by name, when rabbitmqctl can tell (a local broker); else []."""
    if not shutil.which("rabbitmqctl"):
        return []
    listing = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", vhost, "--no-table-headers",
                              "name"], capture_output=True, text=True, timeout=30)
    return listing.stdout.split() if listing.returncode == 0 else []


def delete_queues(amqp_uri, queue_names):
    """Deletes those that exist, messages and all; returns how many it deleted."""
    existing = consumer_counts(amqp_uri, queue_names)
    with Connection(amqp_uri, connect_timeout=5) as conn:
        channel = conn.channel()
        for name in existing:
            channel.queue_delete(name)
    return len(existing)
