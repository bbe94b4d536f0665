"""Seeds the local demo shop through the services themselves (RPC), after they start.

Run by `./dev up`. Refused in production: the services raise Forbidden there.
"""
import sys
import time
from datetime import timedelta

import eventlet

eventlet.monkey_patch()

from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from plumbing import clock, settings  # noqa: E402
from plumbing.errors import NotFound  # noqa: E402

DEMO_MERCHANT = ("demo-merchant", "demo-password")
GROUP_BUY_PRODUCTS = 3  # the newest few products get a running campaign (拼团专场)


def seed():
    with ClusterRpcProxy({"AMQP_URI": settings.amqp_uri()}, timeout=30) as rpc:
        rpc.accounts.ensure_demo_accounts()
        merchant = rpc.accounts.merchant_login(*DEMO_MERCHANT)["user"]
        created = rpc.catalog.seed_demo_catalog(merchant["id"])
        campaigns = seed_campaigns(rpc, merchant["id"]) if created else 0
    print(f"demo shop ready: merchant {DEMO_MERCHANT[0]} / {DEMO_MERCHANT[1]}, "
          f"{created} products and {campaigns} group-buy campaigns added")


def seed_campaigns(rpc, merchant_id):
    products = rpc.catalog.admin_list_products(merchant_id, status="published",
                                               page_size=GROUP_BUY_PRODUCTS)["items"]
    for product in products:
        detail = rpc.catalog.admin_get_product(merchant_id, product["id"])
        create_when_teams_knows(rpc, merchant_id, {
            "product_id": product["id"],
            "starts_at": clock.isoformat(clock.now()),
            "ends_at": clock.isoformat(clock.now() + timedelta(days=30)),
            "team_size": 2, "validity_seconds": 24 * 3600, "per_user_limit": 2,
            "skus": [{"sku_id": sku["id"], "group_price": sku["price"] * 8 // 10}
                     for sku in detail["skus"]]})
    return len(products)


def create_when_teams_knows(rpc, merchant_id, campaign, wait_seconds=30):
    """Teams learns of a product from catalog's event, a moment after it is created."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return rpc.teams.create_campaign(merchant_id, campaign)
        except NotFound:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


if __name__ == "__main__":
    if settings.is_production():
        sys.exit("refusing to seed demo data in production")
    seed()
