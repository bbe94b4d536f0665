"""Money hygiene end to end, through the gateway on PostgreSQL with the WeChat Pay
sandbox: a dead order's WeChat Pay order is closed (and a payment made at that very
moment comes back), amounts are bounded, a price edit keeps group prices below it, an
Idempotency-Key names one request, and stuck refunds are shown to ops and retried."""
import pytest
import sqlalchemy as sa

from services.payments import sandbox
from tests.e2e.test_group_buy import (
    at,
    call,
    eventually,
    new_campaign,
    new_product,
    open_team,
    pay,
    shopper,
    staff,
    team,
    wait_order,
    wait_team_open,
)

pytestmark = pytest.mark.e2e

STACK_ENV = {
    "PINTUAN_PAYMENT_WINDOW_SECONDS": "60",
    "PINTUAN_SANDBOX_DUPLICATE_RATE": "0",
    "PINTUAN_SANDBOX_DELAY_SECONDS": "1.5",  # a payment's notice takes a moment to arrive
    "PINTUAN_SANDBOX_REFUND_DELAY_SECONDS": "0.5",
    "PINTUAN_SANDBOX_RETRY_SECONDS": "0.5,1,2",
    "PINTUAN_REFUND_RETRY_SECONDS": "0.5",
}


@pytest.fixture(scope="module")
def merchant(stack):
    return staff("demo-merchant")


@pytest.fixture(scope="module")
def ops(stack):
    return staff("demo-ops")


@pytest.fixture(scope="module")
def payments_db(stack):
    engine = sa.create_engine(stack.env["PAYMENTS_DATABASE_URL"])
    yield engine
    engine.dispose()


def money_of(payments_db, order_id):
    """(movements, fen held) of an order in the ledger: payments in, refunds out."""
    with payments_db.connect() as conn:
        movements, held = conn.execute(sa.text(
            "SELECT count(DISTINCT m.id), coalesce(-sum(p.amount), 0) FROM ledger_movements m "
            "JOIN ledger_postings p ON p.movement_id = m.id AND p.account = :account "
            "WHERE m.order_id = :order"), {"account": f"order:{order_id}", "order": order_id}).one()
    return movements, held


def payment_status(payments_db, order_id):
    with payments_db.connect() as conn:
        return conn.execute(sa.text("SELECT status FROM payments WHERE order_id = :o"),
                            {"o": order_id}).scalar()


def start_paying(token, order_id):
    return call("POST", f"/api/v1/orders/{order_id}/pay", token, expect=200).json()["prepay_id"]


def sandbox_pay(prepay_id):
    return call("POST", f"/sandbox/wechatpay/{prepay_id}/pay", json={"result": "success"})


def refused(answer, status, code):
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code, answer.text
    return answer.json()["error"]


# --- a dead order cannot be paid -------------------------------------------------------

def test_a_cancelled_order_is_closed_at_wechat_pay_and_no_money_moves(merchant, payments_db):
    campaign, leader = new_campaign(merchant), shopper()
    order_id = open_team(leader, campaign)["order"]["id"]
    prepay_id = start_paying(leader, order_id)
    cancelled = call("POST", f"/api/v1/orders/{order_id}/cancel", leader, expect=200).json()
    assert cancelled["status"] == "cancelled"
    assert eventually(lambda: payment_status(payments_db, order_id) == "closed")
    refused(sandbox_pay(prepay_id), 409, "payment_closed")  # WeChat refuses a closed order
    assert money_of(payments_db, order_id) == (0, 0)


def test_a_payment_made_as_the_order_is_cancelled_comes_back(merchant, payments_db):
    campaign, leader = new_campaign(merchant), shopper()
    order_id = open_team(leader, campaign)["order"]["id"]
    prepay_id = start_paying(leader, order_id)
    assert sandbox_pay(prepay_id).status_code == 200  # paid; its notice is on its way
    call("POST", f"/api/v1/orders/{order_id}/cancel", leader, expect=200)
    wait_order(leader, order_id, "refunded")
    assert money_of(payments_db, order_id) == (2, 0)  # paid in, refunded out


def test_a_failed_teams_unpaid_orders_are_closed_at_wechat_pay(merchant, payments_db):
    # The joiner's seat is held until the team's deadline: long enough to start paying on a
    # loaded machine (3 s was outlasted once), short enough to wait for the failure.
    campaign = new_campaign(merchant, team_size=3, validity=10)
    leader = shopper()
    placed = open_team(leader, campaign)
    pay(leader, placed["order"]["id"])
    wait_team_open(placed["team"]["id"])
    joiner = shopper()
    joined = call("POST", f"/api/v1/teams/{placed['team']['id']}/join", joiner, expect=201,
                  json={"sku_id": campaign["sku_id"], "quantity": 1}).json()["order"]["id"]
    prepay_id = start_paying(joiner, joined)
    assert eventually(lambda: team(placed["team"]["id"])["status"] == "failed", timeout=20)
    wait_order(joiner, joined, "cancelled")
    assert eventually(lambda: payment_status(payments_db, joined) == "closed")
    refused(sandbox_pay(prepay_id), 409, "payment_closed")
    assert money_of(payments_db, joined) == (0, 0)


# --- amounts ------------------------------------------------------------------------------

def test_an_order_too_large_is_refused_and_leaves_no_team_behind(merchant):
    product = new_product(merchant, price=99_999_999)
    sku_id = product["skus"][0]["id"]
    body = {"product_id": product["id"], "starts_at": at(0), "ends_at": at(600), "team_size": 2,
            "validity_seconds": 60, "per_user_limit": 99,
            "skus": [{"sku_id": sku_id, "group_price": 99_999_998}]}
    created = eventually(lambda: (lambda a: a if a.status_code == 201 else None)(
        call("POST", "/admin/v1/campaigns", merchant, json=body)))
    campaign_id, buyer = created.json()["id"], shopper()
    error = refused(call("POST", "/api/v1/teams", buyer, json={
        "campaign_id": campaign_id, "sku_id": sku_id, "quantity": 22}), 400,
        "order_amount_too_large")
    assert error["details"] == {"quantity": ["At most 10 at this price."]}
    assert call("GET", "/admin/v1/teams", merchant, expect=200,
                params={"campaign_id": campaign_id}).json()["total"] == 0
    assert call("GET", "/api/v1/orders", buyer, expect=200).json()["total"] == 0
    assert call("GET", f"/api/v1/products/{product['id']}", expect=200).json()["skus"][0][
        "stock"] == 100


# --- prices -------------------------------------------------------------------------------

def test_a_price_cannot_fall_to_the_group_price_right_after_the_campaign(merchant):
    campaign = new_campaign(merchant)  # SKU at 5990 fen, group price 3990
    path = f"/admin/v1/products/{campaign['product_id']}"
    error = refused(call("PUT", path, merchant, json={
        "skus": [{"id": campaign["sku_id"], "price": 3990}]}), 409, "price_below_group_price")
    assert error["details"] == {str(campaign["sku_id"]): [
        f"Campaign {campaign['id']} sells it at 3990 fen: the price must be above that."]}
    assert call("GET", path, merchant, expect=200).json()["skus"][0]["price"] == 5990
    lowered = call("PUT", path, merchant, expect=200,
                   json={"skus": [{"id": campaign["sku_id"], "price": 4990}]}).json()
    assert lowered["skus"][0]["price"] == 4990


# --- idempotency keys ----------------------------------------------------------------------

def test_an_idempotency_key_names_one_request(merchant):
    campaign, buyer = new_campaign(merchant), shopper()
    key = {"Idempotency-Key": "tap-once"}

    def place(quantity):
        return call("POST", "/api/v1/teams", buyer, headers=dict(key), json={
            "campaign_id": campaign["id"], "sku_id": campaign["sku_id"], "quantity": quantity})
    first = place(1)
    assert first.status_code == 201, first.text
    refused(place(2), 422, "idempotency_key_reused")
    again = place(1)
    assert again.status_code == 201 and again.json()["order"]["id"] == first.json()["order"]["id"]
    assert call("GET", "/api/v1/orders", buyer, expect=200).json()["total"] == 1


# --- stuck refunds -----------------------------------------------------------------------

def test_a_refund_refused_for_good_is_shown_to_ops_and_retried(stack, merchant, ops):
    stack.kill("payments")
    stack.start("payments", PINTUAN_FAULT=sandbox.REFUND_ABNORMAL_FAULT)
    stack.wait_healthy(["payments"])
    # The joiner's seat is held until the team's deadline: long enough to start paying on a
    # loaded machine (3 s was outlasted once), short enough to wait for the failure.
    campaign = new_campaign(merchant, team_size=3, validity=10)
    leader = shopper()
    placed = open_team(leader, campaign)
    order_id = placed["order"]["id"]
    pay(leader, order_id)
    assert eventually(lambda: team(placed["team"]["id"])["status"] == "failed", timeout=15)

    def stuck():
        page = call("GET", "/admin/v1/ops/refunds", ops, expect=200,
                    params={"state": "stuck"}).json()
        return [item for item in page["items"] if item["order_id"] == order_id]
    assert eventually(stuck), "the refused refund never showed as stuck"
    [refund] = stuck()
    assert refund["status"] == "failed" and refund["stuck"] is True
    assert "USER_ACCOUNT_ABNORMAL" in refund["last_error"]
    ledger = call("GET", "/admin/v1/ops/ledger", ops, expect=200).json()
    assert ledger["refunds_stuck"] >= 1 and ledger["balanced"] is True
    assert order_status_of(leader, order_id) == "refunding"

    stack.kill("payments")  # the shopper's account is mended at WeChat's end
    stack.start("payments")
    stack.wait_healthy(["payments"])
    retried = call("POST", f"/admin/v1/ops/refunds/{refund['id']}/retry", ops, expect=200).json()
    assert retried["status"] == "processing" and retried["stuck"] is False
    wait_order(leader, order_id, "refunded")
    assert stuck() == []
    refused(call("POST", f"/admin/v1/ops/refunds/{refund['id']}/retry", ops), 409,
            "refund_succeeded")
    refused(call("GET", "/admin/v1/ops/refunds", ops, params={"state": "lost"}), 400,
            "validation_failed")


def order_status_of(token, order_id):
    return call("GET", f"/api/v1/orders/{order_id}", token, expect=200).json()["status"]
