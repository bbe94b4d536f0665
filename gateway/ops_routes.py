"""Gateway routes for ops to watch and mend money: refunds that are stuck, and retrying
them (mixed into GatewayService)."""
from gateway import ops_schemas as s
from gateway.routing import route

OPS = "ops"


class OpsRoutes:

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
