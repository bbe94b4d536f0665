"""The WeChat Pay sandbox's shopper route exists in dev and test only: in production
the gateway answers it like any unknown URL, without asking payments."""
import pytest
import requests


@pytest.fixture
def gateway_url(start_service):
    container = start_service("gateway")
    return f"http://{container.config['WEB_SERVER_ADDRESS']}"


@pytest.mark.parametrize("environment, status, code", [
    ("production", 404, "route_not_found"),
    ("test", 503, "service_unavailable"),  # the route is there and asks payments: not running here
])
def test_the_sandbox_route_is_off_in_production(gateway_url, monkeypatch, environment, status, code):
    monkeypatch.setenv("PINTUAN_ENV", environment)
    answer = requests.post(f"{gateway_url}/sandbox/wechatpay/wx123/pay", json={"result": "success"},
                           timeout=10)
    assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), answer.text
