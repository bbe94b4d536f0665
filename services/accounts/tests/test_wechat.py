"""WeChat login adapters; the real one talks to a fake HTTP session, never the network."""
import pytest
import requests

from plumbing.errors import BadRequest, Unauthorized, Unavailable
from services.accounts import wechat
from services.accounts.wechat import SandboxWeChat, WeChatCode2Session


class FakeResponse:
    def __init__(self, body, status=200):
        self.body = body
        self.status_code = status

    def raise_for_status(self):
        if self.status_code >= 400:
            raise requests.HTTPError(f"{self.status_code}")

    def json(self):
        if isinstance(self.body, Exception):
            raise self.body
        return self.body


class FakeHttp:
    """Records each GET and answers with the next prepared response (or raises it)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def get(self, url, **kwargs):
        self.calls.append((url, kwargs))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def real(*answers):
    http = FakeHttp(*answers)
    return WeChatCode2Session("wx1234", "s3cret", http=http, timeout=3), http


# --- sandbox -----------------------------------------------------------------------

def test_sandbox_gives_the_same_openid_for_the_same_code():
    first = SandboxWeChat("wxapp").code2session("code-1")
    assert first == SandboxWeChat("wxapp").code2session("code-1")
    assert first["openid"].startswith("sbx_") and len(first["openid"]) == 32


def test_sandbox_openids_differ_by_code_and_by_app():
    openids = {SandboxWeChat("wxapp").code2session("code-1")["openid"],
               SandboxWeChat("wxapp").code2session("code-2")["openid"],
               SandboxWeChat("other").code2session("code-1")["openid"]}
    assert len(openids) == 3


@pytest.mark.parametrize("code", ["", "a" * 129, "two words", "bell\x07", None, 42])
def test_sandbox_refuses_malformed_codes(code):
    with pytest.raises(BadRequest) as caught:
        SandboxWeChat().code2session(code)
    assert caught.value.code == "invalid_wechat_code"
    assert "code" in caught.value.details


# --- the real adapter ---------------------------------------------------------------

def test_real_adapter_asks_jscode2session_with_app_credentials_and_a_timeout():
    adapter, http = real(FakeResponse({"openid": "o-real", "session_key": "k", "unionid": "u"}))
    assert adapter.code2session("081code") == {"openid": "o-real", "unionid": "u"}
    [(url, kwargs)] = http.calls
    assert url == "https://api.weixin.qq.com/sns/jscode2session"
    assert kwargs["params"] == {"appid": "wx1234", "secret": "s3cret", "js_code": "081code",
                                "grant_type": "authorization_code"}
    assert kwargs["timeout"] == 3


def test_real_adapter_never_returns_the_session_key():
    adapter, _ = real(FakeResponse({"openid": "o-real", "session_key": "secret-key"}))
    assert adapter.code2session("081code") == {"openid": "o-real"}


@pytest.mark.parametrize("body", [
    {"errcode": 40029, "errmsg": "invalid code"},
    {"errcode": 40163, "errmsg": "code been used"},
    {"errcode": 0},  # no openid: nothing to log in as
])
def test_real_adapter_maps_refusals_to_unauthorized(body):
    adapter, _ = real(FakeResponse(body))
    with pytest.raises(Unauthorized) as caught:
        adapter.code2session("081code")
    assert caught.value.code == "wechat_login_failed"
    assert "invalid code" not in caught.value.message  # WeChat's words stay in our logs


@pytest.mark.parametrize("answer", [
    FakeResponse({"errcode": -1, "errmsg": "system error"}),
    FakeResponse({}, status=502),
    FakeResponse(ValueError("not json")),
    FakeResponse(["not", "an", "object"]),
    requests.ConnectTimeout("slow"),
    requests.ConnectionError("down"),
])
def test_real_adapter_reports_wechat_trouble_as_unavailable(answer):
    adapter, _ = real(answer)
    with pytest.raises(Unavailable) as caught:
        adapter.code2session("081code")
    assert caught.value.code == "wechat_unavailable"


def test_real_adapter_checks_the_code_before_calling_wechat():
    adapter, http = real()
    with pytest.raises(BadRequest):
        adapter.code2session("")
    assert http.calls == []


# --- choosing by settings ------------------------------------------------------------

@pytest.fixture
def wechat_env(monkeypatch):
    for name in ("PINTUAN_WECHAT_MODE", "PINTUAN_WECHAT_APPID", "PINTUAN_WECHAT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_sandbox_by_default_outside_production(wechat_env):
    wechat_env.setenv("PINTUAN_ENV", "dev")
    assert isinstance(wechat.from_settings(), SandboxWeChat)


def test_sandbox_uses_the_configured_appid(wechat_env):
    wechat_env.setenv("PINTUAN_WECHAT_APPID", "wxdemo")
    assert wechat.from_settings().appid == "wxdemo"


def test_production_refuses_the_sandbox(wechat_env):
    wechat_env.setenv("PINTUAN_ENV", "production")
    wechat_env.setenv("PINTUAN_WECHAT_MODE", "sandbox")
    with pytest.raises(RuntimeError, match="sandbox is refused in production"):
        wechat.from_settings()


def test_production_defaults_to_real_and_needs_credentials(wechat_env):
    wechat_env.setenv("PINTUAN_ENV", "production")
    with pytest.raises(RuntimeError, match="PINTUAN_WECHAT_APPID"):
        wechat.from_settings()
    wechat_env.setenv("PINTUAN_WECHAT_APPID", "wx1234")
    wechat_env.setenv("PINTUAN_WECHAT_SECRET", "s3cret")
    adapter = wechat.from_settings()
    assert isinstance(adapter, WeChatCode2Session)
    assert (adapter.appid, adapter.secret) == ("wx1234", "s3cret")


def test_an_unknown_mode_is_refused(wechat_env):
    wechat_env.setenv("PINTUAN_WECHAT_MODE", "mock")
    with pytest.raises(RuntimeError, match="sandbox or real"):
        wechat.from_settings()
