"""Gateway routes for orders: the shopper's (paying, cancelling, confirming receipt) and
the merchant's (its shop's orders, shipping)."""
from gateway.routing import route
from gateway.schemas import orders as s
from plumbing.rpc import RemoteService

ORDERS, ADMIN = "orders", "merchant"


class OrderRoutes:
    orders = RemoteService("orders")

    @route("GET", "/api/v1/orders", "My orders, normal and team orders in one list", ORDERS,
           role="customer", query=s.OrderQuery(), response=s.OrderPage())
    def list_orders(self, request, user, query):
        return self.orders.list_orders(user["user_id"], **query)

    @route("GET", "/api/v1/orders/<int:order_id>", "One of my orders, with its team's orders",
           ORDERS, role="customer", response=s.Order())
    def get_order(self, request, user, order_id):
        return self.orders.get_order(user["user_id"], order_id)

    @route("POST", "/api/v1/orders/<int:order_id>/cancel", "Cancel an unpaid order", ORDERS,
           role="customer", response=s.Order())
    def cancel_order(self, request, user, order_id):
        return self.orders.cancel_order(user["user_id"], order_id)

    @route("POST", "/api/v1/orders/<int:order_id>/confirm-receipt",
           "Confirm a shipped order arrived (确认收货): it completes and may be reviewed", ORDERS,
           role="customer", response=s.Order())
    def confirm_receipt(self, request, user, order_id):
        return self.orders.confirm_receipt(user["user_id"], order_id)

    @route("POST", "/api/v1/orders/<int:order_id>/pay", "Start paying: a WeChat Pay prepay id",
           ORDERS, role="customer", response=s.PaymentStarted(), limit="pay")
    def pay_order(self, request, user, order_id):
        return self.orders.start_payment(user["user_id"], order_id)

    @route("GET", "/admin/v1/orders", "My shop's orders, normal and team, with their type",
           ADMIN, role="merchant", query=s.AdminOrderQuery(), response=s.AdminOrderPage())
    def admin_list_orders(self, request, user, query):
        return self.orders.admin_list_orders(user["user_id"], **query)

    @route("GET", "/admin/v1/orders/<int:order_id>",
           "One order of my shop, with the buyer's address", ADMIN, role="merchant",
           response=s.AdminOrder())
    def admin_get_order(self, request, user, order_id):
        return self.orders.admin_get_order(user["user_id"], order_id)

    @route("POST", "/admin/v1/orders/<int:order_id>/ship",
           "Ship an order waiting for it (发货); the same carrier and number again is a no-op",
           ADMIN, role="merchant", body=s.ShipInput(), response=s.AdminOrder())
    def ship_order(self, request, user, body, order_id):
        return self.orders.ship_order(user["user_id"], order_id, body["carrier"],
                                      body["tracking_no"])
