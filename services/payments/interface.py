"""What the payments service needs from a payment provider, and how a provider fails.

Two implementations: `sandbox.WeChatPaySandbox` (dev and test) and
`wechatpay.WeChatPayV3` (the real WeChat Pay APIv3); `providers.py` picks one.
Every outcome of money arrives later, as a signed notification to our callback;
the calls here only start things.
"""


class ProviderError(Exception):
    pass


class ProviderUnavailable(ProviderError):
    """The provider could not be reached or answered 5xx: try again later."""


class ProviderRefused(ProviderError):
    """The provider understood and said no (a 4xx with WeChat's error code)."""

    def __init__(self, code, message=""):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Provider:
    is_sandbox = False

    def bind(self, session):
        """The provider for one worker. The sandbox keeps its records in our database and
        works in the worker's session; a real provider has nothing to bind."""
        return self

    def prepay(self, out_trade_no, amount, description, notify_url, payer_openid=None):
        """-> prepay_id. Asking again with the same out_trade_no and amount is harmless."""
        raise NotImplementedError

    def refund(self, out_trade_no, out_refund_no, amount, total, notify_url, reason=None):
        """-> {"provider_refund_id", "status"} once the provider took the refund; its
        outcome comes later as a notification. Idempotent by out_refund_no."""
        raise NotImplementedError

    def close(self, out_trade_no):
        """Stops an unpaid trade from being paid; ProviderRefused("ORDERPAID") if it was."""
        raise NotImplementedError

    def verify_and_decrypt(self, headers, body):
        """A notification POSTed to our callback -> {"id", "event_type", "create_time",
        "resource"}; `signing.Rejected` when it is not the provider's or cannot be read."""
        raise NotImplementedError

    def client_params(self, prepay_id):
        """What the mini-program passes to wx.requestPayment, or None (the sandbox is
        paid through POST /sandbox/wechatpay/{prepay_id}/pay instead)."""
        raise NotImplementedError

    def dispose(self):
        """Releases connections when the service stops."""
