"""Schemathesis over /openapi.json against the whole stack: for every route, inputs
generated from its schema (and mutated out of it) must never bring a 5xx; every
answer must be one the document lists, in its schema, with its content type; and
input outside the schema must be refused.

Each protected route is called with a token of the role it wants, so the fuzzing
reaches past the 401/403 at the door. PINTUAN_FUZZ_EXAMPLES sets how many inputs
per route (25 by default: the suite's budget; raise it for a deeper run).
"""
import os
import time

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks
from schemathesis.specs.openapi import checks as openapi_checks

from gateway import openapi
from gateway.routing import ROUTES
from gateway.service import GatewayService  # noqa: F401  (registers every route)
from tests.e2e.stack import GATEWAY

pytestmark = pytest.mark.e2e

CHECKS = [checks.not_a_server_error, openapi_checks.status_code_conformance,
          openapi_checks.content_type_conformance, openapi_checks.response_schema_conformance,
          openapi_checks.negative_data_rejection]
EXAMPLES = int(os.environ.get("PINTUAN_FUZZ_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def api_schema(stack):
    schema = schemathesis.openapi.from_url(f"{GATEWAY}/openapi.json")
    # Every call carries a real token of the route's role (below), which replaces whatever
    # Authorization schemathesis made: a case whose only fault was a missing or junk token
    # would go out valid and be taken for bad input accepted. Who may call without a token,
    # or with a bad one, is tests/e2e/test_access_control.py's.
    schema.config.generation.update(with_security_parameters=False)
    return schema


@pytest.fixture(scope="module")
def tokens(stack):
    shopper = requests.post(f"{GATEWAY}/api/v1/auth/wechat-login",
                            json={"code": f"wx-fuzz-{time.time_ns()}"}, timeout=20).json()["token"]
    staff = {role: requests.post(f"{GATEWAY}/admin/v1/auth/login", timeout=20, json={
        "username": f"demo-{role}", "password": "demo-password"}).json()["token"]
        for role in ("merchant", "ops")}
    return {"customer": shopper, "any": shopper, **staff}


# schemathesis.pytest.from_fixture does not run under pytest 9 (it sets Node._nodeid),
# so each route is a parametrized test that draws its cases from the schema itself.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=lambda m: m.value)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_no_route_answers_5xx_or_off_its_schema(api_schema, tokens, route, mode):
    operation = api_schema[openapi._openapi_path(route.path)][route.method.upper()]
    headers = {"Authorization": f"Bearer {tokens[route.roles[0]]}"} if route.role else {}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def call(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        call()
    except Unsatisfiable:  # nothing to send outside the schema (no parameters, free strings)
        assert mode == GenerationMode.NEGATIVE
        pytest.skip("no input can break this route's schema")
