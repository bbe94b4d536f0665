"""WeChat mini-program login: a code from wx.login() -> the user's openid.

Two adapters share one interface, `code2session(code) -> {"openid", "unionid"?}`:
- `SandboxWeChat`: no network; the same code always gives the same openid. Used in
  development, tests and the demo shop; refused in production.
- `WeChatCode2Session`: WeChat's real jscode2session API.

`PINTUAN_WECHAT_MODE` (sandbox | real) chooses; the default is sandbox outside
production and real in production. `PINTUAN_WECHAT_APPID` / `PINTUAN_WECHAT_SECRET`
configure the real one (and give the sandbox its appid).
"""
import hashlib
import logging

import requests
from nameko.extensions import DependencyProvider

from plumbing import settings
from plumbing.errors import BadRequest, Unauthorized, Unavailable
from services.accounts import domain

log = logging.getLogger(__name__)

CODE2SESSION_URL = "https://api.weixin.qq.com/sns/jscode2session"
SANDBOX_APPID = "sandbox"
WECHAT_BUSY = -1  # WeChat's "system busy, try again": not the shopper's fault


def check_code(code):
    if not domain.is_valid_wechat_code(code):
        message = "The WeChat login code must be 1-128 printable characters without spaces."
        raise BadRequest("invalid_wechat_code", message, details={"code": [message]})


class SandboxWeChat:
    """Stands in for WeChat: the openid is a hash of appid and code, so a test (or a
    demo shopper) logs in as the same person by sending the same code."""

    def __init__(self, appid=SANDBOX_APPID):
        self.appid = appid

    def code2session(self, code):
        check_code(code)
        digest = hashlib.sha256(f"{self.appid}:{code}".encode("utf-8")).hexdigest()
        return {"openid": "sbx_" + digest[:28]}


class WeChatCode2Session:
    """The real exchange. `http` is anything with requests' `get` (a Session by
    default), so tests can inject a fake and never reach the network."""

    def __init__(self, appid, secret, http=None, timeout=5.0):
        self.appid = appid
        self.secret = secret
        self.http = http or requests.Session()
        self.timeout = timeout

    def code2session(self, code):
        check_code(code)
        params = {"appid": self.appid, "secret": self.secret, "js_code": code,
                  "grant_type": "authorization_code"}
        try:
            response = self.http.get(CODE2SESSION_URL, params=params, timeout=self.timeout)
            response.raise_for_status()
            body = response.json()
            if not isinstance(body, dict):
                raise ValueError("not a JSON object")
        except (requests.RequestException, ValueError) as exc:
            log.warning("WeChat code2session unreachable: %s", type(exc).__name__)
            raise Unavailable("wechat_unavailable", "WeChat login is unavailable; try again.")
        return self._session_from(body)

    @staticmethod
    def _session_from(body):
        errcode = body.get("errcode") or 0
        if errcode == WECHAT_BUSY:
            raise Unavailable("wechat_unavailable", "WeChat is busy; try again.")
        if errcode != 0 or not body.get("openid"):
            # errmsg is logged, not returned: it is WeChat's business, not the shopper's.
            log.warning("WeChat code2session refused: errcode=%s errmsg=%s",
                        errcode, body.get("errmsg"))
            raise Unauthorized("wechat_login_failed",
                               "WeChat did not accept the login code; log in again.")
        session = {"openid": body["openid"]}  # session_key stays here: it is a secret
        if body.get("unionid"):
            session["unionid"] = body["unionid"]
        return session


def from_settings():
    """The adapter the settings ask for; raises at startup when they are unsafe or incomplete."""
    production = settings.is_production()
    mode = settings.env("PINTUAN_WECHAT_MODE", "real" if production else "sandbox")
    appid, secret = settings.env("PINTUAN_WECHAT_APPID"), settings.env("PINTUAN_WECHAT_SECRET")
    if mode == "sandbox":
        if production:
            raise RuntimeError("PINTUAN_WECHAT_MODE=sandbox is refused in production: anyone "
                               "could log in as anyone. Set PINTUAN_WECHAT_MODE=real.")
        return SandboxWeChat(appid or SANDBOX_APPID)
    if mode == "real":
        if not (appid and secret):
            raise RuntimeError("PINTUAN_WECHAT_MODE=real needs PINTUAN_WECHAT_APPID and "
                               "PINTUAN_WECHAT_SECRET.")
        return WeChatCode2Session(appid, secret)
    raise RuntimeError(f"PINTUAN_WECHAT_MODE must be sandbox or real, not {mode!r}.")


class WeChat(DependencyProvider):
    """`self.wechat.code2session(code)` in the service; the adapter is chosen at
    container setup, so a wrong setting stops the service from starting."""

    def __init__(self):
        self.adapter = None

    def setup(self):
        self.adapter = from_settings()
        log.info("WeChat login uses %s", type(self.adapter).__name__)

    def get_dependency(self, worker_ctx):
        return self.adapter
