"""Limits at the edge, through the gateway on the whole stack: rate limits on login,
join and pay (per user and per address, 429 with Retry-After), the staff login lockout
(429 login_locked), the body size limit, and the page size cap of every listing.

The stack trusts one proxy hop here, so each test plays shoppers from addresses
of its own through X-Forwarded-For.
"""
import itertools
import time

import pytest
import requests

from gateway.routing import ROUTES
from gateway.service import GatewayService  # noqa: F401  (registers every route)
from tests.e2e.stack import GATEWAY
from tests.e2e.test_access_control import concrete

pytestmark = pytest.mark.e2e

STACK_ENV = {
    "PINTUAN_TRUSTED_PROXIES": "1",
    "PINTUAN_RATE_LIMIT_LOGIN": "-,5/60",
    "PINTUAN_RATE_LIMIT_STAFF_LOGIN": "-,5/60",
    "PINTUAN_STAFF_LOCKOUT_PAIR": "3/900",
    "PINTUAN_RATE_LIMIT_JOIN": "3/60,5/60",
    "PINTUAN_RATE_LIMIT_PAY": "3/60,-",
}
_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


def call(method, path, token=None, ip=None, **kwargs):
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    headers["X-Forwarded-For"] = ip or next(_addresses)
    return requests.request(method, GATEWAY + path, headers=headers, timeout=20, **kwargs)


def login(ip):
    return call("POST", "/api/v1/auth/wechat-login", ip=ip,
                json={"code": f"wx-limits-{time.time_ns()}"})


def shopper():
    answer = login(next(_addresses))
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


def assert_limited(answer):
    assert answer.status_code == 429, answer.text
    assert answer.json()["error"]["code"] == "rate_limited"
    retry_after = int(answer.headers["Retry-After"])
    assert 1 <= retry_after <= 60 and answer.json()["error"]["details"]["retry_after"] == retry_after


def test_logins_from_one_address_are_limited(stack):
    ip = next(_addresses)
    assert [login(ip).status_code for _ in range(5)] == [200] * 5
    assert_limited(login(ip))
    assert login(next(_addresses)).status_code == 200  # another address is not held back


def staff_login(ip, username="demo-merchant", password="demo-password"):
    return call("POST", "/admin/v1/auth/login", ip=ip,
                json={"username": username, "password": password})


def well_inside_a_window(window=60, needed=10):
    """Limits count in fixed windows aligned to the clock: a burst that straddles a turn is
    counted in two. Waits until the current window has `needed` seconds left."""
    left = window - time.time() % window
    if left < needed:
        time.sleep(left + 0.1)


def test_staff_logins_have_a_limit_of_their_own(stack):
    ip = next(_addresses)
    well_inside_a_window()
    assert [login(ip).status_code for _ in range(3)] == [200] * 3  # shopper logins apart
    assert [staff_login(ip, f"nobody-{n}").status_code for n in range(5)] == [401] * 5
    assert_limited(staff_login(ip))


def test_failed_staff_logins_lock_the_address_out_not_the_merchant(stack):
    guesser, owner = next(_addresses), next(_addresses)
    assert [staff_login(guesser, password="guess").status_code for _ in range(3)] == [401] * 3
    locked = staff_login(guesser)  # the right password does not get past the lockout
    assert locked.status_code == 429, locked.text
    assert locked.json()["error"]["code"] == "login_locked"
    assert 890 <= int(locked.headers["Retry-After"]) <= 900
    assert locked.json()["error"]["details"]["retry_after"] == int(locked.headers["Retry-After"])
    assert staff_login(owner).status_code == 200  # the merchant, from its own address


def test_joins_are_limited_per_shopper_and_per_address(stack):
    one, two, ip = shopper(), shopper(), next(_addresses)
    join = {"sku_id": 1, "quantity": 1}
    # unknown teams: each call still counts, so probing costs the same as buying
    assert [call("POST", "/api/v1/teams/999999/join", one, ip, json=join).status_code
            for _ in range(3)] == [404] * 3
    assert_limited(call("POST", "/api/v1/teams", one, next(_addresses),
                        json={"campaign_id": 1, "sku_id": 1, "quantity": 1}))  # opening counts too
    assert [call("POST", "/api/v1/teams/999999/join", two, ip, json=join).status_code
            for _ in range(2)] == [404] * 2
    assert_limited(call("POST", "/api/v1/teams/999999/join", two, ip, json=join))  # the address's 6th
    assert call("POST", "/api/v1/teams/999999/join", shopper(), next(_addresses),
                json=join).status_code == 404  # a shopper elsewhere is not held back


def test_pay_is_limited_per_shopper(stack):
    token = shopper()
    assert [call("POST", "/api/v1/orders/999999/pay", token).status_code for _ in range(3)] == [404] * 3
    assert_limited(call("POST", "/api/v1/orders/999999/pay", token))
    assert call("POST", "/api/v1/orders/999999/pay", shopper()).status_code == 404


def test_a_body_over_the_limit_is_refused_before_it_is_read(stack):
    token = shopper()
    answer = call("POST", "/api/v1/addresses", token, data=b"{" + b" " * (1024 * 1024 + 10) + b"}",
                  headers={"Content-Type": "application/json"})
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "body_too_large"
    assert call("GET", "/api/v1/addresses", token).json()["items"] == []


LISTINGS = [r for r in ROUTES if r.method == "GET" and r.query is not None
            and "page_size" in r.query.fields]


@pytest.mark.parametrize("route", LISTINGS, ids=lambda r: r.path)
def test_no_listing_hands_out_more_than_a_page_of_50(stack, route):
    role = route.roles[0] if route.roles else None
    token = None if role is None else shopper() if role in ("customer", "any") \
        else _staff(role)
    answer = call("GET", concrete(route.path), token, params={"page_size": 51})
    assert answer.status_code == 400, answer.text
    assert "page_size" in answer.json()["error"]["details"]


def _staff(role):
    username = {"merchant": "demo-merchant", "ops": "demo-ops"}[role]
    answer = call("POST", "/admin/v1/auth/login", json={"username": username, "password": "demo-password"})
    return answer.json()["token"]
