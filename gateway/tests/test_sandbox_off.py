"""The WeChat Pay sandbox's shopper route exists in dev and test only: in production
the gateway answers it like any unknown URL, without asking payments."""
import pytest
import requests


@pytest.fixture
def gateway_url(start_service):
    container = start_service("gateway")
    return f"http://{container.config['WEB_SERVER_ADDRESS']}"


# In test the route is there and asks payments, which does not run here: 503, unavailable
# (no rpc-payments queue) or timed out (a queue left by an earlier test, no consumer).
@pytest.mark.parametrize("environment, status, codes", [
    ("production", 404, {"route_not_found"}),
    ("test", 503, {"service_unavailable", "service_timeout"}),
])
def test_the_sandbox_route_is_off_in_production(gateway_url, monkeypatch, environment, status, codes):
    monkeypatch.setenv("PINTUAN_ENV", environment)
    monkeypatch.setenv("PINTUAN_RPC_TIMEOUT", "2")
    answer = requests.post(f"{gateway_url}/sandbox/wechatpay/wx123/pay", json={"result": "success"},
                           timeout=10)
    assert answer.status_code == status and answer.json()["error"]["code"] in codes, answer.text
