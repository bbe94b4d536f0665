"""`./dev deadletters [list | show QUEUE | replay QUEUE | replay-all]`.

An event whose handler failed through every retry waits in `<queue>.dlq`. Once
the cause is fixed, replay puts it back on the handler's queue with a fresh
retry budget; the handler's inbox makes a replay of an already-applied event
harmless.
"""
import json
import sys

from kombu import Connection
from nameko.amqp.publish import Publisher

from plumbing import settings, topology
from plumbing.entrypoints import ATTEMPT_HEADER

DLQ_SUFFIX = ".dlq"


def dead_letter_queues(amqp_uri):
    return [q.name for q in topology.all_queues({"AMQP_URI": amqp_uri})
            if q.name.endswith(DLQ_SUFFIX)]


def counts(amqp_uri):
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        return {name: channel.queue_declare(name, passive=True).message_count
                for name in dead_letter_queues(amqp_uri)}


def peek(amqp_uri, queue, limit=20):
    """Messages at the head of a dead-letter queue, left in place."""
    found = []
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        for _ in range(limit):
            message = channel.basic_get(queue, no_ack=False)
            if message is None:
                break
            found.append({"headers": message.headers, "body": json.loads(message.body)})
        # closing the channel without acks returns every message to the queue
    return found


def replay(amqp_uri, queue):
    """Moves every message of `queue` back to its handler's queue; returns how many."""
    if not queue.endswith(DLQ_SUFFIX):
        raise ValueError(f"{queue} is not a dead-letter queue")
    target = queue[: -len(DLQ_SUFFIX)]
    publisher = Publisher(amqp_uri, use_confirms=True)
    moved = 0
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        while True:
            message = channel.basic_get(queue, no_ack=False)
            if message is None:
                return moved
            headers = {k: v for k, v in (message.headers or {}).items()
                       if k not in (ATTEMPT_HEADER, "x-pintuan-error", "x-death")}
            publisher.publish(json.loads(message.body), exchange="", routing_key=target,
                              headers=headers,
                              message_id=message.properties.get("message_id"))
            channel.basic_ack(message.delivery_tag)  # only once the copy is confirmed
            moved += 1


def main(argv):
    amqp_uri = settings.amqp_uri()
    command = argv[0] if argv else "list"
    if command == "list":
        for name, count in counts(amqp_uri).items():
            if count:
                print(f"{count:6d}  {name}")
        print(f"{sum(counts(amqp_uri).values())} dead letters in all")
    elif command == "show" and len(argv) == 2:
        for message in peek(amqp_uri, argv[1]):
            print(json.dumps(message, ensure_ascii=False, default=str))
    elif command == "replay" and len(argv) == 2:
        print(f"replayed {replay(amqp_uri, argv[1])} from {argv[1]}")
    elif command == "replay-all":
        for name in dead_letter_queues(amqp_uri):
            moved = replay(amqp_uri, name)
            if moved:
                print(f"replayed {moved} from {name}")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
