"""The HTTP gateway: auth at the edge, validation, routing to RPC, OpenAPI.

It owns no data and no rules; every route checks who calls and what they sent,
asks one service, and shapes the answer. The routes live by area in `gateway/routes/`
(their schemas in `gateway/schemas/`); this class is made of them, so a new area is a
routes module, a schemas module and one more base here.
"""
from gateway import openapi
from gateway.routes.accounts import AccountRoutes
from gateway.routes.catalog import CatalogRoutes
from gateway.routes.group_buy import GroupBuyRoutes
from gateway.routes.media import MediaRoutes
from gateway.routes.notifications import NotificationRoutes
from gateway.routes.ops import OpsRoutes
from gateway.routes.orders import OrderRoutes
from gateway.routes.payments import PaymentRoutes
from gateway.routes.reviews import ReviewRoutes
from gateway.routes.search import SearchRoutes
from plumbing.probes import ServiceBase
from plumbing.web import http


class GatewayService(AccountRoutes, CatalogRoutes, SearchRoutes, MediaRoutes, GroupBuyRoutes,
                     OrderRoutes, PaymentRoutes, ReviewRoutes, NotificationRoutes, OpsRoutes,
                     ServiceBase):
    name = "gateway"

    @http("GET", "/openapi.json")
    def openapi_document(self, request):
        return openapi.build()
