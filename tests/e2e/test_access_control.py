"""Who may reach what, through the gateway on the whole stack.

The role matrix is built from the route declarations themselves, so a new route
is in it the day it is added: no token → 401, the wrong role → 403, for every
protected route. Then what roles cannot express: one shopper's orders, addresses,
payments and messages are invisible and untouchable to another; one shop's
products, campaigns, teams, orders, reviews and feedback are missing (404) to
another shop on every back-office route; team pages carry no one's phone or
address; expired tokens and forged callbacks are refused.
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
        if role in route.roles:
            continue
        answer = call(route.method, concrete(route.path), people[role], json={})
        assert is_error(answer, 403, "wrong_role"), f"{role}: {answer.status_code} {answer.text}"


def test_the_matrix_covers_shop_back_office_and_ops():
    roles = {role for r in PROTECTED for role in r.roles}
    assert {"customer", "merchant", "ops", "any"} <= roles
    assert all(set(r.roles) <= {"merchant", "ops"} for r in PROTECTED
               if r.path.startswith("/admin/"))
    assert {r.roles for r in PROTECTED if "categories" in r.path and r.method != "GET"} == \
        {("ops",)}  # the category tree is the platform's


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
            return {**campaign, "product_id": product["id"]}
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


# --- one shop and another ------------------------------------------------------------------

@pytest.fixture(scope="module")
def shop_a(people):
    """The demo shop's product, campaign, a succeeded team with one order shipped and
    received (reviewed, with feedback about it) and one waiting to be shipped."""
    campaign = _running_campaign()
    leader, member = login_shopper("leader"), login_shopper("member")
    opened = call("POST", "/api/v1/teams", leader, json={
        "campaign_id": campaign["id"], "sku_id": campaign["skus"][0]["sku_id"], "quantity": 1})
    assert opened.status_code == 201, opened.text
    team_id, shipped = opened.json()["team"]["id"], opened.json()["order"]["id"]
    _pay(leader, shipped)
    assert _wait(lambda: call("GET", f"/api/v1/teams/{team_id}").json()["status"] == "open")
    joined = call("POST", f"/api/v1/teams/{team_id}/join", member,
                  json={"sku_id": campaign["skus"][0]["sku_id"], "quantity": 1})
    assert joined.status_code == 201, joined.text
    to_ship = joined.json()["order"]["id"]
    _pay(member, to_ship)
    for token, order_id in ((leader, shipped), (member, to_ship)):
        assert _wait(lambda: call("GET", f"/api/v1/orders/{order_id}", token)
                     .json()["status"] == "to_ship")
    merchant = people["merchant"]
    assert call("POST", f"/admin/v1/orders/{shipped}/ship", merchant,
                json={"carrier": "顺丰速运", "tracking_no": "SF1000000001"}).status_code == 200
    assert call("POST", f"/api/v1/orders/{shipped}/confirm-receipt", leader).status_code == 200
    review = call("POST", "/api/v1/reviews", leader, json={"order_id": shipped, "stars": 5})
    assert review.status_code == 201, review.text
    feedback = call("POST", "/api/v1/feedback", leader, json={
        "kind": "complaint", "content": "包装有点破损，希望改进", "order_id": shipped})
    assert feedback.status_code == 201, feedback.text
    return {"product_id": campaign["product_id"], "campaign_id": campaign["id"],
            "team_id": team_id, "order_id": to_ship, "shipped_order_id": shipped,
            "review_id": review.json()["id"], "feedback_id": feedback.json()["id"]}


@pytest.fixture(scope="module")
def shop_b(people):
    """A second shop, opened by ops."""
    opened = call("POST", "/admin/v1/merchants", people["ops"], json={
        "username": "shop-b", "password": "shop-b-password", "shop_name": "B 店"})
    assert opened.status_code == 201, opened.text
    answer = call("POST", "/admin/v1/auth/login",
                  json={"username": "shop-b", "password": "shop-b-password"})
    assert answer.json()["user"]["shop_name"] == "B 店"
    return answer.json()["token"]


# A valid body for every back-office route that names one shop's object: refused for
# being another shop's, not for a malformed body.
SHOP_OBJECT_BODIES = {
    ("PUT", "/admin/v1/products/<int:product_id>"): {"title": "B 店改的标题"},
    ("POST", "/admin/v1/products/<int:product_id>/publish"): None,
    ("POST", "/admin/v1/products/<int:product_id>/unpublish"): None,
    ("POST", "/admin/v1/products/<int:product_id>/pin"): {"rank": 1},
    ("POST", "/admin/v1/products/<int:product_id>/unpin"): None,
    ("GET", "/admin/v1/products/<int:product_id>"): None,
    ("GET", "/admin/v1/campaigns/<int:campaign_id>"): None,
    ("PUT", "/admin/v1/campaigns/<int:campaign_id>"): {"ends_at": "2031-01-01T00:00:00Z"},
    ("POST", "/admin/v1/campaigns/<int:campaign_id>/invalidate"): None,
    ("GET", "/admin/v1/orders/<int:order_id>"): None,
    ("POST", "/admin/v1/orders/<int:order_id>/ship"): {"carrier": "中通快递",
                                                      "tracking_no": "ZT2000000002"},
    ("POST", "/admin/v1/reviews/<int:review_id>/reply"): {"reply": "不是我们店的"},
    ("POST", "/admin/v1/feedback/<int:feedback_id>/reply"): {"reply": "不是我们店的"},
}
SHOP_ID_PARAMS = ("product_id", "campaign_id", "order_id", "review_id", "feedback_id")


def _shop_object_routes():
    return [r for r in ROUTES if "merchant" in r.roles
            and any(f"<int:{name}>" in r.path for name in SHOP_ID_PARAMS)]


def test_every_back_office_route_on_a_shops_object_is_in_the_shop_matrix():
    assert {(r.method, r.path) for r in _shop_object_routes()} == set(SHOP_OBJECT_BODIES)


def _a_views(people, shop_a):
    merchant = people["merchant"]
    return [call("GET", path, merchant).json() for path in (
        f"/admin/v1/products/{shop_a['product_id']}",
        f"/admin/v1/campaigns/{shop_a['campaign_id']}",
        f"/admin/v1/orders/{shop_a['order_id']}",
        f"/api/v1/reviews/{shop_a['review_id']}")]


def test_another_shop_gets_404_for_my_objects_on_every_route(people, shop_a, shop_b):
    before = _a_views(people, shop_a)
    for (method, path), body in SHOP_OBJECT_BODIES.items():
        url = PATH_PARAM.sub(lambda m: str(shop_a[m.group(2)]), path)
        answer = call(method, url, shop_b, json=body)
        assert is_error(answer, 404), f"{method} {url}: {answer.status_code} {answer.text}"
    assert _a_views(people, shop_a) == before  # nothing B tried reached A's shop
    refused = call("POST", "/admin/v1/campaigns", shop_b, json={
        "product_id": shop_a["product_id"], "starts_at": "2030-01-01T00:00:00Z",
        "ends_at": "2030-02-01T00:00:00Z", "team_size": 2, "validity_seconds": 3600,
        "per_user_limit": 1, "skus": [{"sku_id": 1, "group_price": 1}]})
    assert is_error(refused, 404), refused.text


def test_another_shops_lists_hold_nothing_of_mine(people, shop_a, shop_b):
    def ids(path, token, **params):
        answer = call("GET", path, token, params=params)
        assert answer.status_code == 200, answer.text
        return {item["id"] for item in answer.json()["items"]}
    mine = people["merchant"]
    for path, mine_id in (("/admin/v1/products", "product_id"),
                          ("/admin/v1/campaigns", "campaign_id"),
                          ("/admin/v1/orders", "order_id"), ("/admin/v1/reviews", "review_id"),
                          ("/admin/v1/feedback", "feedback_id")):
        assert shop_a[mine_id] in ids(path, mine), path  # my shop sees it...
        assert ids(path, shop_b) == set(), path  # ...the new shop sees nothing at all
    assert ids("/admin/v1/orders", shop_b, team_id=shop_a["team_id"]) == set()
    assert ids("/admin/v1/reviews", shop_b, product_id=shop_a["product_id"]) == set()
    assert is_error(call("GET", "/admin/v1/teams", shop_b,
                         params={"campaign_id": shop_a["campaign_id"]}), 404)
    assert ids("/admin/v1/teams", shop_b) == set()
    assert shop_a["feedback_id"] in ids("/admin/v1/feedback", people["ops"])  # the platform


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
