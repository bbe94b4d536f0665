"""The teams service in real containers, on the real RabbitMQ and PostgreSQL.

Other services are played by publishing their events (catalog's product snapshots,
orders' order_paid / order_cancelled); what teams announces is read from its outbox.
Deadlines use validities of a second or two, so the deadline job runs for real.
"""
import base64
import time
from datetime import datetime, timedelta

import eventlet
import pytest
import sqlalchemy as sa
from eventlet.queue import Queue
from nameko.standalone.rpc import ClusterRpcProxy

from contract import events, examples
from contract.examples import example
from plumbing import clock
from plumbing.entrypoints import rpc as rpc_entrypoint
from plumbing.errors import BadRequest, Conflict, NotFound
from plumbing.testing import outbox_events, publish_event
from services.teams import qr

MERCHANT, OTHER_MERCHANT = 1, 2
PRODUCT, SKU, BIG_SKU = 7, 70, 71
LEADER = 100


# --- playing the other services ------------------------------------------------------

publish = publish_event


def snapshot(product_id=PRODUCT, version=1, title="烟台红富士苹果 5斤装", status="published",
             merchant_id=MERCHANT):
    return examples.example_data(
        events.ProductChanged, id=product_id, version=version, title=title, status=status,
        merchant_id=merchant_id, cover_image="https://img.pintuan.example/apple.jpg",
        skus=[{**examples.SKU, "id": SKU, "spec": "5斤", "price": 2990},
              {**examples.SKU, "id": BIG_SKU, "spec": "10斤", "price": 5990}])


CATALOG = {}  # product id -> its snapshot as catalog has it now


class FakeCatalog:
    """Answers what catalog would for the products a test made."""
    name = "catalog"

    @rpc_entrypoint
    def product_snapshot(self, merchant_id, product_id):
        product = CATALOG.get(product_id)
        if product is None or product["merchant_id"] != merchant_id:
            raise NotFound("product_not_found", f"There is no product {product_id}.")
        return product


def publish_product(amqp_uri, rpc, **fields):
    """Catalog changes a product and announces it; returns once teams has the copy."""
    data = snapshot(**fields)
    CATALOG[data["id"]] = data
    publish(amqp_uri, example(events.ProductChanged, **data))
    assert wait_until(lambda: _copy_version(rpc, data["id"]) == data["version"])


def _copy_version(rpc, product_id):
    try:
        return rpc.teams.get_product_copy(product_id)["version"]
    except NotFound:
        return None


def pay(amqp_uri, order_id, user_id, team_id, event_id=None):
    return publish(amqp_uri, example(events.OrderPaid, **{
        "order_id": order_id, "user_id": user_id, "team_id": team_id, "amount": 1990,
        "paid_at": clock.isoformat(clock.now())}), event_id)


def cancel(amqp_uri, order_id, user_id, team_id):
    return publish(amqp_uri, example(events.OrderCancelled, **{
        "order_id": order_id, "user_id": user_id, "team_id": team_id, "reason": "timeout"}))


# --- reading and waiting -------------------------------------------------------------

def wait_until(condition, timeout=6.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        eventlet.sleep(0.05)
    return False


@pytest.fixture
def db(engine_of):
    return engine_of("teams")


emitted = outbox_events


def about(db, event_type, team_id):
    return [e for e in emitted(db, event_type) if e["team_id"] == team_id]


def quota(db, campaign_id, user_id):
    with db.connect() as conn:
        return conn.execute(sa.text("SELECT quantity FROM campaign_quotas WHERE campaign_id = :c "
                                    "AND user_id = :u"), {"c": campaign_id, "u": user_id}).scalar()


def handled(db, event_id):
    with db.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM inbox WHERE event_id = :e"),
                            {"e": event_id}).scalar_one() > 0


def row_counts(db):
    with db.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("campaigns", "teams", "seats", "outbox")}


def status_of(rpc, team_id):
    return rpc.teams.get_team(team_id)["status"]


def at(seconds):
    return clock.isoformat(clock.now() + timedelta(seconds=seconds))


def campaign_data(**overrides):
    return {"product_id": PRODUCT, "starts_at": at(-1), "ends_at": at(3600), "team_size": 3,
            "validity_seconds": 60, "per_user_limit": 5,
            "skus": [{"sku_id": SKU, "group_price": 1990}], **overrides}


@pytest.fixture(autouse=True)
def catalog(container_factory, service_config):
    CATALOG.clear()
    container_factory(FakeCatalog, service_config("catalog")).start()


@pytest.fixture
def teams(start_service, rpc, amqp_uri):
    container = start_service("teams")
    publish_product(amqp_uri, rpc)
    return container


@pytest.fixture
def campaign(teams, rpc):
    return rpc.teams.create_campaign(MERCHANT, campaign_data())


class Orders:
    """Plays the orders service: order ids, seats, payments."""

    def __init__(self, rpc, amqp_uri):
        self.rpc, self.amqp_uri, self.next_id = rpc, amqp_uri, 1000

    def order_id(self):
        self.next_id += 1
        return self.next_id

    def open(self, campaign_id, user_id=LEADER, quantity=1, sku_id=SKU):
        return self.rpc.teams.open_team(self.order_id(), user_id, campaign_id, sku_id, quantity)

    def join(self, team_id, user_id, quantity=1, sku_id=SKU):
        return self.rpc.teams.join_team(self.order_id(), user_id, team_id, sku_id, quantity)

    def open_paid(self, campaign_id, user_id=LEADER, sku_id=SKU):
        seat = self.open(campaign_id, user_id, sku_id=sku_id)
        pay(self.amqp_uri, seat["order_id"], user_id, seat["team_id"])
        assert wait_until(lambda: status_of(self.rpc, seat["team_id"]) == "open")
        return self.rpc.teams.get_team(seat["team_id"])

    def join_paid(self, team_id, user_id):
        seat = self.join(team_id, user_id)
        pay(self.amqp_uri, seat["order_id"], user_id, team_id)
        return seat


@pytest.fixture
def orders(rpc, amqp_uri):
    return Orders(rpc, amqp_uri)


# --- product copy ----------------------------------------------------------------------

def test_copy_follows_newer_snapshots_and_ignores_stale_ones(start_service, rpc, amqp_uri):
    start_service("teams")
    with pytest.raises(NotFound):
        rpc.teams.get_product_copy(PRODUCT)
    publish_product(amqp_uri, rpc, version=2, title="苹果 v2")
    publish(amqp_uri, example(events.ProductChanged, **snapshot(version=1, title="苹果 v1 (late)")))
    publish_product(amqp_uri, rpc, version=3, title="苹果 v3", merchant_id=OTHER_MERCHANT)
    copy = rpc.teams.get_product_copy(PRODUCT)
    assert (copy["version"], copy["title"], copy["merchant_id"]) == (3, "苹果 v3", OTHER_MERCHANT)
    assert copy["cover_image"] == "https://img.pintuan.example/apple.jpg"
    assert copy["skus"][0] == {"id": SKU, "spec": "5斤", "price": 2990}  # no stock: not ours


# --- campaigns -------------------------------------------------------------------------

def test_a_campaign_is_created_listed_and_announced(teams, rpc, db):
    created = rpc.teams.create_campaign(MERCHANT, campaign_data(
        skus=[{"sku_id": SKU, "group_price": 1990}, {"sku_id": BIG_SKU, "group_price": 4990}]))
    assert created["status"] == "active" and created["merchant_id"] == MERCHANT
    assert created["title"] == "烟台红富士苹果 5斤装"
    assert created["skus"] == [{"sku_id": SKU, "group_price": 1990},
                               {"sku_id": BIG_SKU, "group_price": 4990}]
    assert rpc.teams.get_campaign(created["id"]) == created
    listed = rpc.teams.list_campaigns(MERCHANT)
    assert (listed["total"], listed["page"], listed["page_size"]) == (1, 1, 20)
    assert listed["items"] == [created]
    assert rpc.teams.list_campaigns(MERCHANT, status="active")["total"] == 1
    assert rpc.teams.list_campaigns(MERCHANT, status="not_started")["total"] == 0
    assert rpc.teams.list_campaigns(OTHER_MERCHANT)["total"] == 0
    [event] = emitted(db, "campaign_changed")
    assert event == {"id": created["id"], "product_id": PRODUCT, "starts_at": created["starts_at"],
                     "ends_at": created["ends_at"], "invalidated": False,
                     "skus": created["skus"]}


BAD_CAMPAIGNS = [
    ({"skus": [{"sku_id": SKU, "group_price": 2990}]}, "skus.0.group_price"),  # not below price
    ({"skus": [{"sku_id": 999, "group_price": 100}]}, "skus.0.sku_id"),  # not this product's
    ({"skus": []}, "skus"),
    ({"starts_at": at(100), "ends_at": at(50)}, "ends_at"),
    ({"starts_at": at(-100), "ends_at": at(-50)}, "ends_at"),  # already over
    ({"starts_at": "2026-07-11T00:00:00"}, "starts_at"),  # no offset: ambiguous
    ({"team_size": 1}, "team_size"),
    ({"validity_seconds": 0}, "validity_seconds"),
    ({"validity_seconds": 1.5}, "validity_seconds"),  # whole seconds
    ({"per_user_limit": 0}, "per_user_limit"),
    ({"product_id": "7"}, "product_id"),
    ({"colour": "red"}, "colour"),
]


def test_bad_campaigns_are_refused_and_nothing_is_written(teams, rpc, db):
    for overrides, field in BAD_CAMPAIGNS:
        with pytest.raises(BadRequest) as raised:
            rpc.teams.create_campaign(MERCHANT, campaign_data(**overrides))
        assert raised.value.code == "validation_failed"
        assert field in raised.value.details, (overrides, raised.value.details)
    with pytest.raises(BadRequest):
        rpc.teams.create_campaign(MERCHANT, None)
    assert row_counts(db)["campaigns"] == 0 and emitted(db, "campaign_changed") == []


def test_campaigns_need_the_merchants_known_published_product(teams, rpc, amqp_uri, db):
    for merchant_id, product_id, error, code in [
            (OTHER_MERCHANT, PRODUCT, NotFound, "product_not_found"),
            (MERCHANT, 404, NotFound, "product_not_found")]:
        with pytest.raises(error) as raised:
            rpc.teams.create_campaign(merchant_id, campaign_data(product_id=product_id))
        assert raised.value.code == code
    publish_product(amqp_uri, rpc, version=2, status="unpublished")
    with pytest.raises(Conflict) as raised:
        rpc.teams.create_campaign(MERCHANT, campaign_data())
    assert raised.value.code == "product_not_published"
    assert row_counts(db)["campaigns"] == 0


def test_a_campaign_right_after_publishing_does_not_wait_for_the_event(teams, rpc, amqp_uri,
                                                                      db):
    publish_product(amqp_uri, rpc, version=2, status="draft")
    CATALOG[PRODUCT] = snapshot(version=3, title="烟台红富士苹果 新季", status="published")
    created = rpc.teams.create_campaign(MERCHANT, campaign_data())  # the event is on its way
    assert created["status"] == "active" and created["title"] == "烟台红富士苹果 新季"
    assert rpc.teams.get_product_copy(PRODUCT)["version"] == 3
    late = publish(amqp_uri, example(events.ProductChanged, **snapshot(version=2, status="draft")))
    assert wait_until(lambda: handled(db, late))  # the late, older event changes nothing
    assert rpc.teams.get_product_copy(PRODUCT)["version"] == 3


def test_a_copy_arriving_twice_at_once_is_kept_once(teams, rpc, db):
    """The event and the look at catalog (or two campaigns created at once) may both bring
    a product teams has never seen: one copy is kept, nobody gets a 500."""
    CATALOG[9] = snapshot(product_id=9)
    replies = [rpc.teams.create_campaign.call_async(MERCHANT, campaign_data(product_id=9))
               for _ in range(4)]
    outcomes = []
    for reply in replies:
        try:
            outcomes.append(reply.result()["status"])
        except Conflict as refused:
            outcomes.append(refused.code)
    assert sorted(outcomes) == ["active"] + ["campaign_overlaps"] * 3
    assert rpc.teams.get_product_copy(9)["version"] == 1


def test_one_live_campaign_per_product(teams, rpc):
    first = rpc.teams.create_campaign(MERCHANT, campaign_data(starts_at=at(600), ends_at=at(900)))
    with pytest.raises(Conflict) as raised:  # even with a window that does not overlap
        rpc.teams.create_campaign(MERCHANT, campaign_data(starts_at=at(1000), ends_at=at(2000)))
    assert raised.value.code == "campaign_overlaps"
    rpc.teams.invalidate_campaign(MERCHANT, first["id"])
    second = rpc.teams.create_campaign(MERCHANT, campaign_data())
    assert second["status"] == "active"


def test_a_not_started_campaign_is_edited_in_full(teams, rpc, db):
    created = rpc.teams.create_campaign(MERCHANT, campaign_data(starts_at=at(600)))
    assert created["status"] == "not_started"
    edited = rpc.teams.update_campaign(MERCHANT, created["id"], {
        "team_size": 5, "validity_seconds": 30, "per_user_limit": 1, "starts_at": at(300),
        "skus": [{"sku_id": BIG_SKU, "group_price": 3990}]})
    assert (edited["team_size"], edited["validity_seconds"], edited["per_user_limit"]) == (5, 30, 1)
    assert edited["skus"] == [{"sku_id": BIG_SKU, "group_price": 3990}]
    with pytest.raises(BadRequest) as raised:  # the merged fields are checked again
        rpc.teams.update_campaign(MERCHANT, created["id"],
                                  {"skus": [{"sku_id": BIG_SKU, "group_price": 5990}]})
    assert "skus.0.group_price" in raised.value.details
    with pytest.raises(NotFound):
        rpc.teams.update_campaign(OTHER_MERCHANT, created["id"], {"team_size": 4})
    assert rpc.teams.update_campaign(MERCHANT, created["id"], {"team_size": 5}) == edited
    assert len(emitted(db, "campaign_changed")) == 2  # created, edited; no-op edit: nothing


def test_an_active_campaign_only_extends_and_final_ones_are_locked(teams, rpc, db):
    created = rpc.teams.create_campaign(MERCHANT, campaign_data(starts_at=at(-10), ends_at=at(2)))
    for change in ({"team_size": 4}, {"ends_at": at(1)},
                   {"skus": [{"sku_id": SKU, "group_price": 1000}]}):
        with pytest.raises(Conflict) as raised:
            rpc.teams.update_campaign(MERCHANT, created["id"], change)
        assert raised.value.code == "campaign_active_locked"
    later = rpc.teams.update_campaign(MERCHANT, created["id"], {"ends_at": at(3)})
    assert later["ends_at"] > created["ends_at"]
    assert wait_until(lambda: rpc.teams.get_campaign(created["id"])["status"] == "ended")
    for action in (lambda: rpc.teams.update_campaign(MERCHANT, created["id"], {"ends_at": at(60)}),
                   lambda: rpc.teams.invalidate_campaign(MERCHANT, created["id"])):
        with pytest.raises(Conflict) as raised:
            action()
        assert raised.value.code == "campaign_final"
    assert rpc.teams.list_campaigns(MERCHANT, status="ended")["total"] == 1

    second = rpc.teams.create_campaign(MERCHANT, campaign_data())
    invalidated = rpc.teams.invalidate_campaign(MERCHANT, second["id"])
    assert invalidated["status"] == "invalidated" and invalidated["invalidated_at"]
    assert rpc.teams.invalidate_campaign(MERCHANT, second["id"]) == invalidated  # no-op
    with pytest.raises(Conflict) as raised:
        rpc.teams.update_campaign(MERCHANT, second["id"], {"ends_at": at(7200)})
    assert raised.value.code == "campaign_final"
    events = emitted(db, "campaign_changed")
    assert [e["invalidated"] for e in events] == [False, False, False, True]


def test_catalog_reads_the_group_prices_of_a_live_campaign(teams, rpc):
    assert rpc.teams.live_group_prices(PRODUCT) == []
    later = rpc.teams.create_campaign(MERCHANT, campaign_data(starts_at=at(600)))
    assert rpc.teams.live_group_prices(PRODUCT) == [
        {"campaign_id": later["id"], "sku_id": SKU, "group_price": 1990}]
    rpc.teams.invalidate_campaign(MERCHANT, later["id"])
    assert rpc.teams.live_group_prices(PRODUCT) == []


def test_campaign_pages(teams, rpc, amqp_uri):
    for product_id in range(20, 25):
        publish_product(amqp_uri, rpc, product_id=product_id)
        rpc.teams.create_campaign(MERCHANT, campaign_data(product_id=product_id))
    first = rpc.teams.list_campaigns(MERCHANT, page=1, page_size=2)
    last = rpc.teams.list_campaigns(MERCHANT, page=3, page_size=2)
    assert first["total"] == last["total"] == 5
    assert [c["product_id"] for c in first["items"]] == [24, 23]
    assert [c["product_id"] for c in last["items"]] == [20]
    with pytest.raises(BadRequest):
        rpc.teams.list_campaigns(MERCHANT, status="running")


# --- opening, paying, succeeding ------------------------------------------------------------

def test_the_leaders_payment_opens_the_team_and_starts_its_deadline(campaign, rpc, orders,
                                                                    amqp_uri, db):
    seat = orders.open(campaign["id"], quantity=2)
    assert seat["team_status"] == "pending" and seat["seat_state"] == "reserved"
    assert (seat["unit_price"], seat["title"], seat["spec"], seat["quantity"]) == (
        1990, "烟台红富士苹果 5斤装", "5斤", 2)
    assert seat["merchant_id"] == MERCHANT  # the shop the order belongs to
    assert seat["hold_until"] > clock.isoformat(clock.now() + timedelta(seconds=890))
    pending = rpc.teams.get_team(seat["team_id"])
    assert (pending["status"], pending["member_count"], pending["opened_at"],
            pending["expires_at"], pending["order_ids"]) == ("pending", 0, None, None,
                                                             [seat["order_id"]])

    paid_at = clock.now()
    pay(amqp_uri, seat["order_id"], LEADER, seat["team_id"])
    assert wait_until(lambda: status_of(rpc, seat["team_id"]) == "open")
    team = rpc.teams.get_team(seat["team_id"])
    assert team["member_count"] == 1 and team["seats_left"] == 2
    opened = datetime.fromisoformat(team["opened_at"])
    assert abs((opened - paid_at).total_seconds()) < 1
    expires = datetime.fromisoformat(team["expires_at"])
    assert (expires - opened).total_seconds() == 60
    assert team["members"] == [{"is_leader": True, "joined_at": team["opened_at"]}]
    [event] = emitted(db, "team_opened")
    assert event["team_id"] == team["id"] and event["deadline"] == team["expires_at"]
    assert event["share_token"] == team["share_token"] and event["leader_id"] == LEADER
    [seat_paid] = emitted(db, "seat_paid")
    assert seat_paid == {"team_id": team["id"], "order_id": seat["order_id"], "user_id": LEADER,
                         "member_count": 1, "team_size": 3, "leader_id": LEADER}


def test_a_three_person_team_succeeds_once(campaign, rpc, orders, amqp_uri, db):
    team = orders.open_paid(campaign["id"])
    second = orders.join_paid(team["id"], 201)
    assert second["team_status"] == "open"
    assert wait_until(lambda: rpc.teams.get_team(team["id"])["member_count"] == 2)
    third = orders.join_paid(team["id"], 202)
    assert wait_until(lambda: status_of(rpc, team["id"]) == "succeeded")
    done = rpc.teams.get_team(team["id"])
    assert done["member_count"] == 3 and done["seats_left"] == 0
    assert [m["is_leader"] for m in done["members"]] == [True, False, False]
    assert set(done["members"][0]) == {"is_leader", "joined_at"}  # the page is public
    [listed] = rpc.teams.admin_list_teams(MERCHANT, status="succeeded")["items"]
    assert [m["user_id"] for m in listed["members"]] == [LEADER, 201, 202]
    assert listed["leader_id"] == LEADER
    eventlet.sleep(0.5)
    [succeeded] = about(db, "team_succeeded", team["id"])
    assert succeeded["order_ids"] == done["order_ids"] == [
        team["order_ids"][0], second["order_id"], third["order_id"]]
    assert succeeded["user_ids"] == [LEADER, 201, 202]
    assert [e["member_count"] for e in about(db, "seat_paid", team["id"])] == [1, 2, 3]
    with pytest.raises(Conflict) as raised:
        orders.join(team["id"], 203)
    assert raised.value.code == "team_closed"


def test_refusals_when_opening_and_joining(campaign, rpc, orders):
    with pytest.raises(NotFound) as raised:
        orders.open(9999)
    assert raised.value.code == "campaign_not_found"
    with pytest.raises(NotFound) as raised:
        orders.open(campaign["id"], sku_id=BIG_SKU)
    assert raised.value.code == "sku_not_in_campaign"
    with pytest.raises(NotFound) as raised:
        orders.join(9999, 201)
    assert raised.value.code == "team_not_found"
    pending = orders.open(campaign["id"])
    with pytest.raises(Conflict) as raised:
        orders.join(pending["team_id"], 201)
    assert raised.value.code == "team_not_open"
    team = orders.open_paid(campaign["id"], user_id=300)
    with pytest.raises(Conflict) as raised:
        orders.join(team["id"], 300)  # the leader in their own team
    assert raised.value.code == "already_in_team"
    orders.join(team["id"], 201)
    with pytest.raises(Conflict) as raised:
        orders.join(team["id"], 201)
    assert raised.value.code == "already_in_team"
    with pytest.raises(BadRequest):
        orders.join(team["id"], 202, quantity=0)


def test_an_order_over_the_most_one_order_may_cost_takes_no_seat(teams, rpc, orders, amqp_uri,
                                                                db):
    """22 of a 99,999,998-fen group price is over 2^31 fen: refused before any team or seat."""
    dear, dear_sku = 8, 80
    CATALOG[dear] = {**snapshot(product_id=dear),
                     "skus": [{**examples.SKU, "id": dear_sku, "spec": "整箱", "price": 99_999_999}]}
    publish(amqp_uri, example(events.ProductChanged, **CATALOG[dear]))
    assert wait_until(lambda: _copy_version(rpc, dear) == 1)
    campaign = rpc.teams.create_campaign(MERCHANT, campaign_data(
        product_id=dear, per_user_limit=99, skus=[{"sku_id": dear_sku, "group_price": 99_999_998}]))
    before = row_counts(db)
    with pytest.raises(BadRequest) as raised:
        orders.open(campaign["id"], quantity=22, sku_id=dear_sku)
    assert raised.value.code == "order_amount_too_large"
    assert "quantity" in raised.value.details
    assert row_counts(db) == before  # no pending team left behind
    team = orders.open_paid(campaign["id"], user_id=301, sku_id=dear_sku)
    with pytest.raises(BadRequest) as raised:
        orders.join(team["id"], 201, quantity=11, sku_id=dear_sku)
    assert raised.value.code == "order_amount_too_large"
    assert rpc.teams.get_team(team["id"])["seats_left"] == 2
    assert quota(db, campaign["id"], 201) in (None, 0)


def test_open_and_join_are_idempotent_by_order_id(campaign, rpc, orders, db):
    first = rpc.teams.open_team(555, LEADER, campaign["id"], SKU, 1)
    assert rpc.teams.open_team(555, LEADER, campaign["id"], SKU, 1) == first
    with pytest.raises(Conflict) as raised:
        rpc.teams.open_team(555, LEADER, campaign["id"], SKU, 2)
    assert raised.value.code == "order_seat_mismatch"
    team = orders.open_paid(campaign["id"], user_id=301)
    joined = rpc.teams.join_team(556, 201, team["id"], SKU, 1)
    assert rpc.teams.join_team(556, 201, team["id"], SKU, 1) == joined
    assert row_counts(db)["teams"] == 2 and row_counts(db)["seats"] == 3
    assert quota(db, campaign["id"], LEADER) == 1


def test_a_retried_open_running_at_the_same_time_takes_one_seat(campaign, amqp_uri, db):
    answers = run_concurrently(amqp_uri, [
        lambda proxy: proxy.teams.open_team(777, LEADER, campaign["id"], SKU, 1)] * 8)
    assert all(answer == answers[0] for answer in answers)
    assert row_counts(db)["teams"] == 1 and quota(db, campaign["id"], LEADER) == 1


# --- cancellation and release -----------------------------------------------------------------

def test_a_cancelled_leader_order_cancels_the_pending_team(campaign, rpc, orders, amqp_uri, db):
    seat = orders.open(campaign["id"], quantity=3)
    cancel(amqp_uri, seat["order_id"], LEADER, seat["team_id"])
    assert wait_until(lambda: status_of(rpc, seat["team_id"]) == "cancelled")
    assert about(db, "team_cancelled", seat["team_id"]) == [
        {"team_id": seat["team_id"], "order_ids": [seat["order_id"]]}]
    assert rpc.teams.get_team(seat["team_id"])["order_ids"] == [seat["order_id"]]
    assert quota(db, campaign["id"], LEADER) == 0
    assert rpc.teams.release_seat(seat["order_id"])["released"] is True  # again: no change
    assert rpc.teams.release_seat(424242) == {"order_id": 424242, "released": False,
                                              "seat_state": None}
    assert len(about(db, "team_cancelled", seat["team_id"])) == 1


def test_a_released_seat_frees_its_place_and_quota(campaign, rpc, orders, db):
    team = orders.open_paid(campaign["id"])
    seat = orders.join(team["id"], 201, quantity=2)
    assert rpc.teams.get_team(team["id"])["seats_left"] == 1
    assert quota(db, campaign["id"], 201) == 2
    assert rpc.teams.release_seat(seat["order_id"]) == {
        "order_id": seat["order_id"], "released": True, "seat_state": "released"}
    assert rpc.teams.get_team(team["id"])["seats_left"] == 2
    assert quota(db, campaign["id"], 201) == 0
    assert rpc.teams.release_seat(team["order_ids"][0])["seat_state"] == "paid"  # kept
    orders.join(team["id"], 201)  # a released shopper may join again


# --- deadlines ---------------------------------------------------------------------------------

def test_the_deadline_fails_a_team_within_two_seconds_once(teams, rpc, orders, amqp_uri, db):
    campaign = rpc.teams.create_campaign(MERCHANT, campaign_data(validity_seconds=1))
    team = orders.open_paid(campaign["id"])
    unpaid = orders.join(team["id"], 201)
    assert wait_until(lambda: status_of(rpc, team["id"]) == "failed", timeout=5)
    failed_seen = clock.now()
    deadline = datetime.fromisoformat(team["expires_at"])
    assert (failed_seen - deadline).total_seconds() < 2
    eventlet.sleep(1)  # more ticks of the job: nothing more
    [failed] = about(db, "team_failed", team["id"])
    assert failed == {"team_id": team["id"], "paid_order_ids": team["order_ids"],
                      "unpaid_order_ids": [unpaid["order_id"]], "user_ids": [LEADER]}
    assert quota(db, campaign["id"], 201) == 0 and quota(db, campaign["id"], LEADER) == 0
    view = rpc.teams.get_team(team["id"])
    assert view["order_ids"] == team["order_ids"] and view["seats_left"] == 0


def test_two_replicas_fail_each_due_team_exactly_once(start_service, rpc, orders, amqp_uri, db):
    start_service("teams")
    start_service("teams")
    publish_product(amqp_uri, rpc)
    campaign = rpc.teams.create_campaign(MERCHANT, campaign_data(validity_seconds=2,
                                                                 per_user_limit=100))
    seats = [orders.open(campaign["id"], user_id=LEADER + n) for n in range(12)]
    for seat in seats:
        pay(amqp_uri, seat["order_id"], seat["order_id"], seat["team_id"])
    team_ids = [seat["team_id"] for seat in seats]
    assert wait_until(lambda: all(status_of(rpc, t) == "failed" for t in team_ids), timeout=8)
    eventlet.sleep(1.5)
    failures = emitted(db, "team_failed")
    assert sorted(e["team_id"] for e in failures) == sorted(team_ids)
    assert len(emitted(db, "team_opened")) == 12


def test_a_deadline_passed_while_the_service_was_down_is_acted_on_at_start(
        start_service, rpc, orders, amqp_uri, db):
    container = start_service("teams")
    publish_product(amqp_uri, rpc)
    campaign = rpc.teams.create_campaign(MERCHANT, campaign_data(validity_seconds=1))
    team = orders.open_paid(campaign["id"])
    container.stop()
    eventlet.sleep(1.5)
    assert about(db, "team_failed", team["id"]) == []
    start_service("teams")
    assert wait_until(lambda: len(about(db, "team_failed", team["id"])) == 1, timeout=3)


def test_a_payment_after_the_failure_is_refused(teams, rpc, orders, amqp_uri, db):
    campaign = rpc.teams.create_campaign(MERCHANT, campaign_data(validity_seconds=1))
    team = orders.open_paid(campaign["id"])
    late = orders.join(team["id"], 201)
    assert wait_until(lambda: status_of(rpc, team["id"]) == "failed")
    pay(amqp_uri, late["order_id"], 201, team["id"])
    assert wait_until(lambda: emitted(db, "seat_refused"))
    assert emitted(db, "seat_refused") == [
        {"order_id": late["order_id"], "team_id": team["id"], "reason": "team_failed"}]
    assert rpc.teams.get_team(team["id"])["member_count"] == 1


def test_a_payment_for_an_unknown_team_order_is_refused(teams, amqp_uri, db):
    pay(amqp_uri, 9191, 201, 55)
    publish(amqp_uri, example(events.OrderPaid, order_id=9192, user_id=201, team_id=None,
                              amount=100, paid_at=clock.isoformat(clock.now())))
    assert wait_until(lambda: emitted(db, "seat_refused"))
    eventlet.sleep(0.3)
    assert emitted(db, "seat_refused") == [{"order_id": 9191, "team_id": 55, "reason": "no_seat"}]


# --- campaign end and invalidation ----------------------------------------------------------

def test_open_teams_can_be_joined_after_the_campaign_ended(teams, rpc, orders):
    campaign = rpc.teams.create_campaign(MERCHANT, campaign_data(ends_at=at(1.5)))
    team = orders.open_paid(campaign["id"])
    assert wait_until(lambda: rpc.teams.get_campaign(campaign["id"])["status"] == "ended")
    with pytest.raises(Conflict) as raised:
        orders.open(campaign["id"], user_id=201)
    assert raised.value.code == "campaign_not_active"
    assert orders.join(team["id"], 201)["team_status"] == "open"
    joinable = rpc.teams.product_group_buy(PRODUCT)
    assert joinable["campaign"] is None and [t["id"] for t in joinable["joinable_teams"]] == [
        team["id"]]


def test_an_invalidated_campaign_refuses_opens_but_its_open_teams_go_on(teams, rpc, orders):
    campaign = rpc.teams.create_campaign(MERCHANT, campaign_data())
    team = orders.open_paid(campaign["id"])
    rpc.teams.invalidate_campaign(MERCHANT, campaign["id"])
    with pytest.raises(Conflict) as raised:
        orders.open(campaign["id"], user_id=201)
    assert raised.value.code == "campaign_not_active"
    assert orders.join(team["id"], 201)["team_status"] == "open"


def test_a_not_started_campaign_refuses_opens(teams, rpc, orders):
    campaign = rpc.teams.create_campaign(MERCHANT, campaign_data(starts_at=at(600)))
    with pytest.raises(Conflict) as raised:
        orders.open(campaign["id"])
    assert raised.value.code == "campaign_not_active"


# --- concurrency ------------------------------------------------------------------------------

def run_concurrently(amqp_uri, calls, clients=8):
    """Runs each call(proxy) in its own greenthread over a few standalone RPC clients;
    returns each answer or the error it raised, in call order."""
    proxies = [ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=20) for _ in range(clients)]
    free = Queue()
    for proxy in proxies:
        free.put(proxy.start())

    def run(call):
        proxy = free.get()
        try:
            return call(proxy)
        except Exception as error:  # kept as the call's outcome
            return error
        finally:
            free.put(proxy)
    try:
        return list(eventlet.GreenPool(len(calls)).imap(run, calls))
    finally:
        for proxy in proxies:
            proxy.stop()


def test_fifty_joiners_at_once_never_overfill_a_team(teams, rpc, orders, amqp_uri, db):
    campaign = rpc.teams.create_campaign(MERCHANT, campaign_data(team_size=5))
    team = orders.open_paid(campaign["id"])
    calls = [lambda proxy, n=n: proxy.teams.join_team(5000 + n, 400 + n, team["id"], SKU, 1)
             for n in range(50)]
    outcomes = run_concurrently(amqp_uri, calls)
    joined = [o for o in outcomes if isinstance(o, dict)]
    refused = [o for o in outcomes if not isinstance(o, dict)]
    assert len(joined) == 4  # the leader holds the fifth seat
    assert {type(e).__name__ for e in refused} == {"Conflict"}
    assert {e.code for e in refused} == {"team_full"}
    with db.connect() as conn:
        assert conn.execute(sa.text("SELECT seats_taken FROM teams WHERE id = :id"),
                            {"id": team["id"]}).scalar_one() == 5
    assert rpc.teams.get_team(team["id"])["seats_left"] == 0
    assert rpc.teams.team_by_share_token(team["share_token"])["view"] == "full"


def test_the_per_user_limit_holds_under_concurrency(teams, rpc, orders, amqp_uri, db):
    campaign = rpc.teams.create_campaign(MERCHANT, campaign_data(per_user_limit=3))
    team_ids = [orders.open_paid(campaign["id"], user_id=LEADER + n)["id"] for n in range(6)]
    calls = [lambda proxy, n=n: proxy.teams.join_team(6000 + n, 999, team_ids[n], SKU, 1)
             for n in range(6)]
    calls += [lambda proxy, n=n: proxy.teams.open_team(6100 + n, 999, campaign["id"], SKU, 1)
              for n in range(6)]
    outcomes = run_concurrently(amqp_uri, calls)
    taken = [o for o in outcomes if isinstance(o, dict)]
    assert len(taken) == 3
    assert {o.code for o in outcomes if not isinstance(o, dict)} == {"limit_reached"}
    assert quota(db, campaign["id"], 999) == 3
    with pytest.raises(Conflict) as raised:
        orders.open(campaign["id"], user_id=1000, quantity=4)
    assert raised.value.code == "limit_reached"


# --- redelivery ---------------------------------------------------------------------------------

def test_redelivered_and_repeated_events_change_nothing(campaign, rpc, orders, amqp_uri, db):
    seat = orders.open(campaign["id"])
    event_id = pay(amqp_uri, seat["order_id"], LEADER, seat["team_id"])
    assert wait_until(lambda: status_of(rpc, seat["team_id"]) == "open")
    pay(amqp_uri, seat["order_id"], LEADER, seat["team_id"], event_id=event_id)  # redelivered
    pay(amqp_uri, seat["order_id"], LEADER, seat["team_id"])  # same fact, another event id
    cancel(amqp_uri, seat["order_id"], LEADER, seat["team_id"])  # paid: not cancellable here
    eventlet.sleep(1)
    team = rpc.teams.get_team(seat["team_id"])
    assert (team["status"], team["member_count"]) == ("open", 1)
    assert len(about(db, "team_opened", team["id"])) == 1
    assert len(about(db, "seat_paid", team["id"])) == 1
    assert emitted(db, "seat_refused") == [] and emitted(db, "team_cancelled") == []


# --- product page, admin list, share -----------------------------------------------------------

def test_product_page_and_admin_team_list(campaign, rpc, orders):
    pending = orders.open(campaign["id"], user_id=301)
    open_team = orders.open_paid(campaign["id"])
    joiner = orders.join(open_team["id"], 201)
    page = rpc.teams.product_group_buy(PRODUCT)
    assert page["campaign"]["id"] == campaign["id"] and page["campaign"]["status"] == "active"
    assert page["campaign"]["skus"] == [{"sku_id": SKU, "group_price": 1990}]
    assert page["joinable_teams"] == [{"id": open_team["id"], "member_count": 1, "seats_left": 1,
                                       "expires_at": open_team["expires_at"]}]
    assert rpc.teams.product_group_buy(12345) == {"campaign": None, "joinable_teams": []}

    listed = rpc.teams.admin_list_teams(MERCHANT, campaign_id=campaign["id"])
    assert listed["total"] == 2
    by_id = {t["id"]: t for t in listed["items"]}
    assert by_id[pending["team_id"]]["order_ids"] == [pending["order_id"]]
    assert by_id[pending["team_id"]]["member_count"] == 0
    assert by_id[open_team["id"]]["order_ids"] == open_team["order_ids"] + [joiner["order_id"]]
    assert by_id[open_team["id"]]["opened_at"] and by_id[open_team["id"]]["expires_at"]
    only_open = rpc.teams.admin_list_teams(MERCHANT, status="open")
    assert [t["id"] for t in only_open["items"]] == [open_team["id"]]
    assert rpc.teams.admin_list_teams(OTHER_MERCHANT)["total"] == 0
    with pytest.raises(NotFound):
        rpc.teams.admin_list_teams(OTHER_MERCHANT, campaign_id=campaign["id"])


def test_the_share_link_shows_the_teams_state(teams, rpc, orders, amqp_uri):
    campaign = rpc.teams.create_campaign(MERCHANT, campaign_data(team_size=2, validity_seconds=2))
    pending = orders.open(campaign["id"], user_id=301)
    token = rpc.teams.get_team(pending["team_id"])["share_token"]
    assert len(token) >= 32
    assert rpc.teams.team_by_share_token(token)["view"] == "pending"

    joinable = orders.open_paid(campaign["id"])
    share = rpc.teams.team_by_share_token(joinable["share_token"])
    assert share["view"] == "join"
    assert share["share_path"] == f"/api/v1/teams/share/{joinable['share_token']}"
    assert share["product"] == {"id": PRODUCT, "title": "烟台红富士苹果 5斤装",
                                "cover_image": "https://img.pintuan.example/apple.jpg"}
    assert share["campaign"]["skus"] == [{"sku_id": SKU, "group_price": 1990, "spec": "5斤",
                                          "price": 2990}]
    assert share["team"] == rpc.teams.get_team(joinable["id"])
    assert set(share["team"]["members"][0]) == {"is_leader", "joined_at"}
    assert "leader_id" not in share["team"]

    orders.join_paid(joinable["id"], 201)
    assert wait_until(lambda: status_of(rpc, joinable["id"]) == "succeeded")
    assert rpc.teams.team_by_share_token(joinable["share_token"])["view"] == "full"

    lonely = orders.open_paid(campaign["id"], user_id=302)
    assert wait_until(lambda: status_of(rpc, lonely["id"]) == "failed", timeout=5)
    assert rpc.teams.team_by_share_token(lonely["share_token"])["view"] == "ended"

    with pytest.raises(NotFound) as raised:
        rpc.teams.team_by_share_token("no-such-token")
    assert raised.value.code == "team_not_found"


def test_the_share_qr_code_is_a_png_of_the_link(campaign, rpc, orders):
    team = orders.open_paid(campaign["id"])
    answer = rpc.teams.team_share_qr(team["share_token"], "https://shop.pintuan.example/")
    assert base64.b64decode(answer).startswith(b"\x89PNG\r\n\x1a\n")
    link = "https://shop.pintuan.example/api/v1/teams/share/" + team["share_token"]
    assert answer == qr.png_base64(link)  # segno draws the same link the same way every time
    with pytest.raises(BadRequest):
        rpc.teams.team_share_qr(team["share_token"], "javascript:alert(1)")
