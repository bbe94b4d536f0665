"""Who may reach what, through the gateway on the whole stack.

The role matrix is built from the route declarations themselves, so a new route
is in it the day it is added: no token → 401, the wrong role → 403, for every
protected route. Then what roles cannot express: one shopper's orders, addresses,
payments and messages are invisible and untouchable to another; team pages carry
no one's phone or address; expired tokens and forged callbacks are refused.
"""
import re
import time

import pytest
import requests

from gateway.routing import ROUTES
from gateway.service import GatewayService  # noqa: F401  (registers every route)
from plumbing import tokens
from tests.e2e.stack import GATEWAY

pytestmark = pytest.mark.e2e

PATH_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
PHONE = "13912345678"
HOME = {"recipient": "李四", "phone": PHONE, "province": "浙江省", "city": "杭州市",
        "district": "西湖区", "detail": "文三路 100 号"}


def call(method, path, token=None, **kwargs):
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, GATEWAY + path, headers=headers, timeout=20, **kwargs)


def login_shopper(name):
    answer = call("POST", "/api/v1/auth/wechat-login", json={"code": f"wx-acl-{name}-{time.time_ns()}"})
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


def login_staff(username):
    answer = call("POST", "/admin/v1/auth/login",
                  json={"username": username, "password": "demo-password"})
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


@pytest.fixture(scope="module")
def people(stack):
    return {"customer": login_shopper("a"), "other": login_shopper("b"),
            "merchant": login_staff("demo-merchant"), "ops": login_staff("demo-ops")}


def concrete(path):
    """A route's path with its parameters filled in (1 for ids, a word for the rest)."""
    return PATH_PARAM.sub(lambda m: "1" if m.group(1) == "int" else "x", path)


def is_error(answer, status, code=None):
    body = answer.json()
    return (answer.status_code == status and set(body) == {"error"}
            and (code is None or body["error"]["code"] == code))


PROTECTED = [r for r in ROUTES if r.role]
ROLES = ("customer", "merchant", "ops")


@pytest.mark.parametrize("route", PROTECTED, ids=lambda r: f"{r.method} {r.path}")
def test_every_protected_route_wants_a_token(stack, route):
    answer = call(route.method, concrete(route.path))
    assert is_error(answer, 401, "missing_token"), answer.text


@pytest.mark.parametrize("route", [r for r in PROTECTED if r.role != "any"],
                         ids=lambda r: f"{r.method} {r.path}")
def test_every_role_is_kept_to_its_own_routes(people, route):
    for role in ROLES:
        if role == route.role:
            continue
        answer = call(route.method, concrete(route.path), people[role], json={})
        assert is_error(answer, 403, "wrong_role"), f"{role}: {answer.status_code} {answer.text}"


def test_the_matrix_covers_shop_back_office_and_ops():
    roles = {r.role for r in PROTECTED}
    assert {"customer", "merchant", "ops", "any"} <= roles
    assert all(r.role in ("merchant", "ops") for r in PROTECTED if r.path.startswith("/admin/"))


# --- one shopper and another -------------------------------------------------------------

@pytest.fixture(scope="module")
def placed(people):
    """Shopper A has an address and an unpaid team order on a demo campaign."""
    address = call("POST", "/api/v1/addresses", people["customer"], json=HOME)
    assert address.status_code == 201, address.text
    campaign = _running_campaign()
    answer = call("POST", "/api/v1/teams", people["customer"], json={
        "campaign_id": campaign["id"], "sku_id": campaign["skus"][0]["sku_id"], "quantity": 1,
        "address_id": address.json()["id"]})
    assert answer.status_code == 201, answer.text
    return {"address": address.json(), "order": answer.json()["order"],
            "team": answer.json()["team"]}


def _running_campaign():
    for product in call("GET", "/api/v1/products", params={"page_size": 50}).json()["items"]:
        detail = call("GET", f"/api/v1/products/{product['id']}").json()
        campaign = detail.get("campaign")
        if campaign and campaign.get("status") == "active":
            return campaign
    pytest.fail("the demo shop has no running campaign")


def test_another_shopper_cannot_see_or_touch_my_order(people, placed):
    order_id, other = placed["order"]["id"], people["other"]
    for method, path in (("GET", f"/api/v1/orders/{order_id}"),
                         ("POST", f"/api/v1/orders/{order_id}/cancel"),
                         ("POST", f"/api/v1/orders/{order_id}/pay")):
        answer = call(method, path, other)
        assert is_error(answer, 404), f"{method} {path}: {answer.status_code} {answer.text}"
    assert order_id not in [o["id"] for o in call("GET", "/api/v1/orders", other).json()["items"]]
    mine = call("GET", f"/api/v1/orders/{order_id}", people["customer"]).json()
    assert mine["status"] == "pending_payment"  # nothing the other shopper did reached it


def test_another_shopper_cannot_change_my_address(people, placed):
    address_id, other = placed["address"]["id"], people["other"]
    attempts = (call("PUT", f"/api/v1/addresses/{address_id}", other, json={**HOME, "city": "宁波市"}),
                call("DELETE", f"/api/v1/addresses/{address_id}", other),
                call("POST", f"/api/v1/addresses/{address_id}/default", other))
    assert all(is_error(answer, 404) for answer in attempts), [a.text for a in attempts]
    assert call("GET", "/api/v1/addresses", other).json()["items"] == []
    [mine] = call("GET", "/api/v1/addresses", people["customer"]).json()["items"]
    assert mine["city"] == "杭州市"


def test_another_shopper_cannot_read_or_clear_my_messages(people, placed):
    mine = people["customer"]
    _pay(mine, placed["order"]["id"])
    inbox = _wait(lambda: call("GET", "/api/v1/notifications", mine).json()["items"])
    assert inbox, "paying for the team should have brought a message"
    unread = call("GET", "/api/v1/notifications", mine).json()
    answer = call("POST", "/api/v1/notifications/read", people["other"],
                  json={"ids": [item["id"] for item in inbox]})
    assert answer.status_code == 200 and answer.json()["unread"] == 0
    assert call("GET", "/api/v1/notifications", people["other"]).json()["items"] == []
    assert call("GET", "/api/v1/notifications", mine).json()["unread"] == unread["unread"] > 0


def test_team_pages_show_no_phone_or_address(people, placed):
    team_id = placed["team"]["id"]
    team = _wait(lambda: (lambda t: t if t["status"] == "open" else None)(
        call("GET", f"/api/v1/teams/{team_id}").json()))
    assert team, "the team never opened"
    shared = call("GET", f"/api/v1/teams/share/{team['share_token']}")
    for answer in (call("GET", f"/api/v1/teams/{team_id}"), shared):
        text = answer.text
        assert answer.status_code == 200
        assert PHONE not in text and "文三路" not in text and "address" not in text


def test_an_expired_token_is_refused(stack, people, monkeypatch):
    monkeypatch.setenv("PINTUAN_VAR_DIR", str(stack.log_dir / "var"))  # the stack's dev keys
    user_id = tokens.verify(people["customer"])["user_id"]
    fresh = tokens.sign(user_id, ["customer"])
    expired = tokens.sign(user_id, ["customer"], now=time.time() - tokens.ttl_seconds() - 5)
    assert call("GET", "/api/v1/addresses", fresh).status_code == 200
    assert is_error(call("GET", "/api/v1/addresses", expired), 401, "token_expired")


def test_a_callback_without_a_valid_signature_changes_nothing(people):
    before = call("GET", "/admin/v1/ops/ledger", people["ops"]).json()
    forged = call("POST", "/callbacks/wechatpay/payment", data=b'{"id":"x","resource":{}}',
                  headers={"Content-Type": "application/json", "Wechatpay-Signature": "Zm9v",
                           "Wechatpay-Timestamp": str(int(time.time())), "Wechatpay-Nonce": "n",
                           "Wechatpay-Serial": "whatever"})
    assert forged.status_code == 401 and forged.json()["code"] == "FAIL"
    assert call("GET", "/admin/v1/ops/ledger", people["ops"]).json() == before


def _pay(token, order_id):
    prepay = call("POST", f"/api/v1/orders/{order_id}/pay", token).json()["prepay_id"]
    assert call("POST", f"/sandbox/wechatpay/{prepay}/pay", json={"result": "success"}).status_code == 200


def _wait(check, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.3)
    return None
