"""End to end through the gateway over HTTP, the stack started as `./dev up` does."""
import time

import pytest
import requests

from plumbing import settings
from plumbing.errors import NotFound
from tests.e2e.stack import GATEWAY

pytestmark = pytest.mark.e2e


def call(method, path, token=None, **kwargs):
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, GATEWAY + path, headers=headers, timeout=15, **kwargs)


def merchant_token():
    answer = call("POST", "/admin/v1/auth/login",
                  json={"username": "demo-merchant", "password": "demo-password"})
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


def shopper_token(code="wx-code-alice"):
    answer = call("POST", "/api/v1/auth/wechat-login", json={"code": code})
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


NEW_PRODUCT = {"title": "褚橙 冰糖橙 8斤装", "subtitle": "现摘现发",
               "skus": [{"spec": "10斤 / 中果", "price": 3990, "stock": 50},
                        {"spec": "10斤 / 大果", "price": 4990, "stock": 20}]}


def error_code(answer):
    return answer.json()["error"]["code"]


def test_merchant_lists_a_product_and_a_shopper_finds_it(stack):
    merchant = merchant_token()
    created = call("POST", "/admin/v1/products", merchant, json=NEW_PRODUCT)
    assert created.status_code == 201, created.text
    product = created.json()
    assert product["status"] == "draft"
    assert [sku["spec"] for sku in product["skus"]] == ["10斤 / 中果", "10斤 / 大果"]

    shopper = shopper_token()
    assert call("GET", f"/api/v1/products/{product['id']}", shopper).status_code == 404
    published = call("POST", f"/admin/v1/products/{product['id']}/publish", merchant)
    assert published.status_code == 200 and published.json()["status"] == "published"

    listing = call("GET", "/api/v1/products", shopper, params={"q": "冰糖橙"}).json()
    assert listing["total"] == 1
    assert listing["items"][0]["id"] == product["id"]
    assert listing["items"][0]["price"] == 3990

    detail = call("GET", f"/api/v1/products/{product['id']}", shopper).json()
    assert detail["title"] == "褚橙 冰糖橙 8斤装"
    assert {sku["spec"]: sku["stock"] for sku in detail["skus"]} == {
        "10斤 / 中果": 50, "10斤 / 大果": 20}
    assert detail["joinable_teams"] == []


def test_demo_shop_is_seeded_with_chinese_products(stack):
    listing = call("GET", "/api/v1/products", params={"page_size": 50}).json()
    assert listing["total"] >= 12
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in item["title"]) for item in listing["items"])
    assert call("GET", "/api/v1/categories").json()["items"]


def test_same_wechat_code_is_the_same_shopper(stack):
    first = call("POST", "/api/v1/auth/wechat-login", json={"code": "wx-code-bob"}).json()
    again = call("POST", "/api/v1/auth/wechat-login", json={"code": "wx-code-bob"}).json()
    other = call("POST", "/api/v1/auth/wechat-login", json={"code": "wx-code-carol"}).json()
    assert first["user"]["id"] == again["user"]["id"] != other["user"]["id"]


def test_shopper_keeps_addresses_with_one_default(stack):
    token = shopper_token("wx-code-dave")
    address = {"recipient": "张三", "phone": "13800138000", "province": "广东省",
               "city": "深圳市", "district": "南山区", "detail": "科技园 1 号"}
    first = call("POST", "/api/v1/addresses", token, json=address).json()
    second = call("POST", "/api/v1/addresses", token, json={**address, "recipient": "李四"}).json()
    assert first["is_default"] and not second["is_default"]
    call("POST", f"/api/v1/addresses/{second['id']}/default", token)
    items = call("GET", "/api/v1/addresses", token).json()["items"]
    assert [a["recipient"] for a in items if a["is_default"]] == ["李四"]
    stranger = shopper_token("wx-code-erin")
    assert call("DELETE", f"/api/v1/addresses/{first['id']}", stranger).status_code == 404


def test_every_service_is_healthy_and_ops_can_see_it(stack):
    for name in ("gateway",) + settings.SERVICES:
        answer = requests.get(f"http://127.0.0.1:{settings.PORTS[name]}/health", timeout=5)
        assert answer.status_code == 200, (name, answer.text)
        assert "pintuan_worker_total" in requests.get(
            f"http://127.0.0.1:{settings.PORTS[name]}/metrics", timeout=5).text
    ops = call("POST", "/admin/v1/auth/login",
               json={"username": "demo-ops", "password": "demo-password"}).json()["token"]
    overview = call("GET", "/admin/v1/ops/health", ops).json()
    assert overview["status"] == "ok"
    assert {item["service"] for item in overview["services"]} == set(settings.SERVICES)
    assert call("GET", "/admin/v1/ops/health", merchant_token()).status_code == 403


@pytest.mark.parametrize("method, path, kwargs, status, code", [
    ("POST", "/api/v1/auth/wechat-login", {"data": "{not json", "headers": {
        "Content-Type": "application/json"}}, 400, "invalid_json"),
    ("POST", "/api/v1/auth/wechat-login", {"json": ["a", "list"]}, 400, "invalid_json"),
    ("POST", "/api/v1/auth/wechat-login", {"json": {"code": 42}}, 400, "validation_failed"),
    ("POST", "/api/v1/auth/wechat-login", {"json": {}}, 400, "validation_failed"),
    ("GET", "/api/v1/products/999999", {}, 404, "product_not_found"),
    ("GET", "/api/v1/products", {"params": {"sort": "cheapest"}}, 400, "validation_failed"),
    ("GET", "/api/v1/products", {"params": {"page": "two"}}, 400, "validation_failed"),
    ("GET", "/api/v1/me", {}, 401, "missing_token"),
    ("GET", "/api/v1/me", {"headers": {"Authorization": "Bearer forged.token.x"}}, 401,
     "invalid_token"),
    ("GET", "/api/v1/no-such-thing", {}, 404, "route_not_found"),
    ("DELETE", "/api/v1/products", {}, 405, "method_not_allowed"),
    ("POST", "/api/v1/auth/wechat-login", {"data": "x" * (2 * 1024 * 1024), "headers": {
        "Content-Type": "application/json"}}, 413, "body_too_large"),
])
def test_bad_requests_get_a_json_4xx(stack, method, path, kwargs, status, code):
    answer = call(method, path, **kwargs)
    assert answer.status_code == status, answer.text
    assert error_code(answer) == code
    assert answer.json()["error"]["message"]


def test_shopper_may_not_use_the_back_office_and_bad_products_write_nothing(stack):
    shopper, merchant = shopper_token(), merchant_token()
    forbidden = call("POST", "/admin/v1/products", shopper, json=NEW_PRODUCT)
    assert forbidden.status_code == 403 and error_code(forbidden) == "wrong_role"
    before = call("GET", "/admin/v1/products", merchant).json()["total"]
    negative = {**NEW_PRODUCT, "skus": [{"spec": "x", "price": -1, "stock": 1}]}
    answer = call("POST", "/admin/v1/products", merchant, json=negative)
    assert answer.status_code == 400
    assert list(answer.json()["error"]["details"]) == ["skus.0.price"]
    unknown_category = {**NEW_PRODUCT, "category_id": 99999}
    assert call("POST", "/admin/v1/products", merchant, json=unknown_category).status_code == 404
    assert call("GET", "/admin/v1/products", merchant).json()["total"] == before


def test_openapi_document_describes_the_routes(stack):
    document = call("GET", "/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/products/{product_id}" in document["paths"]
    login = document["paths"]["/api/v1/auth/wechat-login"]["post"]
    assert login["requestBody"]["content"]["application/json"]["schema"]


def test_event_committed_before_a_crash_is_published_after_restart(stack, rpc):
    """catalog dies between committing a product and publishing its event;
    after a restart the event still reaches teams."""
    stack.kill("catalog", sig=15)
    stack.start("catalog", PINTUAN_FAULT="crash_before_publish")
    stack.wait_healthy(["catalog"])
    created = call("POST", "/admin/v1/products", merchant_token(),
                   json={**NEW_PRODUCT, "title": "五常大米 5kg"})
    assert created.status_code == 201, created.text
    product_id = created.json()["id"]
    assert stack.wait_exit("catalog") == 137  # died with the event still in its outbox
    with pytest.raises(NotFound):
        rpc.teams.get_product_copy(product_id)

    stack.start("catalog")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            copy = rpc.teams.get_product_copy(product_id)
            break
        except NotFound:
            time.sleep(0.2)
    else:
        pytest.fail("the event never arrived at teams")
    assert copy["title"] == "五常大米 5kg"
    assert copy["status"] == "draft"
