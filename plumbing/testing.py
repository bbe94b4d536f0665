"""Helpers for services' tests: play another service's events, read what one emitted."""
import json
import uuid

import sqlalchemy as sa
from kombu import Exchange
from nameko.amqp.publish import Publisher

from plumbing import messaging


def publish_event(amqp_uri, source, event_type, data, event_id=None):
    """Publish an event as `source`'s outbox relay would; returns its id."""
    envelope = {"event_id": event_id or str(uuid.uuid4()), "type": event_type,
                "occurred_at": None, "data": data}
    Publisher(amqp_uri).publish(envelope, exchange=Exchange(f"{source}.events", type="topic"),
                                routing_key=event_type)
    return envelope["event_id"]


def outbox_events(engine, event_type):
    """The data of every `event_type` event a service wrote to its outbox, oldest first."""
    table = messaging.outbox
    with engine.connect() as conn:
        payloads = conn.execute(sa.select(table.c.payload).where(table.c.event_type == event_type)
                                .order_by(table.c.seq)).scalars()
        return [json.loads(payload)["data"] for payload in payloads]
