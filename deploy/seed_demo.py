"""Seeds the local demo shop through the services themselves (RPC), once they answer.

Run by `./dev up` (deploy/up.py), and by the e2e tests as a script. Refused in production:
the services raise Forbidden there. Seeding twice adds nothing; a seed cut short is
completed by the next.
"""
import sys
import time
from datetime import timedelta

from nameko.standalone.rpc import ClusterRpcProxy

from plumbing import clock, settings

DEMO_MERCHANT = ("demo-merchant", "demo-password")
GROUP_BUY_PRODUCTS = 3  # the newest few products get a running campaign (拼团专场)


def seed(amqp_uri=None):
    """Returns one line telling what it added."""
    if settings.fault("seed_demo"):
        raise RuntimeError("the demo seed was told to fail (PINTUAN_FAULT=seed_demo)")
    with ClusterRpcProxy({"AMQP_URI": amqp_uri or settings.amqp_uri()}, timeout=30) as rpc:
        rpc.accounts.ensure_demo_accounts()
        merchant = rpc.accounts.merchant_login(*DEMO_MERCHANT)["user"]
        created = rpc.catalog.seed_demo_catalog(merchant["id"])
        has_campaigns = rpc.teams.list_campaigns(merchant["id"], page_size=1)["total"]
        campaigns = 0 if has_campaigns else seed_campaigns(rpc, merchant["id"])
        wait_until_listed(rpc, rpc.teams.list_campaigns(merchant["id"], status="active",
                                                        page_size=1)["total"])
    return (f"demo shop ready: merchant {DEMO_MERCHANT[0]} / {DEMO_MERCHANT[1]}, "
            f"{created} products and {campaigns} group-buy campaigns added")


def seed_campaigns(rpc, merchant_id):
    products = rpc.catalog.admin_list_products(merchant_id, status="published",
                                               page_size=GROUP_BUY_PRODUCTS)["items"]
    for product in products:
        detail = rpc.catalog.admin_get_product(merchant_id, product["id"])
        rpc.teams.create_campaign(merchant_id, {  # teams asks catalog if its copy lags
            "product_id": product["id"],
            "starts_at": clock.isoformat(clock.now()),
            "ends_at": clock.isoformat(clock.now() + timedelta(days=30)),
            "team_size": 2, "validity_seconds": 24 * 3600, "per_user_limit": 2,
            "skus": [{"sku_id": sku["id"], "group_price": sku["price"] * 8 // 10}
                     for sku in detail["skus"]]})
    return len(products)


def wait_until_listed(rpc, campaigns, wait_seconds=30):
    """Catalog learns of campaigns from teams' events: the shop is ready when its listing
    shows the running ones (the first page a newcomer opens)."""
    deadline = time.monotonic() + wait_seconds
    while rpc.catalog.list_products(group_buy=True, page_size=1)["total"] < campaigns:
        if time.monotonic() > deadline:
            raise RuntimeError(f"catalog did not list the {campaigns} running campaigns "
                               f"within {wait_seconds}s")
        time.sleep(0.2)


if __name__ == "__main__":
    if settings.is_production():
        sys.exit("refusing to seed demo data in production")
    print(seed())
