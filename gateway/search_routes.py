"""Gateway routes for shopper search, listing and the home page (mixed into GatewayService)."""
from gateway import schemas as s
from gateway.routing import route

SHOP = "shop"


class SearchRoutes:

    @route("GET", "/api/v1/products", "Search and filter published products", SHOP,
           query=s.ProductQuery(), response=s.ProductPage())
    def list_products(self, request, query):
        return self.catalog.list_products(**query)
