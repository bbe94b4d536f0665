"""What a hostile (or just unlucky) client meets, through the gateway on the whole stack
on PostgreSQL: every refusal in the JSON error format with its own code, never a 500 or
plain text; share links from the configured address; no user ids on public pages; a
database that goes away inside one service is a 503 for the caller, on every path."""
import base64
import io
import json
import socket
import time

import pytest
import requests
from PIL import Image

from plumbing import settings
from plumbing.testing import user_id_keys
from services.teams import qr
from tests.e2e.stack import GATEWAY
from tests.e2e.test_group_buy import (
    call,
    eventually,
    new_campaign,
    open_and_pay,
    shopper,
    staff,
)

pytestmark = pytest.mark.e2e

PUBLIC = "https://pintuan.example"
STACK_ENV = {"PINTUAN_PUBLIC_BASE_URL": PUBLIC, "PINTUAN_RATE_LIMIT_UPLOAD": "3/60,-"}
NUL = "\u0000"


@pytest.fixture(scope="module")
def merchant(stack):
    return staff("demo-merchant")


def assert_error(answer, status, code):
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"] == "application/json", answer.headers
    error = answer.json()["error"]
    assert error["code"] == code and error["message"], error
    return error


def raw(port, data):
    """Bytes sent as they are (no client library tidies them); the answer's status and
    JSON error."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"Content-Type: application/json" in head, answer
    return int(head.split()[1]), json.loads(body)["error"]["code"]


# --- the request itself ----------------------------------------------------------------

@pytest.mark.parametrize("port", [settings.PORTS["gateway"], settings.PORTS["catalog"]],
                         ids=["gateway", "a service's probes"])
def test_oversized_and_malformed_requests_get_the_json_error_body(stack, port):
    base = f"http://127.0.0.1:{port}"
    assert_error(requests.get(f"{base}/health?q={'a' * 9000}", timeout=10), 414, "uri_too_long")
    assert_error(requests.get(f"{base}/health", headers={"X-Junk": "a" * 9000}, timeout=10),
                 431, "headers_too_large")
    assert raw(port, b"GET /health HTTP/1.1\r\nHost: [::1\r\nConnection: close\r\n\r\n") == (
        400, "invalid_host")
    assert raw(port, b"HELLO\r\n\r\n") == (400, "bad_request_line")
    assert requests.get(f"{base}/health", timeout=10).status_code == 200


def test_a_chunked_body_is_read(stack):
    body = json.dumps({"code": f"wx-chunked-{time.time_ns()}"}).encode()
    answer = requests.post(f"{GATEWAY}/api/v1/auth/wechat-login", timeout=10,
                           data=iter([body[:5], body[5:]]),  # a generator: sent chunked
                           headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["token"]


def test_json_nested_a_thousand_deep_is_invalid_json(stack):
    answer = call("POST", "/api/v1/auth/wechat-login", headers={"Content-Type": "application/json"},
                  data='{"code": ' + "[" * 1000 + "]" * 1000 + "}")
    assert_error(answer, 400, "invalid_json")


# --- NUL wherever text goes in ------------------------------------------------------------

def test_nul_in_any_text_is_a_400_not_a_500_on_postgresql(stack, merchant):
    token = shopper()
    refused = [
        call("POST", "/api/v1/auth/wechat-login", json={"code": f"wx{NUL}"}),
        call("POST", "/admin/v1/auth/login", json={"username": f"demo{NUL}", "password": "x"}),
        call("POST", "/admin/v1/products", merchant, json={
            "title": f"脐橙{NUL}", "skus": [{"spec": "5斤", "price": 100, "stock": 1}]}),
        call("POST", "/api/v1/reviews", token, json={"order_id": 1, "stars": 5,
                                                     "text": f"好评{NUL}"}),
        call("POST", "/api/v1/feedback", token, json={"kind": "complaint",
                                                      "content": f"发货太慢了{NUL}"}),
        call("PATCH", "/api/v1/me", token, json={"nickname": f"小明{NUL}"}),
        call("GET", "/api/v1/teams/share/abc%00def"),
        call("GET", "/api/v1/teams/share/abc%00def/qr.png"),
        call("GET", "/api/v1/products?q=%E6%A9%99%00"),
        call("GET", "/admin/v1/products?q=%00", merchant),
    ]
    for answer in refused:
        assert_error(answer, 400, "nul_character")
    idempotency = raw(settings.PORTS["gateway"], (
        "POST /api/v1/teams HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        f"Authorization: Bearer {token}\r\nIdempotency-Key: key{NUL}1\r\n"
        "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}").encode())
    assert idempotency == (400, "nul_character")


# --- fields -----------------------------------------------------------------------------------

def test_a_date_that_overflows_in_utc_is_a_400(stack, merchant):
    answer = call("POST", "/admin/v1/campaigns", merchant, json={
        "product_id": 1, "starts_at": "2030-01-01T00:00:00Z",
        "ends_at": "9999-12-31T23:59:59-01:00", "team_size": 2, "validity_seconds": 60,
        "per_user_limit": 1, "skus": [{"sku_id": 1, "group_price": 100}]})
    assert list(assert_error(answer, 400, "validation_failed")["details"]) == ["ends_at"]


ADDRESS = {"recipient": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市",
           "district": "西湖区", "detail": "文三路 1 号"}


def test_booleans_are_only_true_or_false(stack):
    token = shopper()
    for flag in ("1", "yes", "True"):
        assert_error(call("GET", f"/api/v1/products?group_buy={flag}"), 400, "validation_failed")
    assert call("GET", "/api/v1/products?group_buy=true").status_code == 200
    for flag in ("yes", 1):
        assert_error(call("POST", "/api/v1/addresses", token,
                          json={**ADDRESS, "is_default": flag}), 400, "validation_failed")
    assert call("GET", "/api/v1/addresses", token).json()["items"] == []  # nothing half-written


def test_null_clears_the_phone_and_the_avatar(stack):
    token = shopper()
    set_both = call("PATCH", "/api/v1/me", token, json={
        "phone": "13800138000", "avatar_url": "https://img.example/me.png"})
    assert (set_both.json()["phone"], set_both.json()["avatar_url"]) == (
        "13800138000", "https://img.example/me.png")
    cleared = call("PATCH", "/api/v1/me", token, json={"phone": None, "avatar_url": None})
    assert cleared.status_code == 200, cleared.text
    me = call("GET", "/api/v1/me", token).json()
    assert (me["phone"], me["avatar_url"]) == (None, None)


def test_text_people_write_refuses_control_and_bidi_override_characters(stack):
    token = shopper()
    for nickname in ("小\u202e明", "小明\x1b[2J", "小\n明"):
        assert_error(call("PATCH", "/api/v1/me", token, json={"nickname": nickname}),
                     400, "validation_failed")
    assert_error(call("POST", "/api/v1/feedback", token, json={
        "kind": "complaint", "content": "发货\u2066太慢了"}), 400, "validation_failed")


def picture(shade):
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), (shade, 90, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def test_pictures_a_shopper_attaches_are_uploads_that_exist(stack):
    token = shopper()
    uploaded = call("POST", "/api/v1/images", token, expect=201,
                    files={"file": ("a.png", picture(1), "image/png")}).json()["url"]
    never = "/media/" + "0" * 64 + ".png"
    for images in (["https://evil.example/pixel.gif"], [uploaded, never]):
        answer = call("POST", "/api/v1/feedback", token, json={
            "kind": "suggestion", "content": "希望多上些当季水果", "image_urls": images})
        assert_error(answer, 400, "validation_failed")
    assert call("POST", "/api/v1/feedback", token, expect=201, json={
        "kind": "suggestion", "content": "希望多上些当季水果", "image_urls": [uploaded]})
    answer = call("POST", "/api/v1/reviews", token, json={"order_id": 1, "stars": 5,
                                                          "image_urls": [never]})
    assert list(assert_error(answer, 400, "validation_failed")["details"]) == ["image_urls.0"]


def test_uploads_are_rate_limited(stack):
    token = shopper()
    for shade in (2, 3, 4):
        call("POST", "/api/v1/images", token, expect=201,
             files={"file": ("a.png", picture(shade), "image/png")})
    answer = call("POST", "/api/v1/images", token,
                  files={"file": ("a.png", picture(5), "image/png")})
    assert_error(answer, 429, "rate_limited")
    assert int(answer.headers["Retry-After"]) >= 1


# --- what anyone may see of a team ----------------------------------------------------------

@pytest.fixture(scope="module")
def open_team_page(merchant):
    campaign = new_campaign(merchant, team_size=3)
    _, team_id, _ = open_and_pay(campaign)
    return campaign, call("GET", f"/api/v1/teams/{team_id}", expect=200).json()


def test_public_team_pages_show_no_user_ids(open_team_page):
    campaign, team = open_team_page
    assert team["members"] and user_id_keys(team) == set()
    share = call("GET", f"/api/v1/teams/share/{team['share_token']}", expect=200).json()
    assert share["view"] == "join" and user_id_keys(share) == set()
    product = call("GET", f"/api/v1/products/{campaign['product_id']}", expect=200).json()
    assert [t["id"] for t in product["joinable_teams"]] == [team["id"]]
    assert user_id_keys(product["joinable_teams"]) == set()


def test_share_links_and_qr_codes_use_the_configured_address_not_the_host_header(
        open_team_page):
    _, team = open_team_page
    path = f"/api/v1/teams/share/{team['share_token']}"
    evil = {"Host": "evil.example"}
    share = call("GET", path, headers=evil, expect=200).json()
    assert share["share_url"] == PUBLIC + path
    png = call("GET", f"{path}/qr.png", headers=evil, expect=200).content
    assert png == base64.b64decode(qr.png_base64(PUBLIC + path))


# --- a database that goes away inside one service (last: restarts services) -----------------

NO_DATABASE = "postgresql+psycopg2://postgres@127.0.0.1:1/gone"  # nothing listens on port 1


def restart_without_database(stack, name):
    stack.kill(name)
    stack.start(name, **{f"{name.upper()}_DATABASE_URL": NO_DATABASE})
    health = f"http://127.0.0.1:{settings.PORTS[name]}/health"

    def database_down():
        try:
            return requests.get(health, timeout=2).json()["checks"]["database"] != "ok"
        except requests.RequestException:
            return False
    assert eventually(database_down, timeout=30), f"{name} did not come up"


def restore(stack, name):
    stack.kill(name)
    stack.start(name)
    stack.wait_healthy([name])


def test_a_database_lost_inside_a_service_is_a_503_on_every_path(stack, merchant):
    campaign = new_campaign(merchant, team_size=2)
    token = shopper()
    restart_without_database(stack, "accounts")
    try:  # gateway -> accounts
        assert_error(call("POST", "/api/v1/auth/wechat-login", json={"code": "wx-db-gone"}),
                     503, "database_unavailable")
        assert_error(call("GET", "/api/v1/me", token), 503, "database_unavailable")
    finally:
        restore(stack, "accounts")
    restart_without_database(stack, "teams")
    try:  # gateway -> orders -> teams
        answer = call("POST", "/api/v1/teams", token, json={
            "campaign_id": campaign["id"], "sku_id": campaign["sku_id"], "quantity": 1})
        assert_error(answer, 503, "database_unavailable")
        assert_error(call("GET", "/api/v1/teams/1"), 503, "database_unavailable")
    finally:
        restore(stack, "teams")
    assert call("GET", "/api/v1/me", token).status_code == 200
