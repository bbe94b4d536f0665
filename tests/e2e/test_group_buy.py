"""The group-buy heart end to end through the gateway, on PostgreSQL, with the WeChat
Pay sandbox calling the gateway's callback (every notification delivered twice)."""
import itertools
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from plumbing.clock import isoformat
from tests.e2e.stack import GATEWAY

pytestmark = pytest.mark.e2e

PAYMENT_WINDOW = 6
STACK_ENV = {
    "PINTUAN_PAYMENT_WINDOW_SECONDS": str(PAYMENT_WINDOW),
    "PINTUAN_SANDBOX_DUPLICATE_RATE": "1.0",  # a duplicated callback must be harmless
    "PINTUAN_SANDBOX_REFUND_DELAY_SECONDS": "0.5",
    "PINTUAN_SANDBOX_RETRY_SECONDS": "0.5,1,2",
}
_codes = itertools.count(1)


def call(method, path, token=None, expect=None, **kwargs):
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    answer = requests.request(method, GATEWAY + path, headers=headers, timeout=20, **kwargs)
    if expect is not None:
        assert answer.status_code == expect, f"{method} {path}: {answer.status_code} {answer.text}"
    return answer


def shopper():
    answer = call("POST", "/api/v1/auth/wechat-login", expect=200,
                  json={"code": f"wx-group-{time.time_ns()}-{next(_codes)}"}).json()
    return answer["token"]


def staff(username):
    return call("POST", "/admin/v1/auth/login", expect=200,
                json={"username": username, "password": "demo-password"}).json()["token"]


def eventually(check, timeout=15, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)


def at(seconds_from_now):
    return isoformat(datetime.now(timezone.utc) + timedelta(seconds=seconds_from_now))


@pytest.fixture(scope="module")
def merchant(stack):
    return staff("demo-merchant")


def new_product(merchant, stock=100, price=5990):
    product = call("POST", "/admin/v1/products", merchant, expect=201, json={
        "title": f"拼团测试 阳光玫瑰葡萄 {next(_codes)}",
        "skus": [{"spec": "2斤装", "price": price, "stock": stock}]}).json()
    call("POST", f"/admin/v1/products/{product['id']}/publish", merchant, expect=200)
    return product


def new_campaign(merchant, team_size=3, validity=60, ends_in=600, stock=100, per_user_limit=2):
    """An active campaign on a product published a moment ago (no waiting for teams to
    hear of it: the merchant's own write is read back)."""
    product = new_product(merchant, stock=stock)
    created = call("POST", "/admin/v1/campaigns", merchant, expect=201, json={
        "product_id": product["id"], "starts_at": at(0), "ends_at": at(ends_in),
        "team_size": team_size, "validity_seconds": validity, "per_user_limit": per_user_limit,
        "skus": [{"sku_id": product["skus"][0]["id"], "group_price": 3990}]}).json()
    return {**created, "sku_id": product["skus"][0]["id"], "product_id": product["id"]}


def open_team(token, campaign, quantity=1):
    return call("POST", "/api/v1/teams", token, expect=201, json={
        "campaign_id": campaign["id"], "sku_id": campaign["sku_id"], "quantity": quantity}).json()


def join_team(token, campaign, team_id, expect=201):
    return call("POST", f"/api/v1/teams/{team_id}/join", token, expect=expect,
                json={"sku_id": campaign["sku_id"], "quantity": 1}).json()


def pay(token, order_id):
    prepay = call("POST", f"/api/v1/orders/{order_id}/pay", token, expect=200).json()["prepay_id"]
    call("POST", f"/sandbox/wechatpay/{prepay}/pay", expect=200, json={"result": "success"})


def order_status(token, order_id):
    return call("GET", f"/api/v1/orders/{order_id}", token, expect=200).json()["status"]


def wait_order(token, order_id, status, timeout=15):
    reached = eventually(lambda: order_status(token, order_id) == status, timeout)
    assert reached, f"order {order_id} is {order_status(token, order_id)}, not {status}"


def team(team_id):
    return call("GET", f"/api/v1/teams/{team_id}", expect=200).json()


def inbox(token):
    return call("GET", "/api/v1/notifications", token, expect=200).json()


def kinds(token):
    return sorted(item["kind"] for item in inbox(token)["items"])


def sku_stock(product_id):
    return call("GET", f"/api/v1/products/{product_id}", expect=200).json()["skus"][0]["stock"]


def ledger_is_balanced():
    return call("GET", "/admin/v1/ops/ledger", staff("demo-ops"), expect=200).json()["balanced"]


def open_and_pay(campaign):
    leader = shopper()
    placed = open_team(leader, campaign)
    pay(leader, placed["order"]["id"])
    wait_order(leader, placed["order"]["id"], "awaiting_team")
    wait_team_open(placed["team"]["id"])
    return leader, placed["team"]["id"], placed["order"]["id"]


def wait_team_open(team_id):
    """Orders learns of the payment first; teams opens the team from orders' event."""
    assert eventually(lambda: team(team_id)["status"] == "open"), team(team_id)


def test_three_person_team_succeeds_and_ships(stack, merchant):
    campaign = new_campaign(merchant, team_size=3)
    leader = shopper()
    placed = open_team(leader, campaign)
    assert placed["team"]["status"] == "pending"
    assert placed["order"]["status"] == "pending_payment"
    assert placed["order"]["amount"] == 3990
    pending = team(placed["team"]["id"])
    assert pending["member_count"] == 0 and pending["expires_at"] is None

    pay(leader, placed["order"]["id"])
    wait_order(leader, placed["order"]["id"], "awaiting_team")
    wait_team_open(placed["team"]["id"])
    opened = team(placed["team"]["id"])
    assert opened["status"] == "open" and opened["member_count"] == 1
    assert opened["seats_left"] == 2 and opened["expires_at"]
    joinable = call("GET", f"/api/v1/products/{campaign['product_id']}").json()["joinable_teams"]
    assert [t["id"] for t in joinable] == [placed["team"]["id"]]
    assert call("POST", f"/api/v1/orders/{placed['order']['id']}/cancel", leader).status_code == 409

    members = [shopper(), shopper()]
    orders = [join_team(token, campaign, placed["team"]["id"])["order"]["id"] for token in members]
    for token, order_id in zip(members, orders):
        pay(token, order_id)
    for token, order_id in [(leader, placed["order"]["id"]), *zip(members, orders)]:
        wait_order(token, order_id, "to_ship")
    done = team(placed["team"]["id"])
    assert done["status"] == "succeeded" and done["seats_left"] == 0
    assert eventually(lambda: sku_stock(campaign["product_id"]) == 97)

    mine = call("GET", f"/api/v1/orders/{placed['order']['id']}", leader).json()
    assert mine["type"] == "team"
    assert {o["id"] for o in mine["team_order_ids"]} >= set(orders)
    listed = call("GET", "/admin/v1/teams", merchant, expect=200,
                  params={"campaign_id": campaign["id"], "status": "succeeded"}).json()["items"]
    assert sorted(listed[0]["order_ids"]) == sorted([placed["order"]["id"], *orders])
    assert eventually(lambda: kinds(leader).count("team_succeeded") == 1)
    assert kinds(leader).count("team_opened") == 1  # delivered twice, told once
    share = call("GET", f"/api/v1/teams/share/{opened['share_token']}", expect=200).json()
    assert share["view"] == "full"
    assert call("GET", f"/api/v1/teams/share/{opened['share_token']}/qr.png").content[:4] == \
        b"\x89PNG"


def test_team_that_expires_is_refunded(stack, merchant):
    campaign = new_campaign(merchant, team_size=3, validity=3)
    leader, team_id, leader_order = open_and_pay(campaign)
    member = shopper()
    member_order = join_team(member, campaign, team_id)["order"]["id"]
    pay(member, member_order)
    wait_order(member, member_order, "awaiting_team")

    assert eventually(lambda: team(team_id)["status"] == "failed", timeout=8)
    for token, order_id in ((leader, leader_order), (member, member_order)):
        wait_order(token, order_id, "refunded")
        assert eventually(lambda: "refund_completed" in kinds(token))
        assert kinds(token).count("team_failed") == 1
    assert eventually(lambda: sku_stock(campaign["product_id"]) == 100)
    share = call("GET", f"/api/v1/teams/share/{team(team_id)['share_token']}").json()
    assert share["view"] == "ended"
    assert ledger_is_balanced()


def test_a_cancelled_order_cannot_be_paid_and_its_seat_is_not_kept(stack, merchant):
    campaign = new_campaign(merchant)
    _, team_id, _ = open_and_pay(campaign)
    late = shopper()
    order_id = join_team(late, campaign, team_id)["order"]["id"]
    prepay = call("POST", f"/api/v1/orders/{order_id}/pay", late, expect=200).json()["prepay_id"]
    call("POST", f"/api/v1/orders/{order_id}/cancel", late, expect=200)
    refused = call("POST", f"/sandbox/wechatpay/{prepay}/pay", json={"result": "success"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "payment_closed"
    assert order_status(late, order_id) == "cancelled"
    assert team(team_id)["member_count"] == 1  # the seat was not kept
    assert ledger_is_balanced()


def test_leader_who_never_pays_loses_the_team(stack, merchant):
    campaign = new_campaign(merchant, stock=10)
    leader = shopper()
    placed = open_team(leader, campaign, quantity=2)
    assert eventually(lambda: sku_stock(campaign["product_id"]) == 8)
    wait_order(leader, placed["order"]["id"], "cancelled", timeout=PAYMENT_WINDOW + 5)
    assert eventually(lambda: team(placed["team"]["id"])["status"] == "cancelled")
    assert eventually(lambda: sku_stock(campaign["product_id"]) == 10)
    assert call("POST", f"/api/v1/orders/{placed['order']['id']}/pay", leader).status_code == 409


def test_no_new_team_after_the_campaign_ends_but_joins_until_the_deadline(stack, merchant):
    campaign = new_campaign(merchant, ends_in=4, validity=60)
    _, team_id, _ = open_and_pay(campaign)
    assert eventually(lambda: call("GET", f"/admin/v1/campaigns/{campaign['id']}", merchant)
                      .json()["status"] == "ended", timeout=10)  # the team's deadline has not passed
    refused = call("POST", "/api/v1/teams", shopper(), json={
        "campaign_id": campaign["id"], "sku_id": campaign["sku_id"], "quantity": 1})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "campaign_not_active"
    join_team(shopper(), campaign, team_id, expect=201)


def test_invalidated_campaign_refuses_new_teams(stack, merchant):
    campaign = new_campaign(merchant)
    call("POST", f"/admin/v1/campaigns/{campaign['id']}/invalidate", merchant, expect=200)
    refused = call("POST", "/api/v1/teams", shopper(), json={
        "campaign_id": campaign["id"], "sku_id": campaign["sku_id"], "quantity": 1})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "campaign_not_active"
    edit = call("PUT", f"/admin/v1/campaigns/{campaign['id']}", merchant, json={"ends_at": at(900)})
    assert edit.status_code == 409


def test_payment_made_while_orders_is_down_is_applied_after_restart(stack, merchant):
    campaign = new_campaign(merchant)
    leader = shopper()
    placed = open_team(leader, campaign)
    prepay = call("POST", f"/api/v1/orders/{placed['order']['id']}/pay", leader,
                  expect=200).json()["prepay_id"]
    stack.kill("orders")
    call("POST", f"/sandbox/wechatpay/{prepay}/pay", expect=200, json={"result": "success"})
    time.sleep(1)
    stack.start("orders")
    stack.wait_healthy(["orders"])
    wait_order(leader, placed["order"]["id"], "awaiting_team")
    assert eventually(lambda: team(placed["team"]["id"])["status"] == "open")


def test_two_replicas_of_teams_fail_each_team_once(stack, merchant):
    replica = stack.start_replica("teams", port=8013)
    try:
        stack.wait_healthy([replica])
        campaign = new_campaign(merchant, team_size=4, validity=3, per_user_limit=1)
        teams = [open_and_pay(campaign) for _ in range(3)]
        for leader, team_id, order_id in teams:
            assert eventually(lambda: team(team_id)["status"] == "failed", timeout=10)
            wait_order(leader, order_id, "refunded")
            assert eventually(lambda: "refund_completed" in kinds(leader))
            assert kinds(leader).count("team_failed") == 1
            assert kinds(leader).count("refund_completed") == 1
        assert ledger_is_balanced()
    finally:
        stack.kill(replica)
