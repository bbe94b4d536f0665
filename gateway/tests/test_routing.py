"""The gateway's edge checks, without a broker: tokens and roles, JSON bodies,
validation details, and an OpenAPI document that covers every route."""
import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway import openapi
from gateway.routing import ROUTES, authenticate, load, read_json, shop_scope
from gateway.schemas import catalog, group_buy
from gateway.service import GatewayService  # noqa: F401  (registers the routes)
from plumbing import tokens
from plumbing.errors import BadRequest, Forbidden, Unauthorized


def request(body=None, headers=None):
    return Request(EnvironBuilder(method="POST", data=body, headers=headers or {}).get_environ())


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_token_roles_decide_who_passes():
    merchant = tokens.sign(1, ["merchant"])
    assert authenticate(request(headers=bearer(merchant)), "merchant")["user_id"] == 1
    assert authenticate(request(headers=bearer(merchant)), "any")["roles"] == ["merchant"]
    with pytest.raises(Forbidden):
        authenticate(request(headers=bearer(merchant)), "ops")
    assert authenticate(request(headers=bearer(merchant)), ("merchant", "ops"))["user_id"] == 1
    with pytest.raises(Forbidden):
        authenticate(request(headers=bearer(merchant)), ("customer", "ops"))


def test_ops_acts_for_every_shop_a_merchant_for_its_own():
    assert shop_scope({"user_id": 7, "roles": ["merchant"]}) == 7
    assert shop_scope({"user_id": 9, "roles": ["ops"]}) is None


@pytest.mark.parametrize("headers, code", [
    ({}, "missing_token"),
    ({"Authorization": "Basic abc"}, "missing_token"),
    ({"Authorization": "Bearer "}, "missing_token"),
    ({"Authorization": "Bearer not-a-jwt"}, "invalid_token"),
])
def test_missing_or_bad_tokens_are_refused(headers, code):
    with pytest.raises(Unauthorized) as refused:
        authenticate(request(headers=headers), "customer")
    assert refused.value.code == code


def test_expired_token_is_refused(monkeypatch):
    old = tokens.sign(1, ["customer"], now=1_000_000)
    with pytest.raises(Unauthorized) as refused:
        authenticate(request(headers=bearer(old)), "customer")
    assert refused.value.code == "token_expired"


def test_token_signed_by_another_key_is_refused():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    stranger = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    forged = tokens.sign(1, ["ops"], key=stranger)
    with pytest.raises(Unauthorized):
        authenticate(request(headers=bearer(forged)), "ops")


@pytest.mark.parametrize("body", [b"{oops", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_body_must_be_a_json_object(body):
    with pytest.raises(BadRequest) as refused:
        read_json(request(body))
    assert refused.value.code == "invalid_json"


def test_validation_names_each_wrong_field():
    with pytest.raises(BadRequest) as refused:
        load(catalog.ProductInput(), {"title": "", "skus": [{"spec": "x", "price": "9", "stock": -1}],
                                      "colour": "red"})
    details = refused.value.details
    assert set(details) == {"title", "skus.0.price", "skus.0.stock", "colour"}


def test_openapi_documents_every_route_with_its_security():
    document = openapi.build()
    for route in ROUTES:
        path = openapi._openapi_path(route.path)
        operation = document["paths"][path][route.method.lower()]
        assert ("security" in operation) == bool(route.role), route.path
        assert str(route.status) in operation["responses"]
    assert len({op["operationId"] for ops in document["paths"].values() for op in ops.values()}) \
        == len(ROUTES)


def test_openapi_names_every_schema_once():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # apispec warns when two schemas take one name
        openapi.build()


@pytest.mark.parametrize("quantity", [True, "1", 1.5, None])
def test_json_numbers_must_be_whole_numbers_not_lookalikes(quantity):
    with pytest.raises(BadRequest) as refused:
        load(group_buy.OpenTeam(), {"campaign_id": 1, "sku_id": 1, "quantity": quantity})
    assert list(refused.value.details) == ["quantity"]
