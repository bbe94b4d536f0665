"""What a hostile client sends, refused at the gateway's edge without a broker: deep and
NUL-laden JSON, dates that overflow, booleans that are not, control and bidi-override
characters in text people write, pictures that are not uploads; and what the public
sees of a team (no user ids), what /openapi.json promises."""
import json

import pytest
from marshmallow import Schema, fields
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway import openapi
from gateway.routing import ROUTES, load, read_json
from gateway.schemas import accounts, catalog, group_buy
from gateway.schemas import reviews as rs
from gateway.schemas import search as ss
from gateway.service import GatewayService  # noqa: F401  (registers the routes)
from plumbing.errors import BadRequest
from plumbing.testing import user_id_keys
from plumbing.validation import StrictBoolean

UPLOAD = "/media/" + "ab" * 32 + ".jpg"


def request(body):
    return Request(EnvironBuilder(method="POST", data=body).get_environ())


def refused(schema, data):
    with pytest.raises(BadRequest) as raised:
        load(schema, data)
    assert raised.value.code == "validation_failed"
    return set(raised.value.details)


# --- the body as a whole --------------------------------------------------------------

@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_json_nested_deep_is_invalid_json_not_a_crash(depth):
    with pytest.raises(BadRequest) as raised:
        read_json(request(b'{"a":' + b"[" * depth + b"]" * depth + b"}"))
    assert raised.value.code == "invalid_json"


@pytest.mark.parametrize("body, where", [
    ({"code": "wx\u0000"}, "code"),
    ({"title": "橙", "skus": [{"spec": "\u0000", "price": 1, "stock": 1}]}, "skus.0.spec"),
    ({"text\u0000": "key"}, "text\u0000"),
])
def test_nul_in_any_string_of_a_body_is_refused_before_any_route_sees_it(body, where):
    with pytest.raises(BadRequest) as raised:
        read_json(request(json.dumps(body).encode()))
    assert raised.value.code == "nul_character" and list(raised.value.details) == [where]


# --- fields -----------------------------------------------------------------------------

def campaign(**overrides):
    return {"product_id": 1, "starts_at": "2030-01-01T00:00:00Z",
            "ends_at": "2030-02-01T00:00:00+08:00", "team_size": 2, "validity_seconds": 60,
            "per_user_limit": 1, "skus": [{"sku_id": 1, "group_price": 100}], **overrides}


@pytest.mark.parametrize("field, value", [("ends_at", "9999-12-31T23:59:59-01:00"),
                                          ("starts_at", "0001-01-01T00:00:00+01:00")])
def test_dates_that_overflow_in_utc_are_refused(field, value):
    assert refused(group_buy.CampaignInput(), campaign(**{field: value})) == {field}


def test_dates_travel_as_utc():
    assert load(group_buy.CampaignInput(), campaign())["ends_at"] == "2030-01-31T16:00:00Z"


ADDRESS = {"recipient": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市",
           "district": "西湖区", "detail": "文三路 1 号"}


@pytest.mark.parametrize("value", ["yes", 1, 0, "true", None])
def test_body_booleans_are_json_true_or_false(value):
    assert refused(accounts.AddressInput(), {**ADDRESS, "is_default": value}) == {"is_default"}
    assert load(accounts.AddressInput(), {**ADDRESS, "is_default": True})["is_default"] is True


@pytest.mark.parametrize("schema, field", [(ss.ProductSearchQuery(), "group_buy"),
                                           (ss.ProductSearchQuery(), "has_discount"),
                                           (catalog.AdminProductQuery(), "low_stock"),
                                           (rs.AdminReviewQuery(), "replied")])
def test_query_booleans_are_true_or_false_only(schema, field):
    for value in ("1", "0", "yes", "True", "on"):
        assert refused(schema, {field: value}) == {field}
    assert load(schema, {field: "true"})[field] is True
    assert load(schema, {field: "false"})[field] is False


def declared_booleans(schema, seen=None):
    """Every Boolean field a schema (and the schemas nested in it) takes in."""
    seen = set() if seen is None else seen
    if type(schema) in seen:
        return
    seen.add(type(schema))
    for name, field in schema.fields.items():
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested):
            yield from declared_booleans(inner.schema, seen)
        elif isinstance(inner, fields.Boolean):
            yield f"{type(schema).__name__}.{name}", inner


def test_no_route_takes_a_lenient_boolean():
    lenient = []
    for route in ROUTES:
        for where, schema in (("body", route.body), ("query", route.query)):
            if schema is None:
                continue
            for name, field in declared_booleans(schema if isinstance(schema, Schema)
                                                 else schema()):
                strict = isinstance(field, StrictBoolean) if where == "body" else \
                    (field.truthy, field.falsy) == ({"true"}, {"false"})
                if not strict:
                    lenient.append(f"{route.method} {route.path} {where} {name}")
    assert lenient == []


def test_null_clears_a_profiles_phone_and_avatar():
    assert load(accounts.ProfileChange(), {"phone": None, "avatar_url": None}) == {
        "phone": None, "avatar_url": None}
    assert refused(accounts.ProfileChange(), {"nickname": None}) == {"nickname"}


@pytest.mark.parametrize("schema, body, field", [
    (accounts.ProfileChange(), {"nickname": "小\u202e明"}, "nickname"),
    (accounts.ProfileChange(), {"nickname": "小明\n"  "二号"}, "nickname"),
    (accounts.AddressInput(), {**ADDRESS, "detail": "文三路\x071 号"}, "detail"),
    (catalog.ProductInput(), {"title": "脐橙\u2066", "skus": [
        {"spec": "5斤", "price": 1, "stock": 1}]}, "title"),
    (rs.ReviewInput(), {"order_id": 1, "stars": 5, "text": "好评\u202d"}, "text"),
    (rs.ReviewInput(), {"order_id": 1, "stars": 5, "text": "好\x1b[2J评"}, "text"),
    (rs.FollowUpInput(), {"text": "追\x85评"}, "text"),
    (rs.FeedbackInput(), {"kind": "complaint", "content": "发货太慢了\u2067"}, "content"),
    (rs.ReplyInput(), {"reply": "谢谢\x00"}, "reply"),
])
def test_text_people_write_refuses_control_and_bidi_override_characters(schema, body, field):
    assert refused(schema, body) == {field}


def test_reviews_and_feedback_may_run_over_several_lines():
    assert load(rs.ReviewInput(), {"order_id": 1, "stars": 5, "text": "很甜\n\t下次再买"})[
        "text"] == "很甜\n\t下次再买"
    assert load(rs.FeedbackInput(), {"kind": "suggestion", "content": "第一\r\n第二"})


@pytest.mark.parametrize("url", ["https://evil.example/track.gif", "http://img.example/a.jpg",
                                 "/media/../secret.jpg", "/media/" + "ab" * 32 + ".exe"])
def test_review_and_feedback_pictures_are_uploads(url):
    assert refused(rs.ReviewInput(), {"order_id": 1, "stars": 5, "image_urls": [url]}) == {
        "image_urls.0"}
    assert refused(rs.FollowUpInput(), {"text": "追评", "image_urls": [url]}) == {"image_urls.0"}
    assert refused(rs.FeedbackInput(), {"kind": "complaint", "content": "有问题的订单",
                                        "image_urls": [url]}) == {"image_urls.0"}
    assert load(rs.ReviewInput(), {"order_id": 1, "stars": 5, "image_urls": [UPLOAD]})


# --- what the public sees -----------------------------------------------------------------

TEAM = {"id": 5, "status": "open", "leader_id": 7, "team_size": 2, "member_count": 1,
        "members": [{"user_id": 7, "is_leader": True, "joined_at": "2030-01-01T00:00:00Z"}],
        "order_ids": [11]}


def test_the_public_team_page_and_product_page_show_no_user_ids():
    assert user_id_keys(group_buy.Team().dump(TEAM)) == set()
    assert user_id_keys(group_buy.ShareView().dump({"view": "join", "team": TEAM})) == set()
    detail = catalog.ProductDetail().dump({"id": 1, "title": "橙", "skus": [], "joinable_teams": [
        {"id": 5, "leader_id": 7, "member_count": 1, "seats_left": 1}]})
    assert detail["joinable_teams"] == [{"id": 5, "member_count": 1, "seats_left": 1}]
    assert group_buy.AdminTeam().dump(TEAM)["members"][0]["user_id"] == 7  # the merchant's list


def test_openapi_documents_the_edge_errors_on_every_route():
    document = openapi.build()
    for route in ROUTES:
        responses = document["paths"][openapi._openapi_path(route.path)][route.method.lower()][
            "responses"]
        assert {"400", "413", "414", "431", "503"} <= set(responses), route.path
    assert set(document["components"]["responses"]) == {"UriTooLong", "HeadersTooLarge",
                                                        "Unavailable"}
