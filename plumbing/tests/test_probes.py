"""What every service tells about itself: /health and the `ping` RPC name the database
and the broker vhost it uses, never their credentials, so a replica started on the wrong
database (or another stack's vhost) can be seen."""
import pytest
import requests

from conftest import TEST_NAMESPACE, _ensure_database
from plumbing.db import Database
from plumbing.probes import ServiceBase

PROBED_DB = f"postgresql+psycopg2://postgres:s3cret@127.0.0.1:5432/{TEST_NAMESPACE}_kit_emitter"


class Probed(ServiceBase):
    name = "kitprobed"
    db = Database(relay=False)


class Stateless(ServiceBase):
    name = "kitstateless"


@pytest.fixture
def start(container_factory, service_config, monkeypatch):
    monkeypatch.setenv("KITPROBED_DATABASE_URL", PROBED_DB)
    _ensure_database(PROBED_DB)

    def start(cls):
        container = container_factory(cls, service_config(cls.name))
        container.start()
        return container
    return start


def health_of(container):
    return requests.get("http://{}/health".format(container.config["WEB_SERVER_ADDRESS"]), timeout=5)


def test_health_and_ping_name_the_database_and_vhost_without_credentials(start, rpc):
    container = start(Probed)
    answer = health_of(container)
    assert answer.status_code == 200
    body = answer.json()
    assert body["database"] == f"postgresql://127.0.0.1:5432/{TEST_NAMESPACE}_kit_emitter"
    assert (body["broker"], body["vhost"]) == ("127.0.0.1:5672", TEST_NAMESPACE)
    for secret in ("s3cret", "postgres@", "guest"):
        assert secret not in answer.text
    assert rpc.kitprobed.ping() == {"service": "kitprobed", "database": body["database"],
                                    "broker": "127.0.0.1:5672", "vhost": TEST_NAMESPACE}


def test_a_service_without_a_database_says_so(start, rpc):
    body = health_of(start(Stateless)).json()
    assert body["database"] is None and body["vhost"] == TEST_NAMESPACE
    assert rpc.kitstateless.ping()["database"] is None
