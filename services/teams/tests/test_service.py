"""Teams keeps its own copy of catalog products from `product_changed` events."""
import uuid

import eventlet
import pytest
from kombu import Exchange
from nameko.amqp.publish import Publisher

from plumbing.errors import NotFound


def publish_snapshot(amqp_uri, version, title, event_id=None):
    envelope = {"event_id": event_id or str(uuid.uuid4()), "type": "product_changed",
                "occurred_at": None,
                "data": {"id": 7, "version": version, "title": title, "status": "published",
                         "skus": [{"id": 70, "spec": "5斤", "price": 2990, "stock": 9}]}}
    Publisher(amqp_uri).publish(envelope, exchange=Exchange("catalog.events", type="topic"),
                                routing_key="product_changed")


def wait_for_title(rpc, title, timeout=5):
    with eventlet.Timeout(timeout, False):
        while True:
            try:
                if rpc.teams.get_product_copy(7)["title"] == title:
                    return True
            except NotFound:
                pass
            eventlet.sleep(0.05)
    return False


def test_copy_follows_newer_snapshots_and_ignores_stale_ones(start_service, rpc, amqp_uri):
    start_service("teams")
    with pytest.raises(NotFound):
        rpc.teams.get_product_copy(7)
    publish_snapshot(amqp_uri, 2, "苹果 v2")
    assert wait_for_title(rpc, "苹果 v2")
    publish_snapshot(amqp_uri, 1, "苹果 v1 (late)")
    publish_snapshot(amqp_uri, 3, "苹果 v3")
    assert wait_for_title(rpc, "苹果 v3")
    copy = rpc.teams.get_product_copy(7)
    assert copy["version"] == 3
    assert copy["skus"] == [{"id": 70, "spec": "5斤", "price": 2990}]  # no stock: not ours to keep
