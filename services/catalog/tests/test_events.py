"""Catalog following other services' events: teams' campaigns (the group-buy flag) and
orders' ends (stock committed or released). Rules first, then the real container on
the real RabbitMQ and PostgreSQL, fed envelopes as teams and orders publish them."""
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
import time_machine
from kombu import Connection

from contract import events
from contract.examples import example
from plumbing import deadletters
from plumbing.clock import isoformat
from plumbing.entrypoints import queue_names
from plumbing.testing import event_envelope, publish_envelope, wait_until
from services.catalog import domain

MERCHANT = 1
T0 = datetime(2024, 6, 28, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)
TICK = timedelta(microseconds=1)


# --- rules: is a campaign running --------------------------------------------------------

def campaign(product_id=3, starts_at=T0, ends_at=T0 + 24 * HOUR, invalidated=False,
             changed_at=None, group_prices=()):
    return {"product_id": product_id, "starts_at": starts_at, "ends_at": ends_at,
            "invalidated": invalidated, "group_prices": list(group_prices),
            "changed_at": changed_at}


@pytest.mark.parametrize("now, running", [
    (T0 - HOUR, False),  # not started
    (T0 - TICK, False),
    (T0, True),  # starts_at <= now
    (T0 + HOUR, True),
    (T0 + 24 * HOUR - TICK, True),
    (T0 + 24 * HOUR, False),  # now < ends_at: ended at its end time
    (T0 + 48 * HOUR, False),
])
def test_a_campaign_runs_from_its_start_until_its_end(now, running):
    assert domain.campaign_running(campaign(), now) is running


@pytest.mark.parametrize("now", [T0 - HOUR, T0, T0 + HOUR, T0 + 24 * HOUR])
def test_an_invalidated_campaign_never_runs(now):
    assert domain.campaign_running(campaign(invalidated=True), now) is False


def test_a_product_is_in_group_buy_while_any_of_its_campaigns_runs():
    campaigns = [campaign(product_id=1, ends_at=T0 + HOUR),  # ended by T0 + 2h
                 campaign(product_id=1, starts_at=T0 + HOUR, ends_at=T0 + 3 * HOUR),
                 campaign(product_id=2, invalidated=True),
                 campaign(product_id=3, starts_at=T0 + 5 * HOUR)]
    assert domain.group_buy_product_ids(campaigns, T0) == {1}
    assert domain.group_buy_product_ids(campaigns, T0 + 2 * HOUR) == {1}
    assert domain.group_buy_product_ids(campaigns, T0 + 3 * HOUR) == set()
    assert domain.group_buy_product_ids(campaigns, T0 + 5 * HOUR) == {3}
    assert domain.group_buy_product_ids([], T0) == set()


# --- rules: keeping the copy -----------------------------------------------------------

def test_the_first_event_makes_the_copy():
    incoming = campaign(changed_at=T0)
    assert domain.campaign_copy(None, incoming) == incoming


def test_a_newer_event_replaces_the_copy():
    stored = campaign(changed_at=T0)
    incoming = campaign(ends_at=T0 + 48 * HOUR, changed_at=T0 + HOUR,
                        group_prices=[{"sku_id": 1, "group_price": 990}])
    assert domain.campaign_copy(stored, incoming) == incoming


def test_an_event_of_the_same_moment_is_taken():
    stored, incoming = campaign(changed_at=T0), campaign(ends_at=T0 + 48 * HOUR, changed_at=T0)
    assert domain.campaign_copy(stored, incoming) == incoming


def test_an_older_event_arriving_late_changes_nothing():
    stored = campaign(ends_at=T0 + 48 * HOUR, changed_at=T0 + HOUR)
    assert domain.campaign_copy(stored, campaign(changed_at=T0)) == stored


def test_an_invalidation_is_final_even_before_an_older_event():
    invalidated = campaign(invalidated=True, changed_at=T0 + HOUR)
    late = campaign(ends_at=T0 + 48 * HOUR, changed_at=T0)
    assert domain.campaign_copy(invalidated, late) == invalidated


def test_an_invalidation_arriving_late_still_ends_the_campaign():
    stored = campaign(ends_at=T0 + 48 * HOUR, changed_at=T0 + HOUR)
    late = campaign(invalidated=True, changed_at=T0)
    assert domain.campaign_copy(stored, late) == {**stored, "invalidated": True}


def test_an_event_without_a_time_is_taken_as_the_latest():
    stored = campaign(changed_at=T0 + HOUR)
    incoming = campaign(ends_at=T0 + 48 * HOUR, changed_at=None)
    assert domain.campaign_copy(stored, incoming) == {**incoming, "changed_at": T0 + HOUR}
    assert domain.campaign_copy(campaign(changed_at=None), campaign(changed_at=T0)) == \
        campaign(changed_at=T0)


def test_an_order_holds_its_stock_under_one_reservation_id():
    assert domain.order_reservation_id(11) == "order-11"


# --- in the container ---------------------------------------------------------------------

@pytest.fixture
def catalog(start_service):
    return start_service("catalog")


@pytest.fixture
def db(engine_of):
    return engine_of("catalog")


def envelope(event, occurred_at=None):
    return event_envelope(event, occurred_at=occurred_at)

publish = publish_envelope


def handled(db, event_ids):
    """True once every event's handler committed (its inbox row is in the same
    transaction as what it changed)."""
    with db.connect() as conn:
        found = conn.execute(sa.text("SELECT count(DISTINCT event_id) FROM inbox "
                                     "WHERE event_id = ANY(:ids)"), {"ids": list(event_ids)})
        return found.scalar_one() == len(set(event_ids))


def deliver(amqp_uri, db, source, *messages):
    for message in messages:
        publish(amqp_uri, source, message)
    assert wait_until(lambda: handled(db, [m["event_id"] for m in messages]))


def published(rpc, title="烟台红富士苹果 5斤装"):
    product = rpc.catalog.create_product(MERCHANT, {
        "title": title, "skus": [{"spec": "5斤", "price": 2990, "stock": 100}]})
    return rpc.catalog.publish_product(MERCHANT, product["id"])


def campaign_changed(product, starts_at, ends_at, invalidated=False, campaign_id=4,
                     occurred_at=None):
    return envelope(example(events.CampaignChanged, **{
        "id": campaign_id, "product_id": product["id"], "starts_at": isoformat(starts_at),
        "ends_at": isoformat(ends_at), "invalidated": invalidated,
        "skus": [{"sku_id": product["skus"][0]["id"], "group_price": 1990}]}), occurred_at)


def flags(rpc, product):
    """The group-buy flag everywhere it is shown: listing, detail, back office."""
    [item] = [i for i in rpc.catalog.list_products()["items"] if i["id"] == product["id"]]
    return (item["group_buy"], rpc.catalog.get_product(product["id"])["group_buy"],
            rpc.catalog.admin_get_product(MERCHANT, product["id"])["group_buy"])


ON, OFF = (True, True, True), (False, False, False)


def test_group_buy_shows_only_inside_the_campaign_window(catalog, rpc, amqp_uri, db):
    apple, pear = published(rpc), published(rpc, "砀山酥梨 5斤装")
    now = datetime.now(timezone.utc)
    starts_at, ends_at = now + HOUR, now + 3 * HOUR
    deliver(amqp_uri, db, "teams", campaign_changed(apple, starts_at, ends_at))
    assert flags(rpc, apple) == OFF  # not started
    with time_machine.travel(starts_at, tick=True):
        assert flags(rpc, apple) == ON
        assert flags(rpc, pear) == OFF
    with time_machine.travel(ends_at - timedelta(seconds=1), tick=False):
        assert flags(rpc, apple) == ON
    with time_machine.travel(ends_at, tick=True):
        assert flags(rpc, apple) == OFF  # ended: no timer had to run


def test_invalidation_ends_group_buy_and_a_late_older_copy_does_not_revive_it(
        catalog, rpc, amqp_uri, db):
    apple = published(rpc)
    now = datetime.now(timezone.utc)
    running = campaign_changed(apple, now - HOUR, now + HOUR, occurred_at=now - HOUR)
    deliver(amqp_uri, db, "teams", running)
    assert flags(rpc, apple) == ON
    deliver(amqp_uri, db, "teams",
            campaign_changed(apple, now - HOUR, now + HOUR, invalidated=True, occurred_at=now))
    assert flags(rpc, apple) == OFF
    deliver(amqp_uri, db, "teams",  # an older state, delivered late
            campaign_changed(apple, now - HOUR, now + 2 * HOUR, occurred_at=now - HOUR / 2))
    assert flags(rpc, apple) == OFF


def test_an_extended_campaign_runs_until_its_new_end(catalog, rpc, amqp_uri, db):
    apple = published(rpc)
    now = datetime.now(timezone.utc)
    deliver(amqp_uri, db, "teams", campaign_changed(apple, now - HOUR, now + HOUR,
                                                    occurred_at=now - HOUR))
    deliver(amqp_uri, db, "teams", campaign_changed(apple, now - HOUR, now + 5 * HOUR,
                                                    occurred_at=now))
    with time_machine.travel(now + 2 * HOUR, tick=True):
        assert flags(rpc, apple) == ON


def test_a_product_with_an_ended_and_a_running_campaign_is_in_group_buy(
        catalog, rpc, amqp_uri, db):
    apple = published(rpc)
    now = datetime.now(timezone.utc)
    deliver(amqp_uri, db, "teams",
            campaign_changed(apple, now - 3 * HOUR, now - HOUR, campaign_id=4))
    assert flags(rpc, apple) == OFF
    deliver(amqp_uri, db, "teams", campaign_changed(apple, now - HOUR, now + HOUR, campaign_id=5))
    assert flags(rpc, apple) == ON


def test_a_redelivered_campaign_event_keeps_one_copy(catalog, rpc, amqp_uri, db):
    apple = published(rpc)
    now = datetime.now(timezone.utc)
    event = campaign_changed(apple, now - HOUR, now + HOUR)
    for _ in range(3):
        publish(amqp_uri, "teams", event)
    assert wait_until(lambda: handled(db, [event["event_id"]]))
    catalog.stop()  # waits for running workers; whatever was not acked goes back
    main = queue_names("teams", "campaign_changed", "catalog", "on_campaign_changed")[0]
    assert waiting_in(amqp_uri, main) == 0
    with db.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, product_id, invalidated, group_prices "
                                    "FROM product_campaigns")).all()
    assert [tuple(row) for row in rows] == [
        (4, apple["id"], False, [{"sku_id": apple["skus"][0]["id"], "group_price": 1990}])]


# --- stock follows orders -------------------------------------------------------------------

def stock_of(db, sku_id):
    with db.connect() as conn:
        return conn.execute(sa.text("SELECT stock FROM skus WHERE id = :id"),
                            {"id": sku_id}).scalar_one()


def state_of(db, reservation_id):
    with db.connect() as conn:
        return conn.execute(sa.text("SELECT DISTINCT state FROM stock_reservations "
                                    "WHERE reservation_id = :id"),
                            {"id": reservation_id}).scalar_one()


def waiting_in(amqp_uri, queue):
    with Connection(amqp_uri) as conn:
        return conn.channel().queue_declare(queue, passive=True).message_count


def order_event(event_type, order_id):
    declared = {"order_to_ship": events.OrderToShip, "order_cancelled": events.OrderCancelled,
                "order_refunded": events.OrderRefunded}[event_type]
    return envelope(example(declared, order_id=order_id, user_id=7, team_id=5))


def test_an_order_going_to_ship_commits_its_stock_once(catalog, rpc, amqp_uri, db):
    sku = published(rpc)["skus"][0]
    rpc.catalog.reserve_stock("order-11", [{"sku_id": sku["id"], "quantity": 3}])
    event = order_event("order_to_ship", 11)
    deliver(amqp_uri, db, "orders", event, event, order_event("order_to_ship", 11))
    assert state_of(db, "order-11") == "committed"
    assert stock_of(db, sku["id"]) == 97


def test_a_cancelled_order_returns_its_stock_once(catalog, rpc, amqp_uri, db):
    sku = published(rpc)["skus"][0]
    rpc.catalog.reserve_stock("order-12", [{"sku_id": sku["id"], "quantity": 4}])
    assert stock_of(db, sku["id"]) == 96
    event = order_event("order_cancelled", 12)
    deliver(amqp_uri, db, "orders", event, event, event)
    assert (state_of(db, "order-12"), stock_of(db, sku["id"])) == ("released", 100)
    # paid too late, then refunded: its stock was already back
    deliver(amqp_uri, db, "orders", order_event("order_refunded", 12))
    assert stock_of(db, sku["id"]) == 100


def test_a_refunded_order_returns_its_stock(catalog, rpc, amqp_uri, db):
    sku = published(rpc)["skus"][0]
    rpc.catalog.reserve_stock("order-13", [{"sku_id": sku["id"], "quantity": 2}])
    deliver(amqp_uri, db, "orders", order_event("order_refunded", 13))
    assert (state_of(db, "order-13"), stock_of(db, sku["id"])) == ("released", 100)


def test_releasing_an_order_never_reserved_is_a_no_op(catalog, rpc, amqp_uri, db):
    sku = published(rpc)["skus"][0]
    deliver(amqp_uri, db, "orders", order_event("order_cancelled", 404),
            order_event("order_refunded", 404))
    assert stock_of(db, sku["id"]) == 100
    for event_type, method in (("order_cancelled", "on_order_cancelled"),
                               ("order_refunded", "on_order_refunded")):
        assert waiting_in(amqp_uri, queue_names("orders", event_type, "catalog", method)[2]) == 0


def test_shipping_an_order_without_stock_is_dead_lettered_for_a_person(
        catalog, rpc, amqp_uri, db):
    event = publish(amqp_uri, "orders", order_event("order_to_ship", 404))
    dlq = queue_names("orders", "order_to_ship", "catalog", "on_order_to_ship")[2]
    assert wait_until(lambda: waiting_in(amqp_uri, dlq) == 1)
    [parked] = deadletters.peek(amqp_uri, dlq)
    assert parked["body"]["event_id"] == event["event_id"]
    assert "reservation_not_found" in parked["headers"]["x-pintuan-error"]
    assert not handled(db, [event["event_id"]])
