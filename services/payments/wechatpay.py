"""The real WeChat Pay APIv3 adapter (JSAPI, for the mini-program).

Requests are signed with the merchant private key (Authorization:
WECHATPAY2-SHA256-RSA2048 ...); answers and notifications are checked against the
platform public key, with the same `signing` code the sandbox's notifications are
checked with. `http` is anything with requests' `request` (a Session by default),
so tests inject a fake and never reach the network.
"""
import json
import logging
from urllib.parse import quote

import requests

from plumbing.errors import BadRequest
from services.payments import signing
from services.payments.interface import Provider, ProviderRefused, ProviderUnavailable

log = logging.getLogger(__name__)

BASE_URL = "https://api.mch.weixin.qq.com"
JSAPI_PREPAY = "/v3/pay/transactions/jsapi"
REFUNDS = "/v3/refund/domestic/refunds"
USER_AGENT = "pintuan-payments/1.0"


class WeChatPayV3(Provider):
    def __init__(self, mchid, appid, merchant_key, merchant_serial, platform_public_key,
                 platform_serial, apiv3_key, http=None, timeout=10.0, base_url=BASE_URL):
        self.mchid = mchid
        self.appid = appid
        self.merchant_key = merchant_key
        self.merchant_serial = merchant_serial
        self.platform_public_key = platform_public_key
        self.platform_serial = platform_serial
        self.apiv3_key = apiv3_key
        self.http = http or requests.Session()
        self.timeout = timeout
        self.base_url = base_url.rstrip("/")

    def prepay(self, out_trade_no, amount, description, notify_url, payer_openid=None):
        if not payer_openid:
            raise BadRequest("payer_openid_required",
                             "WeChat Pay in the mini-program needs the payer's openid.",
                             details={"payer_openid": ["Required by WeChat Pay JSAPI."]})
        answer = self._call("POST", JSAPI_PREPAY, {
            "appid": self.appid, "mchid": self.mchid, "description": description,
            "out_trade_no": out_trade_no, "notify_url": notify_url,
            "amount": {"total": amount, "currency": "CNY"}, "payer": {"openid": payer_openid}})
        if not isinstance(answer.get("prepay_id"), str):
            raise ProviderUnavailable("WeChat Pay answered without a prepay_id")
        return answer["prepay_id"]

    def refund(self, out_trade_no, out_refund_no, amount, total, notify_url, reason=None):
        payload = {"out_trade_no": out_trade_no, "out_refund_no": out_refund_no,
                   "notify_url": notify_url,
                   "amount": {"refund": amount, "total": total, "currency": "CNY"}}
        if reason:
            payload["reason"] = reason[:80]
        answer = self._call("POST", REFUNDS, payload)
        return {"provider_refund_id": answer.get("refund_id"), "status": answer.get("status")}

    def close(self, out_trade_no):
        self._call("POST", f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no, safe='')}/close",
                   {"mchid": self.mchid})

    def verify_and_decrypt(self, headers, body):
        return signing.verify_and_decrypt(headers, body, self.platform_public_key, self.apiv3_key,
                                          self.platform_serial)

    def client_params(self, prepay_id):
        return signing.jsapi_pay_params(self.appid, prepay_id, self.merchant_key)

    def dispose(self):
        close = getattr(self.http, "close", None)
        if close:
            close()

    def _call(self, method, path, payload):
        """One signed request -> the answer's JSON (or {}), once its signature holds."""
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        headers = {"Authorization": signing.authorization(self.mchid, self.merchant_serial,
                                                          self.merchant_key, method, path, body),
                   "Accept": "application/json", "Content-Type": "application/json",
                   "User-Agent": USER_AGENT}
        try:
            response = self.http.request(method, self.base_url + path, data=body.encode("utf-8"),
                                         headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"WeChat Pay is unreachable: {type(exc).__name__}") from None
        status, text = response.status_code, response.text or ""
        if status >= 500 or status == 429:
            raise ProviderUnavailable(f"WeChat Pay answered {status}")
        if status >= 400:
            code, message = _error(text)
            log.warning("WeChat Pay refused %s %s: %s %s", method, path, code, message)
            raise ProviderRefused(code, message)
        try:
            signing.check_signed(response.headers, text, self.platform_public_key, self.platform_serial)
        except signing.Rejected as exc:
            log.error("WeChat Pay answer to %s %s failed verification: %s", method, path, exc.reason)
            raise ProviderUnavailable(f"the answer's signature failed: {exc.reason}") from None
        try:
            answer = json.loads(text) if text.strip() else {}
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise ProviderUnavailable("WeChat Pay answered something that is not a JSON object")
        return answer


def _error(text):
    try:
        answer = json.loads(text)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        return "UNKNOWN", text[:200]
    return str(answer.get("code") or "UNKNOWN"), str(answer.get("message") or "")
