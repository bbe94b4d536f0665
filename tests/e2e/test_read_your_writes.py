"""A user's own write, followed at once (no pause) by a request that depends on it, never
fails because another service's copy has not caught up. (Confirm receipt → review and
order → complaint about it are in test_reviews.py.)"""
import pytest

from tests.e2e.test_group_buy import at, call, new_product, shopper, staff

pytestmark = pytest.mark.e2e

HOME = {"recipient": "王五", "phone": "13700001111", "province": "广东省", "city": "深圳市",
        "district": "南山区", "detail": "科技园 1 号"}


@pytest.fixture(scope="module")
def merchant(stack):
    return staff("demo-merchant")


def campaign_body(product, **overrides):
    return {"product_id": product["id"], "starts_at": at(0), "ends_at": at(600),
            "team_size": 2, "validity_seconds": 60, "per_user_limit": 1,
            "skus": [{"sku_id": product["skus"][0]["id"], "group_price": 1990}], **overrides}


def test_a_product_published_a_moment_ago_takes_a_campaign(stack, merchant):
    for _ in range(5):  # each time, the event may or may not have arrived: never matters
        product = new_product(merchant)
        created = call("POST", "/admin/v1/campaigns", merchant, json=campaign_body(product))
        assert created.status_code == 201, created.text


def test_a_sku_added_a_moment_ago_is_in_the_campaign_edit(stack, merchant):
    product = new_product(merchant)
    campaign = call("POST", "/admin/v1/campaigns", merchant, expect=201, json=campaign_body(
        product, starts_at=at(300), ends_at=at(900))).json()
    skus = [{"id": product["skus"][0]["id"], "spec": "2斤装", "price": 5990, "stock": 100},
            {"spec": "5斤装", "price": 12990, "stock": 50}]
    edited = call("PUT", f"/admin/v1/products/{product['id']}", merchant, expect=200,
                  json={"skus": skus}).json()
    big = next(sku for sku in edited["skus"] if sku["spec"] == "5斤装")
    answer = call("PUT", f"/admin/v1/campaigns/{campaign['id']}", merchant, json={
        "skus": [*campaign["skus"], {"sku_id": big["id"], "group_price": 9990}]})
    assert answer.status_code == 200, answer.text
    assert {sku["sku_id"] for sku in answer.json()["skus"]} == {product["skus"][0]["id"],
                                                               big["id"]}


def test_a_cancelled_order_gives_back_the_seat_limit_and_last_unit_at_once(stack, merchant):
    product = new_product(merchant, stock=1)
    campaign = call("POST", "/admin/v1/campaigns", merchant, expect=201,
                    json=campaign_body(product)).json()
    token = shopper()
    body = {"campaign_id": campaign["id"], "sku_id": product["skus"][0]["id"], "quantity": 1}
    first = call("POST", "/api/v1/teams", token, expect=201, json=body).json()
    call("POST", f"/api/v1/orders/{first['order']['id']}/cancel", token, expect=200)
    again = call("POST", "/api/v1/teams", token, json=body)  # limit 1, the only unit
    assert again.status_code == 201, again.text


def test_an_address_added_a_moment_ago_is_on_the_order(stack, merchant):
    product = new_product(merchant)
    campaign = call("POST", "/admin/v1/campaigns", merchant, expect=201,
                    json=campaign_body(product)).json()
    token = shopper()
    address = call("POST", "/api/v1/addresses", token, expect=201, json=HOME).json()
    placed = call("POST", "/api/v1/teams", token, expect=201, json={
        "campaign_id": campaign["id"], "sku_id": product["skus"][0]["id"], "quantity": 1,
        "address_id": address["id"]}).json()
    assert placed["order"]["address"]["detail"] == "科技园 1 号"
