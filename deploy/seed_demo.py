"""Seeds the local demo shop through the services themselves (RPC), after they start.

Run by `./dev up`. Refused in production: the services raise Forbidden there.
"""
import sys

import eventlet

eventlet.monkey_patch()

from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from plumbing import settings  # noqa: E402

DEMO_MERCHANT = ("demo-merchant", "demo-password")


def seed():
    with ClusterRpcProxy({"AMQP_URI": settings.amqp_uri()}, timeout=30) as rpc:
        rpc.accounts.ensure_demo_accounts()
        merchant = rpc.accounts.merchant_login(*DEMO_MERCHANT)["user"]
        created = rpc.catalog.seed_demo_catalog(merchant["id"])
    print(f"demo shop ready: merchant {DEMO_MERCHANT[0]} / {DEMO_MERCHANT[1]}, "
          f"{created} products added")


if __name__ == "__main__":
    if settings.is_production():
        sys.exit("refusing to seed demo data in production")
    seed()
