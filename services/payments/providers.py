"""Which payment provider the service talks to, chosen once at container setup.

PINTUAN_WECHATPAY_MODE: `sandbox` (default outside production; refused in
production, so a wrong setting stops the service from starting) or `real`
(default in production), which needs PINTUAN_WECHATPAY_MCHID, _APPID,
_MERCHANT_SERIAL, _PLATFORM_SERIAL and the key files of keys.py.
"""
import logging

from nameko.extensions import DependencyProvider

from plumbing import settings
from services.payments import config, keys
from services.payments.sandbox import WeChatPaySandbox
from services.payments.wechatpay import WeChatPayV3

log = logging.getLogger(__name__)


def from_settings():
    config.check()
    if config.mode() == config.SANDBOX:
        if settings.is_production():
            raise RuntimeError("PINTUAN_WECHATPAY_MODE=sandbox is refused in production: anyone "
                               "could pay any order. Set PINTUAN_WECHATPAY_MODE=real.")
        return WeChatPaySandbox(keys.platform_private_key(generate=True),
                                keys.platform_public_key(generate=True),
                                keys.apiv3_key(generate=True))
    credentials = config.real_credentials()
    return WeChatPayV3(credentials["mchid"], credentials["appid"], keys.merchant_private_key(),
                       credentials["merchant_serial"], keys.platform_public_key(),
                       credentials["platform_serial"], keys.apiv3_key())


class PaymentProvider(DependencyProvider):
    """`self.provider` in the service: the sandbox or the real WeChat Pay."""

    def __init__(self):
        self.adapter = None

    def setup(self):
        self.adapter = from_settings()
        log.info("payments use %s", type(self.adapter).__name__)

    def stop(self):
        self.adapter.dispose()

    def kill(self):
        self.adapter.dispose()

    def get_dependency(self, worker_ctx):
        return self.adapter
