"""Gateway routes for the platform's operations (ops): opening merchants' shops, every
service's health, whether the money ledger balances, and refunds that are stuck."""
import requests

from gateway.routing import route
from gateway.schemas import ops as s
from gateway.schemas.common import Paging
from plumbing import settings
from plumbing.rpc import RemoteService

OPS = "ops"


def _read_health(service):
    try:
        answer = requests.get(settings.health_url(service), timeout=2)
        body = answer.json()
        return {"service": service, "status": body.get("status", "unavailable"),
                "checks": body.get("checks", {}), "database": body.get("database"),
                "broker": body.get("broker"), "vhost": body.get("vhost")}
    except (requests.RequestException, ValueError) as exc:
        return {"service": service, "status": "unreachable", "checks": {"http": type(exc).__name__}}


class OpsRoutes:
    accounts = RemoteService("accounts")
    payments = RemoteService("payments")

    # --- merchants and their shops ------------------------------------------------
    @route("POST", "/admin/v1/merchants", "Open a merchant account and its shop", OPS,
           role="ops", body=s.MerchantInput(), response=s.Merchant(), status=201)
    def create_merchant(self, request, user, body):
        return self.accounts.create_merchant(user["user_id"], body["username"], body["password"],
                                             body["shop_name"])

    @route("GET", "/admin/v1/merchants", "The merchants and their shops, newest first", OPS,
           role="ops", query=Paging(), response=s.MerchantPage())
    def list_merchants(self, request, user, query):
        return self.accounts.list_merchants(**query)

    # --- the services and the money -----------------------------------------------
    @route("GET", "/admin/v1/ops/ledger", "Does the money ledger balance?", OPS, role="ops",
           response=s.LedgerCheck())
    def ledger_check(self, request, user):
        return self.payments.ledger_check()

    @route("GET", "/admin/v1/ops/health", "Health of every service", OPS, role="ops",
           response=s.OpsHealth())
    def services_health(self, request, user):
        services = [_read_health(name) for name in settings.SERVICES]
        healthy = all(item["status"] == "ok" for item in services)
        return {"status": "ok" if healthy else "degraded", "services": services}

    @route("GET", "/admin/v1/ops/refunds",
           "Refunds by state: stuck (refused for good, or not done after "
           "PINTUAN_REFUND_STUCK_ATTEMPTS tries or PINTUAN_REFUND_STUCK_SECONDS), pending, "
           "failed, succeeded; the longest waiting first", OPS, role="ops",
           query=s.RefundQuery(), response=s.RefundPage())
    def list_refunds(self, request, user, query):
        return self.payments.list_refunds(**query)

    @route("POST", "/admin/v1/ops/refunds/<int:refund_id>/retry",
           "Send a refund that has not succeeded to WeChat Pay again, now", OPS, role="ops",
           response=s.OpsRefund())
    def retry_refund(self, request, user, refund_id):
        return self.payments.retry_refund(refund_id)
