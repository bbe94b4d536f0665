"""Rate limits at the gateway, per user and per client IP, kept in Redis so every
gateway replica counts the same calls.

A limit is "N calls per window seconds" for one kind of call (login, join, pay, upload);
the window is fixed and aligned to the clock, so one INCR + EXPIRE per check.
Going over raises TooManyRequests with the seconds until the window turns
(the answer's Retry-After).

If Redis cannot be reached the call is let through and a warning logged (at most
once a minute): a rate limit protects the shop, it must not close it.
"""
import logging
import time
from dataclasses import dataclass

import redis

from plumbing import settings
from plumbing.errors import TooManyRequests

log = logging.getLogger(__name__)

# kind -> (per-user limit, per-address limit), each "calls/seconds"; why each number is
# in README.md ("Rate limits and lockouts"). One address may be a whole compound behind a
# carrier's NAT, so an address gets what 300 shoppers at 4 calls a minute need, while one
# user stays tight. Login has no user yet. Staff login's guard against guessing is the
# lockout in accounts (which does not fail open); its limit here only caps the CPU that
# password hashing costs.
DEFAULT_LIMITS = {
    "login": (None, "1200/60"),
    "staff_login": (None, "30/60"),
    "join": ("10/60", "1200/60"),
    "pay": ("10/60", "1200/60"),
    # every upload is decoded: a review's nine pictures pass, a flood does not
    "upload": ("30/60", "300/60"),
}


@dataclass(frozen=True)
class Limit:
    calls: int
    seconds: int

    @classmethod
    def parse(cls, text):
        calls, _, seconds = text.partition("/")
        limit = cls(int(calls), int(seconds))
        if limit.calls < 1 or limit.seconds < 1:
            raise ValueError(text)
        return limit


def limits(kind):
    """(per-user Limit or None, per-IP Limit or None) for a kind of call.

    PINTUAN_RATE_LIMIT_<KIND> overrides the default as "<user>,<ip>", e.g. "10/60,60/60"
    (PINTUAN_RATE_LIMIT_STAFF_LOGIN for staff_login);
    "-" for either side turns it off.
    """
    user, ip = DEFAULT_LIMITS[kind]
    override = settings.env(f"PINTUAN_RATE_LIMIT_{kind.upper()}")
    if override:
        user, _, ip = override.partition(",")
    return _limit(user), _limit(ip)


def _limit(text):
    return None if text in (None, "", "-") else Limit.parse(text.strip())


class RateLimiter:
    def __init__(self, url=None):
        self.client = redis.Redis.from_url(url or settings.redis_url(), socket_timeout=0.5,
                                           socket_connect_timeout=0.5)
        self._warned_at = 0.0

    def check(self, kind, user_id=None, ip=None):
        """Counts the call against each of its limits; raises TooManyRequests if over one."""
        user_limit, ip_limit = limits(kind)
        for scope, subject, limit in (("user", user_id, user_limit), ("ip", ip, ip_limit)):
            if limit is not None and subject is not None:
                self._count(f"{settings.redis_prefix()}:ratelimit:{kind}:{scope}:{subject}", limit)

    def _count(self, key, limit):
        now = time.time()
        window = int(now // limit.seconds)
        try:
            pipe = self.client.pipeline()
            pipe.incr(f"{key}:{window}")
            pipe.expire(f"{key}:{window}", limit.seconds + 1)
            calls, _ = pipe.execute()
        except redis.RedisError as exc:
            self._warn(exc)
            return
        if calls > limit.calls:
            retry_after = max(1, int((window + 1) * limit.seconds - now + 0.999))
            raise TooManyRequests(
                "rate_limited", f"Too many requests; try again in {retry_after} s.",
                details={"retry_after": retry_after})

    def _warn(self, exc):
        if time.monotonic() - self._warned_at > 60:
            self._warned_at = time.monotonic()
            log.warning("rate limits are off: Redis is unreachable (%s)", exc)


def client_ip(request):
    """The caller's address. Behind a proxy (PINTUAN_TRUSTED_PROXIES = how many), the
    address that proxy saw, from X-Forwarded-For; otherwise the socket's peer."""
    hops = int(settings.env("PINTUAN_TRUSTED_PROXIES", "0"))
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")
                 if part.strip()]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.remote_addr
