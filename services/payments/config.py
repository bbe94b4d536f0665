"""Settings of the payments service, read at call time (tests change them per test).

Documented in README.md ("Settings"); the key files are read by keys.py.
"""
from plumbing import settings
from services.payments.domain import StuckPolicy

SANDBOX, REAL = "sandbox", "real"


def mode():
    """Which WeChat Pay: the sandbox outside production, the real one in production."""
    value = settings.env("PINTUAN_WECHATPAY_MODE", REAL if settings.is_production() else SANDBOX)
    if value not in (SANDBOX, REAL):
        raise RuntimeError(f"PINTUAN_WECHATPAY_MODE must be sandbox or real, not {value!r}.")
    return value


def payment_notify_url():
    return settings.env("PINTUAN_PAYMENT_NOTIFY_URL", f"{_local_gateway()}/callbacks/wechatpay/payment")


def refund_notify_url():
    return settings.env("PINTUAN_REFUND_NOTIFY_URL", f"{_local_gateway()}/callbacks/wechatpay/refund")


def _local_gateway():
    return f"http://127.0.0.1:{settings.PORTS['gateway']}"


def seconds_list(name, default):
    raw = settings.env(name, default)
    try:
        values = [float(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise RuntimeError(f"{name} must be comma-separated seconds, not {raw!r}.") from None
    if not values or any(value < 0 for value in values):
        raise RuntimeError(f"{name} must list at least one non-negative number of seconds.")
    return values


def refund_retry_seconds():
    """Waits before each resubmission of a refund the provider did not take."""
    return seconds_list("PINTUAN_REFUND_RETRY_SECONDS", "1,5,30,120,600")


def refund_stuck_policy():
    """When ops is shown a refund as stuck: not done after PINTUAN_REFUND_STUCK_ATTEMPTS
    tries (5: with the default retry delays, about 13 minutes of trying) or
    PINTUAN_REFUND_STUCK_SECONDS after it was asked for (3 days: WeChat takes up to three
    working days to refund to a bank card)."""
    try:
        policy = StuckPolicy(int(settings.env("PINTUAN_REFUND_STUCK_ATTEMPTS", "5")),
                             float(settings.env("PINTUAN_REFUND_STUCK_SECONDS", "259200")))
    except ValueError:
        policy = None
    if policy is None or policy.attempts < 1 or policy.seconds <= 0:
        raise RuntimeError("PINTUAN_REFUND_STUCK_ATTEMPTS must be a whole number >= 1 and "
                           "PINTUAN_REFUND_STUCK_SECONDS a number of seconds > 0.")
    return policy


def sandbox_retry_seconds():
    """Waits before each redelivery of a sandbox notification the callback refused."""
    return seconds_list("PINTUAN_SANDBOX_RETRY_SECONDS", "1,2,5,15,30,60")


def _rate(name, default):
    try:
        rate = float(settings.env(name, default))
    except ValueError:
        rate = -1.0
    if not 0 <= rate <= 1:
        raise RuntimeError(f"{name} must be between 0 and 1.")
    return rate


def sandbox_duplicate_rate():
    """How often the sandbox delivers an acknowledged notification a second time."""
    return _rate("PINTUAN_SANDBOX_DUPLICATE_RATE", "0.1")


def sandbox_drop_rate():
    """How often a delivery attempt is lost on the way (never reaches the callback) and
    has to be retried, as on a bad network. 0 outside fault runs."""
    return _rate("PINTUAN_SANDBOX_DROP_RATE", "0")


def sandbox_delay_seconds():
    """How long after the event the first delivery attempt is made (a slow provider)."""
    try:
        delay = float(settings.env("PINTUAN_SANDBOX_DELAY_SECONDS", "0"))
    except ValueError:
        delay = -1.0
    if delay < 0:
        raise RuntimeError("PINTUAN_SANDBOX_DELAY_SECONDS must be a non-negative number.")
    return delay


def sandbox_refund_delay_seconds():
    """How long after the provider took a refund the sandbox reports it succeeded."""
    try:
        delay = float(settings.env("PINTUAN_SANDBOX_REFUND_DELAY_SECONDS", "1"))
    except ValueError:
        delay = -1.0
    if delay < 0:
        raise RuntimeError("PINTUAN_SANDBOX_REFUND_DELAY_SECONDS must be a non-negative number.")
    return delay


def real_credentials():
    """The merchant's identity for `real` mode; every one of them is required."""
    names = {"mchid": "PINTUAN_WECHATPAY_MCHID", "appid": "PINTUAN_WECHATPAY_APPID",
             "merchant_serial": "PINTUAN_WECHATPAY_MERCHANT_SERIAL",
             "platform_serial": "PINTUAN_WECHATPAY_PLATFORM_SERIAL"}
    values = {key: settings.env(name) for key, name in names.items()}
    missing = [names[key] for key, value in values.items() if not value]
    if missing:
        raise RuntimeError(f"PINTUAN_WECHATPAY_MODE=real needs {', '.join(missing)}.")
    return values


def check():
    """Reads every setting once, so a wrong one stops the service at start, not in a timer."""
    mode()
    refund_retry_seconds()
    refund_stuck_policy()
    if mode() == SANDBOX:
        sandbox_retry_seconds()
        sandbox_duplicate_rate()
        sandbox_drop_rate()
        sandbox_delay_seconds()
        sandbox_duplicate_rate()
        sandbox_refund_delay_seconds()
