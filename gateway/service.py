"""The HTTP gateway: auth at the edge, validation, routing to RPC, OpenAPI.

It owns no data and no rules; every route checks who calls and what they sent,
asks one service, and shapes the answer.
"""
import requests

from gateway import openapi
from gateway import schemas as s
from gateway.routing import route
from plumbing import settings
from plumbing.probes import ServiceBase
from plumbing.rpc import RemoteService
from plumbing.web import http

SHOP, ADMIN, OPS, AUTH = "shop", "merchant", "ops", "auth"


class GatewayService(ServiceBase):
    name = "gateway"
    accounts = RemoteService("accounts")
    catalog = RemoteService("catalog")

    @http("GET", "/openapi.json")
    def openapi_document(self, request):
        return openapi.build()

    # --- login and the shopper's own account --------------------------------
    @route("POST", "/api/v1/auth/wechat-login", "Log in with a WeChat mini-program code", AUTH,
           body=s.WechatLogin(), response=s.LoginResult())
    def wechat_login(self, request, body):
        return self.accounts.wechat_login(body["code"], body.get("invite_code"))

    @route("POST", "/admin/v1/auth/login", "Merchant or ops login", AUTH,
           body=s.StaffLogin(), response=s.StaffLoginResult())
    def staff_login(self, request, body):
        return self.accounts.merchant_login(body["username"], body["password"])

    @route("GET", "/api/v1/me", "My profile", SHOP, role="any", response=s.User())
    def my_profile(self, request, user):
        return self.accounts.get_user(user["user_id"])

    @route("PATCH", "/api/v1/me", "Change my nickname, avatar or phone", SHOP, role="any",
           body=s.ProfileChange(), response=s.User())
    def change_profile(self, request, user, body):
        return self.accounts.update_profile(user["user_id"], body)

    @route("GET", "/api/v1/addresses", "My delivery addresses", SHOP, role="customer",
           response=s.AddressList())
    def list_addresses(self, request, user):
        return {"items": self.accounts.list_addresses(user["user_id"])}

    @route("POST", "/api/v1/addresses", "Add an address (the first becomes the default)", SHOP,
           role="customer", body=s.AddressInput(), response=s.Address(), status=201)
    def create_address(self, request, user, body):
        return self.accounts.create_address(user["user_id"], body)

    @route("PUT", "/api/v1/addresses/<int:address_id>", "Replace an address", SHOP,
           role="customer", body=s.AddressInput(), response=s.Address())
    def update_address(self, request, user, body, address_id):
        return self.accounts.update_address(user["user_id"], address_id, body)

    @route("DELETE", "/api/v1/addresses/<int:address_id>", "Delete an address", SHOP,
           role="customer", response=s.AddressList())
    def delete_address(self, request, user, address_id):
        self.accounts.delete_address(user["user_id"], address_id)
        return {"items": self.accounts.list_addresses(user["user_id"])}

    @route("POST", "/api/v1/addresses/<int:address_id>/default", "Make an address the default",
           SHOP, role="customer", response=s.Address())
    def set_default_address(self, request, user, address_id):
        return self.accounts.set_default_address(user["user_id"], address_id)

    # --- catalogue for shoppers ---------------------------------------------
    @route("GET", "/api/v1/categories", "Category tree", SHOP, response=s.CategoryList())
    def list_categories(self, request):
        return {"items": self.catalog.list_categories()}

    @route("GET", "/api/v1/products", "Search and filter published products", SHOP,
           query=s.ProductQuery(), response=s.ProductPage())
    def list_products(self, request, query):
        return self.catalog.list_products(**query)

    @route("GET", "/api/v1/products/<int:product_id>", "Product detail", SHOP,
           response=s.ProductDetail())
    def get_product(self, request, product_id):
        return self.catalog.get_product(product_id)

    # --- merchant back office -----------------------------------------------
    @route("POST", "/admin/v1/categories", "Create a category (two levels)", ADMIN,
           role="merchant", body=s.CategoryInput(), response=s.Category(), status=201)
    def create_category(self, request, user, body):
        return self.catalog.create_category(body)

    @route("GET", "/admin/v1/products", "My products", ADMIN, role="merchant",
           query=s.AdminProductQuery(), response=s.ProductPage())
    def admin_list_products(self, request, user, query):
        return self.catalog.admin_list_products(user["user_id"], **query)

    @route("POST", "/admin/v1/products", "Create a product (a draft) with its SKUs", ADMIN,
           role="merchant", body=s.ProductInput(), response=s.Product(), status=201)
    def create_product(self, request, user, body):
        return self.catalog.create_product(user["user_id"], body)

    @route("GET", "/admin/v1/products/<int:product_id>", "One of my products", ADMIN,
           role="merchant", response=s.Product())
    def admin_get_product(self, request, user, product_id):
        return self.catalog.admin_get_product(user["user_id"], product_id)

    @route("PUT", "/admin/v1/products/<int:product_id>", "Edit a product and its SKUs", ADMIN,
           role="merchant", body=s.ProductChange(), response=s.Product())
    def update_product(self, request, user, body, product_id):
        return self.catalog.update_product(user["user_id"], product_id, body)

    @route("POST", "/admin/v1/products/<int:product_id>/publish", "List a product", ADMIN,
           role="merchant", response=s.Product())
    def publish_product(self, request, user, product_id):
        return self.catalog.publish_product(user["user_id"], product_id)

    @route("POST", "/admin/v1/products/<int:product_id>/unpublish", "Delist a product", ADMIN,
           role="merchant", response=s.Product())
    def unpublish_product(self, request, user, product_id):
        return self.catalog.unpublish_product(user["user_id"], product_id)

    # --- ops ----------------------------------------------------------------
    @route("GET", "/admin/v1/ops/health", "Health of every service", OPS, role="ops",
           response=s.OpsHealth())
    def services_health(self, request, user):
        services = [_read_health(name) for name in settings.SERVICES]
        healthy = all(item["status"] == "ok" for item in services)
        return {"status": "ok" if healthy else "degraded", "services": services}


def _read_health(service):
    try:
        answer = requests.get(settings.health_url(service), timeout=2)
        body = answer.json()
        return {"service": service, "status": body.get("status", "unavailable"),
                "checks": body.get("checks", {})}
    except (requests.RequestException, ValueError) as exc:
        return {"service": service, "status": "unreachable", "checks": {"http": type(exc).__name__}}
