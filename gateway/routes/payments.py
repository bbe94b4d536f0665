"""Gateway routes for WeChat Pay: its signed notifications, and the sandbox where a
shopper pays in dev and test."""
from gateway.routing import route
from gateway.schemas import payments as s
from plumbing import settings
from plumbing.errors import NotFound
from plumbing.rpc import RemoteService
from plumbing.web import http

PAYMENT = "payment"


class PaymentRoutes:
    payments = RemoteService("payments")

    @route("POST", "/sandbox/wechatpay/<prepay_id>/pay",
           "Dev and test only: the shopper pays in the WeChat Pay sandbox", PAYMENT,
           body=s.SandboxPay(), response=s.SandboxPaid())
    def sandbox_pay(self, request, body, prepay_id):
        if settings.is_production():
            raise NotFound("route_not_found", "The requested URL was not found on the server.")
        return self.payments.sandbox_pay(prepay_id, body["result"])

    @http("POST", "/callbacks/wechatpay/<any(payment, refund):kind>")
    def wechatpay_callback(self, request, kind):
        """The provider's signed notification, passed on untouched: payments verifies it."""
        answer = self.payments.handle_notification(
            kind, dict(request.headers), request.get_data(as_text=True))
        return answer["status"], answer["body"]
