"""Helpers for services' tests: play another service's events, read what one emitted."""
import json
import time

import sqlalchemy as sa
from kombu import Exchange
from nameko.amqp.publish import Publisher

from plumbing import messaging


def event_envelope(event, event_id=None, occurred_at=None):
    """The message body the outbox relay publishes for a declared event."""
    return messaging.envelope(event, event_id, occurred_at)


def publish_envelope(amqp_uri, source, envelope):
    """Publish (or re-publish, to test redelivery) an envelope as `source`; returns it."""
    Publisher(amqp_uri).publish(envelope, exchange=Exchange(f"{source}.events", type="topic"),
                                routing_key=envelope["type"])
    return envelope


def publish_event(amqp_uri, event, event_id=None, occurred_at=None):
    """Publish a declared event as its source's outbox relay would; returns its id."""
    return publish_envelope(amqp_uri, event.source,
                            event_envelope(event, event_id, occurred_at))["event_id"]


def outbox_events(engine, event_type):
    """The data of every `event_type` event a service wrote to its outbox, oldest first."""
    table = messaging.outbox
    with engine.connect() as conn:
        payloads = conn.execute(sa.select(table.c.payload).where(table.c.event_type == event_type)
                                .order_by(table.c.seq)).scalars()
        return [json.loads(payload)["data"] for payload in payloads]


def wait_until(check, timeout=10, interval=0.05):
    """True as soon as `check()` is, False if it never is within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return False


def user_id_keys(value):
    """The keys anywhere in an answer that name a user (`user_id`, `leader_id`, ...)."""
    if isinstance(value, dict):
        own = {key for key in value if key.endswith("user_id") or key == "leader_id"}
        return own.union(*(user_id_keys(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(user_id_keys(item) for item in value))
    return set()
