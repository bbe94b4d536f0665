"""The real WeChat Pay v3 adapter against a fake HTTP session (never the network), the
choice of provider from settings, and the key files."""
import json
from urllib.parse import urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from plumbing.errors import BadRequest
from services.payments import config, keys, providers, sandbox, signing
from services.payments.interface import ProviderRefused, ProviderUnavailable
from services.payments.wechatpay import WeChatPayV3

APIV3_KEY = "Zyxwvutsrqponmlkjihgfedcba012345"
MCHID, APPID = "1900000109", "wx8888888888888888"


@pytest.fixture(scope="module")
def merchant_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def platform_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeResponse:
    def __init__(self, status, body, headers):
        self.status_code, self.text, self.headers = status, body, headers


class FakeHttp:
    """Records each request and answers with the next prepared answer, signed by the
    platform key like WeChat's answers (unless told otherwise), or raises it."""

    def __init__(self, platform_key, *answers):
        self.platform_key = platform_key
        self.answers = list(answers)
        self.calls = []

    def request(self, method, url, **kwargs):
        self.calls.append((method, url, kwargs))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, body, signed = answer
        text = "" if body is None else json.dumps(body)
        headers = {}
        if signed:
            headers = signing.signed_headers(self.platform_key,
                                             signing.serial_of(self.platform_key.public_key()), text)
        return FakeResponse(status, text, headers)


def real(merchant_key, platform_key, *answers):
    http = FakeHttp(platform_key, *answers)
    adapter = WeChatPayV3(MCHID, APPID, merchant_key, "MERCHANT-SERIAL-1", platform_key.public_key(),
                          signing.serial_of(platform_key.public_key()), APIV3_KEY, http=http, timeout=3)
    return adapter, http


def authorization_fields(header):
    scheme, _, params = header.partition(" ")
    assert scheme == "WECHATPAY2-SHA256-RSA2048"
    return {key: value.strip('"') for key, value in (part.split("=", 1) for part in params.split(","))}


def assert_signed_by_merchant(merchant_key, method, url, kwargs):
    fields = authorization_fields(kwargs["headers"]["Authorization"])
    assert (fields["mchid"], fields["serial_no"]) == (MCHID, "MERCHANT-SERIAL-1")
    text = signing.signed_text(method, urlsplit(url).path, fields["timestamp"], fields["nonce_str"],
                               kwargs["data"].decode("utf-8"))
    assert signing.signature_holds(merchant_key.public_key(), text, fields["signature"])


# --- requests -------------------------------------------------------------------------

def test_prepay_posts_a_signed_jsapi_order(merchant_key, platform_key):
    adapter, http = real(merchant_key, platform_key, (200, {"prepay_id": "wx26112221580621"}, True))
    prepay_id = adapter.prepay("a" * 32, 1990, "烟台红富士苹果", "https://shop.example/cb", "o-openid")
    assert prepay_id == "wx26112221580621"
    [(method, url, kwargs)] = http.calls
    assert (method, url) == ("POST", "https://api.mch.weixin.qq.com/v3/pay/transactions/jsapi")
    assert json.loads(kwargs["data"]) == {
        "appid": APPID, "mchid": MCHID, "description": "烟台红富士苹果", "out_trade_no": "a" * 32,
        "notify_url": "https://shop.example/cb", "amount": {"total": 1990, "currency": "CNY"},
        "payer": {"openid": "o-openid"}}
    assert kwargs["timeout"] == 3 and kwargs["headers"]["Accept"] == "application/json"
    assert_signed_by_merchant(merchant_key, method, url, kwargs)


def test_jsapi_needs_the_payers_openid(merchant_key, platform_key):
    adapter, http = real(merchant_key, platform_key)
    with pytest.raises(BadRequest) as caught:
        adapter.prepay("a" * 32, 1990, "苹果", "https://shop.example/cb")
    assert caught.value.code == "payer_openid_required" and http.calls == []


def test_refund_posts_a_signed_domestic_refund(merchant_key, platform_key):
    adapter, http = real(merchant_key, platform_key,
                         (200, {"refund_id": "50000000382019052709732678859", "status": "PROCESSING"},
                          True))
    answer = adapter.refund("a" * 32, "r" * 32, 500, 1990, "https://shop.example/refund", "拼团失败")
    assert answer == {"provider_refund_id": "50000000382019052709732678859", "status": "PROCESSING"}
    [(method, url, kwargs)] = http.calls
    assert url == "https://api.mch.weixin.qq.com/v3/refund/domestic/refunds"
    assert json.loads(kwargs["data"]) == {
        "out_trade_no": "a" * 32, "out_refund_no": "r" * 32, "reason": "拼团失败",
        "notify_url": "https://shop.example/refund",
        "amount": {"refund": 500, "total": 1990, "currency": "CNY"}}
    assert_signed_by_merchant(merchant_key, method, url, kwargs)


def test_close_posts_to_the_trades_close_path(merchant_key, platform_key):
    adapter, http = real(merchant_key, platform_key, (204, None, True))
    adapter.close("a" * 32)
    [(method, url, kwargs)] = http.calls
    assert url == f"https://api.mch.weixin.qq.com/v3/pay/transactions/out-trade-no/{'a' * 32}/close"
    assert json.loads(kwargs["data"]) == {"mchid": MCHID}
    assert_signed_by_merchant(merchant_key, method, url, kwargs)


# --- answers ----------------------------------------------------------------------------

def test_a_4xx_is_a_refusal_with_wechats_code(merchant_key, platform_key):
    adapter, _ = real(merchant_key, platform_key,
                      (400, {"code": "ORDERPAID", "message": "订单已支付"}, True),
                      (403, "not an object", True))
    with pytest.raises(ProviderRefused) as caught:
        adapter.close("a" * 32)
    assert (caught.value.code, caught.value.message) == ("ORDERPAID", "订单已支付")
    with pytest.raises(ProviderRefused) as caught:
        adapter.close("a" * 32)
    assert caught.value.code == "UNKNOWN"


@pytest.mark.parametrize("answer", [
    requests.ConnectionError("down"),
    requests.Timeout("slow"),
    (500, {"code": "SYSTEM_ERROR"}, True),
    (429, {"code": "FREQUENCY_LIMITED"}, True),
    (200, {"prepay_id": "wx1"}, False),  # unsigned: not from WeChat
    (200, ["not", "an", "object"], True),
    (200, {"no": "prepay id"}, True),
])
def test_anything_else_is_unavailable_and_worth_a_retry(merchant_key, platform_key, answer):
    adapter, _ = real(merchant_key, platform_key, answer)
    with pytest.raises(ProviderUnavailable):
        adapter.prepay("a" * 32, 1990, "苹果", "https://shop.example/cb", "o-openid")


def test_an_answer_signed_by_another_key_is_not_trusted(merchant_key, platform_key):
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    adapter, http = real(merchant_key, platform_key, (200, {"prepay_id": "wx1"}, True))
    http.platform_key = impostor
    with pytest.raises(ProviderUnavailable):
        adapter.prepay("a" * 32, 1990, "苹果", "https://shop.example/cb", "o-openid")


# --- notifications: one verification path for both providers ------------------------------

def test_the_real_adapter_verifies_notifications_with_the_same_code_as_the_sandbox(
        merchant_key, platform_key):
    """A sandbox holding the same platform key and APIv3 key signs and encrypts a
    notification; the real adapter opens it, and refuses it once tampered."""
    adapter, _ = real(merchant_key, platform_key)
    provider = sandbox.WeChatPaySandbox(platform_private_key=platform_key,
                                        platform_public_key=platform_key.public_key(),
                                        apiv3_key=APIV3_KEY)
    resource = signing.encrypted_resource(APIV3_KEY, {"out_trade_no": "t1"}, "transaction")
    body = signing.notification_body("n1", "2026-03-01T16:00:05+08:00", "TRANSACTION.SUCCESS",
                                     "支付成功", resource, "transaction")
    headers = signing.signed_headers(platform_key, provider.serial, body)
    for verifier in (adapter, provider):
        assert verifier.verify_and_decrypt(headers, body)["resource"] == {"out_trade_no": "t1"}
        with pytest.raises(signing.Rejected) as caught:
            verifier.verify_and_decrypt(headers, body.replace("n1", "n2"))
        assert caught.value.status == 401


def test_client_params_are_signed_by_the_merchant(merchant_key, platform_key):
    adapter, _ = real(merchant_key, platform_key)
    params = adapter.client_params("wx1")
    text = signing.signed_text(APPID, params["timeStamp"], params["nonceStr"], "prepay_id=wx1")
    assert signing.signature_holds(merchant_key.public_key(), text, params["paySign"])


def test_the_sandbox_takes_2xx_with_success_or_no_body_as_delivered():
    assert sandbox.acknowledged(200, '{"code": "SUCCESS", "message": "成功"}')
    assert sandbox.acknowledged(204, "")
    assert not sandbox.acknowledged(200, '{"code": "FAIL"}')
    assert not sandbox.acknowledged(200, "ok")
    assert not sandbox.acknowledged(500, '{"code": "SUCCESS"}')
    assert not sandbox.acknowledged(401, '{"code": "FAIL"}')


# --- settings and keys --------------------------------------------------------------------

@pytest.fixture
def var_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PINTUAN_VAR_DIR", str(tmp_path))
    for variable in (keys.APIV3, keys.PLATFORM_PRIVATE, keys.PLATFORM_PUBLIC, keys.MERCHANT_PRIVATE,
                     "PINTUAN_WECHATPAY_MODE", "PINTUAN_ENV"):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path


def test_dev_keys_are_generated_once_and_match(var_dir):
    apiv3 = keys.apiv3_key(generate=True)
    public = keys.platform_public_key(generate=True)
    private = keys.platform_private_key(generate=True)
    assert len(apiv3) == 32 and apiv3.isascii()
    assert signing.serial_of(private.public_key()) == signing.serial_of(public)
    assert keys.apiv3_key(generate=True) == apiv3  # not made again
    assert (var_dir / "keys" / "wechatpay_platform.pem").stat().st_mode & 0o777 == 0o600


def test_keys_are_never_generated_for_the_real_mode_or_in_production(var_dir, monkeypatch):
    with pytest.raises(RuntimeError, match=keys.APIV3):
        keys.apiv3_key()
    monkeypatch.setenv("PINTUAN_ENV", "production")
    with pytest.raises(RuntimeError, match=keys.PLATFORM_PUBLIC):
        keys.platform_public_key(generate=True)


def test_a_configured_apiv3_key_must_have_32_characters(var_dir, monkeypatch):
    path = var_dir / "short.key"
    path.write_text("too-short")
    monkeypatch.setenv(keys.APIV3, str(path))
    with pytest.raises(RuntimeError, match="32-character"):
        keys.apiv3_key()
    monkeypatch.setenv(keys.APIV3, str(var_dir / "missing.key"))
    with pytest.raises(RuntimeError, match="cannot read"):
        keys.apiv3_key()


def test_the_mode_defaults_to_sandbox_outside_production_and_real_in_it(var_dir, monkeypatch):
    assert config.mode() == "sandbox"
    monkeypatch.setenv("PINTUAN_ENV", "production")
    assert config.mode() == "real"
    monkeypatch.setenv("PINTUAN_WECHATPAY_MODE", "fake")
    with pytest.raises(RuntimeError, match="sandbox or real"):
        config.mode()


def test_production_refuses_the_sandbox(var_dir, monkeypatch):
    monkeypatch.setenv("PINTUAN_ENV", "production")
    monkeypatch.setenv("PINTUAN_WECHATPAY_MODE", "sandbox")
    with pytest.raises(RuntimeError, match="sandbox is refused in production"):
        providers.from_settings()


def write_pem(path, key, public=False):
    if public:
        path.write_bytes(key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    else:
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(path)


def test_the_real_mode_needs_every_credential_then_builds_the_v3_adapter(
        var_dir, monkeypatch, merchant_key, platform_key):
    monkeypatch.setenv("PINTUAN_WECHATPAY_MODE", "real")
    with pytest.raises(RuntimeError, match="PINTUAN_WECHATPAY_MCHID"):
        providers.from_settings()
    monkeypatch.setenv("PINTUAN_WECHATPAY_MCHID", MCHID)
    monkeypatch.setenv("PINTUAN_WECHATPAY_APPID", APPID)
    monkeypatch.setenv("PINTUAN_WECHATPAY_MERCHANT_SERIAL", "MERCHANT-SERIAL-1")
    monkeypatch.setenv("PINTUAN_WECHATPAY_PLATFORM_SERIAL", "PUB_KEY_ID_0001")
    monkeypatch.setenv(keys.MERCHANT_PRIVATE, write_pem(var_dir / "merchant.pem", merchant_key))
    monkeypatch.setenv(keys.PLATFORM_PUBLIC, write_pem(var_dir / "platform.pub.pem", platform_key,
                                                       public=True))
    (var_dir / "apiv3.key").write_text(APIV3_KEY + "\n")
    monkeypatch.setenv(keys.APIV3, str(var_dir / "apiv3.key"))
    adapter = providers.from_settings()
    assert isinstance(adapter, WeChatPayV3) and not adapter.is_sandbox
    assert (adapter.mchid, adapter.appid, adapter.platform_serial, adapter.apiv3_key) == (
        MCHID, APPID, "PUB_KEY_ID_0001", APIV3_KEY)
    assert not (var_dir / "keys").exists()  # nothing generated


@pytest.mark.parametrize("variable,value", [
    ("PINTUAN_SANDBOX_RETRY_SECONDS", "1,soon"),
    ("PINTUAN_SANDBOX_RETRY_SECONDS", "-1"),
    ("PINTUAN_REFUND_RETRY_SECONDS", ","),
    ("PINTUAN_SANDBOX_DUPLICATE_RATE", "1.5"),
    ("PINTUAN_SANDBOX_DUPLICATE_RATE", "often"),
    ("PINTUAN_SANDBOX_REFUND_DELAY_SECONDS", "-2"),
    ("PINTUAN_SANDBOX_DROP_RATE", "2"),
    ("PINTUAN_SANDBOX_DELAY_SECONDS", "later"),
])
def test_a_wrong_setting_stops_the_service_at_start(var_dir, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(RuntimeError, match=variable):
        providers.from_settings()
