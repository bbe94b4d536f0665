"""Rate limits on the real Redis: per user, per IP, Retry-After, overrides, and a
Redis outage that lets calls through."""
import uuid

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from plumbing.errors import TooManyRequests
from plumbing.ratelimit import Limit, RateLimiter, client_ip, limits


@pytest.fixture
def limiter(monkeypatch):
    monkeypatch.setenv("PINTUAN_REDIS_PREFIX", f"test-{uuid.uuid4().hex}")  # fresh counters
    return RateLimiter()


def test_a_user_over_the_limit_is_told_when_to_come_back(limiter, monkeypatch):
    monkeypatch.setenv("PINTUAN_RATE_LIMIT_JOIN", "3/60,-")
    for _ in range(3):
        limiter.check("join", user_id=7, ip="10.0.0.1")
    with pytest.raises(TooManyRequests) as refused:
        limiter.check("join", user_id=7, ip="10.0.0.1")
    assert refused.value.status == 429 and refused.value.code == "rate_limited"
    assert 1 <= refused.value.details["retry_after"] <= 60
    assert refused.value.headers() == {"Retry-After": str(refused.value.details["retry_after"])}
    limiter.check("join", user_id=8, ip="10.0.0.1")  # another shopper is not held back


def test_one_address_is_limited_across_users(limiter, monkeypatch):
    monkeypatch.setenv("PINTUAN_RATE_LIMIT_PAY", "-,2/60")
    limiter.check("pay", user_id=1, ip="10.0.0.9")
    limiter.check("pay", user_id=2, ip="10.0.0.9")
    with pytest.raises(TooManyRequests):
        limiter.check("pay", user_id=3, ip="10.0.0.9")
    limiter.check("pay", user_id=3, ip="10.0.0.10")


def test_kinds_count_apart(limiter, monkeypatch):
    monkeypatch.setenv("PINTUAN_RATE_LIMIT_JOIN", "1/60,-")
    monkeypatch.setenv("PINTUAN_RATE_LIMIT_PAY", "1/60,-")
    limiter.check("join", user_id=5)
    limiter.check("pay", user_id=5)
    with pytest.raises(TooManyRequests):
        limiter.check("join", user_id=5)


def test_a_compound_behind_one_address_is_not_held_back_by_default(limiter, monkeypatch):
    """300 neighbours behind one carrier NAT each log in, open or join three teams and
    pay within one minute; one of them clicking join an eleventh time is held back."""
    for kind in ("LOGIN", "STAFF_LOGIN", "JOIN", "PAY"):
        monkeypatch.delenv(f"PINTUAN_RATE_LIMIT_{kind}", raising=False)
    nat = "100.64.0.1"
    for shopper in range(1, 301):
        limiter.check("login", ip=nat)
        for _ in range(3):
            limiter.check("join", user_id=shopper, ip=nat)
        limiter.check("pay", user_id=shopper, ip=nat)
    for _ in range(7):
        limiter.check("join", user_id=1, ip=nat)
    with pytest.raises(TooManyRequests):
        limiter.check("join", user_id=1, ip=nat)


def test_defaults_and_overrides(monkeypatch):
    monkeypatch.delenv("PINTUAN_RATE_LIMIT_LOGIN", raising=False)
    monkeypatch.delenv("PINTUAN_RATE_LIMIT_STAFF_LOGIN", raising=False)
    assert limits("login") == (None, Limit(1200, 60))
    assert limits("staff_login") == (None, Limit(30, 60))
    monkeypatch.setenv("PINTUAN_RATE_LIMIT_LOGIN", "-,5/10")
    assert limits("login") == (None, Limit(5, 10))
    monkeypatch.setenv("PINTUAN_RATE_LIMIT_JOIN", "-,-")
    assert limits("join") == (None, None)
    for wrong in ("0/60,-", "ten/60,-", "5,-"):
        monkeypatch.setenv("PINTUAN_RATE_LIMIT_JOIN", wrong)
        with pytest.raises(ValueError):
            limits("join")


def test_an_unreachable_redis_lets_calls_through(monkeypatch, caplog):
    monkeypatch.setenv("PINTUAN_RATE_LIMIT_LOGIN", "-,1/60")
    limiter = RateLimiter("redis://127.0.0.1:1/0")
    for _ in range(3):
        limiter.check("login", ip="10.0.0.1")
    assert "rate limits are off" in caplog.text


def _request(remote, forwarded=None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return Request(EnvironBuilder(headers=headers,
                                  environ_base={"REMOTE_ADDR": remote}).get_environ())


def test_the_client_address_trusts_only_configured_proxies(monkeypatch):
    monkeypatch.delenv("PINTUAN_TRUSTED_PROXIES", raising=False)
    assert client_ip(_request("10.0.0.2", "1.2.3.4")) == "10.0.0.2"  # a shopper cannot pick one
    monkeypatch.setenv("PINTUAN_TRUSTED_PROXIES", "1")
    assert client_ip(_request("10.0.0.2", "6.6.6.6, 1.2.3.4")) == "1.2.3.4"
    assert client_ip(_request("10.0.0.2")) == "10.0.0.2"



def test_uploads_have_a_limit_of_their_own(limiter, monkeypatch):
    monkeypatch.delenv("PINTUAN_RATE_LIMIT_UPLOAD", raising=False)
    assert limits("upload") == (Limit(30, 60), Limit(300, 60))  # nine pictures pass, a flood not
    monkeypatch.setenv("PINTUAN_RATE_LIMIT_UPLOAD", "2/60,-")
    limiter.check("upload", user_id=9, ip="10.0.0.3")
    limiter.check("upload", user_id=9, ip="10.0.0.3")
    with pytest.raises(TooManyRequests):
        limiter.check("upload", user_id=9, ip="10.0.0.3")
