"""Gateway routes for shopper search, listings and the home page."""
from gateway.routing import route
from gateway.schemas import search as s
from plumbing.rpc import RemoteService

SHOP = "shop"


class SearchRoutes:
    catalog = RemoteService("catalog")

    @route("GET", "/api/v1/products", "Search and filter published products", SHOP,
           query=s.ProductSearchQuery(), response=s.ListingPage())
    def list_products(self, request, query):
        return self.catalog.list_products(**query)

    @route("GET", "/api/v1/home", "The home page's first screen: every section's first products",
           SHOP, query=s.HomeQuery(), response=s.Home())
    def home(self, request, query):
        return self.catalog.home(**query)

    @route("GET", "/api/v1/home/<section>", "One home section in full, a page at a time", SHOP,
           query=s.Paging(), response=s.ListingPage())
    def home_section(self, request, section, query):
        return self.catalog.list_section(section, **query)
