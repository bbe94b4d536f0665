"""The HTTP gateway: auth at the edge, validation, routing to RPC, OpenAPI.

It owns no data and no rules; every route checks who calls and what they sent,
asks one service, and shapes the answer.
"""
import base64

import requests
from werkzeug.wrappers import Response

from gateway import openapi
from gateway import schemas as s
from gateway.ops_routes import OpsRoutes
from gateway.order_routes import OrderRoutes
from gateway.review_routes import ReviewRoutes
from gateway.routing import route
from gateway.search_routes import SearchRoutes
from plumbing import ratelimit, settings
from plumbing.errors import BadRequest, NotFound
from plumbing.probes import ServiceBase
from plumbing.rpc import RemoteService
from plumbing.web import http

SHOP, ADMIN, OPS, AUTH = "shop", "merchant", "ops", "auth"
GROUP = "group-buy"
IDEMPOTENCY_KEY = "Idempotency-Key"


MEDIA_CACHE = "public, max-age=31536000, immutable"
MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the file


def _upload_limit():
    """An upload's body may hold the largest image catalog accepts, plus its multipart
    wrapping: a slightly larger image then gets catalog's clear `image_too_large`."""
    return settings.max_image_bytes() + MULTIPART_OVERHEAD


def _base64(data):
    return base64.b64encode(data).decode("ascii")


def _idempotency_key(request):
    """A client's retry of the same purchase carries the same key and gets the same order."""
    key = request.headers.get(IDEMPOTENCY_KEY)
    if key is not None and not 1 <= len(key) <= 64:
        raise BadRequest("invalid_idempotency_key", "Idempotency-Key must be 1-64 characters.")
    return key


class GatewayService(SearchRoutes, OrderRoutes, ReviewRoutes, OpsRoutes, ServiceBase):
    name = "gateway"
    accounts = RemoteService("accounts")
    catalog = RemoteService("catalog")
    teams = RemoteService("teams")
    orders = RemoteService("orders")
    payments = RemoteService("payments")
    notify = RemoteService("notify")

    @http("GET", "/openapi.json")
    def openapi_document(self, request):
        return openapi.build()

    # --- login and the shopper's own account --------------------------------
    @route("POST", "/api/v1/auth/wechat-login", "Log in with a WeChat mini-program code", AUTH,
           body=s.WechatLogin(), response=s.LoginResult(), limit="login", errors=(401,))
    def wechat_login(self, request, body):
        return self.accounts.wechat_login(body["code"], body.get("invite_code"))

    @route("POST", "/admin/v1/auth/login",
           "Merchant or ops login; failed logins lock the username, the address or both out "
           "for a while (429 login_locked)", AUTH, body=s.StaffLogin(),
           response=s.StaffLoginResult(), limit="staff_login", errors=(401, 403))
    def staff_login(self, request, body):
        return self.accounts.merchant_login(body["username"], body["password"],
                                            address=ratelimit.client_ip(request))

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

    @route("GET", "/api/v1/products/<int:product_id>",
           "Product detail in one call: SKUs with stock, campaign and group prices, joinable "
           "teams, review summary with the newest reviews", SHOP, response=s.ProductDetail())
    def get_product(self, request, product_id):
        product = self.catalog.get_product(product_id)
        return {**product, **self.teams.product_group_buy(product_id),
                "reviews": self.catalog.review_summary(product_id)}

    # --- images ---------------------------------------------------------------
    @route("POST", "/api/v1/images", "Upload a picture (for a review or feedback)", SHOP,
           role="customer", body=s.ImageUpload(), response=s.Image(), status=201,
           max_body=_upload_limit, limit="upload")
    def upload_shopper_image(self, request, user, body):
        return self.catalog.upload_image(user["user_id"], _base64(body["file"]))

    @route("POST", "/admin/v1/images", "Upload a product, SKU or category picture", ADMIN,
           role=("merchant", "ops"), body=s.ImageUpload(), response=s.Image(), status=201,
           max_body=_upload_limit, limit="upload")
    def upload_merchant_image(self, request, user, body):
        return self.catalog.upload_image(user["user_id"], _base64(body["file"]))

    @http("GET", "/media/<name>")
    def media(self, request, name):
        """An uploaded image. Its name is its content's hash, so it never changes: cached
        for a year, and a client that has it gets a 304 without catalog being asked."""
        if s.MEDIA_PATH.fullmatch(f"/media/{name}") is None:
            raise NotFound("image_not_found", "There is no such image.")
        etag = name.split(".", 1)[0]
        headers = {"ETag": f'"{etag}"', "Cache-Control": MEDIA_CACHE,
                   "X-Content-Type-Options": "nosniff"}
        if request.if_none_match.contains(etag):
            return Response(status=304, headers=headers)
        image = self.catalog.read_image(name)
        return Response(base64.b64decode(image["data_b64"]), headers=headers,
                        mimetype=image["content_type"])

    # --- group buying -------------------------------------------------------
    @route("POST", "/api/v1/teams", "Open a team (开团): places the leader's team order", GROUP,
           role="customer", body=s.OpenTeam(), response=s.TeamOrderPlaced(), status=201,
           limit="join", errors=(422,))
    def open_team(self, request, user, body):
        return self.orders.place_team_order(
            user["user_id"], body["campaign_id"], body["sku_id"], body["quantity"],
            address_id=body.get("address_id"), idempotency_key=_idempotency_key(request))

    @route("POST", "/api/v1/teams/<int:team_id>/join", "Join a team (参团): reserves a seat",
           GROUP, role="customer", body=s.JoinTeam(), response=s.TeamOrderPlaced(), status=201,
           limit="join", errors=(422,))
    def join_team(self, request, user, body, team_id):
        return self.orders.place_team_order(
            user["user_id"], None, body["sku_id"], body["quantity"], team_id=team_id,
            address_id=body.get("address_id"), idempotency_key=_idempotency_key(request))

    @route("GET", "/api/v1/teams/<int:team_id>", "A team: status, seats left, deadline, members",
           GROUP, response=s.Team())
    def get_team(self, request, team_id):
        return self.teams.get_team(team_id)

    @route("GET", "/api/v1/teams/share/<token>", "The shared team page (join, full or ended)",
           GROUP, response=s.ShareView())
    def shared_team(self, request, token):
        share = self.teams.team_by_share_token(token)
        return {**share, "share_url": settings.public_base_url() + share["share_path"]}

    @http("GET", "/api/v1/teams/share/<token>/qr.png")
    def shared_team_qr(self, request, token):
        # the configured address, never the request's Host: anyone can send any Host
        png = self.teams.team_share_qr(token, settings.public_base_url())
        return Response(base64.b64decode(png), mimetype="image/png")

    # --- notifications --------------------------------------------------------
    @route("GET", "/api/v1/notifications", "My inbox", SHOP, role="any", query=s.Paging(),
           response=s.NotificationPage())
    def list_notifications(self, request, user, query):
        return self.notify.list_notifications(user["user_id"], **query)

    @route("POST", "/api/v1/notifications/read", "Mark some (ids) or all messages read", SHOP,
           role="any", body=s.MarkRead(), response=s.Unread())
    def mark_notifications_read(self, request, user, body):
        return self.notify.mark_read(user["user_id"], body.get("ids"))

    # --- merchant back office -----------------------------------------------
    @route("GET", "/admin/v1/categories", "The platform's category tree", ADMIN,
           role=("merchant", "ops"), response=s.CategoryList())
    def admin_list_categories(self, request, user):
        return {"items": self.catalog.list_categories()}

    @route("POST", "/admin/v1/categories", "Create a category (two levels); the platform's",
           OPS, role="ops", body=s.CategoryInput(), response=s.Category(), status=201)
    def create_category(self, request, user, body):
        return self.catalog.create_category(body)

    @route("PUT", "/admin/v1/categories/<int:category_id>",
           "Rename, re-order, change the icon or move a category (two levels)", OPS,
           role="ops", body=s.CategoryChange(), response=s.Category())
    def update_category(self, request, user, body, category_id):
        return self.catalog.update_category(category_id, body)

    @route("DELETE", "/admin/v1/categories/<int:category_id>",
           "Delete an empty category (409 while it has products or sub-categories)", OPS,
           role="ops", response=s.Deleted())
    def delete_category(self, request, user, category_id):
        return self.catalog.delete_category(category_id)

    @route("GET", "/admin/v1/products", "My products, by status, category, low stock or title",
           ADMIN, role="merchant", query=s.AdminProductQuery(), response=s.AdminProductPage())
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

    @route("POST", "/admin/v1/products/<int:product_id>/pin",
           "Recommend a product (推荐) on the home page; lower ranks first", ADMIN,
           role="merchant", body=s.Pin(), response=s.Product())
    def pin_product(self, request, user, body, product_id):
        return self.catalog.pin_product(user["user_id"], product_id, body)

    @route("POST", "/admin/v1/products/<int:product_id>/unpin", "Stop recommending a product",
           ADMIN, role="merchant", response=s.Product())
    def unpin_product(self, request, user, product_id):
        return self.catalog.unpin_product(user["user_id"], product_id)

    @route("POST", "/admin/v1/campaigns", "Create a group-buy campaign (拼团活动)", ADMIN,
           role="merchant", body=s.CampaignInput(), response=s.Campaign(), status=201)
    def create_campaign(self, request, user, body):
        return self.teams.create_campaign(user["user_id"], body)

    @route("GET", "/admin/v1/campaigns", "My campaigns with their status", ADMIN,
           role="merchant", query=s.CampaignQuery(), response=s.CampaignPage())
    def list_campaigns(self, request, user, query):
        return self.teams.list_campaigns(user["user_id"], **query)

    @route("GET", "/admin/v1/campaigns/<int:campaign_id>", "One campaign", ADMIN,
           role="merchant", response=s.Campaign())
    def get_campaign(self, request, user, campaign_id):
        return self.teams.admin_get_campaign(user["user_id"], campaign_id)

    @route("PUT", "/admin/v1/campaigns/<int:campaign_id>",
           "Edit a campaign (all fields before it starts; only a later end while active)", ADMIN,
           role="merchant", body=s.CampaignChange(), response=s.Campaign())
    def update_campaign(self, request, user, body, campaign_id):
        return self.teams.update_campaign(user["user_id"], campaign_id, body)

    @route("POST", "/admin/v1/campaigns/<int:campaign_id>/invalidate", "End a campaign early",
           ADMIN, role="merchant", response=s.Campaign())
    def invalidate_campaign(self, request, user, campaign_id):
        return self.teams.invalidate_campaign(user["user_id"], campaign_id)

    @route("GET", "/admin/v1/teams", "Teams (团单列表) by campaign and status, with order ids",
           ADMIN, role="merchant", query=s.AdminTeamQuery(), response=s.AdminTeamPage())
    def admin_list_teams(self, request, user, query):
        return self.teams.admin_list_teams(user["user_id"], **query)

    # --- ops ----------------------------------------------------------------
    @route("POST", "/admin/v1/merchants", "Open a merchant account and its shop", OPS,
           role="ops", body=s.MerchantInput(), response=s.Merchant(), status=201)
    def create_merchant(self, request, user, body):
        return self.accounts.create_merchant(user["user_id"], body["username"], body["password"],
                                             body["shop_name"])

    @route("GET", "/admin/v1/merchants", "The merchants and their shops, newest first", OPS,
           role="ops", query=s.Paging(), response=s.MerchantPage())
    def list_merchants(self, request, user, query):
        return self.accounts.list_merchants(**query)

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


def _read_health(service):
    try:
        answer = requests.get(settings.health_url(service), timeout=2)
        body = answer.json()
        return {"service": service, "status": body.get("status", "unavailable"),
                "checks": body.get("checks", {}), "database": body.get("database"),
                "broker": body.get("broker"), "vhost": body.get("vhost")}
    except (requests.RequestException, ValueError) as exc:
        return {"service": service, "status": "unreachable", "checks": {"http": type(exc).__name__}}
